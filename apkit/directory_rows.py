"""Rows of a loaded roster, checked before apkit.directory stores them.

:func:`apkit.roster.load` returns DataFrames; this module turns their rows into
:class:`RosterRow` values and applies the ``on_bad_rows`` policy to the rows that
cannot be stored: an empty name, an empty or unknown class, a repeated id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from apkit.errors import RosterError
from apkit.names import name_key

log = logging.getLogger(__name__)

BAD_ROW_POLICIES = ("error", "warn", "skip")
REQUIRED_STUDENT_COLUMNS = ("last_name", "first_name", "class_name")
REQUIRED_TEACHER_COLUMNS = ("last_name", "first_name")
# Column sizes of the students table; PostgreSQL rejects longer values.
MAX_LENGTHS = {"student_id": 64, "last_name": 120, "first_name": 120, "class_name": 40}
TEACHER_MAX_LENGTHS = {"teacher_id": 64, "last_name": 120, "first_name": 120}
TEACHER_MAX_LENGTHS |= {"email": 254}


@dataclass(frozen=True)
class RosterRow:
    """One student of a roster, with its line in the source file when known."""

    line: int | None
    student_id: str
    last_name: str
    first_name: str
    class_name: str
    birth_date: dt.date | None
    sex: str | None
    email: str | None
    # True when the loader made the id up from the name and birth date.
    id_derived: bool = False

    @property
    def name_key(self) -> str:
        return name_key(self.last_name, self.first_name)


def bad_row_policy(value: str) -> str:
    """Return ``value`` if it is a known ``on_bad_rows`` policy.

    Raises
    ------
    RosterError
        For any other value, naming the allowed ones.
    """
    if value not in BAD_ROW_POLICIES:
        raise RosterError(
            "option on_bad_rows invalide",
            value=value,
            hint=f"valeurs possibles : {', '.join(BAD_ROW_POLICIES)}",
        )
    return value


def _frame(source: Any, attribute: str) -> tuple[pd.DataFrame, Path | None]:
    if isinstance(source, pd.DataFrame):
        return source, None
    if isinstance(source, list):
        return pd.DataFrame(source), None
    path = getattr(source, "path", None) or getattr(source, "source", None)
    frame = getattr(source, attribute)
    return frame, Path(path) if isinstance(path, (str, Path)) else None


def _cell(value: Any) -> str:
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and pd.isna(value):
        return ""
    return str(value).replace("\u00a0", " ").strip()


def _date(value: Any) -> dt.date | None:
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _cell(value)
    for pattern in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _lines(frame: pd.DataFrame) -> list[int | None]:
    if "line" in frame.columns:
        return [int(v) if pd.notna(v) else None for v in frame["line"]]
    return [None] * len(frame)


def _check_columns(frame: pd.DataFrame, path: Path | None, required: Iterable[str]):
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise RosterError(
            f"colonne {', '.join(missing)} absente de la liste chargée",
            path=path,
            hint="vérifiez l'en-tête du fichier",
        )


class _BadRows:
    """Apply the ``on_bad_rows`` policy and collect the rows left out."""

    def __init__(self, policy: str, path: Path | None) -> None:
        self.policy = bad_row_policy(policy)
        self.path = path
        self.skipped: dict[str, dict[str, Any]] = {}

    def report(self, line, key: str, column: str, value: Any, problem: str, hint: str):
        if self.policy == "error":
            raise RosterError(
                problem,
                path=self.path,
                line=line,
                column=column,
                value=value if value != "" else None,
                hint=hint,
            )
        where = f"{self.path.name}:{line}" if self.path and line else f"ligne {line}"
        if self.policy == "warn":
            log.warning("%s: %s (%s), row left out", where, problem, value)
        self.skipped[key or f"ligne {line}"] = {
            "line": line,
            "student_id": key,
            "problem": f"{problem} (« {value} »)",
        }


def roster_rows(
    roster: Any,
    divisions: Mapping[str, Any],
    *,
    on_bad_rows: str = "error",
    create_classes: bool = False,
) -> tuple[list[RosterRow], dict[str, dict[str, Any]], list[str]]:
    """Return the storable rows, the rows left out by id, and the classes to create.

    Raises
    ------
    RosterError
        When a required column is missing, or on a bad row under
        ``on_bad_rows="error"``.
    """
    frame, path = _frame(roster, "students")
    _check_columns(frame, path, REQUIRED_STUDENT_COLUMNS)
    bad = _BadRows(on_bad_rows, path)
    rows: list[RosterRow] = []
    seen: dict[str, int | None] = {}
    created: list[str] = []
    records = frame.to_dict(orient="records")
    for line, record in zip(_lines(frame), records, strict=True):
        row = _row(line, record)
        problem = _problem(row, seen, divisions, created, create_classes)
        if problem is not None:
            bad.report(line, row.student_id, *problem)
            continue
        if row.student_id:
            seen[row.student_id] = line
        rows.append(row)
    return rows, bad.skipped, created


def _row(line: int | None, record: dict[str, Any]) -> RosterRow:
    sex = _cell(record.get("sex")).upper()[:1] or None
    student_id = _cell(record.get("student_id"))
    derived = not student_id or _cell(record.get("id_source")) == "derived"
    return RosterRow(
        line=line,
        student_id=student_id or _derived_id(record),
        last_name=_cell(record.get("last_name")),
        first_name=_cell(record.get("first_name")),
        class_name=_cell(record.get("class_name")),
        birth_date=_date(record.get("birth_date")),
        sex=sex if sex in ("F", "M") else None,
        email=_cell(record.get("email")) or None,
        id_derived=derived,
    )


def _derived_id(record: dict[str, Any]) -> str:
    """Return a stable id for a row whose export has none, from name and birth date."""
    key = name_key(_cell(record.get("last_name")), _cell(record.get("first_name")))
    digest = hashlib.sha1(f"{key}|{_date(record.get('birth_date'))}".encode())
    return f"nom-{digest.hexdigest()[:16]}"


def _problem(row, seen, divisions, created, create_classes):
    """Return ``(column, value, problem, hint)`` for a bad row, else None."""
    if not row.last_name or not row.first_name:
        column = "last_name" if not row.last_name else "first_name"
        return column, "", "nom ou prénom manquant", "complétez la ligne"
    if row.student_id in seen:
        first = seen[row.student_id]
        where = f", déjà ligne {first}" if first else ""
        return (
            "student_id",
            row.student_id,
            f"identifiant d'élève en double{where}",
            "chaque élève doit apparaître une seule fois",
        )
    if not row.class_name:
        return "class_name", "", "classe manquante", "indiquez la classe de l'élève"
    for column, limit in MAX_LENGTHS.items():
        value = getattr(row, column)
        if len(value) > limit:
            return (
                column,
                value,
                f"texte trop long ({len(value)} caractères, {limit} au plus)",
                "raccourcissez-le",
            )
    if row.class_name not in divisions and row.class_name not in created:
        if create_classes:
            created.append(row.class_name)
            return None
        return (
            "class_name",
            row.class_name,
            "classe inconnue, dans aucune barrette",
            "ajoutez-la à blocks.csv puis lancez « apkit import-school », "
            "ou autorisez la création des classes (--create-classes)",
        )
    return None


def _too_long(row: dict[str, Any], limits: dict[str, int]) -> str | None:
    """Return the first column whose text is longer than its limit, else None."""
    return next((c for c, n in limits.items() if len(row[c] or "") > n), None)


def teacher_rows(
    teachers: Any, *, on_bad_rows: str = "error"
) -> tuple[list[dict[str, Any]], list[tuple[int | None, str]]]:
    """Return the storable teacher rows and the ``(line, problem)`` of those left out.

    Raises
    ------
    RosterError
        When a name column is missing, or on a bad row under ``on_bad_rows="error"``.
    """
    frame, path = _frame(teachers, "teachers")
    _check_columns(frame, path, REQUIRED_TEACHER_COLUMNS)
    bad = _BadRows(on_bad_rows, path)
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for line, record in zip(
        _lines(frame), frame.to_dict(orient="records"), strict=True
    ):
        row: dict[str, str] = {
            k: _cell(record.get(k)) for k in ("teacher_id", "last_name", "first_name")
        }
        row["email"] = _cell(record.get("email"))
        if not row["teacher_id"]:
            key = name_key(row["last_name"], row["first_name"])
            row["teacher_id"] = f"nom-{key}"[:64]
        if not row["last_name"]:
            bad.report(line, row["teacher_id"], "last_name", "", "nom manquant",
                       "complétez la ligne")  # fmt: skip
        elif long := _too_long(row, TEACHER_MAX_LENGTHS):
            bad.report(line, row["teacher_id"], long, row[long],
                       f"texte trop long ({TEACHER_MAX_LENGTHS[long]} caractères "
                       "au plus)", "raccourcissez-le")  # fmt: skip
        elif row["teacher_id"] in seen:
            bad.report(line, row["teacher_id"], "teacher_id", row["teacher_id"],
                       "identifiant d'enseignant en double",
                       "chaque enseignant doit apparaître une seule fois")  # fmt: skip
        else:
            seen.add(row["teacher_id"])
            rows.append(row)
    skipped = [(item["line"], item["problem"]) for item in bad.skipped.values()]
    return rows, skipped
