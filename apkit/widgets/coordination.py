"""Helpers for the coordinator's notebooks: upload, feasibility, review, corrections.

The notebooks in ``notebooks/`` stay a sequence of short calls; the loops over a
period's campaigns and the widgets live here. :func:`roster_upload` reads a file
from ipywidgets 8's ``FileUpload``, shows what the import would change, and
imports only when asked.
"""

from __future__ import annotations

import io
import logging
import os
import tempfile
from collections import Counter
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
from sqlalchemy import select

from apkit import (
    access,
    audit,
    campaigns,
    corrections,
    exports,
    publication,
    reports,
    roster,
    stats,
)
from apkit.allocation import allocate
from apkit.directory import RosterChanges, import_roster
from apkit.errors import NotFoundError
from apkit.model import (
    Activity,
    Campaign,
    CampaignStatus,
    Division,
    Period,
    Role,
    Student,
)
from apkit.store import PROJECT_ROOT, Store
from apkit.widgets import common
from apkit.widgets.common import StatusArea, action, escape

log = logging.getLogger(__name__)

OUTPUT_ENV = "APKIT_OUTPUT_DIR"
PREVIEW_ROWS = 10
PREVIEW_COLUMNS = {
    "student_id": "Identifiant",
    "last_name": "Nom",
    "first_name": "Prénom",
    "class_name": "Classe",
    "birth_date": "Date de naissance",
}
MAX_WARNINGS = 20
ALLOCATION_COLUMNS = [
    "Barrette",
    "Élèves",
    "Heures placées",
    "Heures non placées",
    "Vœu 1",
    "Vœu 2",
    "Vœu 3 ou suivant",
    "Hors vœux",
    "Ateliers fermés",
]
ROSTER_SUFFIXES = ".csv,.txt,.xml,.zip,.xlsx,.ods"


def period_campaigns(store: Store, period_code: str) -> list[campaigns.CampaignSummary]:
    """Return the campaigns of a period, by block name."""
    return [c for c in campaigns.list_campaigns(store) if c.period == period_code]


def campaigns_table(store: Store, period_code: str) -> pd.DataFrame:
    """Return the period's campaigns as a table: block, mode, status, activities."""
    rows = [
        [
            c.block,
            c.mode,
            campaigns.STATUS_LABELS[CampaignStatus(c.status)],
            c.activities,
        ]
        for c in period_campaigns(store, period_code)
    ]
    return pd.DataFrame(rows, columns=["Barrette", "Mode", "Statut", "Ateliers"])


def feasibility_table(store: Store, period_code: str) -> pd.DataFrame:
    """Return every problem :func:`apkit.campaigns.check_feasibility` finds in a period.

    One row per problem: ``Barrette``, ``Heure``, ``Problème`` and ``Bloquant``
    (``"non"`` for a shortfall the coordinator may accept when opening).
    """
    rows = []
    for campaign in period_campaigns(store, period_code):
        for problem in campaigns.check_feasibility(store, campaign.id):
            slot = "" if problem.slot is None else str(problem.slot)
            blocking = "non" if problem.waivable else "oui"
            rows.append([campaign.block, slot, problem.message, blocking])
    return pd.DataFrame(rows, columns=["Barrette", "Heure", "Problème", "Bloquant"])


def open_period(
    store: Store, period_code: str, *, actor: str, allow_shortfall: bool = False
) -> pd.DataFrame:
    """Open every draft or closed campaign of a period and return the campaigns.

    Raises
    ------
    FeasibilityError
        If a campaign's offer blocks opening; the campaigns before it stay open.
    """
    for campaign in period_campaigns(store, period_code):
        if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.CLOSED):
            campaigns.open_campaign(
                store, campaign.id, actor=actor, allow_shortfall=allow_shortfall
            )
    return campaigns_table(store, period_code)


def close_period(store: Store, period_code: str, *, actor: str) -> pd.DataFrame:
    """Close every open campaign of a period and return the campaigns."""
    for campaign in period_campaigns(store, period_code):
        if campaign.status == CampaignStatus.OPEN:
            campaigns.close_campaign(store, campaign.id, actor=actor)
    return campaigns_table(store, period_code)


