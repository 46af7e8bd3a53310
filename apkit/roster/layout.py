"""Header row and columns of a grid, and the ids of pupils whose file has none."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from apkit.errors import RosterError
from apkit.names import fold
from apkit.roster.columns import STUDENT_FIELDS, map_headers
from apkit.roster.fields import cell_text
from apkit.roster.tabular import Grid

HEADER_SEARCH_ROWS = 30
ID_FIELDS = ("student_id", "ine", "login")


@dataclass
class Layout:
    """The header row of a grid and the columns of each known field."""

    header_index: int
    headers: list[str]
    columns: dict[str, list[int]]

    def header_of(self, field: str) -> str:
        return self.headers[self.columns[field][0]]

    def has_names(self) -> bool:
        return "full_name" in self.columns or {"last_name", "first_name"} <= set(
            self.columns
        )


def find_layout(
    grid: Grid,
    mapping: Mapping[str, str] | None,
    fields: Sequence[str] = STUDENT_FIELDS,
) -> Layout | None:
    """Return the header row with the most known fields among the first rows.

    Title rows, blank rows and group-header rows above the real header score
    lower and are skipped. ``None`` means no row names a known field.
    """
    best: Layout | None = None
    best_score = 0
    for index, row in enumerate(grid.head(HEADER_SEARCH_ROWS)):
        headers = [cell_text(cell) for cell in row]
        columns = map_headers(headers, fields, mapping)
        if len(columns) > best_score:
            best, best_score = Layout(index, headers, columns), len(columns)
    return best


def require_name_columns(grid: Grid, layout: Layout | None, path: Path) -> Layout:
    """Return ``layout`` if it has name columns, else raise listing the columns found.

    Raises
    ------
    RosterError
        When there is no ``NOM Prénom`` column and no pair of name columns.
    """
    if layout is not None and layout.has_names():
        return layout
    columns = layout.columns if layout else {}
    missing = "Prénom" if "last_name" in columns else "Nom"
    field = "first_name" if missing == "Prénom" else "last_name"
    headers = layout.headers if layout else first_nonempty_row(grid)
    found = ", ".join(f"« {h} »" for h in headers if h) or "aucune"
    line = grid.lines[layout.header_index] if layout else None
    raise RosterError(
        f"colonne introuvable (colonnes trouvées : {found})",
        path=path,
        line=line,
        column=missing,
        hint=f"renommez la colonne ou passez mapping={{'votre en-tête': '{field}'}}",
    )


def first_nonempty_row(grid: Grid) -> list[str]:
    """Return the texts of the first row that has any, or an empty list."""
    for row in grid.head(HEADER_SEARCH_ROWS):
        headers = [cell_text(cell) for cell in row]
        if any(headers):
            return headers
    return []


def derived_id(last_name: str, first_name: str, birth_date) -> str:
    """Return the id of a pupil whose file has none: folded names and birth date."""
    born = birth_date.isoformat() if birth_date else "sans-date"
    parts = (fold(last_name), fold(first_name), born)
    return "-".join(part.replace(" ", "-") for part in parts if part)
