"""A school's AP set-up: blocks, teachers, periods and activities, checked.

:func:`load_school` reads the set-up from a folder of CSV files or from one
workbook (see :mod:`apkit.setup_tables`) and checks every row before anything
reaches the database; :func:`import_school` then writes it. Problems that only
the campaign's feasibility check can judge (a teacher or a room used twice in one
block-hour) are kept as warnings in :attr:`SchoolSetup.warnings`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from apkit.errors import SetupError
from apkit.school_store import SetupChanges, import_school
from apkit.setup_tables import Row, Table, iter_rows, read_tables
from apkit.setup_values import (
    parse_date,
    parse_slot,
    parse_whole_number,
    split_classes,
    text,
)

log = logging.getLogger(__name__)

__all__ = [
    "ActivitySetup",
    "BlockSetup",
    "PeriodSetup",
    "SchoolSetup",
    "SetupChanges",
    "TeacherSetup",
    "import_school",
    "load_school",
]


@dataclass(frozen=True)
class BlockSetup:
    """A barrette and its classes, in the order of the file."""

    name: str
    classes: tuple[str, ...]


@dataclass(frozen=True)
class TeacherSetup:
    teacher_id: str
    last_name: str
    first_name: str
    email: str | None


@dataclass(frozen=True)
class PeriodSetup:
    period_id: str
    name: str
    start_date: dt.date
    end_date: dt.date


@dataclass(frozen=True)
class ActivitySetup:
    """One activity of one period; ``slot_span`` is 2 for a ``1+2`` project."""

    period_id: str
    activity_id: str
    block: str
    first_slot: int
    slot_span: int
    title: str
    category: str
    teacher_id: str | None
    room: str
    capacity: int
    min_size: int
    description: str = ""
    eligible_classes: tuple[str, ...] = ()

    @property
    def slots(self) -> tuple[int, ...]:
        return tuple(range(self.first_slot, self.first_slot + self.slot_span))


@dataclass
class SchoolSetup:
    """A checked set-up, ready for :func:`import_school`."""

    school_year: str
    blocks: list[BlockSetup]
    teachers: list[TeacherSetup]
    periods: list[PeriodSetup]
    activities: list[ActivitySetup]
    warnings: list[str] = field(default_factory=list)
    source: Path | None = None

    def block_of_class(self) -> dict[str, str]:
        """Map each class name to its block's name."""
        return {c: block.name for block in self.blocks for c in block.classes}

    def activities_of(self, period_id: str, block: str) -> list[ActivitySetup]:
        return [
            a for a in self.activities if a.period_id == period_id and a.block == block
        ]


def load_school(path: str | Path) -> SchoolSetup:
    """Read and check a school set-up from a CSV folder or a workbook.

    Parameters
    ----------
    path
        A folder holding ``blocks.csv``, ``teachers.csv``, ``periods.csv`` and
        ``activities_<period>.csv`` files, or an ``.xlsx`` or ``.ods`` workbook
        with the sheets ``Barrettes``, ``Enseignants``, ``Périodes`` and
        ``Ateliers``.

    Returns
    -------
    SchoolSetup
        The set-up, with the school year derived from the period dates.

    Raises
    ------
    SetupError
        On the first invalid value, naming the file or sheet, the line, the
        column, the value and what to do.
    """
    path = Path(path)
    tables = read_tables(path)
    blocks = _parse_blocks(tables["blocks"][0])
    teachers = _parse_teachers(tables["teachers"][0])
    periods, school_year = _parse_periods(tables["periods"][0])
    context = _Context(tables, blocks, teachers, periods)
    activities = _parse_activities(context)
    setup = SchoolSetup(school_year, blocks, teachers, periods, activities, source=path)
    setup.warnings = _shared_resources(activities)
    for warning in setup.warnings:
        log.warning("%s: %s", path.name, warning)
    return setup


def _parse_blocks(table: Table) -> list[BlockSetup]:
    classes: dict[str, list[str]] = {}
    seen: dict[str, tuple[str, int]] = {}
    for row in table.rows:
        block = text(table, row, "block", max_length=40)
        class_name = text(table, row, "class_name", max_length=40)
        if class_name in seen:
            other_block, other_line = seen[class_name]
            where = "déjà listée" if other_block == block else "déjà dans la barrette"
            raise SetupError(
                f"classe {where} {other_block}, ligne {other_line}",
                path=table.path,
                line=row.line,
                column=table.header("class_name"),
                value=class_name,
                hint="une classe appartient à une seule barrette ; "
                "supprimez l'une des deux lignes",
            )
        seen[class_name] = (block, row.line)
        classes.setdefault(block, []).append(class_name)
    if not classes:
        raise SetupError(
            "aucune barrette", path=table.path, hint="ajoutez une ligne par classe"
        )
    return [BlockSetup(name, tuple(names)) for name, names in classes.items()]


