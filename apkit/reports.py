"""Lists of placed and unplaced students, as pandas DataFrames with French headers.

Every list is sorted in French alphabetical order of family name, then first name
(:func:`apkit.names.sort_key`). The functions read the database through a
:class:`~apkit.store.Store` and return plain DataFrames that the exports, the
charts and the dashboards share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from apkit.errors import NotFoundError
from apkit.model import (
    Activity,
    Block,
    Campaign,
    Division,
    Enrolment,
    Period,
    Student,
    Teacher,
)
from apkit.names import sort_key
from apkit.store import Store

UNPLACED = "Non inscrit"
PERSON_COLUMNS = ["Nom", "Prénom", "Classe"]
PLACEMENT_COLUMNS = [
    "Période",
    "Barrette",
    "Heure",
    "Code",
    "Atelier",
    "Catégorie",
    "Enseignant",
    "Salle",
    "Nom",
    "Prénom",
    "Classe",
    "Origine",
    "Rang",
    "activity_id",
    "student_id",
    "teacher_id",
]


def teacher_name(teacher: Teacher | None) -> str:
    """Return ``"NOM Prénom"`` as school lists print a teacher, or ``""``."""
    if teacher is None:
        return ""
    return f"{teacher.last_name} {teacher.first_name}".strip()


def slot_label(slots: Iterable[int]) -> str:
    """Return ``"1"`` for one slot and ``"1 et 2"`` for a two-hour project."""
    return " et ".join(str(slot) for slot in slots)


def sort_by_name(frame: pd.DataFrame, *leading: str) -> pd.DataFrame:
    """Sort rows by the ``leading`` columns, then by ``Nom`` and ``Prénom`` in French.

    The leading columns compare by their own values (numbers, codes); the names
    compare through :func:`apkit.names.sort_key`.
    """

    def key(position: int) -> tuple:
        row = frame.iloc[position]
        lead = tuple(_comparable(row[column]) for column in leading)
        return lead + sort_key(str(row["Nom"]), str(row["Prénom"]))

    order = sorted(range(len(frame)), key=key)
    return frame.iloc[order].reset_index(drop=True)


def _comparable(value: object) -> tuple:
    # Text compares through the collator, so "Écrire" sorts beside "Ecrire".
    if isinstance(value, str):
        return (1, sort_key(value))
    return (0, value)


def find_period(session: Session, period_code: str) -> Period:
    """Return the period with ``period_code``.

    Raises
    ------
    NotFoundError
        If no period has that code; the message lists the known codes.
    """
    period = session.scalar(select(Period).where(Period.code == period_code))
    if period is None:
        known = ", ".join(session.scalars(select(Period.code).order_by(Period.code)))
        raise NotFoundError(
            f"Période « {period_code} » introuvable ; périodes connues : "
            f"{known or 'aucune'}. Importez les périodes ou corrigez le code."
        )
    return period


def find_block(session: Session, block_name: str) -> Block:
    """Return the block named ``block_name``.

    Raises
    ------
    NotFoundError
        If no block has that name; the message lists the known names.
    """
    block = session.scalar(select(Block).where(Block.name == block_name))
    if block is None:
        known = ", ".join(session.scalars(select(Block.name).order_by(Block.name)))
        raise NotFoundError(
            f"Barrette « {block_name} » introuvable ; barrettes connues : "
            f"{known or 'aucune'}."
        )
    return block


def placements(
    store: Store,
    period_codes: Sequence[str] | None = None,
    block_name: str | None = None,
) -> pd.DataFrame:
    """Return one row per enrolment (student, slot) with every field a list prints.

    Parameters
    ----------
    store
        The school's database.
    period_codes
        The periods to include; all of them by default.
    block_name
        Only this block's campaigns, if given.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`PLACEMENT_COLUMNS`, sorted by period, block, slot, activity
        title, then name.

    Raises
    ------
    NotFoundError
        If a period code or the block name is unknown.
    """
    with store.read() as session:
        statement = (
            select(Enrolment, Activity, Campaign, Period, Block, Student)
            .join(Activity, Enrolment.activity_id == Activity.id)
            .join(Campaign, Enrolment.campaign_id == Campaign.id)
            .join(Period, Campaign.period_id == Period.id)
            .join(Block, Campaign.block_id == Block.id)
            .join(Student, Enrolment.student_id == Student.id)
        )
        if period_codes is not None:
            for code in period_codes:
                find_period(session, code)
            statement = statement.where(Period.code.in_(list(period_codes)))
        if block_name is not None:
            statement = statement.where(Block.id == find_block(session, block_name).id)
        rows = [_placement_row(*row) for row in session.execute(statement)]

    frame = pd.DataFrame(rows, columns=PLACEMENT_COLUMNS)
    frame["Heure"] = frame["Heure"].astype("int64")
    frame["Rang"] = frame["Rang"].astype("Int64")
    return sort_by_name(frame, "Période", "Barrette", "Heure", "Atelier", "Code")


def _placement_row(
    enrolment: Enrolment,
    activity: Activity,
    _campaign: Campaign,
    period: Period,
    block: Block,
    student: Student,
) -> list[object]:
    division = student.division.name if student.division else ""
    return [
        period.code,
        block.name,
        enrolment.slot,
        activity.code,
        activity.title,
        activity.category,
        teacher_name(activity.teacher),
        activity.room,
        student.last_name,
        student.first_name,
        division,
        enrolment.source.value,
        enrolment.rank,
        activity.id,
        student.id,
        activity.teacher_id,
    ]


def activity_list(store: Store, activity_id: int) -> pd.DataFrame:
    """Return the teacher's list of one activity: one row per student.

    A two-hour project lists each student once, with ``Heure`` ``"1 et 2"``; a
    student placed in only one of its hours shows that hour alone.

    Returns
    -------
    pandas.DataFrame
        Columns ``Nom``, ``Prénom``, ``Classe``, ``Heure``, in French order. The
        activity's own fields are in ``frame.attrs`` (``Atelier``, ``Code``,
        ``Enseignant``, ``Salle``, ``Heure``, ``Période``, ``Barrette``, ``Places``).

    Raises
    ------
    NotFoundError
        If no activity has ``activity_id``.
    """
    with store.read() as session:
        activity = session.get(Activity, activity_id)
        if activity is None:
            raise NotFoundError(f"Atelier n° {activity_id} introuvable.")
        header = activity_header(activity)
        statement = (
            select(Enrolment.slot, Student)
            .join(Student, Enrolment.student_id == Student.id)
            .where(Enrolment.activity_id == activity_id)
        )
        slots_by_student: dict[int, list[int]] = {}
        students: dict[int, Student] = {}
        for slot, student in session.execute(statement):
            slots_by_student.setdefault(student.id, []).append(slot)
            students[student.id] = student
        rows = [
            [
                student.last_name,
                student.first_name,
                student.division.name if student.division else "",
                slot_label(sorted(slots_by_student[student.id])),
            ]
            for student in students.values()
        ]
    frame = sort_by_name(pd.DataFrame(rows, columns=[*PERSON_COLUMNS, "Heure"]))
    frame.attrs.update(header)
    return frame


def activity_header(activity: Activity) -> dict[str, object]:
    """Return the fields printed above an activity's list (title, teacher, room...)."""
    campaign = activity.campaign
    return {
        "Période": campaign.period.code,
        "Nom de la période": campaign.period.name,
        "Début": campaign.period.start_date,
        "Fin": campaign.period.end_date,
        "Barrette": campaign.block.name,
        "Code": activity.code,
        "Atelier": activity.title,
        "Catégorie": activity.category,
        "Enseignant": teacher_name(activity.teacher),
        "Salle": activity.room,
        "Heure": slot_label(activity.slots),
        "Places": activity.capacity,
        "Fermé": activity.cancelled,
    }


