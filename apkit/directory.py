"""Students and teachers in the database: first import and re-import.

A roster import matches each row to a stored student by source id (the
``student_id`` of the export, kept in ``Student.source_id``), or failing that by
folded name and birth date. Students of a newer roster are added, moved to their
new class or updated. Stored students missing from it are marked with
``left_on`` and never deleted, so their enrolments and history stay.

Teachers are imported by :mod:`apkit.teachers`; :func:`import_teachers` and
:class:`TeacherChanges` are re-exported here.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from apkit import audit
from apkit.directory_rows import RosterRow, bad_row_policy, roster_rows
from apkit.errors import RosterError
from apkit.french import plural
from apkit.model import Division, Student
from apkit.names import fold
from apkit.store import Store
from apkit.teachers import TeacherChanges, apply_teachers, import_teachers

log = logging.getLogger(__name__)

__all__ = [
    "RosterChanges",
    "TeacherChanges",
    "apply_roster",
    "apply_teachers",
    "import_roster",
    "import_teachers",
]

STUDENT_COLUMNS = ["student_id", "last_name", "first_name", "class_name"]
# Students listed by name in a summary, per kind of change.
SUMMARY_NAMES = 20
# A full import may mark as left at most this share (and this number) of the
# present students without confirmation. A yearly roster loses a few leavers;
# a file of one class or a cut export would empty the whole school.
DEPARTURE_SHARE = 0.2
DEPARTURE_COUNT = 5


@dataclass
class RosterChanges:
    """What a roster import did, one DataFrame per kind of change.

    ``added``, ``left``, ``returned``, ``updated`` and ``unchanged`` have the
    columns ``student_id``, ``last_name``, ``first_name`` and ``class_name``, and
    ``changed_class`` has ``old_class`` as well. ``skipped`` has ``line``,
    ``student_id`` and ``problem`` for the rows left out under
    ``on_bad_rows="warn"`` or ``"skip"``. ``created_classes`` lists the classes
    created for the import.
    """

    added: pd.DataFrame
    left: pd.DataFrame
    changed_class: pd.DataFrame
    unchanged: pd.DataFrame
    returned: pd.DataFrame
    updated: pd.DataFrame
    skipped: pd.DataFrame
    created_classes: list[str] = field(default_factory=list)
    dry_run: bool = False
    departure_warning: str = ""

    @property
    def changed(self) -> bool:
        kinds = (self.added, self.left, self.changed_class, self.returned, self.updated)
        return any(len(frame) for frame in kinds) or bool(self.created_classes)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "left": len(self.left),
            "changed_class": len(self.changed_class),
            "returned": len(self.returned),
            "updated": len(self.updated),
            "unchanged": len(self.unchanged),
            "skipped": len(self.skipped),
        }

    def summary(self) -> str:
        """Describe the import in French: counts, then the students concerned."""
        c = self.counts()
        lines = [
            f"Élèves : {plural(c['added'], 'ajouté')}, {plural(c['left'], 'parti')}, "
            f"{plural(c['changed_class'], 'changé de classe', 'changés de classe')}, "
            f"{plural(c['returned'], 'revenu')}, {c['updated']} mis à jour, "
            f"{plural(c['unchanged'], 'inchangé')}."
        ]
        if self.dry_run:
            lines[0] = "Simulation, rien n'est enregistré. " + lines[0]
        if self.departure_warning:
            lines.insert(1, f"Attention : {self.departure_warning}")
        if self.created_classes:
            lines.append(f"Classes créées : {', '.join(self.created_classes)}.")
        for title, frame in (
            ("Ajoutés", self.added),
            ("Partis", self.left),
            ("Revenus", self.returned),
        ):
            lines += _name_lines(title, frame, lambda r: r.class_name)
        lines += _name_lines(
            "Changés de classe",
            self.changed_class,
            lambda r: f"{r.old_class} → {r.class_name}",
        )
        if len(self.skipped):
            lines.append(f"Lignes ignorées : {len(self.skipped)}")
            lines += [
                f"  ligne {r.line} : {r.problem}" for r in self.skipped.itertuples()
            ]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "counts": self.counts(),
            "dry_run": self.dry_run,
            "departure_warning": self.departure_warning,
        }
        for name in (
            "added",
            "left",
            "changed_class",
            "returned",
            "updated",
            "skipped",
        ):
            result[name] = getattr(self, name).to_dict(orient="records")
        result["created_classes"] = self.created_classes
        return result


def _name_lines(title: str, frame: pd.DataFrame, detail) -> list[str]:
    if not len(frame):
        return []
    lines = [f"{title} :"]
    for row in frame.head(SUMMARY_NAMES).itertuples():
        lines.append(f"  {row.last_name} {row.first_name} ({detail(row)})")
    if len(frame) > SUMMARY_NAMES:
        lines.append(f"  ... et {plural(len(frame) - SUMMARY_NAMES, 'autre')}")
    return lines


def import_roster(
    store: Store,
    roster: Any,
    *,
    actor: str,
    on_bad_rows: str = "error",
    create_classes: bool = False,
    full: bool = True,
    allow_departures: bool = False,
    dry_run: bool = False,
    today: dt.date | None = None,
) -> RosterChanges:
    """Add, move, update and mark as left the students of a roster, in one transaction.

    Parameters
    ----------
    store
        The school's database; its classes come from :func:`apkit.school.import_school`.
    roster
        A :class:`apkit.roster.Roster` (its ``students`` DataFrame is read) or
        such a DataFrame, with the columns ``student_id``, ``last_name``,
        ``first_name``, ``class_name``, ``birth_date`` and ``sex``.
    actor
        Who imports, recorded in the audit log.
    on_bad_rows
        ``"error"`` raises on the first bad row (unknown class, empty name,
        repeated id); ``"warn"`` logs it and leaves it out; ``"skip"`` leaves it
        out silently. Left-out rows are listed in ``RosterChanges.skipped``.
    create_classes
        Create a class (without block) for a class name the database lacks,
        instead of treating the row as bad.
    full
        The roster lists the whole school, so a stored student missing from it
        has left. With ``False``, only students of the roster's classes can be
        marked as left (a file of one class).
    allow_departures
        Confirm a full import that marks as left more than
        ``DEPARTURE_SHARE`` (and more than ``DEPARTURE_COUNT``) of the present
        students. Such an import is refused without it.
    dry_run
        Compute the changes and write nothing. Too many departures do not raise
        then: ``RosterChanges.departure_warning`` describes them.
    today
        The date recorded in ``left_on`` and ``arrived_on``; today by default.

    Returns
    -------
    RosterChanges

    Raises
    ------
    RosterError
        On a bad row under ``on_bad_rows="error"``, on a missing column, on an
        invalid ``on_bad_rows``, or on too many departures without
        ``allow_departures``. Nothing is written then.
    """
    bad_row_policy(on_bad_rows)
    with store.write() as session:
        changes = apply_roster(
            session,
            roster,
            actor=actor,
            on_bad_rows=on_bad_rows,
            create_classes=create_classes,
            full=full,
            allow_departures=allow_departures or dry_run,
            today=today,
        )
        if dry_run:
            session.rollback()
            changes.dry_run = True
    return changes


def apply_roster(
    session: Session,
    roster: Any,
    *,
    actor: str,
    on_bad_rows: str = "error",
    create_classes: bool = False,
    full: bool = True,
    allow_departures: bool = False,
    today: dt.date | None = None,
) -> RosterChanges:
    """Import a roster inside the caller's transaction; see :func:`import_roster`.

    Raises
    ------
    RosterError
        As :func:`import_roster`; the caller must roll back its transaction.
    """
    today = today or dt.date.today()
    divisions = {d.name: d for d in session.scalars(select(Division))}
    rows, skipped, created = roster_rows(
        roster, divisions, on_bad_rows=on_bad_rows, create_classes=create_classes
    )
    for name in created:
        divisions[name] = Division(name=name)
        session.add(divisions[name])
    session.flush()

    if full and not rows:
        # Every stored student would be marked as left: a wrong file, not a roster.
        raise RosterError(
            "aucun élève à importer : la liste est vide",
            path=getattr(roster, "path", None),
            hint="importez la liste complète des élèves de l'établissement",
        )
    matcher = _Matcher(list(session.scalars(select(Student))), rows)
    present = sum(1 for s in matcher.students if s.left_on is None)
    result: dict[str, list[dict]] = {k: [] for k in _KINDS}
    for row in rows:
        student = matcher.match(row)
        if student is None:
            student = _add_student(session, row, divisions, today)
            result["added"].append(_record(row))
        else:
            _update_student(session, student, row, divisions, actor, result)
    roster_classes = {row.class_name for row in rows}
    unreadable = _dropped_texts(roster)
    leavers = []
    for student in matcher.unmatched():
        in_scope = full or (
            student.division and student.division.name in roster_classes
        )
        left_out = student.source_id in skipped or _named_in(student, unreadable)
        if student.left_on is None and in_scope and not left_out:
            leavers.append(student)
    warning = _departure_warning(len(leavers), present) if full else ""
    if warning and not allow_departures:
        raise RosterError(
            warning,
            path=getattr(roster, "path", None),
            hint="importez l'export complet des élèves, ou --partial pour "
            "n'importer que les classes du fichier, ou --allow-departures pour "
            "confirmer ces départs",
        )
    for student in leavers:
        _leave(session, student, today, actor, result)
    session.flush()

    changes = _changes(result, skipped, created)
    changes.departure_warning = warning
    if changes.changed:
        audit.record(
            session, actor=actor, action="roster_imported", after=changes.counts()
        )
        log.info("roster imported by %s: %s", actor, changes.counts())
    return changes


_KINDS = ("added", "left", "changed_class", "unchanged", "returned", "updated")


def _departure_warning(leaving: int, present: int) -> str:
    """Describe, in French, a full import that would empty too much of the school."""
    if leaving <= DEPARTURE_COUNT or leaving <= DEPARTURE_SHARE * present:
        return ""
    return (
        f"{leaving} élèves sur {present} présents seraient marqués partis : "
        "la liste ne semble pas complète"
    )


def _dropped_texts(roster: Any) -> list[str]:
    """Return the folded text of the rows the loader left out, except leavers'.

    A student whose row the loader could not read is still at school, so the
    import must not mark them as left. A row left out because the export gives a
    past leaving date is the opposite: that student has left.
    """
    dropped = getattr(roster, "dropped", None)
    if not isinstance(dropped, pd.DataFrame) or "text" not in dropped.columns:
        return []
    texts = []
    for row in dropped.itertuples():
        # NOTE: apkit.roster marks leavers only in the French reason text, so
        # this test follows its wording ("a quitté l'établissement le ...").
        has_left = fold(str(getattr(row, "reason", ""))).startswith(_LEFT_REASON)
        if isinstance(row.text, str) and not has_left:
            texts.append(fold(row.text))
    return texts


_LEFT_REASON = fold("a quitté l'établissement")


def _named_in(student: Student, texts: list[str]) -> bool:
    """Tell whether a left-out row names the student, who must then not leave."""
    last, first = fold(student.last_name), fold(student.first_name)
    return any(last in text and first in text for text in texts)


def _changes(result: dict[str, list[dict]], skipped: dict, created: list[str]):
    frames = {}
    for kind in _KINDS:
        columns = STUDENT_COLUMNS + (["old_class"] if kind == "changed_class" else [])
        frames[kind] = pd.DataFrame(result[kind], columns=columns)
    skipped_frame = pd.DataFrame(
        list(skipped.values()), columns=["line", "student_id", "problem"]
    )
    return RosterChanges(**frames, skipped=skipped_frame, created_classes=created)


class _Matcher:
    """Match roster rows to stored students, each stored student to one row at most."""

    def __init__(self, students: list[Student], rows: list[RosterRow]) -> None:
        self.students = students
        self.by_source = {s.source_id: s for s in students}
        self.roster_ids = {row.student_id for row in rows if row.student_id}
        self.matched: set[int] = set()

    def match(self, row: RosterRow) -> Student | None:
        student = self.by_source.get(row.student_id) if row.student_id else None
        if student is None:
            student = self._by_name(row)
        if student is not None:
            self.matched.add(student.id)
        return student

    def _by_name(self, row: RosterRow) -> Student | None:
        # A stored student whose own id is in the roster is someone else's match.
        candidates = [
            s
            for s in self.students
            if s.id not in self.matched
            and s.source_id not in self.roster_ids
            and s.name_key == row.name_key
        ]
        same_birth = [s for s in candidates if s.birth_date == row.birth_date]
        if row.birth_date is not None and same_birth:
            return same_birth[0] if len(same_birth) == 1 else None
        undated = [
            s for s in candidates if s.birth_date is None or row.birth_date is None
        ]
        return undated[0] if len(undated) == 1 else None

    def unmatched(self) -> Iterable[Student]:
        return [s for s in self.students if s.id not in self.matched]


def _record(row: RosterRow | Student, class_name: str | None = None) -> dict:
    if isinstance(row, Student):
        return {
            "student_id": row.source_id,
            "last_name": row.last_name,
            "first_name": row.first_name,
            "class_name": class_name or (row.division.name if row.division else None),
        }
    return {
        "student_id": row.student_id,
        "last_name": row.last_name,
        "first_name": row.first_name,
        "class_name": row.class_name,
    }


def _add_student(
    session: Session, row: RosterRow, divisions, today: dt.date
) -> Student:
    student = Student(
        source_id=row.student_id,
        last_name=row.last_name,
        first_name=row.first_name,
        name_key=row.name_key,
        birth_date=row.birth_date,
        sex=row.sex,
        email=row.email,
        division=divisions[row.class_name],
        arrived_on=today,
    )
    session.add(student)
    return student


def _update_student(
    session: Session,
    student: Student,
    row: RosterRow,
    divisions: dict[str, Division],
    actor: str,
    result: dict[str, list[dict]],
) -> None:
    old_class = student.division.name if student.division else None
    details = {
        # An id the loader derived from the name never replaces a real one.
        "source_id": student.source_id if row.id_derived else row.student_id,
        "last_name": row.last_name,
        "first_name": row.first_name,
        "name_key": row.name_key,
        "birth_date": row.birth_date or student.birth_date,
        "sex": row.sex or student.sex,
    }
    differing = {k: v for k, v in details.items() if getattr(student, k) != v}
    for name, value in differing.items():
        setattr(student, name, value)
    if row.email and student.email != row.email:
        student.email = row.email
        differing["email"] = row.email

    if student.left_on is not None:
        student.left_on = None
        student.division = divisions[row.class_name]
        result["returned"].append(_record(row))
    elif old_class != row.class_name:
        student.division = divisions[row.class_name]
        result["changed_class"].append({**_record(row), "old_class": old_class})
        session.flush()
        audit.record(
            session,
            actor=actor,
            action="student_moved",
            student_id=student.id,
            before={"class_name": old_class},
            after={"class_name": row.class_name},
        )
    elif differing:
        result["updated"].append(_record(row))
    else:
        result["unchanged"].append(_record(row))


def _leave(session, student: Student, today: dt.date, actor: str, result) -> None:
    student.left_on = today
    result["left"].append(_record(student))
    audit.record(
        session,
        actor=actor,
        action="student_left",
        student_id=student.id,
        after={"left_on": today.isoformat()},
    )
