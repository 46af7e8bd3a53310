"""Teachers from a grid of cells (Open ENT NG ``Teacher.csv`` or a spreadsheet)."""

from __future__ import annotations

from apkit.roster.fields import cell_text
from apkit.roster.layout import Layout, derived_id
from apkit.roster.names import clean_name, split_full_name
from apkit.roster.result import SkipRow
from apkit.roster.tabular import Grid
from apkit.roster.values import FieldReader

_FOOTER_WORDS = ("total", "effectif", "nombre")


class TeacherRows:
    """Reads the data rows of one grid of teachers into the field reader's collector."""

    def __init__(self, grid: Grid, layout: Layout, fields: FieldReader) -> None:
        self.grid = grid
        self.layout = layout
        self.fields = fields
        self.collector = fields.collector

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
        if not any(texts):
            self.collector.drop(line, ";".join(texts), "ligne vide", self.grid.sheet)
            return
        first = next(text for text in texts if text)
        if first.casefold().startswith(_FOOTER_WORDS):
            self.collector.drop(line, first, "pied de tableau", self.grid.sheet)
            return
        record = self._identity(texts, line)
        name = str(record["raw_name"])
        record["email"] = self._text(texts, "email") or None
        record["sex"] = self._parse(self.fields.sex, texts, "sex", line, name)
        record["birth_date"] = self._parse(
            self.fields.date, cells, "birth_date", line, name
        )
        record["subjects"] = self._all(texts, "subjects")
        record["classes"] = self._all(texts, "classes")
        record["function"] = self._text(texts, "function") or None
        record["main_teacher_of"] = self._all(texts, "main_teacher_of")
        record["login"] = self._text(texts, "login") or None
        own_id = self._text(texts, "teacher_id")
        record["teacher_id"] = own_id or derived_id(
            str(record["last_name"]), str(record["first_name"]), record["birth_date"]
        )
        record["id_source"] = "teacher_id" if own_id else "derived"
        record["line"] = line
        self.collector.keep(record)

    def _text(self, texts: list[str], field: str) -> str:
        indexes = self.layout.columns.get(field)
        if not indexes or indexes[0] >= len(texts):
            return ""
        return texts[indexes[0]]

    def _all(self, texts: list[str], field: str) -> list[str]:
        indexes = self.layout.columns.get(field, [])
        return [texts[i] for i in indexes if i < len(texts) and texts[i]]

    def _parse(self, parse, values: list, field: str, line: int, name: str):
        """Parse ``field``'s value under the policy; None when there is no column."""
        indexes = self.layout.columns.get(field)
        if not indexes or indexes[0] >= len(values):
            return None
        return parse(
            values[indexes[0]],
            line=line,
            column=self.layout.header_of(field),
            name=name,
            sheet=self.grid.sheet,
        )

    def _identity(self, texts: list[str], line: int) -> dict[str, object]:
        if "full_name" in self.layout.columns:
            raw = self._text(texts, "full_name")
            split = split_full_name(raw)
            last, first = split.last_name, split.first_name
        else:
            last = clean_name(self._text(texts, "last_name"))
            first = clean_name(self._text(texts, "first_name"))
            raw = f"{last} {first}".strip()
        usage = clean_name(self._text(texts, "usage_name"))
        if not last and not first:
            row_text = ";".join(texts)
            field = "full_name" if "full_name" in self.layout.columns else "last_name"
            self.collector.bad_value(
                "ligne sans nom d'enseignant",
                line=line,
                column=self.layout.header_of(field),
                value=row_text,
                hint="complétez le nom ou supprimez la ligne",
                text=row_text,
                sheet=self.grid.sheet,
            )
        return {
            "last_name": usage or last,
            "first_name": first,
            "birth_name": last if usage and usage != last else None,
            "raw_name": raw,
        }