def teacher_lists(store: Store, teacher_id: int, period_code: str) -> pd.DataFrame:
    """Return every group a teacher leads in a period, one row per student and slot.

    Returns
    -------
    pandas.DataFrame
        Columns ``Barrette``, ``Heure``, ``Atelier``, ``Salle``, ``Nom``,
        ``Prénom``, ``Classe``, sorted by slot, activity, then name.

    Raises
    ------
    NotFoundError
        If the teacher or the period is unknown.
    """
    with store.read() as session:
        teacher = session.get(Teacher, teacher_id)
        if teacher is None:
            raise NotFoundError(f"Enseignant n° {teacher_id} introuvable.")
        name = teacher_name(teacher)
    frame = placements(store, [period_code])
    mine = frame[frame["teacher_id"] == teacher_id]
    columns = ["Barrette", "Heure", "Atelier", "Salle", *PERSON_COLUMNS]
    result = sort_by_name(mine[columns], "Heure", "Atelier", "Barrette")
    result.attrs["Enseignant"] = name
    return result


def class_list(store: Store, class_name: str, period_code: str) -> pd.DataFrame:
    """Return each student of a class with their activity and room in every slot.

    Returns
    -------
    pandas.DataFrame
        Columns ``Nom``, ``Prénom``, then for each slot ``n`` of the class's block
        ``Heure n`` (the activity's title, or ``"Non inscrit"``) and ``Salle n``.

    Raises
    ------
    NotFoundError
        If the class or the period is unknown.
    """
    with store.read() as session:
        division = session.scalar(select(Division).where(Division.name == class_name))
        if division is None:
            raise NotFoundError(f"Classe « {class_name} » introuvable.")
        period = find_period(session, period_code)
        slot_count = division.block.slot_count if division.block else 2
        students = [
            (s.id, s.last_name, s.first_name)
            for s in division.students
            if present_in(s, period)
        ]
    frame = placements(store, [period_code])
    by_student_slot = {
        (row.student_id, row.Heure): (row.Atelier, row.Salle)
        for row in frame.itertuples(index=False)
    }
    rows = []
    for student_id, last_name, first_name in students:
        row: list[object] = [last_name, first_name]
        for slot in range(1, slot_count + 1):
            title, room = by_student_slot.get((student_id, slot), (UNPLACED, ""))
            row += [title, room]
        rows.append(row)
    columns = ["Nom", "Prénom"]
    for slot in range(1, slot_count + 1):
        columns += [f"Heure {slot}", f"Salle {slot}"]
    return sort_by_name(pd.DataFrame(rows, columns=columns))