def allocate_period(
    store: Store, period_code: str, *, actor: str, seed: int | None = None
) -> pd.DataFrame:
    """Run the allocation of every closed campaign of a period.

    Returns one row per campaign: students, student-hours placed and unplaced,
    placements by preference rank, and the activities closed for lack of students.

    Raises
    ------
    AllocationError
        If the solver fails on a campaign; the campaigns before it keep their
        new result.
    """
    rows = []
    for campaign in period_campaigns(store, period_code):
        if campaign.status != CampaignStatus.CLOSED:
            continue
        counts = allocate(store, campaign.id, seed=seed, actor=actor).counts
        ranks = counts.get("by_rank", {})
        rows.append(
            [
                campaign.block,
                counts["students"],
                counts["placed"],
                counts["unplaced"],
                ranks.get("1", 0),
                ranks.get("2", 0),
                sum(n for rank, n in ranks.items() if int(rank) >= 3),
                counts.get("without_rank", 0),
                ", ".join(counts.get("cancelled", [])),
            ]
        )
    return pd.DataFrame(rows, columns=ALLOCATION_COLUMNS)


def publish_period(
    store: Store,
    period_code: str,
    folder: Path,
    *,
    actor: str,
    base_url: str | None = None,
) -> pd.DataFrame:
    """Publish every closed campaign of a period with :func:`apkit.publication.publish`.

    Each campaign gets its dated folder of files for students, teachers, class
    teachers and the administration inside ``folder``, and becomes published.
    Returns one row per campaign published: block, folder and number of files.

    Raises
    ------
    OSError
        If a file cannot be written; the campaigns before it stay published.
    """
    rows = []
    for campaign in period_campaigns(store, period_code):
        if campaign.status != CampaignStatus.CLOSED:
            continue
        done = publication.publish(
            store, campaign.id, folder, actor=actor, base_url=base_url
        )
        rows.append([campaign.block, done.folder, len(done.files)])
    return pd.DataFrame(rows, columns=["Barrette", "Dossier", "Fichiers"])


def activities_table(store: Store, period_code: str) -> pd.DataFrame:
    """Return the activities of a period: block, slot, title, teacher, places."""
    columns = ["Barrette", "Heure", "Code", "Atelier", "Catégorie", "Enseignant"]
    return stats.fill_rates(store, period_code)[
        [*columns, "Salle", "Places", "Minimum"]
    ]


def output_folder() -> Path:
    """Return the folder for exported files, created if needed.

    ``APKIT_OUTPUT_DIR`` when set, else ``out/`` at the project's root (which git
    ignores).
    """
    folder = Path(os.environ.get(OUTPUT_ENV) or PROJECT_ROOT / "out")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def write_codes(
    store: Store,
    folder: Path,
    *,
    base_url: str,
    students: bool = False,
    teachers: bool = False,
    coordinator: bool = False,
) -> pd.DataFrame:
    """Create new codes, write them to ``codes_*.csv`` and slips, and count them.

    The codes themselves are not returned, so a notebook's output never shows
    one; previous codes of the same people stop working.
    """
    issued = access.generate_codes(
        store, students=students, teachers=teachers, coordinator=coordinator
    )
    kind = "eleves" if students else "personnels"
    path = folder / f"codes_{kind}.csv"
    access.write_codes_csv(issued, path, base_url=base_url)
    slips = access.write_slips(issued, folder / f"fiches_{kind}", base_url=base_url)
    counts = Counter(item.role.value for item in issued)
    rows = [[role, count] for role, count in sorted(counts.items())]
    table = pd.DataFrame(rows, columns=["Rôle", "Codes"])
    table.attrs.update({"csv": path, "fiches": slips})
    return table


def student_id(store: Store, source_id: str) -> int:
    """Return the database id of the student whose roster id is ``source_id``.

    Raises
    ------
    NotFoundError
        If no student has that roster id.
    """
    with store.read() as session:
        found = session.scalars(
            select(Student.id).where(Student.source_id == source_id)
        ).first()
    if found is None:
        raise NotFoundError(f"Élève d'identifiant « {source_id} » introuvable.")
    return found


def activity_ids(store: Store, period_code: str, activity_code: str) -> tuple[int, int]:
    """Return ``(campaign_id, activity_id)`` of an activity code in a period.

    Raises
    ------
    NotFoundError
        If the period has no activity with that code.
    """
    with store.read() as session:
        row = session.execute(
            select(Activity.campaign_id, Activity.id)
            .join(Campaign, Activity.campaign_id == Campaign.id)
            .join(Period, Campaign.period_id == Period.id)
            .where(Period.code == period_code, Activity.code == activity_code)
        ).first()
    if row is None:
        raise NotFoundError(
            f"Atelier « {activity_code} » introuvable dans la période {period_code}."
        )
    return row[0], row[1]


def move_student(
    store: Store,
    period_code: str,
    student_source_id: str,
    activity_code: str,
    *,
    actor: str,
    reason: str = "",
    force: bool = False,
) -> corrections.Correction:
    """Move a student, named by roster id, into an activity named by its code.

    The coordinator's move of :func:`apkit.corrections.move_student`; ``force``
    goes over capacity.

    Raises
    ------
    NotFoundError
        If the student or the activity is unknown.
    CapacityError
        If the activity is full and ``force`` is false.
    """
    campaign_id, activity_id = activity_ids(store, period_code, activity_code)
    return corrections.move_student(
        store,
        campaign_id,
        student_id(store, student_source_id),
        activity_id,
        actor=actor,
        role=Role.COORDINATOR,
        reason=reason,
        force=force,
    )


