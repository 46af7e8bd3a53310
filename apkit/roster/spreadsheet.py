"""Students and teachers from tabular files: CSV exports and XLSX/ODS workbooks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from apkit.errors import RosterError
from apkit.roster.classes import ClassMatcher, classes_in_name
from apkit.roster.columns import normalize_header
from apkit.roster.encoding import decode_text
from apkit.roster.records import Layout, StudentRows, find_layout, require_name_columns
from apkit.roster.result import STUDENT_COLUMNS, Roster, RowCollector
from apkit.roster.tabular import Grid, read_csv_grid, read_workbook


class TabularReader:
    """Reads a CSV text file or an XLSX/ODS workbook.

    ``kind`` is ``"csv"``, ``"xlsx"`` or ``"ods"``; the reported format is
    refined from the header (``"pronote-csv"``, ``"siecle-csv"``...).
    """

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind
        self.encoding: str | None = None

    def grids(self, data: bytes) -> list[Grid]:
        if self.kind == "csv":
            text, self.encoding = decode_text(data)
            return [read_csv_grid(text, self.path)]
        engine = "openpyxl" if self.kind == "xlsx" else "odf"
        return read_workbook(self.path, data, engine)

    def read_students(
        self,
        data: bytes,
        collector: RowCollector,
        *,
        mapping: Mapping[str, str] | None,
        class_name: str | None,
        matcher: ClassMatcher | None,
    ) -> Roster:
        grids = self.grids(data)
        if not any(
            any(cell not in (None, "") for cell in row) for g in grids for row in g.rows
        ):
            raise RosterError(
                "fichier vide",
                path=self.path,
                hint="exportez de nouveau la liste des élèves",
            )
        layouts = self._student_layouts(grids, mapping, collector)
        format_name = self.kind
        for grid, layout in layouts:
            format_name = self._format_name(layout)
            sheet_class = self._class_source(grid, layout, class_name, matcher)
            StudentRows(
                grid, layout, collector, class_name=sheet_class, matcher=matcher
            ).read()
        self._check_ids(collector, layouts)
        return Roster(
            students=collector.frame(STUDENT_COLUMNS),
            dropped=collector.dropped_frame(),
            warnings=collector.warnings,
            format=format_name,
            path=self.path,
            encoding=self.encoding,
        )

    def _student_layouts(self, grids, mapping, collector) -> list[tuple[Grid, Layout]]:
        if len(grids) == 1:
            grid = grids[0]
            return [
                (
                    grid,
                    require_name_columns(grid, find_layout(grid, mapping), self.path),
                )
            ]
        found = []
        for grid in grids:
            layout = find_layout(grid, mapping)
            columns = layout.columns if layout else {}
            if "full_name" in columns or {"last_name", "first_name"} <= columns.keys():
                found.append((grid, layout))
            else:
                collector.warn(
                    f"feuille « {grid.sheet} » ignorée : pas une liste d'élèves"
                )
        if not found:
            require_name_columns(grids[0], find_layout(grids[0], mapping), self.path)
        return found

    def _format_name(self, layout: Layout) -> str:
        if self.kind != "csv":
            return self.kind
        keys = {normalize_header(header) for header in layout.headers}
        if {"div", "neele"} <= keys:
            return "siecle-csv"
        if "full_name" in layout.columns and {"neele", "sortie"} <= keys:
            return "pronote-csv"
        if any(header.endswith("*") for header in layout.headers):
            return "ent-csv"
        return "csv"

    def _class_source(
        self,
        grid: Grid,
        layout: Layout,
        class_name: str | None,
        matcher: ClassMatcher | None,
    ) -> str | None:
        if "class_name" in layout.columns or class_name:
            return class_name
        names = [grid.sheet] if grid.sheet else []
        names.append(self.path.stem)
        for name in names:
            found = classes_in_name(name, matcher)
            if len(found) == 1:
                return found[0]
        raise RosterError(
            "aucune colonne de classe, et le nom du fichier n'indique pas la classe",
            path=self.path,
            hint="ajoutez une colonne « Classe », mettez la classe dans le nom du "
            "fichier (liste_205.csv) ou passez class_name='205'",
        )

    def _check_ids(self, collector: RowCollector, layouts) -> None:
        headers = {}
        for _, layout in layouts:
            for field in ("student_id", "ine", "login"):
                if field in layout.columns:
                    headers.setdefault(field, layout.header_of(field))
        source = next(iter(headers), None)
        collector.check_unique_ids(
            "student_id", headers.get(source) if source else None
        )