def block_list(store: Store, period_code: str, block_name: str) -> pd.DataFrame:
    """Return a block's enrolments of a period, one row per student and slot.

    Returns
    -------
    pandas.DataFrame
        Columns ``Heure``, ``Atelier``, ``Enseignant``, ``Salle``, ``Nom``,
        ``Prénom``, ``Classe``, sorted by slot, activity title, then name.

    Raises
    ------
    NotFoundError
        If the period or the block is unknown.
    """
    frame = placements(store, [period_code], block_name)
    columns = ["Heure", "Atelier", "Enseignant", "Salle", *PERSON_COLUMNS]
    return frame[columns].reset_index(drop=True)


def present_in(student: Student, period: Period) -> bool:
    """Tell whether a student had not left the school when ``period`` started.

    ``arrived_on`` is not looked at, because the roster import sets it to the
    day it first saw the student, which may come after the periods it covers.
    """
    return student.left_on is None or student.left_on > period.start_date


def unplaced_list(
    store: Store, period_code: str, block_name: str | None = None
) -> pd.DataFrame:
    """Return the students with no enrolment in a slot of a period's campaigns.

    A student appears once per slot left empty. Only blocks that have a campaign
    in the period are looked at, and only students on the roster during it.

    Returns
    -------
    pandas.DataFrame
        Columns ``Barrette``, ``Heure``, ``Nom``, ``Prénom``, ``Classe``, sorted by
        block, slot, then name.

    Raises
    ------
    NotFoundError
        If the period or the block is unknown.
    """
    with store.read() as session:
        period = find_period(session, period_code)
        statement = select(Campaign).where(Campaign.period_id == period.id)
        if block_name is not None:
            block = find_block(session, block_name)
            statement = statement.where(Campaign.block_id == block.id)
        rows = []
        for campaign in session.scalars(statement):
            rows += _unplaced_rows(session, campaign, period)
    columns = ["Barrette", "Heure", *PERSON_COLUMNS]
    return sort_by_name(pd.DataFrame(rows, columns=columns), "Barrette", "Heure")


def _unplaced_rows(
    session: Session, campaign: Campaign, period: Period
) -> list[list[object]]:
    statement = select(Enrolment.student_id, Enrolment.slot).where(
        Enrolment.campaign_id == campaign.id
    )
    placed = {(student_id, slot) for student_id, slot in session.execute(statement)}
    rows = []
    for division in campaign.block.divisions:
        for student in division.students:
            if not present_in(student, period):
                continue
            for slot in range(1, campaign.block.slot_count + 1):
                if (student.id, slot) not in placed:
                    row = [campaign.block.name, slot, student.last_name]
                    rows.append(row + [student.first_name, division.name])
    return rows


@dataclass(frozen=True)
class PeriodSpan:
    """A period's code, name, school year and dates, detached from any session."""

    code: str
    name: str
    school_year: str
    start_date: dt.date
    end_date: dt.date


def school_year_periods(
    store: Store, school_year: str | None = None
) -> list[PeriodSpan]:
    """Return the periods of a school year by start date; the latest year by default.

    Raises
    ------
    NotFoundError
        If the database contains no period of that year.
    """
    with store.read() as session:
        periods = [
            PeriodSpan(p.code, p.name, p.school_year, p.start_date, p.end_date)
            for p in session.scalars(select(Period).order_by(Period.start_date))
        ]
    if school_year is None and periods:
        school_year = periods[-1].school_year
    chosen = [p for p in periods if p.school_year == school_year]
    if not chosen:
        years = sorted({p.school_year for p in periods})
        raise NotFoundError(
            f"Aucune période pour l'année scolaire « {school_year} » ; années "
            f"connues : {', '.join(years) or 'aucune'}."
        )
    return chosen


def history_column(period_code: str, slot: int) -> str:
    """Return the column header of a period and slot in the history table."""
    return f"{period_code} H{slot}"