def place_unplaced_period(
    store: Store, period_code: str, *, actor: str, reason: str = ""
) -> pd.DataFrame:
    """Place the unplaced students of every campaign of a period into places left.

    Returns one row per campaign: how many student-hours were placed and how
    many are still unplaced.
    """
    rows = []
    for campaign in period_campaigns(store, period_code):
        if campaign.status == CampaignStatus.DRAFT:
            continue
        report = corrections.place_unplaced(
            store, campaign.id, actor=actor, reason=reason
        )
        rows.append([campaign.block, len(report.placed), len(report.unplaced)])
    return pd.DataFrame(rows, columns=["Barrette", "Placés", "Toujours non inscrits"])


def export_period(store: Store, period_code: str, folder: Path) -> list[Path]:
    """Write a period's files: administration workbook, attendance PDF, CSV per block.

    Raises
    ------
    NotFoundError
        If the period is unknown.
    OSError
        If a file cannot be written.
    """
    paths = [
        exports.write_admin_workbook(
            store, period_code, folder / f"administration_{period_code}.xlsx"
        )
    ]
    pdf_path = folder / f"emargement_{period_code}.pdf"
    exports.write_attendance_pdf(store, period_code, pdf_path)
    paths.append(pdf_path)
    for campaign in period_campaigns(store, period_code):
        table = reports.block_list(store, period_code, campaign.block)
        name = exports.safe_filename(f"barrette_{campaign.block}_{period_code}")
        paths.append(exports.write_csv(table, folder / f"{name}.csv"))
    return paths


def corrections_table(store: Store, period_code: str) -> pd.DataFrame:
    """Return the audit trail of a period's campaigns, newest first.

    Columns ``Date``, ``Auteur``, ``Action``, ``Élève``, ``Motif``, ``Annulé``.
    """
    ids = {c.id for c in period_campaigns(store, period_code)}
    rows = []
    with store.read() as session:
        names = {
            s.id: f"{s.last_name} {s.first_name}"
            for s in session.scalars(select(Student))
        }
        for campaign_id in sorted(ids):
            for entry in audit.entries(session, campaign_id=campaign_id):
                student = names.get(entry.student_id, "") if entry.student_id else ""
                undone = "oui" if entry.undone_by else ""
                rows.append(
                    [entry.at, entry.actor, entry.action, student, entry.reason, undone]
                )
    columns = ["Date", "Auteur", "Action", "Élève", "Motif", "Annulé"]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("Date", ascending=False, kind="stable").reset_index(
        drop=True
    )


def review(store: Store, period_code: str) -> widgets.VBox:
    """Return a view of a period's allocation: places per block and the unplaced."""
    blocks = stats.block_fill(store, period_code)
    unplaced = reports.unplaced_list(store, period_code)
    count = len(unplaced)
    return widgets.VBox(
        [
            widgets.HTML("<h4>Places et inscrits par barrette et par heure</h4>"),
            widgets.HTML(blocks.to_html(index=False, float_format="{:.0%}".format)),
            widgets.HTML(f"<h4>Élèves non inscrits : {count}</h4>"),
            widgets.HTML(unplaced.to_html(index=False) if count else ""),
        ]
    )