def _parse_teachers(table: Table) -> list[TeacherSetup]:
    teachers: dict[str, TeacherSetup] = {}
    lines: dict[str, int] = {}
    for row in table.rows:
        teacher_id = text(table, row, "teacher_id", max_length=64)
        if teacher_id in teachers:
            raise _duplicate(table, row, "teacher_id", teacher_id, lines[teacher_id])
        email = text(table, row, "email", required=False, max_length=254)
        if email and "@" not in email:
            raise SetupError(
                "adresse électronique invalide",
                path=table.path,
                line=row.line,
                column=table.header("email"),
                value=email,
                hint="écrivez une adresse complète (prenom.nom@exemple.fr) "
                "ou laissez la case vide",
            )
        teachers[teacher_id] = TeacherSetup(
            teacher_id,
            text(table, row, "last_name", max_length=120),
            text(table, row, "first_name", max_length=120),
            email or None,
        )
        lines[teacher_id] = row.line
    return list(teachers.values())


def _parse_periods(table: Table) -> tuple[list[PeriodSetup], str]:
    periods: list[tuple[PeriodSetup, int]] = []
    lines: dict[str, int] = {}
    for row in table.rows:
        period_id = text(table, row, "period_id", max_length=20)
        if period_id in lines:
            raise _duplicate(table, row, "period_id", period_id, lines[period_id])
        start = parse_date(table, row, "start_date")
        end = parse_date(table, row, "end_date")
        if end < start:
            raise SetupError(
                f"la période finit le {end:%d/%m/%Y}, avant son début",
                path=table.path,
                line=row.line,
                column=table.header("end_date"),
                value=row["end_date"],
                hint="vérifiez l'ordre des dates (début puis fin, jj/mm/aaaa)",
            )
        name = text(table, row, "name", max_length=80)
        periods.append((PeriodSetup(period_id, name, start, end), row.line))
        lines[period_id] = row.line
    if not periods:
        raise SetupError(
            "aucune période", path=table.path, hint="ajoutez une ligne par période"
        )
    _check_no_overlap(table, periods)
    school_year = _school_year(table, periods)
    return [period for period, _ in periods], school_year


def _check_no_overlap(table: Table, periods: list[tuple[PeriodSetup, int]]) -> None:
    ordered = sorted(periods, key=lambda item: item[0].start_date)
    for (before, _), (after, line) in zip(ordered, ordered[1:], strict=False):
        if after.start_date <= before.end_date:
            raise SetupError(
                f"la période {after.period_id} commence le "
                f"{after.start_date:%d/%m/%Y}, pendant la période {before.period_id} "
                f"(jusqu'au {before.end_date:%d/%m/%Y})",
                path=table.path,
                line=line,
                column=table.header("start_date"),
                value=f"{after.start_date:%d/%m/%Y}",
                hint="les périodes ne doivent pas se chevaucher ; corrigez les dates",
            )


def _school_year(table: Table, periods: list[tuple[PeriodSetup, int]]) -> str:
    """Return "2025-2026" for periods between August 2025 and July 2026."""
    first = min(period.start_date for period, _ in periods)
    year = first.year if first.month >= 8 else first.year - 1
    last_day = dt.date(year + 1, 7, 31)
    for period, line in periods:
        if period.end_date > last_day:
            raise SetupError(
                f"la période {period.period_id} dépasse l'année scolaire "
                f"{year}-{year + 1} (fin au 31/07/{year + 1})",
                path=table.path,
                line=line,
                column=table.header("end_date"),
                value=f"{period.end_date:%d/%m/%Y}",
                hint="une organisation couvre une seule année scolaire",
            )
    return f"{year}-{year + 1}"


@dataclass
class _Context:
    tables: dict[str, list[Table]]
    blocks: list[BlockSetup]
    teachers: list[TeacherSetup]
    periods: list[PeriodSetup]

    def label(self, kind: str) -> str:
        """Name the table of ``kind`` as the user knows it, for hints."""
        path = self.tables[kind][0].path
        if path.suffix.lower() == ".csv":
            return path.name
        return f"la feuille {path.name.split('[', 1)[1].rstrip(']')}"


def _parse_activities(context: _Context) -> list[ActivitySetup]:
    activities: list[ActivitySetup] = []
    lines: dict[tuple[str, str], tuple[Table, int]] = {}
    for table, row in iter_rows(context.tables["activities"]):
        activity = _parse_activity(context, table, row)
        key = (activity.period_id, activity.activity_id)
        if key in lines:
            other_table, other_line = lines[key]
            where = f"ligne {other_line}"
            if other_table is not table:
                where = f"{other_table.path.name}:{other_line}"
            raise SetupError(
                f"identifiant d'atelier déjà utilisé pour la période "
                f"{activity.period_id}, {where}",
                path=table.path,
                line=row.line,
                column=table.header("activity_id"),
                value=activity.activity_id,
                hint="donnez à chaque atelier un identifiant unique dans sa période",
            )
        lines[key] = (table, row.line)
        activities.append(activity)
    return activities


