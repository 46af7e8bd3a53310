"""Importing students' ranked preferences from a CSV file.

The file has the columns ``student_id;slot;rank;activity_id`` (see
``data/school/preferences_p1.csv``): one row per choice, rank 1 first. Every row
is checked before anything is written. A student listed in the file gets their
preferences for the period replaced by the file's, and a student not listed
keeps theirs.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, selectinload

from apkit import audit
from apkit.campaigns import STATUS_LABELS, campaign_label
from apkit.errors import CampaignError, RosterError
from apkit.french import plural
from apkit.model import (
    Activity,
    Campaign,
    CampaignStatus,
    Period,
    Preference,
    Student,
    utcnow,
)
from apkit.store import Store

log = logging.getLogger(__name__)

PREFERENCE_COLUMNS = ("student_id", "slot", "rank", "activity_id")
_WRITABLE = (CampaignStatus.DRAFT, CampaignStatus.OPEN)

# (campaign id, student id) -> {(slot, rank, activity id)}
Rankings = dict[tuple[int, int], set[tuple[int, int, int]]]


@dataclass(frozen=True)
class PreferenceImport:
    """Counts of one preference import: rows read, students listed, students changed."""

    rows: int
    students: int
    changed_students: int

    def summary(self) -> str:
        changed = plural(self.changed_students, "élève mis à jour", "élèves mis à jour")
        return (
            f"Vœux : {plural(self.rows, 'ligne')} pour "
            f"{plural(self.students, 'élève')}, {changed}."
        )


def import_preferences(
    store: Store, path: str | Path, period_code: str, *, actor: str = "import"
) -> PreferenceImport:
    """Replace the preferences of the students listed in a CSV file, for one period.

    Parameters
    ----------
    store
        The school's database, holding the period's campaigns and activities.
    path
        A ``;``-separated UTF-8 file with ``student_id;slot;rank;activity_id``.
    period_code
        The period, such as ``"P1"``; each student's campaign is the one of
        their block for this period.
    actor
        Who imports, recorded in the audit log.

    Returns
    -------
    PreferenceImport

    Raises
    ------
    RosterError
        On a missing file or column, or a row that names an unknown student,
        slot, rank or activity, or that repeats a rank or an activity. The error
        names the line.
    CampaignError
        When a campaign concerned is closed or published.
    """
    path = Path(path)
    frame = _read(path)
    with store.write() as session:
        return _apply(session, path, frame, period_code, actor)


def apply_preferences(
    session: Session, path: str | Path, period_code: str, *, actor: str = "import"
) -> PreferenceImport:
    """Import preferences inside the caller's transaction (see import_preferences)."""
    path = Path(path)
    return _apply(session, path, _read(path), period_code, actor)


def _apply(
    session: Session, path: Path, frame: pd.DataFrame, period_code: str, actor: str
) -> PreferenceImport:
    period = _period(session, path, period_code)
    rankings = _rankings(session, path, frame, period)
    changed = _write(session, rankings)
    if changed:
        audit.record(
            session,
            actor=actor,
            action="preferences_imported",
            after={"period": period.code, "students": changed, "file": path.name},
        )
    log.info("%s: preferences of %d students changed", path.name, changed)
    return PreferenceImport(len(frame), len(rankings), changed)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise RosterError("fichier introuvable", path=path, hint="vérifiez le chemin")
    frame = pd.read_csv(
        path,
        sep=";",
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
        encoding="utf-8-sig",
    )
    missing = [c for c in PREFERENCE_COLUMNS if c not in frame.columns]
    if missing:
        raise RosterError(
            f"colonne « {missing[0]} » manquante",
            path=path,
            line=1,
            hint=f"en-tête attendu : {';'.join(PREFERENCE_COLUMNS)}",
        )
    frame = frame.map(str.strip)
    frame["line"] = frame.index + 2
    return frame[(frame[list(PREFERENCE_COLUMNS)] != "").any(axis=1)]


def _period(session: Session, path: Path, period_code: str) -> Period:
    period = session.scalar(select(Period).where(Period.code == period_code))
    if period is None:
        codes = ", ".join(session.scalars(select(Period.code).order_by(Period.code)))
        raise RosterError(
            "période inconnue",
            path=path,
            value=period_code,
            hint=f"périodes connues : {codes or 'aucune'} ; importez d'abord "
            "l'organisation (apkit import-school)",
        )
    return period


