"""Students and teachers from tabular files: CSV exports and XLSX/ODS workbooks."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from apkit.errors import RosterError
from apkit.roster.classes import ClassMatcher, classes_in_name
from apkit.roster.columns import TEACHER_FIELDS, normalize_header
from apkit.roster.encoding import decode_text
from apkit.roster.fields import cell_text
from apkit.roster.layout import ID_FIELDS, Layout, find_layout, require_name_columns
from apkit.roster.result import (
    STUDENT_COLUMNS,
    TEACHER_COLUMNS,
    Roster,
    RowCollector,
    TeacherRoster,
)
from apkit.roster.student_table import StudentRows
from apkit.roster.tabular import Grid, read_csv_grid, read_workbook
from apkit.roster.teacher_rows import TeacherRows
from apkit.roster.values import FieldReader

# Headers only student lists have; a teacher list holding one is a mix-up.
_STUDENT_ONLY_HEADERS = {
    "ine",
    "eleve",
    "eleves",
    "idnational",
    "div",
    "regime",
    "doublant",
    "classederattachement",
}


class TabularReader:
    """Reads a CSV text file or an XLSX/ODS workbook.

    ``kind`` is ``"csv"``, ``"xlsx"`` or ``"ods"``; the reported format is
    refined from the header (``"pronote-csv"``, ``"siecle-csv"``...).
    """

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind
        self.encoding: str | None = None

    def grids(self, data: bytes, collector: RowCollector) -> list[Grid]:
        """Return the grids of the file: one for a CSV, one per sheet otherwise.

        Raises
        ------
        RosterError
            When the file is unreadable or has no filled cell.
        """
        if self.kind == "csv":
            decoded = decode_text(data)
            self.encoding = decoded.encoding
            if decoded.truncated:
                collector.warn(
                    "le fichier s'arrête au milieu d'un caractère : il semble "
                    "tronqué ; vérifiez la dernière ligne ou téléchargez-le de nouveau"
                )
            grids = [read_csv_grid(decoded.text, self.path)]
        else:
            grids = read_workbook(self.path, data)
        if all(grid.is_blank() for grid in grids):
            raise RosterError(
                "fichier vide : aucune cellule remplie",
                path=self.path,
                hint="exportez de nouveau la liste, avec sa ligne d'en-tête",
            )
        return grids

    def read_students(
        self,
        data: bytes,
        collector: RowCollector,
        *,
        mapping: Mapping[str, str] | None,
        class_name: str | None,
        matcher: ClassMatcher | None,
    ) -> Roster:
        grids = self.grids(data, collector)
        layouts = self._student_layouts(grids, mapping, collector)
        fields = FieldReader(collector, matcher)
        format_name = self.kind
        for grid, layout in layouts:
            format_name = self._format_name(layout)
            wims = format_name == "wims-csv"
            sheet_class, source = class_name, "argument" if class_name else None
            if not wims:
                sheet_class, source = self._class_source(
                    grid, layout, class_name, matcher
                )
            if class_name and source == "column":
                column = layout.header_of("class_name")
                collector.warn(
                    f"class_name='{class_name}' ignoré : la colonne « {column} » "
                    "donne la classe de chaque ligne"
                )
            StudentRows(
                grid,
                layout,
                fields,
                class_name=sheet_class,
                class_source=source,
                class_required=not wims,
                description_row=wims and _is_description_row(grid, layout),
            ).read()
        fields.report_respelled()
        return Roster(
            students=collector.frame(
                STUDENT_COLUMNS, unique="student_id", id_header=_id_header(layouts)
            ),
            dropped=collector.dropped_frame(),
            warnings=collector.warnings,
            format=format_name,
            path=self.path,
            encoding=self.encoding,
        )

    def read_teachers(
        self,
        data: bytes,
        collector: RowCollector,
        *,
        mapping: Mapping[str, str] | None,
    ) -> TeacherRoster:
        grid = self.grids(data, collector)[0]
        found = find_layout(grid, mapping, TEACHER_FIELDS)
        layout = require_name_columns(grid, found, self.path)
        self._check_not_students(grid, layout)
        TeacherRows(grid, layout, FieldReader(collector, None)).read()

        header = None
        if "teacher_id" in layout.columns:
            header = layout.header_of("teacher_id")
        format_name = self.kind
        if self.kind == "csv" and any(h.endswith("*") for h in layout.headers):
            format_name = "ent-csv"
        return TeacherRoster(
            teachers=collector.frame(
                TEACHER_COLUMNS, unique="teacher_id", id_header=header
            ),
            dropped=collector.dropped_frame(),
            warnings=collector.warnings,
            format=format_name,
            path=self.path,
            encoding=self.encoding,
        )

    def _check_not_students(self, grid: Grid, layout: Layout) -> None:
        student_headers = [
            header
            for header in layout.headers
            if normalize_header(header) in _STUDENT_ONLY_HEADERS
        ]
        if student_headers:
            raise RosterError(
                "ce fichier semble lister des élèves (colonne "
                f"« {student_headers[0]} »), pas des enseignants",
                path=self.path,
                line=grid.lines[layout.header_index],
                column=student_headers[0],
                hint="chargez-le avec apkit.roster.load",
            )

    def _student_layouts(self, grids, mapping, collector) -> list[tuple[Grid, Layout]]:
        if len(grids) == 1:
            grid = grids[0]
            layout = require_name_columns(grid, find_layout(grid, mapping), self.path)
            return [(grid, layout)]
        found = []
        for grid in grids:
            candidate = find_layout(grid, mapping)
            if candidate is not None and candidate.has_names():
                found.append((grid, candidate))
            else:
                collector.warn(
                    f"feuille « {grid.sheet} » ignorée : pas une liste d'élèves"
                )
        if not found:
            # Raises, listing the first sheet's columns.
            require_name_columns(grids[0], find_layout(grids[0], mapping), self.path)
        return found

    def _format_name(self, layout: Layout) -> str:
        if self.kind != "csv":
            return self.kind
        keys = {normalize_header(header) for header in layout.headers}
        if "login" in keys and keys & {"password", "regnum", "lastname"}:
            return "wims-csv"
        if {"div", "neele"} <= keys:
            return "siecle-csv"
        if "full_name" in layout.columns and "neele" in keys and "sortie" in keys:
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
    ) -> tuple[str | None, str]:
        """Return the class of rows without a class column, and where it comes from.

        Raises
        ------
        RosterError
            When there is no class column, no ``class_name`` and no class in
            the sheet's or the file's name.
        """
        if "class_name" in layout.columns:
            return None, "column"
        if class_name:
            return class_name, "argument"
        names = [(grid.sheet, "sheet_name")] if grid.sheet else []
        names.append((self.path.stem, "file_name"))
        for name, source in names:
            found = classes_in_name(name, matcher)
            if len(found) == 1:
                return found[0], source
        raise RosterError(
            "aucune colonne de classe, et le nom du fichier n'indique pas la classe",
            path=self.path,
            hint="ajoutez une colonne « Classe », mettez la classe dans le nom du "
            "fichier (liste_205.csv) ou passez class_name='205'",
        )


def _is_description_row(grid: Grid, layout: Layout) -> bool:
    index = layout.header_index + 1
    if index >= len(grid.lines):
        return False
    keys = {normalize_header(cell_text(cell)) for cell in grid.head(index + 1)[index]}
    return {"nom", "prenom"} <= keys


def _id_header(layouts: list[tuple[Grid, Layout]]) -> str | None:
    for field in ID_FIELDS:
        for _, layout in layouts:
            if field in layout.columns:
                return layout.header_of(field)
    return None
