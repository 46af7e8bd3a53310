"""Students from the data rows of a grid, column by column.

The work is done on whole columns, and each distinct value is parsed once, so
a 30,000-row spreadsheet costs a few thousand parses. Rows with a problem are
then handled one by one, in line order, so ``on_bad_rows="error"`` reports the
first bad row of the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Sequence

import numpy as np
import pandas as pd

from apkit.errors import RosterError
from apkit.names import fold
from apkit.roster.columns import normalize_header
from apkit.roster.dates import parse_date
from apkit.roster.fields import cell_text, parse_sex
from apkit.roster.layout import ID_FIELDS, Layout
from apkit.roster.names import clean_name, split_full_name
from apkit.roster.result import SkipRow
from apkit.roster.tabular import Grid
from apkit.roster.values import FieldReader

_FOOTER = re.compile(
    r"^(total|totaux|effectifs?|moyennes?|nombre|nb|sous-total|soit)\b", re.IGNORECASE
)
# Columns never copied into ``extra``: they hold secrets.
_SECRET_HEADERS = {"password", "motdepasse", "mdp", "passwd"}
_BAD = object()


def map_unique(values: Sequence[Hashable], parse: Callable) -> list:
    """Apply ``parse`` once per distinct value; a raised ValueError gives ``_BAD``."""
    results: dict = {}
    for value in dict.fromkeys(values):
        try:
            results[value] = parse(value)
        except ValueError:
            results[value] = _BAD
    return [results[value] for value in values]


class StudentRows:
    """Reads the data rows of one grid into the field reader's collector.

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
        self.collector = fields.collector
        self.class_name = class_name
        self.class_source = class_source
        self.class_required = class_required
        self.description_row = description_row

    def read(self) -> None:
        start = self.layout.header_index + 1
        cells = self.grid.cells.iloc[start:]
        lines = self.grid.lines[start:]
        if self.description_row and lines:
            text = ";".join(cell_text(cell) for cell in cells.iloc[0])
            self._drop(lines[0], text, "ligne de description des champs (export WIMS)")
            cells, lines = cells.iloc[1:], lines[1:]
        texts = pd.DataFrame(
            {column: map_unique(cells[column].tolist(), cell_text) for column in cells},
            index=cells.index,
        )
        keep = self._drop_non_pupils(texts, lines)
        if not keep.any():
            return
        self._read_pupils(cells[keep], texts[keep], list(np.array(lines)[keep]))

    def _drop(self, line: int, text: str, reason: str) -> None:
        self.collector.drop(line, text, reason, self.grid.sheet)

    def _drop_non_pupils(self, texts: pd.DataFrame, lines: list[int]) -> np.ndarray:
        """Drop blank, footer and repeated-header rows; return the mask of the rest."""
        values = texts.to_numpy(dtype=object)
        filled = values != ""
        empty = ~filled.any(axis=1)
        first = values[np.arange(len(values)), filled.argmax(axis=1)]
        footer = np.array([bool(_FOOTER.match(t)) for t in first], dtype=bool) & ~empty
        width = min(len(self.layout.headers), texts.shape[1])
        header = texts.iloc[:, :width].eq(self.layout.headers[:width]).all(axis=1)
        header = header.to_numpy() & ~empty
        for position in np.flatnonzero(empty | footer | header):
            line = lines[position]
            if empty[position]:
                self._drop(line, ";".join(texts.iloc[position]), "ligne vide")
            elif footer[position]:
                reason = "pied de tableau (total ou moyenne), pas un élève"
                self._drop(line, first[position], reason)
            else:
                self._drop(line, ";".join(texts.iloc[position]), "en-tête répété")
        return ~(empty | footer | header)

    def _column(self, frame: pd.DataFrame, field: str | None, missing=None) -> list:
        """Return the values of ``field``'s first column, ``missing`` without one."""
        indexes = self.layout.columns.get(field) if field else None
        if not indexes or indexes[0] not in frame.columns:
            return [missing] * len(frame)
        return frame[indexes[0]].tolist()

    def _text(self, field: str | None) -> list[str]:
        return self._column(self._texts, field, "")

    def _read_pupils(self, cells: pd.DataFrame, texts: pd.DataFrame, lines: list[int]):
        self._texts = texts
        table = self._identity(cells, texts, lines)
        table["birth_date"] = map_unique(self._column(cells, "birth_date"), _date)
        table["raw_birth_date"] = [text or None for text in self._text("birth_date")]
        table["raw_sex"] = [text or None for text in self._text("sex")]
        table["sex"] = map_unique(table["raw_sex"], parse_sex)
        table["raw_class"], class_texts = self._classes(cells, texts)
        table["class_name"] = map_unique(class_texts, self._match_class)
        table["leave_date"] = map_unique(self._column(cells, "leave_date"), _date)
        keep = self._apply_policy(table, lines, class_texts)
        keep &= self._drop_classless_and_leavers(table, lines, keep)
        self._add_ids_and_extras(table, texts, lines)
        frame = pd.DataFrame(table)
        frame["line"] = lines
        frame["sheet"] = self.grid.sheet
        frame["class_source"] = self.class_source
        self.collector.keep_frame(frame[keep].reset_index(drop=True))

    def _identity(self, cells, texts, lines) -> dict[str, list]:
        if "full_name" in self.layout.columns:
            raw = [
                "" if value is None else str(value)
                for value in self._column(cells, "full_name")
            ]
            splits = map_unique(self._text("full_name"), split_full_name)
            for text, split, line in zip(raw, splits, lines, strict=True):
                if text.strip() and not split.certain:
                    self.collector.warn(
                        f"ligne {line} : « {clean_name(text)} » coupé en nom "
                        f"« {split.last_name} » et prénom « {split.first_name} » "
                        "sans certitude ; vérifiez"
                    )
            last = [split.last_name for split in splits]
            first = [split.first_name for split in splits]
        else:
            last = map_unique(self._text("last_name"), clean_name)
            first = map_unique(self._text("first_name"), clean_name)
            raw = [f"{a} {b}".strip() for a, b in zip(last, first, strict=True)]
        usage = map_unique(self._text("usage_name"), clean_name)
        return {
            "last_name": last,
            "first_name": first,
            "usage_name": [name or None for name in usage],
            "raw_name": raw,
        }

    def _classes(self, cells, texts) -> tuple[list, list[str]]:
        if "class_name" in self.layout.columns:
            raw = [
                None if value is None else str(value)
                for value in self._column(cells, "class_name")
            ]
            return raw, self._text("class_name")
        constant = self.class_name or ""
        return [constant or None] * len(texts), [constant] * len(texts)

    def _match_class(self, text: str) -> str | None:
        if not text:
            return None
        try:
            return self.fields.class_name(text, line=None, column=None)
        except RosterError as exc:
            raise ValueError(text) from exc

    def _apply_policy(self, table, lines, class_texts) -> np.ndarray:
        """Report bad names, dates, sex codes and classes in line order.

        Returns the mask of rows kept. Raises through the collector under
        ``"error"``, and for a class that matches none of the school's.
        """
        names = zip(table["last_name"], table["first_name"], strict=True)
        bad = {
            "name": np.array([not last and not first for last, first in names]),
            **{
                field: np.array([value is _BAD for value in table[field]], dtype=bool)
                for field in ("birth_date", "sex", "class_name", "leave_date")
            },
        }
        keep = np.ones(len(lines), dtype=bool)
        for position in np.flatnonzero(np.logical_or.reduce(list(bad.values()))):
            try:
                self._report_row(table, position, lines[position], bad)
            except SkipRow:
                keep[position] = False
                continue
            if bad["class_name"][position]:
                column = self._header("class_name")
                self.fields.class_name(
                    class_texts[position], line=lines[position], column=column
                )
        for name in ("birth_date", "sex", "leave_date"):
            table[name] = [None if value is _BAD else value for value in table[name]]
        return keep

    def _report_row(self, table, position, line, bad) -> None:
        name = table["raw_name"][position]
        if bad["name"][position]:
            texts = self._texts.iloc[position]
            row_text = ";".join(texts)
            field = "full_name" if "full_name" in self.layout.columns else "last_name"
            self.collector.bad_value(
                "ligne sans nom d'élève",
                line=line,
                column=self._header(field),
                value=row_text,
                hint="complétez le nom ou supprimez la ligne",
                text=row_text,
                sheet=self.grid.sheet,
            )
        for field, problem in (
            ("birth_date", "date illisible"),
            ("leave_date", "date de sortie illisible"),
        ):
            if bad[field][position]:
                self.collector.bad_value(
                    problem,
                    line=line,
                    column=self._header(field),
                    value=self._text(field)[position],
                    hint="écrivez la date sous la forme jj/mm/aaaa",
                    text=name,
                    sheet=self.grid.sheet,
                )
        if bad["sex"][position]:
            self.collector.bad_value(
                "sexe inconnu",
                line=line,
                column=self._header("sex"),
                value=table["raw_sex"][position],
                hint="écrivez F ou M (G, H, 1, 2, M. et Mme sont aussi compris)",
                text=table["raw_name"][position],
                sheet=self.grid.sheet,
            )

    def _header(self, field: str) -> str | None:
        return self.layout.header_of(field) if field in self.layout.columns else None

    def _drop_classless_and_leavers(self, table, lines, keep) -> np.ndarray:
        kept = np.ones(len(lines), dtype=bool)
        for position in np.flatnonzero(keep):
            name = table["raw_name"][position]
            left = table["leave_date"][position]
            if self.class_required and table["class_name"][position] is None:
                self._drop(lines[position], name, "aucune classe indiquée")
                kept[position] = False
            elif self.fields.has_left(left):
                self._drop(
                    lines[position],
                    name,
                    f"a quitté l'établissement le {left:%d/%m/%Y}",
                )
                kept[position] = False
        return kept

    def _add_ids_and_extras(self, table, texts, lines) -> None:
        for field in ("ine", "login", "email"):
            table[field] = [text or None for text in self._text(field)]
        group_columns = [
            texts[i].tolist() for i in self.layout.columns.get("groups", [])
        ]
        table["groups"] = [
            [group for group in groups if group]
            for groups in zip(*group_columns, strict=True)
        ] or [[] for _ in lines]
        id_field = next((f for f in ID_FIELDS if f in self.layout.columns), None)
        own = self._text(id_field)
        derived = self._derived_ids(table) if not all(own) else own
        table["student_id"] = [
            mine or other for mine, other in zip(own, derived, strict=True)
        ]
        table["id_source"] = [id_field if mine else "derived" for mine in own]
        table["extra"] = self._extras(texts)

    def _derived_ids(self, table) -> list[str]:
        folded = dict.fromkeys(table["last_name"] + table["first_name"])
        folded = {name: fold(name).replace(" ", "-") for name in folded}
        ids = []
        for last, first, born in zip(
            table["last_name"], table["first_name"], table["birth_date"], strict=True
        ):
            when = born.isoformat() if born else "sans-date"
            parts = (folded[last], folded[first], when)
            ids.append("-".join(part for part in parts if part))
        return ids

    def _extras(self, texts) -> list[dict[str, str]]:
        mapped = {
            index for indexes in self.layout.columns.values() for index in indexes
        }
        extra = [
            (index, header)
            for index, header in enumerate(self.layout.headers)
            if header
            and index not in mapped
            and index in texts.columns
            and normalize_header(header) not in _SECRET_HEADERS
        ]
        if not extra:
            return [{} for _ in range(len(texts))]
        headers = [header for _, header in extra]
        values = zip(*(texts[index].tolist() for index, _ in extra), strict=True)
        return [
            {header: value for header, value in zip(headers, row, strict=True) if value}
            for row in values
        ]


def _date(value: object):
    """Parse a date cell; text cells are cleaned first (NBSP, ``="..."``)."""
    return parse_date(cell_text(value) if isinstance(value, str) else value)