class _Checker:
    """Check rows one by one against the period's students and campaigns."""

    def __init__(self, session: Session, path: Path, period: Period) -> None:
        self.path = path
        self.period = period
        self.students = {
            s.source_id: s
            for s in session.scalars(
                select(Student).options(selectinload(Student.division))
            )
        }
        campaigns = session.scalars(
            select(Campaign)
            .where(Campaign.period_id == period.id)
            .options(selectinload(Campaign.activities), selectinload(Campaign.block))
        )
        self.campaigns = {c.block_id: c for c in campaigns}

    def fail(self, row, column: str, problem: str, hint: str) -> RosterError:
        return RosterError(
            problem,
            path=self.path,
            line=int(row.line),
            column=column,
            value=getattr(row, column),
            hint=hint,
        )

    def student(self, row) -> Student:
        student = self.students.get(row.student_id)
        if student is None or student.left_on is not None:
            problem = (
                "élève inconnu" if student is None else "élève parti de l'établissement"
            )
            raise self.fail(row, "student_id", problem, "corrigez l'identifiant ou "
                            "importez d'abord la liste des élèves")  # fmt: skip
        return student

    def campaign(self, row, student: Student) -> Campaign:
        block_id = student.division.block_id if student.division else None
        campaign = self.campaigns.get(block_id) if block_id is not None else None
        if campaign is None:
            raise self.fail(
                row,
                "student_id",
                f"aucune campagne {self.period.code} pour la barrette de cet élève",
                "importez d'abord les ateliers de la période (apkit import-school)",
            )
        if campaign.status not in _WRITABLE:
            raise CampaignError(
                f"La campagne {campaign_label(campaign)} est "
                f"{STATUS_LABELS[campaign.status]} : ses vœux ne changent plus ; "
                "rouvrez-la pour importer des vœux"
            )
        return campaign

    def number(self, row, column: str, label: str, maximum: int) -> int:
        written = getattr(row, column)
        if not written.isdigit() or not 1 <= int(written) <= maximum:
            raise self.fail(row, column, f"{label} invalide",
                            f"nombre entier de 1 à {maximum} attendu")  # fmt: skip
        return int(written)

    def activity(self, row, campaign: Campaign, slot: int) -> Activity:
        activity = next(
            (a for a in campaign.activities if a.code == row.activity_id), None
        )
        if activity is None:
            raise self.fail(
                row,
                "activity_id",
                f"atelier inconnu dans la campagne {campaign_label(campaign)}",
                "choisissez un atelier de la barrette de l'élève",
            )
        if slot not in activity.slots:
            raise self.fail(row, "activity_id", f"atelier absent à l'heure {slot}",
                            "vérifiez la colonne slot")  # fmt: skip
        return activity


def _rankings(
    session: Session, path: Path, frame: pd.DataFrame, period: Period
) -> Rankings:
    checker = _Checker(session, path, period)
    rankings: Rankings = defaultdict(set)
    seen: dict[tuple, int] = {}
    projects: dict[tuple[int, int], list] = defaultdict(list)
    for row in frame.itertuples(index=False):
        student = checker.student(row)
        campaign = checker.campaign(row, student)
        slot = checker.number(row, "slot", "heure", campaign.block.slot_count)
        rank = checker.number(row, "rank", "rang", campaign.max_choices)
        activity = checker.activity(row, campaign, slot)
        for key, column, label in (
            ((student.id, slot, "rank", rank), "rank", "rang"),
            ((student.id, slot, "activity", activity.id), "activity_id", "atelier"),
        ):
            if key in seen:
                raise checker.fail(
                    row,
                    column,
                    f"{label} déjà donné par cet élève à l'heure {slot}, "
                    f"ligne {seen[key]}",
                    "un élève classe chaque atelier une fois, à un rang différent",
                )
            seen[key] = int(row.line)
        rankings[(campaign.id, student.id)].add((slot, rank, activity.id))
        if activity.slot_span > 1:
            projects[(student.id, activity.id)].append((slot, rank, row))
    for ranked in projects.values():
        _check_project(checker, ranked)
    return dict(rankings)


def _check_project(checker: _Checker, ranked: list[tuple[int, int, object]]) -> None:
    """Require a two-hour project to be ranked in both its slots at one rank."""
    slots = {slot for slot, _, _ in ranked}
    ranks = {rank for _, rank, _ in ranked}
    if len(slots) == 2 and len(ranks) == 1:
        return
    _, rank, row = ranked[-1]
    raise checker.fail(
        row,
        "activity_id",
        "projet sur deux heures classé à une seule heure ou à deux rangs différents",
        f"classez-le aux deux heures au même rang (ici {rank}), ou retirez-le",
    )


def _write(session: Session, rankings: Rankings) -> int:
    """Replace the preferences that differ and return how many students changed."""
    stored: Rankings = defaultdict(set)
    campaign_ids = {campaign_id for campaign_id, _ in rankings}
    statement = select(Preference).where(Preference.campaign_id.in_(campaign_ids))
    for p in session.scalars(statement):
        stored[(p.campaign_id, p.student_id)].add((p.slot, p.rank, p.activity_id))
    changed = [key for key, choices in rankings.items() if stored.get(key) != choices]

    students_by_campaign: dict[int, list[int]] = defaultdict(list)
    for campaign_id, student_id in changed:
        students_by_campaign[campaign_id].append(student_id)
    for campaign_id, student_ids in students_by_campaign.items():
        session.execute(
            delete(Preference).where(
                Preference.campaign_id == campaign_id,
                Preference.student_id.in_(student_ids),
            )
        )
    now = utcnow()
    rows = []
    for campaign_id, student_id in changed:
        for slot, rank, activity_id in sorted(rankings[(campaign_id, student_id)]):
            rows.append(
                {"campaign_id": campaign_id, "student_id": student_id, "slot": slot,
                 "rank": rank, "activity_id": activity_id, "updated_at": now}
            )  # fmt: skip
    if rows:
        session.execute(insert(Preference), rows)
    return len(changed)
