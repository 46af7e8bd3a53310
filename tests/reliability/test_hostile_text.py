"""Hostile names and titles stay text: in widgets, exports and file names.

Students and activities of a small school get names made of markup, template
syntax, SQL, formula starts, direction overrides, zero-width characters and 300
characters. Every page built headless must show them escaped (no raw tag in any
HTML widget's value); CSV, XLSX and PDF exports must read back the literal text
with formulas neutralised; file names built from titles must stay inside the
export folder.
"""

from __future__ import annotations

import csv
import html

import openpyxl
import pandas as pd
import pytest
from ipywidgets import HTML
from pypdf import PdfReader
from sqlalchemy import update

from apkit import reports
from apkit.access import generate_codes
from apkit.exports.csvfile import write_csv
from apkit.exports.pdf import write_attendance_pdf
from apkit.exports.safety import ExportPathError, path_inside, safe_filename
from apkit.exports.xlsx import write_workbook
from apkit.model import Activity, CampaignMode, Student
from apkit.widgets import accueil, corrections, inscription, listes, statistiques
from tests.factories import small_school
from tests.reliability import summary

pytestmark = pytest.mark.reliability

MARKUP = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><b>x</b>',
]
HOSTILE = [
    *MARKUP,
    "{{7*7}}",
    "'; DROP TABLE students; --",
    "\u202eLIAM",
    "Zo\u200bé\u200d",
    "L" * 300,
]
FORMULAS = ["=1+1", "+33 6", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
PATHS = ["../../etc/passwd", "..\\..\\x", "/abs", "con", "a\x00b", "..", "NUL.txt"]


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def _html_values(page) -> str:
    root = getattr(page, "widget", page)
    return "\n".join(w.value for w in _walk(root) if isinstance(w, HTML))


@pytest.fixture
def hostile_school(database_store):
    school = small_school(database_store, mode=CampaignMode.LIVE)
    names = HOSTILE[: len(school.students)]
    with database_store.write() as session:
        for student_id, name in zip(school.students, names, strict=True):
            session.execute(
                update(Student).where(Student.id == student_id).values(last_name=name)
            )
        for activity_id, title in zip(
            school.activities.values(), HOSTILE, strict=False
        ):
            session.execute(
                update(Activity).where(Activity.id == activity_id).values(title=title)
            )
    for student_id in school.students[:3]:
        school.builder.enrolment(
            school.campaign_id, student_id, school.activities["A1"]
        )
    issued = generate_codes(
        database_store, students=True, teachers=True, coordinator=True
    )
    return database_store, school, issued


def test_pages_escape_hostile_text(hostile_school):
    store, school, issued = hostile_school
    student_code = next(i.code for i in issued if i.student_id == school.students[0])
    staff_code = next(i.code for i in issued if i.role.value == "coordinator")
    pages = {
        "inscription": inscription.build(store, code=student_code),
        "corrections": corrections.build(store, code=staff_code),
        "listes": listes.build(store, code=staff_code),
        "accueil": accueil.build(store),
        "statistiques": statistiques.build(store, code=staff_code),
    }
    for name, page in pages.items():
        shown = _html_values(page)
        for text in MARKUP:
            assert text not in shown, f"{name} shows raw markup {text!r}"
    student_page = _html_values(pages["inscription"])
    assert (
        html.escape(MARKUP[0], quote=False) in student_page
        or html.escape(MARKUP[0]) in student_page
    )
    summary.add("hostile text", pages_checked=len(pages), strings=len(HOSTILE))


def _frame(store, school):
    """Return the A1 list with one row per hostile or formula-like name."""
    frame = reports.activity_list(store, school.activities["A1"])
    column = "Nom"
    assert column in frame.columns
    rows = pd.DataFrame([frame.iloc[0].to_dict()] * len(FORMULAS + HOSTILE))
    rows[column] = FORMULAS + HOSTILE
    return rows, column


def test_csv_and_xlsx_neutralise_formulas(hostile_school, tmp_path):
    store, school, _ = hostile_school
    frame, column = _frame(store, school)
    with open(
        write_csv(frame, tmp_path / "liste.csv"), encoding="utf-8-sig", newline=""
    ) as f:
        values = [row[column] for row in csv.DictReader(f, delimiter=";")]
    assert values == ["'" + v for v in FORMULAS] + HOSTILE

    write_workbook({"Liste": frame}, tmp_path / "liste.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "liste.xlsx").active
    header = [cell.value for cell in next(sheet.iter_rows(min_row=1, max_row=1))]
    position = header.index(column)
    cells = [row[position] for row in sheet.iter_rows(min_row=2) if row[position].value]
    # XLSX keeps the text as typed but in string cells (type "s"), which no
    # spreadsheet evaluates; the XML reader turns the CR into LF.
    written = cells[-len(FORMULAS + HOSTILE) :]
    assert [cell.data_type for cell in written] == ["s"] * len(written)
    assert [cell.value for cell in written] == [
        v.replace("\r", "\n") for v in FORMULAS + HOSTILE
    ]
    summary.add("hostile text", formulas_neutralised=2 * len(FORMULAS))


def test_pdf_reads_back_literal_text(hostile_school, tmp_path):
    store, _, _ = hostile_school
    path = tmp_path / "emargement.pdf"
    assert write_attendance_pdf(store, "P1", path) >= 1
    text = "".join(page.extract_text() for page in PdfReader(path).pages)
    assert "<script>alert(1)</script>" in text.replace("\n", "")


@pytest.mark.parametrize("title", PATHS + HOSTILE)
def test_title_file_names_stay_inside(tmp_path, title):
    name = safe_filename(title, suffix=".csv")
    target = path_inside(tmp_path, name)
    assert target.parent == tmp_path.resolve()
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert not name.startswith(".")


@pytest.mark.parametrize("name", ["../../etc/passwd", "/abs", "..\\..\\x/../..", ".."])
def test_raw_names_cannot_leave_folder(tmp_path, name):
    with pytest.raises(ExportPathError):
        path_inside(tmp_path, name)
