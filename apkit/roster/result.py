"""Loader results (:class:`Roster`, :class:`TeacherRoster`) and the row collector.

The collector gathers the rows kept and dropped while one file is read and
applies the bad-row policy.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from apkit.errors import RosterError

log = logging.getLogger(__name__)

BadRowPolicy = Literal["error", "warn", "skip"]
BAD_ROW_POLICIES = ("error", "warn", "skip")

STUDENT_COLUMNS = (
    "student_id",
    "id_source",
    "last_name",
    "first_name",
    "class_name",
    "birth_date",
    "sex",
    "ine",
    "usage_name",
    "groups",
    "login",
    "email",
    "raw_name",
    "raw_class",
    "sheet",
    "line",
)
TEACHER_COLUMNS = (
    "teacher_id",
    "id_source",
    "last_name",
    "first_name",
    "email",
    "sex",
    "birth_date",
    "subjects",
    "classes",
    "raw_name",
    "line",
)
DROPPED_COLUMNS = ("line", "sheet", "text", "reason")


@dataclass
class Roster:
    """Students read from one export file.

    Attributes
    ----------
    students
        One row per pupil kept, with at least the columns of
        :data:`STUDENT_COLUMNS`; ``birth_date`` contains ``datetime.date`` or None,
        ``sex`` ``"F"``, ``"M"`` or None, ``groups`` a list of group codes.
    dropped
        Rows left out, with ``line``, ``sheet``, ``text`` (the row or the
        pupil's name) and a French ``reason``.
    warnings
        French messages about rows kept with a missing field, classes read
        from another spelling, guessed name splits...
    format
        The detected format, e.g. ``"siecle-xml"`` or ``"pronote-csv"``.
    path
        The file read.
    school
        What the file says about the school (``uai``, ``school_year``...),
        empty when it says nothing.
    """

    students: pd.DataFrame
    dropped: pd.DataFrame
    warnings: list[str]
    format: str
    path: Path
    encoding: str | None = None
    school: dict[str, Any] = field(default_factory=dict)


@dataclass
class TeacherRoster:
    """Teachers read from one export file; the attributes mirror :class:`Roster`."""

    teachers: pd.DataFrame
    dropped: pd.DataFrame
    warnings: list[str]
    format: str
    path: Path
    encoding: str | None = None
    school: dict[str, Any] = field(default_factory=dict)


class SkipRow(Exception):
    """Raised inside a row's reading when the policy moved the row to ``dropped``."""


class RowCollector:
    """Rows kept and dropped while reading one file, under one bad-row policy."""

    def __init__(self, path: Path, on_bad_rows: str, today: dt.date | None = None):
        if on_bad_rows not in BAD_ROW_POLICIES:
            raise RosterError(
                "valeur invalide pour on_bad_rows",
                value=on_bad_rows,
                hint=f"choisissez parmi : {', '.join(BAD_ROW_POLICIES)}",
            )
        self.path = path
        self.on_bad_rows = on_bad_rows
        self.today = today or dt.date.today()
        self.rows: list[dict[str, Any]] = []
        self.frames: list[pd.DataFrame] = []
        self.dropped: list[dict[str, Any]] = []
        self.warnings: list[str] = []

    def keep(self, row: dict[str, Any]) -> None:
        self.rows.append(row)

    def keep_frame(self, frame: pd.DataFrame) -> None:
        self.frames.append(frame)

    def drop(self, line: int | None, text: str, reason: str, sheet: str | None = None):
        self.dropped.append(
            {"line": line, "sheet": sheet, "text": text, "reason": reason}
        )

    def warn(self, message: str) -> None:
        log.info("%s: %s", self.path.name, message)
        self.warnings.append(message)

    def bad_value(
        self,
        problem: str,
        *,
        line: int | None,
        column: str | None,
        value: object,
        hint: str,
        text: str,
        sheet: str | None = None,
    ) -> None:
        """Apply the policy to a tolerable problem in one row.

        Returns when the row is kept without the field (``"warn"``).

        Raises
        ------
        RosterError
            Under ``"error"``.
        SkipRow
            Under ``"skip"``, after the row went to ``dropped``.
        """
        if self.on_bad_rows == "error":
            raise RosterError(
                problem,
                path=self.path,
                line=line,
                column=column,
                value=value,
                hint=hint + " (ou chargez avec on_bad_rows='warn' ou 'skip')",
            )
        where = f"ligne {line}" + (f", colonne « {column} »" if column else "")
        message = f"{where} : {problem} (valeur : « {value} »)"
        if self.on_bad_rows == "warn":
            self.warn(message + " ; ligne gardée sans cette valeur")
            return
        self.drop(line, text, problem, sheet)
        raise SkipRow(message)

    def frame(
        self, columns: tuple[str, ...], *, unique: str, id_header: str | None = None
    ) -> pd.DataFrame:
        """Return the rows kept, ``columns`` first, after checking ``unique`` ids.

        Missing values are ``None``, never NaN.

        Raises
        ------
        RosterError
            When two rows share a value of ``unique``, naming both lines.
        """
        parts = [pd.DataFrame(self.rows, dtype=object)] if self.rows else []
        parts += self.frames
        frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        extra = [name for name in frame.columns if name not in columns]
        frame = frame.reindex(columns=[*columns, *extra]).astype(object)
        frame = frame.where(frame.notna(), None)
        self._check_unique(frame, unique, id_header)
        return frame

    def _check_unique(self, frame: pd.DataFrame, field: str, header: str | None):
        repeated = frame[field].duplicated(keep="first")
        if not repeated.any():
            return
        row = frame[repeated].iloc[0]
        other = frame[frame[field] == row[field]].iloc[0]
        derived = row["id_source"] == "derived"
        if derived:
            problem = "même nom, prénom et date de naissance qu'à la ligne"
        else:
            problem = f"identifiant déjà pris par {other['raw_name']} à la ligne"
        raise RosterError(
            f"{problem} {other['line']}",
            path=self.path,
            line=row["line"],
            column=None if derived else (header or field),
            value=row[field],
            hint="supprimez la ligne en double ou corrigez l'identifiant",
        )

    def dropped_frame(self) -> pd.DataFrame:
        """Return the rows left out, sheet by sheet in file order, by line."""
        sheets = list(dict.fromkeys(row["sheet"] for row in self.dropped))
        ordered = sorted(
            self.dropped,
            key=lambda row: (
                sheets.index(row["sheet"]),
                row["line"] is None,
                row["line"] or 0,
            ),
        )
        return pd.DataFrame(ordered, columns=list(DROPPED_COLUMNS), dtype=object)
