"""Publication of a campaign's results: one dated folder of files for everyone.

:func:`publish` writes, into ``out_dir/2025-2026_P1_A_2026-12-04/``:

- ``eleves/fiches_<classe>.pdf``: placement slips
  (:mod:`apkit.placement_slips`), one student per slip, five a page: name,
  class, each slot's activity, teacher and room, the period's dates and the
  student's personal page;
- ``enseignants/<identifiant>_<nom>.pdf`` and ``.xlsx``: each AP teacher's
  attendance sheets and lists;
- ``classes/<classe>.pdf`` and ``.xlsx``: each class's placements, for its class
  teacher;
- ``administration/``: the period's workbook and charts (PNG);
- ``publication.json``: the manifest, with every placement at publishing time.

It records a :class:`~apkit.model.Publication` listing the files and marks a
closed campaign as published. Access codes are stored hashed, so a slip can only
print the personal link with its code when the codes are generated in the same
step (``new_codes=True``, which revokes the students' previous codes). Otherwise
the slip prints the page's address and asks for the student's code.

A correction after publishing sets ``Publication.changed``; then
:func:`update_publication` compares the placements with the manifest and writes,
into ``mises_a_jour/<n>_<date>/``, the slips, teacher lists and class lists of
the students and teachers affected, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

from sqlalchemy import select

from apkit import access, audit, reports
from apkit.campaigns import STATUS_LABELS, campaign_label, get_campaign, mark_published
from apkit.errors import CampaignError, NotFoundError
from apkit.exports import (
    path_inside,
    safe_filename,
    write_admin_workbook,
    write_attendance_pdf,
    write_workbook,
)
from apkit.exports.figures import write_period_charts
from apkit.model import Activity, CampaignStatus, Publication, Teacher, utcnow
from apkit.names import sort_key
from apkit.placement_slips import (
    CampaignInfo,
    StudentPlacement,
    campaign_info,
    student_placements,
    write_class_pdf,
    write_slips,
)
from apkit.store import Store

log = logging.getLogger(__name__)

MANIFEST = "publication.json"
STUDENTS_FOLDER = "eleves"
TEACHERS_FOLDER = "enseignants"
CLASSES_FOLDER = "classes"
ADMIN_FOLDER = "administration"
UPDATES_FOLDER = "mises_a_jour"
PUBLISHABLE = (CampaignStatus.CLOSED, CampaignStatus.PUBLISHED)


# Publishing


def publish(
    store: Store,
    campaign_id: int,
    out_dir: str | Path,
    *,
    actor: str,
    base_url: str | None = None,
    new_codes: bool = False,
    today: dt.date | None = None,
) -> Publication:
    """Write every file of a campaign's results and record the publication.

    Parameters
    ----------
    store
        The school's database.
    campaign_id
        A closed (or already published) campaign.
    out_dir
        The folder that receives the dated publication folder.
    actor
        Who publishes, for the audit log.
    base_url
        The server's public address, printed on the slips.
    new_codes
        Generate new access codes for the block's students and print each
        student's personal link with its code; their previous codes are revoked.
    today
        The date in the folder's name; by default the computer's.

    Returns
    -------
    Publication
        The recorded publication, with ``files`` relative to ``folder``.

    Raises
    ------
    CampaignError
        If the campaign is a draft or still open.
    NotFoundError
        If the campaign does not exist.
    OSError
        If a file cannot be written (nothing is recorded then).
    """
    info = campaign_info(store, campaign_id)
    status = _check_publishable(store, campaign_id)
    folder = _new_folder(Path(out_dir), info, today or dt.date.today())
    placements = student_placements(store, campaign_id)
    codes = _new_codes(store, placements) if new_codes else {}

    files = _write_people_files(store, info, folder, placements, base_url, codes)
    files += _write_admin_files(store, info, folder)
    files.append(
        _write_manifest(folder, info, placements, editions=[], base_url=base_url)
    )

    with store.write() as session:
        publication = Publication(
            campaign_id=campaign_id,
            folder=str(folder),
            files=[_relative(folder, path) for path in files],
        )
        session.add(publication)
    if status == CampaignStatus.CLOSED:
        mark_published(store, campaign_id, actor=actor)
    log.info(
        "campaign %d published by %s into %s (%d files)",
        campaign_id,
        actor,
        folder,
        len(files),
    )
    return publication


def _check_publishable(store: Store, campaign_id: int) -> CampaignStatus:
    with store.read() as session:
        campaign = get_campaign(session, campaign_id)
        status = CampaignStatus(campaign.status)
        label = campaign_label(campaign)
    if status not in PUBLISHABLE:
        raise CampaignError(
            f"La campagne {label} est {STATUS_LABELS[status]} : seule une campagne "
            "fermée se publie ; fermez-la d'abord (apkit close)"
        )
    return status


def _new_folder(out_dir: Path, info: CampaignInfo, today: dt.date) -> Path:
    stem = safe_filename(f"{info.school_year}_{info.period_code}_{info.block}_{today}")
    out_dir.mkdir(parents=True, exist_ok=True)
    folder, number = path_inside(out_dir, stem), 1
    while folder.exists():
        number += 1
        folder = path_inside(out_dir, f"{stem}_{number}")
    folder.mkdir()
    return folder


def _new_codes(store: Store, placements: list[StudentPlacement]) -> dict[int, str]:
    classes = sorted({p.class_name for p in placements if p.class_name})
    if not classes:
        return {}
    issued = access.generate_codes(store, class_names=classes)
    return {item.student_id: item.code for item in issued if item.student_id}


def _relative(folder: Path, path: Path) -> str:
    return path.resolve().relative_to(folder.resolve()).as_posix()


def _write_people_files(
    store: Store,
    info: CampaignInfo,
    folder: Path,
    placements: list[StudentPlacement],
    base_url: str | None,
    codes: dict[int, str],
    teacher_ids: set[int] | None = None,
) -> list[Path]:
    """Write the slips and class lists of ``placements`` and the teachers' lists.

    ``teacher_ids`` limits the teachers; by default every teacher of the campaign.
    """
    files: list[Path] = []
    by_class: dict[str, list[StudentPlacement]] = {}
    for placement in placements:
        by_class.setdefault(placement.class_name, []).append(placement)
    for class_name, students in sorted(by_class.items()):
        name = safe_filename(f"fiches_{class_name}", suffix=".pdf")
        target = path_inside(folder, f"{STUDENTS_FOLDER}/{name}")
        files.append(
            write_slips(students, info, target, base_url=base_url, codes=codes)
        )
        files += _write_class_files(store, info, folder, class_name)
    for teacher in campaign_teachers(store, info.campaign_id):
        if teacher_ids is None or teacher.id in teacher_ids:
            files += _write_teacher_files(store, info, folder, teacher)
    return files


def _write_class_files(
    store: Store, info: CampaignInfo, folder: Path, class_name: str
) -> list[Path]:
    frame = reports.class_list(store, class_name, info.period_code)
    title = f"Classe {class_name} – AP {info.heading}"
    stem = safe_filename(class_name)
    pdf = write_class_pdf(
        frame, title, path_inside(folder, f"{CLASSES_FOLDER}/{stem}.pdf")
    )
    xlsx = path_inside(folder, f"{CLASSES_FOLDER}/{stem}.xlsx")
    return [pdf, write_workbook({f"Classe {class_name}": frame}, xlsx)]


def teacher_file_stem(source_id: str, last_name: str, first_name: str) -> str:
    """Return the file name, without suffix, of a teacher's lists."""
    return safe_filename(f"{source_id}_{last_name}_{first_name}")


