"""Students from a grid of cells: header row, columns, footers and each row's fields."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from apkit.errors import RosterError
from apkit.names import fold
from apkit.roster.classes import ClassMatcher
from apkit.roster.columns import STUDENT_FIELDS, map_headers
from apkit.roster.dates import DateFormatError, parse_date
from apkit.roster.fields import SexFormatError, cell_text, parse_sex
from apkit.roster.names import clean_name, split_full_name
from apkit.roster.result import RowCollector, SkipRow
from apkit.roster.tabular import Grid

HEADER_SEARCH_ROWS = 30
_FOOTER = re.compile(
    r"^(total|totaux|effectifs?|moyennes?|nombre|nb|sous-total|soit)\b", re.IGNORECASE
)
_ID_FIELDS = ("student_id", "ine", "login")


@dataclass
class Layout:
    """Where the header is in a grid and which columns hold which field."""

    header_index: int
    headers: list[str]
    columns: dict[str, list[int]]

    def header_of(self, field: str) -> str:
        return self.headers[self.columns[field][0]]


def find_layout(
    grid: Grid, mapping: Mapping[str, str] | None, fields=STUDENT_FIELDS
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
        score = len(columns)
        if score > best_score:
            best, best_score = Layout(index, headers, columns), score
    return best


def require_name_columns(grid: Grid, layout: Layout | None, path) -> Layout:
    """Check that the layout has a name column; raise listing the columns found.

    Raises
    ------
    RosterError
        When there is no ``NOM Prénom`` column and no pair of name columns.
    """
    columns = layout.columns if layout else {}
    if "full_name" in columns or {"last_name", "first_name"} <= columns.keys():
        return layout  # type: ignore[return-value]
    missing = "Prénom" if "last_name" in columns else "Nom"
    headers = layout.headers if layout else _first_nonempty_row(grid)
    found = ", ".join(f"« {h} »" for h in headers if h) or "aucune"
    line = grid.lines[layout.header_index] if layout else None
    raise RosterError(
        f"colonne « {missing} » introuvable (colonnes trouvées : {found})",
        path=path,
        line=line,
        column=missing,
        hint="renommez la colonne ou passez mapping={'votre en-tête': "
        f"'{'first_name' if missing == 'Prénom' else 'last_name'}'}}",
    )


def _first_nonempty_row(grid: Grid) -> list[str]:
    for row in grid.rows:
        headers = [cell_text(cell) for cell in row]
        if any(headers):
            return headers
    return []


class StudentRows:
    """Reads the data rows of one grid into a :class:`RowCollector`."""

    def __init__(
        self,
        grid: Grid,
        layout: Layout,
        collector: RowCollector,
        *,
        class_name: str | None,
        matcher: ClassMatcher | None,
    ) -> None:
        self.grid = grid
        self.layout = layout
        self.collector = collector
        self.class_name = class_name
        self.matcher = matcher
        self.id_field = next((f for f in _ID_FIELDS if f in layout.columns), None)

    def read(self) -> None:
        start = self.layout.header_index + 1
        for cells, line in zip(
            self.grid.rows[start:], self.grid.lines[start:], strict=True
        ):
            try:
                self._read_row(cells, line)
            except SkipRow:
                continue

    def _read_row(self, cells: list[object], line: int) -> None:
        texts = [cell_text(cell) for cell in cells]
        row_text = ";".join(texts)
        if not any(texts):
            self.collector.drop(line, row_text, "ligne vide", self.grid.sheet)
            return
        first = next(text for text in texts if text)
        if _FOOTER.match(first):
            reason = "pied de tableau (total ou moyenne), pas un élève"
            self.collector.drop(line, first, reason, self.grid.sheet)
            return
        if texts == self.layout.headers:
            self.collector.drop(line, row_text, "en-tête répété", self.grid.sheet)
            return
        record = self._identity(cells, texts, line, row_text)
        record["birth_date"] = self._date(cells, line, record["raw_name"], "birth_date")
        record["sex"] = self._sex(texts, line, record["raw_name"])
        if not self._class(record, texts, line):
            return
        if self._left(record, cells, line):
            return
        record.update(self._extras(texts))
        if record["student_id"] is None:
            record["student_id"] = derived_id(
                record["last_name"], record["first_name"], record["birth_date"]
            )
        record["sheet"] = self.grid.sheet
        record["line"] = line
        self.collector.keep(record)

    def _text(self, texts: list[str], field: str) -> str:
        indexes = self.layout.columns.get(field)
        if not indexes or indexes[0] >= len(texts):
            return ""
        return texts[indexes[0]]

    def _identity(self, cells, texts, line, row_text) -> dict[str, object]:
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
        else:
            last = clean_name(self._text(texts, "last_name"))
            first = clean_name(self._text(texts, "first_name"))
            raw = f"{last} {first}".strip()
        if not last and not first:
            column = self.layout.header_of(
                "full_name" if "full_name" in self.layout.columns else "last_name"
            )
            self.collector.bad_value(
                "ligne sans nom d'élève",
                line=line,
                column=column,
                value=row_text,
                hint="complétez le nom ou supprimez la ligne",
                text=row_text,
                sheet=self.grid.sheet,
            )
        return {
            "last_name": last,
            "first_name": first,
            "usage_name": usage,
            "raw_name": raw,
        }

    def _date(self, cells, line, name, field) -> object:
        indexes = self.layout.columns.get(field)
        if not indexes or indexes[0] >= len(cells):
            return None
        value = cells[indexes[0]]
        try:
            return parse_date(cell_text(value) if isinstance(value, str) else value)
        except DateFormatError:
            self.collector.bad_value(
                "date illisible",
                line=line,
                column=self.layout.header_of(field),
                value=cell_text(value),
                hint="écrivez la date sous la forme jj/mm/aaaa",
                text=name,
                sheet=self.grid.sheet,
            )
            return None

    def _sex(self, texts, line, name) -> str | None:
        value = self._text(texts, "sex")
        try:
            return parse_sex(value)
        except SexFormatError:
            self.collector.bad_value(
                "sexe inconnu",
                line=line,
                column=self.layout.header_of("sex"),
                value=value,
                hint="écrivez F ou M (G, 1 et 2 sont aussi compris)",
                text=name,
                sheet=self.grid.sheet,
            )
            return None

    def _class(self, record, texts, line) -> bool:
        if "class_name" in self.layout.columns:
            raw = self._text(texts, "class_name")
            column = self.layout.header_of("class_name")
        else:
            raw, column = self.class_name or "", None
        record["raw_class"] = raw or None
        if not raw:
            reason = "aucune classe indiquée"
            self.collector.drop(line, record["raw_name"], reason, self.grid.sheet)
            return False
        record["class_name"] = self._match_class(raw, line, column)
        return True

    def _match_class(self, raw: str, line: int, column: str | None) -> str:
        if self.matcher is None:
            return raw
        try:
            found = self.matcher.match(raw)
        except ValueError as exc:
            raise RosterError(
                f"classe ambiguë : elle peut désigner {exc}",
                path=self.collector.path,
                line=line,
                column=column,
                value=raw,
                hint="écrivez la classe comme dans la liste de l'établissement",
            ) from exc
        if found is None:
            known = ", ".join(self.matcher.classes)
            raise RosterError(
                "classe inconnue de l'établissement "
                f"(essayé : {self.matcher.tried(raw)} ; classes connues : {known})",
                path=self.collector.path,
                line=line,
                column=column,
                value=raw,
                hint="corrigez la ligne ou ajoutez la classe à la liste des classes "
                "de l'établissement",
            )
        return found

    def _left(self, record, cells, line) -> bool:
        left = self._date(cells, line, record["raw_name"], "leave_date")
        if left is None or left > self.collector.today:
            return False
        reason = f"a quitté l'établissement le {left:%d/%m/%Y}"
        self.collector.drop(line, record["raw_name"], reason, self.grid.sheet)
        return True

    def _extras(self, texts: list[str]) -> dict[str, object]:
        extras: dict[str, object] = {}
        for field in ("ine", "login", "email"):
            extras[field] = self._text(texts, field) or None
        groups = [
            texts[i] for i in self.layout.columns.get("groups", []) if i < len(texts)
        ]
        extras["groups"] = [group for group in groups if group]
        own_id = self._text(texts, self.id_field) if self.id_field else ""
        extras["student_id"] = own_id or None
        extras["id_source"] = self.id_field if own_id else "derived"
        return extras


def derived_id(last_name: str, first_name: str, birth_date) -> str:
    """Return the id of a pupil whose file has none: folded names and birth date."""
    born = birth_date.isoformat() if birth_date else "sans-date"
    return "-".join(
        part.replace(" ", "-")
        for part in (fold(last_name), fold(first_name), born)
        if part
    )