def _parse_activity(context: _Context, table: Table, row: Row) -> ActivitySetup:
    period_id = _activity_period(context, table, row)
    activity_id = text(table, row, "activity_id", max_length=40)
    block = text(table, row, "block", max_length=40)
    block_names = [b.name for b in context.blocks]
    if block not in block_names:
        raise SetupError(
            "barrette inconnue",
            path=table.path,
            line=row.line,
            column=table.header("block"),
            value=block,
            hint=f"barrettes connues : {', '.join(block_names)} ; ajoutez-la à "
            f"{context.label('blocks')} ou corrigez la ligne",
        )
    first_slot, slot_span = parse_slot(table, row, "slot")
    capacity = parse_whole_number(table, row, "capacity")
    min_size = parse_whole_number(table, row, "min_size", default=0)
    if min_size > capacity:
        raise SetupError(
            f"effectif minimum supérieur aux {capacity} places",
            path=table.path,
            line=row.line,
            column=table.header("min_size"),
            value=row["min_size"],
            hint="baissez l'effectif minimum ou augmentez les places",
        )
    return ActivitySetup(
        period_id=period_id,
        activity_id=activity_id,
        block=block,
        first_slot=first_slot,
        slot_span=slot_span,
        title=text(table, row, "title", max_length=200),
        category=text(table, row, "category", required=False, max_length=40),
        teacher_id=_activity_teacher(context, table, row),
        room=text(table, row, "room", required=False, max_length=40),
        capacity=capacity,
        min_size=min_size,
        description=text(table, row, "description", required=False),
        eligible_classes=_eligible_classes(context, table, row, block),
    )


def _activity_period(context: _Context, table: Table, row: Row) -> str:
    known = {p.period_id.casefold(): p.period_id for p in context.periods}
    written = text(table, row, "period_id", required=table.period_id is None)
    column: str | None = table.header("period_id")
    if not written:
        written, column = table.period_id or "", None
    period_id = known.get(written.casefold())
    if period_id is None:
        raise SetupError(
            "période inconnue",
            path=table.path,
            line=row.line if column else None,
            column=column,
            value=written,
            hint=f"périodes connues : {', '.join(known.values())} ; "
            f"ajoutez-la à {context.label('periods')} ou corrigez "
            + ("la ligne" if column else "le nom du fichier (activities_p1.csv)"),
        )
    if table.period_id and table.period_id.casefold() != period_id.casefold():
        raise SetupError(
            f"période différente de celle du nom du fichier ({table.period_id})",
            path=table.path,
            line=row.line,
            column=column,
            value=written,
            hint="corrigez la colonne ou renommez le fichier",
        )
    return period_id


def _activity_teacher(context: _Context, table: Table, row: Row) -> str | None:
    teacher_id = text(table, row, "teacher_id", required=False, max_length=64)
    if not teacher_id:
        return None
    if teacher_id not in {t.teacher_id for t in context.teachers}:
        raise SetupError(
            "enseignant inconnu",
            path=table.path,
            line=row.line,
            column=table.header("teacher_id"),
            value=teacher_id,
            hint=f"ajoutez-le à {context.label('teachers')} ou corrigez la ligne",
        )
    return teacher_id


def _eligible_classes(
    context: _Context, table: Table, row: Row, block: str
) -> tuple[str, ...]:
    names = split_classes(row["eligible_classes"])
    block_classes = next(b.classes for b in context.blocks if b.name == block)
    other_blocks = {c: b.name for b in context.blocks for c in b.classes}
    for name in names:
        if name not in block_classes:
            problem = "classe inconnue"
            if name in other_blocks:
                problem = f"classe de la barrette {other_blocks[name]}, pas de {block}"
            raise SetupError(
                problem,
                path=table.path,
                line=row.line,
                column=table.header("eligible_classes"),
                value=name,
                hint=f"classes de la barrette : {', '.join(block_classes)} ; "
                "séparez-les par des virgules",
            )
    return names


def _duplicate(table: Table, row: Row, column: str, value: str, first: int):
    return SetupError(
        f"identifiant en double, déjà ligne {first}",
        path=table.path,
        line=row.line,
        column=table.header(column),
        value=value,
        hint="donnez un identifiant unique à chaque ligne",
    )


def _shared_resources(activities: list[ActivitySetup]) -> list[str]:
    """List teachers and rooms booked twice in one period, block and hour."""
    warnings: list[str] = []
    for kind, label in (("teacher_id", "l'enseignant"), ("room", "la salle")):
        bookings: Counter[tuple[str, str, int, str]] = Counter()
        for activity in activities:
            resource = getattr(activity, kind)
            for slot in activity.slots if resource else ():
                bookings[(activity.period_id, activity.block, slot, resource)] += 1
        for (period_id, block, slot, resource), count in sorted(bookings.items()):
            if count > 1:
                warnings.append(
                    f"{period_id}, barrette {block}, heure {slot} : {label} "
                    f"{resource} a {count} ateliers en même temps"
                )
    return warnings
