"""Cell values of a school set-up: text, dates, whole numbers and slots.

Each parser takes the table and the row so that its :class:`SetupError` names
the file or sheet, the line, the column as written and the value.
"""

from __future__ import annotations

import datetime as dt
import re
from numbers import Number

from apkit.errors import SetupError
from apkit.names import fold
from apkit.setup_tables import Row, Table

DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y")
SLOTS = {"1": (1, 1), "2": (2, 1), "1+2": (1, 2)}
_WHOLE = re.compile(r"^\d+(?:[.,]0*)?$")
_UNLIMITED = {"illimite", "illimitee", "sans limite", "infini", "unlimited"}
_CLASS_SEPARATORS = re.compile(r"[,;\s]+")


def _error(table: Table, row: Row, column: str, problem: str, hint: str) -> SetupError:
    return SetupError(
        problem,
        path=table.path,
        line=row.line,
        column=table.header(column),
        value=row[column] if row[column] != "" else None,
        hint=hint,
    )


def text(
    table: Table,
    row: Row,
    column: str,
    *,
    required: bool = True,
    max_length: int | None = None,
) -> str:
    """Return a cell as text, checking that it is filled and short enough.

    Raises
    ------
    SetupError
        When a required cell is empty or the text is longer than ``max_length``.
    """
    value = row[column]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    value = str(value).strip()
    if required and not value:
        raise _error(table, row, column, "case vide", "remplissez-la")
    if max_length is not None and len(value) > max_length:
        raise _error(
            table,
            row,
            column,
            f"texte trop long ({len(value)} caractères, {max_length} au plus)",
            "raccourcissez-le",
        )
    return value


def parse_date(table: Table, row: Row, column: str) -> dt.date:
    """Return a date written dd/mm/yyyy, or held as a date by a workbook cell.

    Raises
    ------
    SetupError
        When the cell is empty or is not a valid date.
    """
    value = row[column]
    if isinstance(value, dt.date):
        return value
    written = str(value).strip()
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(written, pattern).date()
        except ValueError:
            continue
    raise _error(
        table,
        row,
        column,
        "date invalide" if written else "date manquante",
        "écrivez la date au format jj/mm/aaaa, par exemple 15/09/2025",
    )


def parse_whole_number(
    table: Table, row: Row, column: str, *, default: int | None = None
) -> int:
    """Return a whole number >= 0; ``"15 "``, ``"10,0"`` and ``10.0`` are accepted.

    An empty cell gives ``default``, or is an error when ``default`` is None.

    Raises
    ------
    SetupError
        When the cell is empty without a default, negative, fractional, or not a
        number (``"illimité"`` gets its own advice).
    """
    value = row[column]
    if isinstance(value, Number) and not isinstance(value, bool):
        number = float(value)  # type: ignore[arg-type]
        if number >= 0 and number.is_integer():
            return int(number)
    written = str(value).strip()
    if written == "" and default is not None:
        return default
    if _WHOLE.match(written):
        return int(re.split(r"[.,]", written)[0])
    if fold(written) in _UNLIMITED:
        hint = (
            "indiquez un nombre de places ; pour un atelier sans limite, "
            "mettez l'effectif de la barrette (par exemple 130)"
        )
        raise _error(table, row, column, "nombre de places illimité non accepté", hint)
    problem = "case vide" if written == "" else "nombre entier positif ou nul attendu"
    raise _error(table, row, column, problem, "écrivez un nombre entier, comme 15")


def parse_slot(table: Table, row: Row, column: str) -> tuple[int, int]:
    """Return ``(first_slot, slot_span)`` for ``1``, ``2`` or ``1+2``.

    Raises
    ------
    SetupError
        For any other value.
    """
    value = row[column]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    written = re.sub(r"\s+", "", str(value))
    if written in SLOTS:
        return SLOTS[written]
    raise _error(
        table,
        row,
        column,
        "heure invalide",
        "écrivez 1 ou 2 pour une heure, 1+2 pour un projet sur les deux heures",
    )


def split_classes(value: object) -> tuple[str, ...]:
    """Split ``"2de1, 2de2"`` into ``("2de1", "2de2")``; empty gives ``()``."""
    return tuple(name for name in _CLASS_SEPARATORS.split(str(value)) if name)