def campaign_teachers(store: Store, campaign_id: int) -> list[Teacher]:
    """Return the teachers of a campaign's open activities, in French order.

    The rows are detached from their session, to be read only.
    """
    with store.read() as session:
        teachers = list(
            session.scalars(
                select(Teacher)
                .join(Activity, Activity.teacher_id == Teacher.id)
                .where(
                    Activity.campaign_id == campaign_id, Activity.cancelled.is_(False)
                )
                .distinct()
            )
        )
        session.expunge_all()
    return sorted(teachers, key=lambda t: sort_key(t.last_name, t.first_name))


def _write_teacher_files(
    store: Store, info: CampaignInfo, folder: Path, teacher: Teacher
) -> list[Path]:
    teacher_id = teacher.id
    stem = teacher_file_stem(teacher.source_id, teacher.last_name, teacher.first_name)
    pdf = path_inside(folder, f"{TEACHERS_FOLDER}/{stem}.pdf")
    write_attendance_pdf(
        store, info.period_code, pdf, block_name=info.block, teacher_id=teacher_id
    )
    frame = reports.teacher_lists(store, teacher_id, info.period_code)
    mine = frame[frame["Barrette"] == info.block].reset_index(drop=True)
    title = f"{reports.teacher_name(teacher)} – {info.label}"
    xlsx = path_inside(folder, f"{TEACHERS_FOLDER}/{stem}.xlsx")
    return [pdf, write_workbook({title: mine}, xlsx)]


def _write_admin_files(store: Store, info: CampaignInfo, folder: Path) -> list[Path]:
    # NOTE: the workbook and the charts cover every block of the period, as
    # apkit.exports writes them, not only the block being published.
    name = safe_filename(f"classeur_{info.period_code}", suffix=".xlsx")
    workbook = write_admin_workbook(
        store, info.period_code, path_inside(folder, f"{ADMIN_FOLDER}/{name}")
    )
    charts = write_period_charts(
        store, info.period_code, path_inside(folder, f"{ADMIN_FOLDER}/graphiques")
    )
    return [workbook, *charts]


# Manifest and updates


def _snapshot(placements: list[StudentPlacement]) -> dict[str, dict[str, int | None]]:
    return {
        str(p.student_id): {str(s.slot): s.activity_id for s in p.slots}
        for p in placements
    }


