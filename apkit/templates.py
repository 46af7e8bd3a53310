"""The blank set-up workbooks a coordinator fills in LibreOffice or Excel.

:func:`write_templates` writes ``modele_organisation.xlsx`` and
``modele_organisation.ods``: a ``Notice`` sheet that explains every column in
French, then the sheets ``Barrettes``, ``Enseignants``, ``Périodes`` and
``Ateliers`` with their headers in bold, the header row frozen and the columns
sized. :func:`apkit.school.load_school` reads a filled copy. The committed files
in ``data/`` come from this module; ``python -m apkit.templates`` rewrites them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from odf.config import (
    ConfigItem,
    ConfigItemMapEntry,
    ConfigItemMapIndexed,
    ConfigItemMapNamed,
    ConfigItemSet,
)
from odf.opendocument import OpenDocumentSpreadsheet
from odf.style import Style, TableColumnProperties, TextProperties
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import P
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

DATA = Path(__file__).resolve().parents[1] / "data"
TEMPLATE_NAME = "modele_organisation"
NOTICE_TITLE = "Notice"
ROWS_FORMATTED = 300  # rows of the data sheets that get the date or text format

# Sheet -> columns as (header, width in characters, explanation).
SHEETS: dict[str, list[tuple[str, int, str]]] = {
    "Barrettes": [
        ("barrette", 12, "nom court de la barrette, par exemple A"),
        ("classe", 12, "une classe de la barrette par ligne, par exemple 2de1"),
    ],
    "Enseignants": [
        ("identifiant", 14, "identifiant unique de l'enseignant, par exemple T01"),
        ("nom", 22, "nom de famille"),
        ("prénom", 18, "prénom"),
        ("courriel", 34, "adresse électronique (facultatif)"),
    ],
    "Périodes": [
        ("identifiant", 12, "identifiant court de la période, par exemple P1"),
        ("nom", 18, "nom affiché, par exemple Période 1"),
        ("début", 12, "premier jour, au format jj/mm/aaaa"),
        (
            "fin",
            12,
            "dernier jour, au format jj/mm/aaaa ; les périodes ne se chevauchent pas",
        ),  # fmt: skip
    ],
    "Ateliers": [
        ("période", 10, "identifiant d'une période de la feuille Périodes"),
        ("identifiant", 12, "identifiant unique dans la période, par exemple P1-A01"),
        ("barrette", 10, "nom d'une barrette de la feuille Barrettes"),
        ("heure", 8, "1 ou 2 pour une heure, 1+2 pour un projet sur les deux heures"),
        ("titre", 34, "intitulé vu par les élèves"),
        ("catégorie", 18, "soutien, approfondissement, orientation ou projet"),
        ("enseignant", 12, "identifiant d'un enseignant de la feuille Enseignants"),
        ("salle", 12, "salle (facultatif)"),
        ("places", 8, "nombre entier de places, 0 ou plus"),
        (
            "effectif minimum",
            10,
            "plus petit groupe qui a lieu (facultatif, 0 "
            "par défaut), au plus égal aux places",
        ),  # fmt: skip
        ("description", 40, "texte montré aux élèves (facultatif)"),
        (
            "classes",
            18,
            "classes autorisées, séparées par des virgules ; vide "
            "pour toute la barrette",
        ),  # fmt: skip
    ],
}
NOTICE_LINES = [
    "Organisation de l'accompagnement personnalisé : modèle à remplir",
    "",
    "Remplissez une ligne par élément dans chaque feuille, sans changer les "
    "en-têtes ni les noms des feuilles.",
    "Importez ensuite le classeur avec la commande : apkit import-school "
    "modele_organisation.xlsx",
    "Tout est vérifié avant l'enregistrement : une erreur indique la feuille, la "
    "ligne, la colonne et la correction à faire.",
    "",
]
DATE_HEADERS = {"début", "fin"}
TEXT_HEADERS = {"heure", "identifiant", "classe", "barrette", "période"}


def notice_rows() -> list[list[str]]:
    """Return the rows of the ``Notice`` sheet: introduction, then one row a column."""
    rows = [[line] for line in NOTICE_LINES]
    rows.append(["feuille", "colonne", "contenu"])
    for sheet, columns in SHEETS.items():
        rows += [[sheet, header, text] for header, _, text in columns]
    return rows


def write_xlsx(path: str | Path) -> Path:
    """Write the blank workbook in Office Open XML (``.xlsx``) and return its path."""
    path = Path(path)
    workbook = Workbook()
    notice = workbook.active
    notice.title = NOTICE_TITLE
    for row in notice_rows():
        notice.append(row)
    notice["A1"].font = Font(bold=True, size=14)
    for letter, width in zip("ABC", (16, 20, 90), strict=True):
        notice.column_dimensions[letter].width = width
    for sheet_name, columns in SHEETS.items():
        sheet = workbook.create_sheet(sheet_name)
        sheet.append([header for header, _, _ in columns])
        for index, (header, width, _) in enumerate(columns, start=1):
            letter = get_column_letter(index)
            sheet.column_dimensions[letter].width = width
            sheet.cell(row=1, column=index).font = Font(bold=True)
            number_format = _number_format(header)
            if number_format is None:
                continue
            for row_number in range(2, ROWS_FORMATTED + 2):
                sheet.cell(row=row_number, column=index).number_format = number_format
        sheet.freeze_panes = "A2"
    workbook.save(path)
    return path


def _number_format(header: str) -> str | None:
    # Dates typed as 15/09/2025 stay dates; "1+2" and "P1" stay text.
    if header in DATE_HEADERS:
        return "DD/MM/YYYY"
    if header in TEXT_HEADERS:
        return "@"
    return None


def write_ods(path: str | Path) -> Path:
    """Write the blank workbook in OpenDocument (``.ods``) and return its path.

    The date and text formats of the ``.xlsx`` are left out here, so LibreOffice
    applies its locale's reading of what is typed.
    """
    path = Path(path)
    document = OpenDocumentSpreadsheet()
    bold = Style(name="entete", family="table-cell")
    bold.addElement(TextProperties(fontweight="bold"))
    document.automaticstyles.addElement(bold)
    widths: dict[int, Style] = {}

    def column_style(width: int) -> Style:
        if width not in widths:
            style = Style(name=f"largeur{width}", family="table-column")
            style.addElement(TableColumnProperties(columnwidth=f"{width * 0.22:.2f}cm"))
            document.automaticstyles.addElement(style)
            widths[width] = style
        return widths[width]

    notice = Table(name=NOTICE_TITLE)
    for width in (16, 20, 90):
        notice.addElement(TableColumn(stylename=column_style(width)))
    for index, row in enumerate(notice_rows()):
        notice.addElement(_ods_row(row, bold if index == 0 else None))
    document.spreadsheet.addElement(notice)
    for sheet_name, columns in SHEETS.items():
        table = Table(name=sheet_name)
        for _, width, _ in columns:
            table.addElement(TableColumn(stylename=column_style(width)))
        table.addElement(_ods_row([header for header, _, _ in columns], bold))
        document.spreadsheet.addElement(table)
    document.settings.addElement(_frozen_header_settings(list(SHEETS)))
    document.save(str(path))
    return path


def _ods_row(values: list[str], style: Style | None) -> TableRow:
    row = TableRow()
    for value in values:
        cell = TableCell(valuetype="string", stylename=style) if style else None
        cell = cell or TableCell(valuetype="string")
        cell.addElement(P(text=value))
        row.addElement(cell)
    return row


def _frozen_header_settings(sheet_names: list[str]) -> ConfigItemSet:
    """Return the view settings that freeze row 1 of each sheet in LibreOffice."""
    view_settings = ConfigItemSet(name="ooo:view-settings")
    views = ConfigItemMapIndexed(name="Views")
    view = ConfigItemMapEntry()
    view.addElement(ConfigItem(name="ViewId", type="string", text="view1"))
    tables = ConfigItemMapNamed(name="Tables")
    for name in sheet_names:
        entry = ConfigItemMapEntry(name=name)
        # A vertical split at row 1 in mode 2 is how LibreOffice stores "freeze
        # first row". NOTE: no LibreOffice was at hand to open the file and check.
        for key, value in (
            ("HorizontalSplitMode", "0"),
            ("VerticalSplitMode", "2"),
            ("VerticalSplitPosition", "1"),
            ("ActiveSplitRange", "2"),
            ("PositionTop", "0"),
            ("PositionBottom", "1"),
        ):
            kind = "int" if key == "VerticalSplitPosition" else "short"
            entry.addElement(ConfigItem(name=key, type=kind, text=value))
        tables.addElement(entry)
    view.addElement(tables)
    views.addElement(view)
    view_settings.addElement(views)
    return view_settings


def write_templates(folder: str | Path = DATA) -> list[Path]:
    """Write both blank workbooks into ``folder`` and return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_xlsx(folder / f"{TEMPLATE_NAME}.xlsx"),
        write_ods(folder / f"{TEMPLATE_NAME}.ods"),
    ]


if __name__ == "__main__":
    for written in write_templates(sys.argv[1] if len(sys.argv) > 1 else DATA):
        print(written)