def student_history_table(store: Store, school_year: str | None = None) -> pd.DataFrame:
    """Return every group each student has been in, period by period.

    Returns
    -------
    pandas.DataFrame
        One row per student who is on the roster or was placed this year, columns
        ``Nom``, ``Prénom``, ``Classe``, then ``"P1 H1"``, ``"P1 H2"``, ... (period
        code and slot) holding the activity's title, or ``""`` where the student
        was not placed.

    Raises
    ------
    NotFoundError
        If the database contains no period of that year.
    """
    periods = school_year_periods(store, school_year)
    codes = [p.code for p in periods]
    frame = placements(store, codes)
    columns = [history_column(code, slot) for code in codes for slot in _slots(store)]

    history: dict[int, dict[str, str]] = {}
    for row in frame.itertuples(index=False):
        cells = history.setdefault(row.student_id, {})
        cells[history_column(row.Période, row.Heure)] = row.Atelier

    roster = year_roster(store, school_year)
    rows = []
    for row in roster.itertuples(index=False):
        cells = history.get(row.student_id, {})
        rows.append(
            [row.Nom, row.Prénom, row.Classe] + [cells.get(c, "") for c in columns]
        )
    return pd.DataFrame(rows, columns=[*PERSON_COLUMNS, *columns])


def _slots(store: Store) -> range:
    with store.read() as session:
        counts = list(session.scalars(select(Block.slot_count)))
    return range(1, max(counts, default=2) + 1)


def year_roster(store: Store, school_year: str | None = None) -> pd.DataFrame:
    """Return the students placed in the year or still on the roll, in French order.

    Returns
    -------
    pandas.DataFrame
        Columns ``student_id``, ``Nom``, ``Prénom``, ``Classe``.

    Raises
    ------
    NotFoundError
        If the database contains no period of that year.
    """
    periods = school_year_periods(store, school_year)
    year_start = periods[0].start_date
    with store.read() as session:
        placed = set(
            session.scalars(
                select(Enrolment.student_id)
                .join(Campaign, Enrolment.campaign_id == Campaign.id)
                .join(Period, Campaign.period_id == Period.id)
                .where(Period.code.in_([p.code for p in periods]))
            )
        )
        rows = [
            [s.id, s.last_name, s.first_name, s.division.name if s.division else ""]
            for s in session.scalars(select(Student))
            if s.id in placed or s.left_on is None or s.left_on > year_start
        ]
    frame = pd.DataFrame(rows, columns=["student_id", *PERSON_COLUMNS])
    return sort_by_name(frame)


def student_classes(store: Store) -> dict[int, str]:
    """Return each student's class name by student id (``""`` without a class)."""
    with store.read() as session:
        return {
            s.id: s.division.name if s.division else ""
            for s in session.scalars(select(Student))
        }


def student_history_frame(
    store: Store, student_id: int, school_year: str | None = None
) -> pd.DataFrame:
    """Return one student's groups of a year: one row per period and slot.

    Returns
    -------
    pandas.DataFrame
        Columns ``Période``, ``Heure``, ``Atelier``, ``Catégorie`` (the raw
        category, ``""`` where unplaced), ``Enseignant``. Every slot of every period
        with a campaign for the student's block is listed, placed or not. The
        student's name and class are in ``frame.attrs``.

    Raises
    ------
    NotFoundError
        If the student is unknown or the database holds no period of that year.
    """
    periods = school_year_periods(store, school_year)
    with store.read() as session:
        student = session.get(Student, student_id)
        if student is None:
            raise NotFoundError(f"Élève n° {student_id} introuvable.")
        block = student.division.block if student.division else None
        slot_count = block.slot_count if block else 2
        with_campaign = set(
            session.scalars(
                select(Period.code)
                .join(Campaign, Campaign.period_id == Period.id)
                .where(Campaign.block_id == (block.id if block else None))
            )
        )
        attrs = {
            "Nom": student.last_name,
            "Prénom": student.first_name,
            "Classe": student.division.name if student.division else "",
        }
    frame = placements(store, [p.code for p in periods])
    mine = {
        (row.Période, row.Heure): row
        for row in frame[frame["student_id"] == student_id].itertuples(index=False)
    }
    rows = []
    for period in periods:
        if period.code not in with_campaign:
            continue
        for slot in range(1, slot_count + 1):
            row = mine.get((period.code, slot))
            cells = (
                [row.Atelier, row.Catégorie, row.Enseignant] if row else ["", "", ""]
            )
            rows.append([period.code, slot, *cells])
    columns = ["Période", "Heure", "Atelier", "Catégorie", "Enseignant"]
    history = pd.DataFrame(rows, columns=columns)
    history.attrs.update(attrs)
    return history
