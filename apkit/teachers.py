"""Teachers in the database: first import and re-import.

Teachers are matched on ``teacher_id`` (kept in ``Teacher.source_id``), then on
folded name when the id changed. A teacher missing from a newer list is kept as
is, because the model has no leaving date for teachers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from apkit import audit
from apkit.directory_rows import bad_row_policy, teacher_rows
from apkit.french import plural
from apkit.model import Teacher
from apkit.names import name_key
from apkit.store import Store


@dataclass
class TeacherChanges:
    """Source ids of the teachers an import added, updated or left unchanged."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[tuple[int | None, str]] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"Enseignants : {plural(len(self.added), 'ajouté')}, "
            f"{len(self.updated)} mis à jour, "
            f"{plural(len(self.unchanged), 'inchangé')}."
        )
        for line, problem in self.skipped:
            text += f"\n  ligne ignorée {line} : {problem}"
        return text

    def as_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": [{"line": line, "problem": p} for line, p in self.skipped],
        }


def import_teachers(
    store: Store, teachers: Any, *, actor: str, on_bad_rows: str = "error"
) -> TeacherChanges:
    """Add or update teachers, in one transaction.

    Parameters
    ----------
    store
        The school's database.
    teachers
        The result of :func:`apkit.roster.load_teachers` (its ``teachers``
        DataFrame is read), or a DataFrame or list of dicts with ``teacher_id``,
        ``last_name``, ``first_name`` and ``email``.
    actor
        Who imports, recorded in the audit log.
    on_bad_rows
        ``"error"``, ``"warn"`` or ``"skip"``, for a row without a name or with
        a repeated id.

    Returns
    -------
    TeacherChanges

    Raises
    ------
    RosterError
        On a bad row under ``on_bad_rows="error"``. Nothing is written then.
    """
    bad_row_policy(on_bad_rows)
    with store.write() as session:
        changes = apply_teachers(session, teachers, on_bad_rows=on_bad_rows)
        if changes.added or changes.updated:
            audit.record(
                session,
                actor=actor,
                action="teachers_imported",
                after={"added": len(changes.added), "updated": len(changes.updated)},
            )
    return changes


def apply_teachers(
    session: Session, teachers: Any, *, on_bad_rows: str = "error"
) -> TeacherChanges:
    """Add or update teachers inside the caller's transaction."""
    rows, skipped = teacher_rows(teachers, on_bad_rows=on_bad_rows)
    stored = list(session.scalars(select(Teacher)))
    by_source = {t.source_id: t for t in stored}
    listed = {row["teacher_id"] for row in rows}
    changes = TeacherChanges(skipped=skipped)
    for row in rows:
        teacher = by_source.get(row["teacher_id"])
        if teacher is None:
            key = name_key(row["last_name"], row["first_name"])
            homonyms = [
                t
                for t in stored
                if t.source_id not in listed
                and name_key(t.last_name, t.first_name) == key
            ]
            teacher = homonyms[0] if len(homonyms) == 1 else None
        if teacher is None:
            session.add(Teacher(source_id=row["teacher_id"], **_teacher_details(row)))
            changes.added.append(row["teacher_id"])
            continue
        details = {"source_id": row["teacher_id"], **_teacher_details(row)}
        differing = {k: v for k, v in details.items() if getattr(teacher, k) != v}
        for name, value in differing.items():
            setattr(teacher, name, value)
        (changes.updated if differing else changes.unchanged).append(row["teacher_id"])
    session.flush()
    return changes


def _teacher_details(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "last_name": row["last_name"],
        "first_name": row["first_name"],
        "email": row["email"] or None,
    }
