"""Statistics of a period or a year: fill rates, demand, satisfaction, choice history.

Each function returns a DataFrame with French headers that the charts draw and
the dashboards show. A two-hour project counts once as an activity but fills a
place in each of its hours; satisfaction and placements count student-hours.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from apkit import reports
from apkit.model import (
    Activity,
    Campaign,
    Enrolment,
    EnrolmentSource,
    Period,
    Preference,
)
from apkit.names import sort_key
from apkit.store import Store

CATEGORY_LABELS = {
    "soutien": "Soutien",
    "approfondissement": "Approfondissement",
    "orientation": "Orientation",
    "projet": "Projet",
}
OUTCOMES = ["Vœu 1", "Vœu 2", "Vœu 3 ou suivant", "Hors vœux", "Non inscrit"]
FILL_COLUMNS = [
    "Barrette",
    "Heure",
    "Code",
    "Atelier",
    "Catégorie",
    "Enseignant",
    "Salle",
    "Places",
    "Minimum",
    "Inscrits",
    "Premiers vœux",
    "Taux de remplissage",
    "Fermé",
    "activity_id",
]


def category_label(category: str) -> str:
    """Return the French label of a category (``"soutien"`` gives ``"Soutien"``)."""
    return CATEGORY_LABELS.get(category, category.capitalize() or "Sans catégorie")


def natural_key(text: str) -> tuple:
    """Return a key that sorts ``2de2`` before ``2de10``."""
    parts = re.split(r"(\d+)", text)
    return tuple(int(part) if part.isdigit() else part.casefold() for part in parts)


def fill_rates(
    store: Store, period_code: str, block_name: str | None = None
) -> pd.DataFrame:
    """Return each activity of a period with its places, enrolled and first choices.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FILL_COLUMNS`, one row per activity, sorted by block, slot
        and title. ``Inscrits`` counts distinct students (a project's students
        once), ``Premiers vœux`` the students who ranked it first in some slot,
        ``Taux de remplissage`` is ``Inscrits / Places`` (0 when it offers no place).

    Raises
    ------
    NotFoundError
        If the period or the block is unknown.
    """
    with store.read() as session:
        period = reports.find_period(session, period_code)
        statement = (
            select(Activity).join(Campaign).where(Campaign.period_id == period.id)
        )
        if block_name is not None:
            block = reports.find_block(session, block_name)
            statement = statement.where(Campaign.block_id == block.id)
        activities = list(session.scalars(statement))
        ids = [a.id for a in activities]
        enrolled = _distinct_students(session, Enrolment, ids)
        first = _distinct_students(session, Preference, ids, rank=1)
        rows = [_fill_row(a, enrolled, first) for a in activities]

    frame = pd.DataFrame(rows, columns=FILL_COLUMNS)
    frame = frame.sort_values(["Barrette", "Heure", "Atelier"], key=_sort_column)
    return frame.reset_index(drop=True)


def _sort_column(column: pd.Series) -> pd.Series:
    if column.name == "Atelier":
        return column.map(sort_key)
    return column


def _distinct_students(
    session: Session,
    entity: type[Enrolment] | type[Preference],
    activity_ids: list[int],
    rank: int | None = None,
) -> dict[int, int]:
    statement = select(entity.activity_id, entity.student_id).where(
        entity.activity_id.in_(activity_ids)
    )
    if rank is not None:
        statement = statement.where(entity.rank == rank)
    students: dict[int, set[int]] = {}
    for activity_id, student_id in session.execute(statement):
        students.setdefault(activity_id, set()).add(student_id)
    return {activity_id: len(ids) for activity_id, ids in students.items()}


def _fill_row(
    activity: Activity, enrolled: dict[int, int], first: dict[int, int]
) -> list[object]:
    count = enrolled.get(activity.id, 0)
    rate = count / activity.capacity if activity.capacity else 0.0
    return [
        activity.campaign.block.name,
        reports.slot_label(activity.slots),
        activity.code,
        activity.title,
        category_label(activity.category),
        reports.teacher_name(activity.teacher),
        activity.room,
        activity.capacity,
        activity.min_size,
        count,
        first.get(activity.id, 0),
        rate,
        activity.cancelled,
        activity.id,
    ]


def block_fill(store: Store, period_code: str) -> pd.DataFrame:
    """Return places, enrolled and unplaced students per block and slot of a period.

    Returns
    -------
    pandas.DataFrame
        Columns ``Barrette``, ``Heure`` (int), ``Élèves`` (on the roster),
        ``Places`` (of the activities still open in that slot), ``Inscrits``,
        ``Non inscrits`` and ``Taux de remplissage`` (``Inscrits / Places``).

    Raises
    ------
    NotFoundError
        If the period is unknown.
    """
    outcomes = slot_outcomes(store, [period_code])
    places = _places_per_slot(store, period_code)
    rows = []
    for (block, slot), group in outcomes.groupby(["Barrette", "Heure"]):
        unplaced = int((group["Résultat"] == "Non inscrit").sum())
        offered = places.get((str(block), int(slot)), 0)
        enrolled = len(group) - unplaced
        rate = enrolled / offered if offered else 0.0
        rows.append([block, slot, len(group), offered, enrolled, unplaced, rate])
    columns = ["Barrette", "Heure", "Élèves", "Places", "Inscrits", "Non inscrits"]
    return pd.DataFrame(rows, columns=[*columns, "Taux de remplissage"])


def _places_per_slot(store: Store, period_code: str) -> dict[tuple[str, int], int]:
    with store.read() as session:
        period = reports.find_period(session, period_code)
        statement = (
            select(Activity).join(Campaign).where(Campaign.period_id == period.id)
        )
        places: dict[tuple[str, int], int] = {}
        for activity in session.scalars(statement):
            if activity.cancelled:
                continue
            for slot in activity.slots:
                key = (activity.campaign.block.name, slot)
                places[key] = places.get(key, 0) + activity.capacity
    return places


def slot_outcomes(
    store: Store, period_codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Return what each student got in each slot of each campaign of the periods.

    Returns
    -------
    pandas.DataFrame
        Columns ``Période``, ``Barrette``, ``Heure``, ``student_id``, ``Rang`` (the
        preference rank obtained, or ``<NA>``) and ``Résultat``, one of
        :data:`OUTCOMES`. A student enrolled through live sign-up chose the
        activity and counts as ``"Vœu 1"``; a prescribed or corrected enrolment
        outside the student's ranked choices counts as ``"Hors vœux"``.

    Raises
    ------
    NotFoundError
        If a period code is unknown.
    """
    with store.read() as session:
        statement = select(Period).order_by(Period.start_date)
        if period_codes is not None:
            for code in period_codes:
                reports.find_period(session, code)
            statement = statement.where(Period.code.in_(list(period_codes)))
        rows = []
        for period in session.scalars(statement):
            campaigns = select(Campaign).where(Campaign.period_id == period.id)
            for campaign in session.scalars(campaigns):
                rows += _campaign_outcomes(session, campaign, period)
    columns = ["Période", "Barrette", "Heure", "student_id", "Rang", "Résultat"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["Rang"] = frame["Rang"].astype("Int64")
    return frame


def _campaign_outcomes(
    session: Session, campaign: Campaign, period: Period
) -> list[list[object]]:
    enrolments = {
        (e.student_id, e.slot): e
        for e in session.scalars(
            select(Enrolment).where(Enrolment.campaign_id == campaign.id)
        )
    }
    ranks = {
        (p.student_id, p.slot, p.activity_id): p.rank
        for p in session.scalars(
            select(Preference).where(Preference.campaign_id == campaign.id)
        )
    }
    rows = []
    for division in campaign.block.divisions:
        for student in division.students:
            if not reports.present_in(student, period):
                continue
            for slot in range(1, campaign.block.slot_count + 1):
                rank = _rank_obtained(enrolments.get((student.id, slot)), ranks)
                outcome = _outcome(rank, (student.id, slot) in enrolments)
                row = [period.code, campaign.block.name, slot, student.id]
                rows.append(row + [rank, outcome])
    return rows


def _rank_obtained(
    enrolment: Enrolment | None, ranks: dict[tuple[int, int, int], int]
) -> int | None:
    if enrolment is None:
        return None
    if enrolment.rank is not None:
        return enrolment.rank
    key = (enrolment.student_id, enrolment.slot, enrolment.activity_id)
    if key in ranks:
        return ranks[key]
    if enrolment.source == EnrolmentSource.SIGNUP:
        return 1
    return None


def _outcome(rank: int | None, enrolled: bool) -> str:
    if not enrolled:
        return "Non inscrit"
    if rank is None:
        return "Hors vœux"
    return OUTCOMES[min(rank, 3) - 1]


def satisfaction(
    store: Store, period_codes: Sequence[str] | None = None
) -> pd.DataFrame:
    """Return, per period, how many student-hours ended in each outcome.

    Returns
    -------
    pandas.DataFrame
        Index ``Période`` in date order, one column per outcome of :data:`OUTCOMES`
        (counts), then ``Total``. :func:`satisfaction_shares` turns it into shares.

    Raises
    ------
    NotFoundError
        If a period code is unknown.
    """
    outcomes = slot_outcomes(store, period_codes)
    periods = list(dict.fromkeys(outcomes["Période"]))
    table = pd.crosstab(outcomes["Période"], outcomes["Résultat"])
    table = table.reindex(index=periods, columns=OUTCOMES, fill_value=0)
    table.columns.name = None
    table["Total"] = table.sum(axis=1)
    return table.astype("int64")


def satisfaction_shares(table: pd.DataFrame) -> pd.DataFrame:
    """Return the outcome columns of :func:`satisfaction` divided by ``Total``."""
    totals = table["Total"].where(table["Total"] > 0, 1)
    return table[OUTCOMES].div(totals, axis=0)


def unplaced_by_class(store: Store, period_code: str) -> pd.DataFrame:
    """Return how many students of each class are unplaced in each slot.

    Returns
    -------
    pandas.DataFrame
        Index ``Classe`` (every class of a block with a campaign, in natural order:
        2de2 before 2de10), one column ``Heure n`` per slot, counts.

    Raises
    ------
    NotFoundError
        If the period is unknown.
    """
    outcomes = slot_outcomes(store, [period_code])
    classes = reports.student_classes(store)
    outcomes["Classe"] = outcomes["student_id"].map(classes)
    outcomes["Non inscrit"] = outcomes["Résultat"] == "Non inscrit"
    table = outcomes.pivot_table(
        index="Classe", columns="Heure", values="Non inscrit", aggfunc="sum"
    )
    table = table.fillna(0).astype("int64")
    table.columns = [f"Heure {slot}" for slot in table.columns]
    table.columns.name = None
    return table.loc[sorted(table.index, key=natural_key)]


def choice_history(store: Store, school_year: str | None = None) -> pd.DataFrame:
    """Return each student's year: placements, first choices and categories taken.

    Returns
    -------
    pandas.DataFrame
        One row per student of :func:`apkit.reports.year_roster`, columns
        ``Nom``, ``Prénom``, ``Classe``, ``Heures placées`` (student-hours),
        ``Vœux 1 obtenus``, ``Part de vœux 1`` (of the hours placed, 0 when
        none), one count of distinct activities per category of
        :data:`CATEGORY_LABELS`, then ``Jamais soutien`` and ``Jamais orientation``.

    Raises
    ------
    NotFoundError
        If the database contains no period of that year.
    """
    periods = [p.code for p in reports.school_year_periods(store, school_year)]
    placed = reports.placements(store, periods)
    outcomes = slot_outcomes(store, periods)
    people = reports.year_roster(store, school_year)

    hours = placed.groupby("student_id").size()
    firsts = outcomes[outcomes["Résultat"] == "Vœu 1"].groupby("student_id").size()
    people["Heures placées"] = _counts(people, hours)
    people["Vœux 1 obtenus"] = _counts(people, firsts)
    share = people["Vœux 1 obtenus"] / people["Heures placées"].where(
        people["Heures placées"] > 0
    )
    people["Part de vœux 1"] = share.fillna(0.0)
    for category, label in CATEGORY_LABELS.items():
        taken = placed[placed["Catégorie"] == category]
        people[label] = _counts(people, taken.groupby("student_id")["Code"].nunique())
    people["Jamais soutien"] = people["Soutien"] == 0
    people["Jamais orientation"] = people["Orientation"] == 0
    return people.drop(columns="student_id")


def _counts(people: pd.DataFrame, counts: pd.Series) -> pd.Series:
    return people["student_id"].map(counts).fillna(0).astype("int64")


def students_never(
    store: Store, category: str, school_year: str | None = None
) -> pd.DataFrame:
    """Return the students who had no activity of ``category`` this year.

    Parameters
    ----------
    category
        A key of :data:`CATEGORY_LABELS` such as ``"soutien"`` or ``"orientation"``.

    Raises
    ------
    ValueError
        If ``category`` is not a key of :data:`CATEGORY_LABELS`.
    NotFoundError
        If the database contains no period of that year.
    """
    if category not in CATEGORY_LABELS:
        allowed = ", ".join(CATEGORY_LABELS)
        raise ValueError(f"Catégorie « {category} » inconnue ; attendu : {allowed}.")
    history = choice_history(store, school_year)
    never = history[history[CATEGORY_LABELS[category]] == 0]
    return never[reports.PERSON_COLUMNS].reset_index(drop=True)