def chart_image(figure: object) -> widgets.Image:
    """Return a matplotlib figure as a PNG image widget, for display in a cell."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)  # type: ignore[attr-defined]
    return widgets.Image(value=buffer.getvalue(), format="png")


def school_classes(store: Store) -> list[str] | None:
    """Return the class names in the database, or ``None`` when it holds none."""
    with store.read() as session:
        names = list(session.scalars(select(Division.name)))
    return names or None


class RosterUpload:
    """A roster file upload: preview, changes, then import on request.

    :attr:`widget` is what the notebook shows; :attr:`roster` and
    :attr:`changes` hold the file read and the dry run of its import.
    """

    def __init__(self, store: Store, *, actor: str) -> None:
        self.store = store
        self.actor = actor
        self.roster: roster.Roster | None = None
        self.changes: RosterChanges | None = None
        self.status = StatusArea()

        self.upload = widgets.FileUpload(
            accept=ROSTER_SUFFIXES, multiple=False, description="Choisir le fichier"
        )
        self.upload.observe(self._on_upload, names="value")
        self.import_button = widgets.Button(
            description="Importer", icon="upload", disabled=True
        )
        self.import_button.on_click(self._on_import)
        # Shown only when the import would mark too many students as left.
        self.confirm = widgets.Checkbox(
            value=False, description="Je confirme ces départs", indent=False
        )
        self.confirm.observe(self._on_confirm, names="value")
        self.confirm.layout.display = "none"
        self.preview = widgets.HTML()
        self.diff = widgets.HTML()
        self.widget = common.page_box(
            widgets.HBox([self.upload, self.import_button, self.confirm]),
            self.status.widget,
            self.preview,
            self.diff,
        )

    def _repr_mimebundle_(self, **kwargs: object) -> dict | None:
        return self.widget._repr_mimebundle_(**kwargs)

    @action
    def _on_upload(self, _change: dict) -> None:
        self.read_upload()

    @action
    def _on_import(self, _button: widgets.Button) -> None:
        self.import_roster()

    def _on_confirm(self, change: dict) -> None:
        if self.changes is not None and self.changes.departure_warning:
            self.import_button.disabled = not change["new"]

    def _reset(self) -> None:
        self.roster = None
        self.changes = None
        self.import_button.disabled = True
        self.import_button.layout.display = ""
        self.confirm.value = False
        self.confirm.layout.display = "none"
        self.preview.value = ""
        self.diff.value = ""
        self.status.clear()

    def read_upload(self) -> None:
        """Read the uploaded file and show its first rows and the changes it brings.

        Raises
        ------
        RosterError
            If the file cannot be read as a roster, or a row cannot be imported;
            nothing is written then.
        """
        self._reset()
        if not self.upload.value:
            return
        upload = self.upload.value[0]
        name = Path(upload["name"]).name or "liste"
        with tempfile.TemporaryDirectory(prefix="apkit-upload-") as folder:
            path = Path(folder) / name
            path.write_bytes(bytes(upload["content"]))
            loaded = roster.load(path, classes=school_classes(self.store))
        changes = import_roster(self.store, loaded, actor=self.actor, dry_run=True)
        self.roster, self.changes = loaded, changes
        self.preview.value = _preview_html(name, loaded)
        self.diff.value = _changes_html(changes)
        self.import_button.disabled = not changes.changed
        if changes.departure_warning:
            self.confirm.layout.display = ""
            self.import_button.disabled = True
            self.status.error(
                f"{changes.departure_warning} ; cochez « Je confirme ces départs » "
                "pour importer quand même."
            )
        elif changes.changed:
            self.status.info("Vérifiez les changements puis cliquez sur « Importer ».")
        else:
            self.status.info("Cette liste ne change rien à la base.")

    def import_roster(self) -> RosterChanges | None:
        """Import the roster read by :meth:`read_upload` and show what changed.

        Raises
        ------
        RosterError
            If a row cannot be imported, or if the import marks too many
            students as left without « Je confirme ces départs ». Nothing is
            written then.
        """
        if self.roster is None:
            self.status.error("Choisissez d'abord un fichier.")
            return None
        changes = import_roster(
            self.store,
            self.roster,
            actor=self.actor,
            allow_departures=self.confirm.value,
        )
        self.roster, self.changes = None, changes
        self.confirm.layout.display = "none"
        # Hidden rather than disabled: the click guard re-enables the button after
        # this call returns.
        self.import_button.layout.display = "none"
        self.diff.value = _changes_html(changes)
        self.status.success("Liste importée.")
        return changes


def _preview_html(name: str, loaded: roster.Roster) -> str:
    students = loaded.students
    columns = [c for c in PREVIEW_COLUMNS if c in students.columns]
    shown = students[columns].head(PREVIEW_ROWS).rename(columns=PREVIEW_COLUMNS)
    warnings = "".join(f"<li>{escape(w)}</li>" for w in loaded.warnings[:MAX_WARNINGS])
    if len(loaded.warnings) > MAX_WARNINGS:
        warnings += f"<li>... et {len(loaded.warnings) - MAX_WARNINGS} autres</li>"
    heading = (
        f"{escape(name)} : {len(students)} élèves, {len(loaded.dropped)} lignes "
        f"écartées (format {escape(loaded.format)})"
    )
    notes = f"<p>Avertissements :</p><ul>{warnings}</ul>" if warnings else ""
    return f"<h4>{heading}</h4>{shown.to_html(index=False)}{notes}"


def _changes_html(changes: RosterChanges) -> str:
    text = escape(changes.summary()).replace("\n", "<br>")
    return f'<div class="apkit-card">{text}</div>'


def roster_upload(store: Store, *, actor: str = "coordination") -> RosterUpload:
    """Build the roster upload for a notebook cell; see :class:`RosterUpload`."""
    return RosterUpload(store, actor=actor)
