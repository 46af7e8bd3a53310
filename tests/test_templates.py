"""The committed blank workbooks match what apkit.templates writes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
import zipfile

import openpyxl

from apkit import templates
from tests.conftest import ROOT

COMMITTED = ROOT / "data"


def _xlsx_layout(path):
    workbook = openpyxl.load_workbook(path)
    layout = []
    for sheet in workbook.worksheets:
        widths = {k: v.width for k, v in sheet.column_dimensions.items()}
        cells = [[c.value for c in row] for row in sheet.iter_rows()]
        formats = [c.number_format for c in sheet[2]] if sheet.max_row > 1 else []
        bold = [c.font.bold for c in sheet[1]]
        layout.append((sheet.title, sheet.freeze_panes, widths, cells, formats, bold))
    return layout


def test_committed_xlsx_matches_generator(tmp_path):
    fresh = templates.write_xlsx(tmp_path / "fresh.xlsx")
    committed = COMMITTED / "modele_organisation.xlsx"
    assert _xlsx_layout(committed) == _xlsx_layout(fresh)


def test_committed_ods_matches_generator(tmp_path):
    fresh = templates.write_ods(tmp_path / "fresh.ods")
    committed = COMMITTED / "modele_organisation.ods"
    # meta.xml contains the creation date, so only content and settings are compared.
    # odfpy writes namespace declarations in hash order, so compare canonical XML.
    for member in ("content.xml", "settings.xml", "styles.xml"):
        with zipfile.ZipFile(committed) as a, zipfile.ZipFile(fresh) as b:
            expected = ET.canonicalize(a.read(member).decode())
            assert ET.canonicalize(b.read(member).decode()) == expected, member


def test_xlsx_template_layout():
    workbook = openpyxl.load_workbook(COMMITTED / "modele_organisation.xlsx")
    assert workbook.sheetnames == [
        "Notice",
        "Barrettes",
        "Enseignants",
        "Périodes",
        "Ateliers",
    ]
    ateliers = workbook["Ateliers"]
    assert ateliers.freeze_panes == "A2"
    assert [c.value for c in ateliers[1]][:4] == [
        "période",
        "identifiant",
        "barrette",
        "heure",
    ]
    assert ateliers["D2"].number_format == "@"
    assert workbook["Périodes"]["C2"].number_format == "DD/MM/YYYY"
    assert ateliers.column_dimensions["E"].width == 34
