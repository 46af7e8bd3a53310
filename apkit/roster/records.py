"""Students from a grid of cells: header row, columns, footers and each row's fields."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from apkit.errors import RosterError
from apkit.names import fold
from apkit.roster.columns import STUDENT_FIELDS, map_headers, normalize_header
from apkit.roster.fields import cell_text
from apkit.roster.names import clean_name, split_full_name
from apkit.roster.result import RowCollector, SkipRow
from apkit.roster.tabular import Grid
from apkit.roster.values import FieldReader

HEADER_SEARCH_ROWS = 30
_FOOTER = re.compile(
    r"^(total|totaux|effectifs?|moyennes?|nombre|nb|sous-total|soit)\b", re.IGNORECASE
)
# Columns never copied into ``extra``: they hold secrets.
_SECRET_HEADERS = {"password", "motdepasse", "mdp", "passwd"}
ID_FIELDS = ("student_id", "ine", "login")


@dataclass
class Layout:
    """Where the header is in a grid and which columns hold which field."""

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
    for index, row in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
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
    for row in grid.rows:
        headers = [cell_text(cell) for cell in row]
        if any(headers):
            return headers
    return []


def derived_id(last_name: str, first_name: str, birth_date) -> str:
    """Return the id of a pupil whose file has none: folded names and birth date."""
    born = birth_date.isoformat() if birth_date else "sans-date"
    parts = (fold(last_name), fold(first_name), born)
    return "-".join(part.replace(" ", "-") for part in parts if part)


class StudentRows:
    """Reads the data rows of one grid into a :class:`RowCollector`.

    Parameters
    ----------
    class_name
        The class of every row when the grid has no class column.
    class_source
        Where the class comes from: ``"column"``, ``"argument"``,
        ``"sheet_name"`` or ``"file_name"``; stored in each row.
    class_required
        Whether a row without a class is dropped; WIMS lists have no class.
    description_row
        Whether the row after the header describes the fields (WIMS exports).
    """

    def __init__(
        self,
        grid: Grid,
        layout: Layout,
        fields: FieldReader,
        *,
        class_name: str | None,
        class_source: str | None = "column",
        class_required: bool = True,
        description_row: bool = False,
    ) -> None:
        self.grid = grid
        self.layout = layout
        self.fields = fields
        self.collector: RowCollector = fields.collector
        self.class_name = class_name
        self.class_source = class_source
        self.class_required = class_required
        self.description_row = description_row
        self.id_field = next((f for f in ID_FIELDS if f in layout.columns), None)
        mapped = {index for indexes in layout.columns.values() for index in indexes}
        self.extra_columns = [
            (index, header)
            for index, header in enumerate(layout.headers)
            if header
            and index not in mapped
            and normalize_header(header) not in _SECRET_HEADERS
        ]

    def read(self) -> None:
        start = self.layout.header_index + 1
        rows = zip(self.grid.rows[start:], self.grid.lines[start:], strict=True)
        for position, (cells, line) in enumerate(rows):
            if position == 0 and self.description_row:
                text = ";".join(cell_text(cell) for cell in cells)
                self._drop(line, text, "ligne de description des champs (export WIMS)")
                continue
            try:
                self._read_row(cells, line)
            except SkipRow:
                continue

    def _drop(self, line: int, text: str, reason: str) -> None:
        self.collector.drop(line, text, reason, self.grid.sheet)

    def _read_row(self, cells: list[object], line: int) -> None:
        texts = [cell_text(cell) for cell in cells]
        if not any(texts):
            self._drop(line, ";".join(texts), "ligne vide")
            return
        first = next(text for text in texts if text)
        if _FOOTER.match(first):
            self._drop(line, first, "pied de tableau (total ou moyenne), pas un élève")
            return
        if texts[: len(self.layout.headers)] == self.layout.headers:
            self._drop(line, ";".join(texts), "en-tête répété")
            return
        record = self._identity(cells, texts, line)
        name = record["raw_name"]
        record["birth_date"] = self._date(cells, line, name, "birth_date")
        record["raw_birth_date"] = self._text(texts, "birth_date") or None
        record["sex"] = self._sex(texts, line, name)
        record["raw_sex"] = self._text(texts, "sex") or None
        record["class_source"] = self.class_source
        if not self._class(record, cells, texts, line):
            return
        left = self._date(cells, line, name, "leave_date")
        if self.fields.has_left(left):
            self._drop(line, name, f"a quitté l'établissement le {left:%d/%m/%Y}")
            return
        record.update(self._extras(texts, record))
        record["line"] = line
        self.collector.keep(record)

    def _text(self, texts: list[str], field: str) -> str:
        indexes = self.layout.columns.get(field)
        if not indexes or indexes[0] >= len(texts):
            return ""
        return texts[indexes[0]]

    def _identity(self, cells, texts: list[str], line: int) -> dict[str, object]:
        usage = clean_name(self._text(texts, "usage_name")) or None
        if "full_name" in self.layout.columns:
            raw = self._text(texts, "full_name")
            split = split_full_name(raw)
            last, first = split.last_name, split.first_name
            if raw and not split.certain:
                self.collector.warn(
                    f"ligne {line} : « {clean_name(raw)} » coupé en nom « {last} » "
                    f"et prénom « {first} » sans certitude ; vérifiez"
                )
            raw_name = self._raw(cells, "full_name")
        else:
            last = clean_name(self._text(texts, "last_name"))
            first = clean_name(self._text(texts, "first_name"))
            raw_name = f"{last} {first}".strip()
        if not last and not first:
            self._no_name(texts, line)
        return {
            "last_name": last,
            "first_name": first,
            "usage_name": usage,
            "raw_name": raw_name,
        }

    def _raw(self, cells: list[object], field: str) -> str:
        index = self.layout.columns[field][0]
        value = cells[index] if index < len(cells) else None
        return "" if value is None else str(value)

    def _no_name(self, texts: list[str], line: int) -> None:
        row_text = ";".join(texts)
        field = "full_name" if "full_name" in self.layout.columns else "last_name"
        self.collector.bad_value(
            "ligne sans nom d'élève",
            line=line,
            column=self.layout.header_of(field),
            value=row_text,
            hint="complétez le nom ou supprimez la ligne",
            text=row_text,
            sheet=self.grid.sheet,
        )

    def _date(self, cells, line: int, name: str, field: str):
        indexes = self.layout.columns.get(field)
        if not indexes or indexes[0] >= len(cells):
            return None
        return self.fields.date(
            cells[indexes[0]],
            line=line,
            column=self.layout.header_of(field),
            name=name,
            sheet=self.grid.sheet,
        )

    def _sex(self, texts: list[str], line: int, name: str) -> str | None:
        if "sex" not in self.layout.columns:
            return None
        return self.fields.sex(
            self._text(texts, "sex"),
            line=line,
            column=self.layout.header_of("sex"),
            name=name,
            sheet=self.grid.sheet,
        )

    def _class(self, record: dict[str, object], cells, texts, line: int) -> bool:
        if "class_name" in self.layout.columns:
            raw = self._text(texts, "class_name")
            column: str | None = self.layout.header_of("class_name")
            record["raw_class"] = self._raw(cells, "class_name") or None
        else:
            raw, column = self.class_name or "", None
            record["raw_class"] = raw or None
        record["class_name"] = None
        if not raw:
            if not self.class_required:
                return True
            self._drop(line, str(record["raw_name"]), "aucune classe indiquée")
            return False
        record["class_name"] = self.fields.class_name(raw, line=line, column=column)
        return True

    def _extras(self, texts: list[str], record: dict[str, object]) -> dict[str, object]:
        extras: dict[str, object] = {}
        for field in ("ine", "login", "email"):
            extras[field] = self._text(texts, field) or None
        groups = [
            texts[i] for i in self.layout.columns.get("groups", []) if i < len(texts)
        ]
        extras["groups"] = [group for group in groups if group]
        own_id = self._text(texts, self.id_field) if self.id_field else ""
        if own_id:
            extras["student_id"], extras["id_source"] = own_id, self.id_field
        else:
            born = record["birth_date"]
            extras["student_id"] = derived_id(
                str(record["last_name"]), str(record["first_name"]), born
            )
            extras["id_source"] = "derived"
        extras["extra"] = {
            header: texts[index]
            for index, header in self.extra_columns
            if index < len(texts) and texts[index]
        }
        extras["sheet"] = self.grid.sheet
        return extras