def _write_manifest(
    folder: Path,
    info: CampaignInfo,
    placements: list[StudentPlacement],
    *,
    editions: list[dict],
    base_url: str | None,
) -> Path:
    manifest = {
        "adresse": base_url,
        "campagne": info.campaign_id,
        "annee": info.school_year,
        "periode": info.period_code,
        "barrette": info.block,
        "ecrit_le": utcnow().isoformat(timespec="seconds"),
        "inscriptions": _snapshot(placements),
        "mises_a_jour": editions,
    }
    path = folder / MANIFEST
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
    return path


def read_manifest(publication: Publication) -> dict:
    """Return the manifest of a publication's folder.

    Raises
    ------
    NotFoundError
        If the folder or its manifest is missing.
    """
    path = Path(publication.folder) / MANIFEST
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError as exc:
        raise NotFoundError(
            f"Manifeste de la publication {publication.id} introuvable : {path} ; "
            "le dossier a été déplacé ou supprimé, publiez à nouveau"
        ) from exc


def get_publication(store: Store, publication_id: int) -> Publication:
    """Return a publication, detached from its session, to be read only.

    Raises
    ------
    NotFoundError
        If no publication has this id.
    """
    with store.read() as session:
        publication = session.get(Publication, publication_id)
        if publication is None:
            raise NotFoundError(
                f"Publication {publication_id} introuvable ; lancez d'abord "
                "« apkit publish »"
            )
        session.expunge(publication)
        return publication


def changed_people(
    before: dict[str, dict[str, int | None]],
    placements: list[StudentPlacement],
    store: Store,
) -> tuple[list[StudentPlacement], set[int]]:
    """Return the students placed differently from ``before``, and the teachers.

    The teachers are those of the activities that lost or gained one of these
    students in some slot, so a teacher whose lists did not change is left out.
    """
    current = _snapshot(placements)
    changed = []
    activity_ids: set[int] = set()
    for placement in placements:
        key = str(placement.student_id)
        old, new = before.get(key, {}), current[key]
        moved_slots = [slot for slot in new if old.get(slot) != new[slot]]
        if not moved_slots and old.keys() <= new.keys():
            continue
        changed.append(placement)
        for slot in moved_slots:
            activity_ids |= {a for a in (old.get(slot), new[slot]) if a is not None}
    # A student gone from the block since (a leaver) left their old groups.
    for key in before.keys() - current.keys():
        activity_ids |= {a for a in before[key].values() if a is not None}

    with store.read() as session:
        rows = session.scalars(
            select(Activity.teacher_id).where(Activity.id.in_(activity_ids))
        )
        teacher_ids = {teacher_id for teacher_id in rows if teacher_id is not None}
    return changed, teacher_ids


def update_publication(
    store: Store, publication_id: int, *, actor: str, base_url: str | None = None
) -> Publication:
    """Write the files of the students and teachers a later correction affected.

    The files go into ``mises_a_jour/<n>_<date>/``: the slips of the students
    whose placement changed since the publication (or its last update), their
    classes' lists, and the lists of the teachers whose groups changed. The
    other files are left alone. The manifest is brought up to date and
    ``changed`` is cleared.

    Returns
    -------
    Publication
        The publication, with the new files appended to ``files``.

    Raises
    ------
    NotFoundError
        If the publication or its folder's manifest is missing.
    OSError
        If a file cannot be written.
    """
    publication = get_publication(store, publication_id)
    manifest = read_manifest(publication)
    base_url = base_url or manifest.get("adresse")
    info = campaign_info(store, publication.campaign_id)
    placements = student_placements(store, publication.campaign_id)
    changed, teacher_ids = changed_people(manifest["inscriptions"], placements, store)

    root = Path(publication.folder)
    files: list[Path] = []
    editions = manifest["mises_a_jour"]
    if changed:
        number = len(editions) + 1
        stamp = utcnow().strftime("%Y-%m-%d_%H%M")
        folder = path_inside(root, f"{UPDATES_FOLDER}/{number}_{stamp}")
        files = _write_people_files(
            store, info, folder, changed, base_url, {}, teacher_ids
        )
        editions = [
            *editions,
            {
                "numero": number,
                "dossier": _relative(root, folder),
                "eleves": [p.student_id for p in changed],
                "enseignants": sorted(teacher_ids),
            },
        ]
    _write_manifest(root, info, placements, editions=editions, base_url=base_url)

    with store.write() as session:
        row = session.get_one(Publication, publication_id)
        row.files = [*row.files, *(_relative(root, path) for path in files)]
        row.changed = False
        audit.record(
            session,
            actor=actor,
            action="publication_update",
            campaign_id=publication.campaign_id,
            after={"publication": publication_id, "students": len(changed)},
        )
        publication = row
    log.info(
        "publication %d updated by %s: %d students, %d teachers",
        publication_id,
        actor,
        len(changed),
        len(teacher_ids),
    )
    return publication
