"""Exports read back: CSV with pandas, XLSX with openpyxl, PDF text with pypdf."""

from __future__ import annotations

import zipfile

import openpyxl
import pandas as pd
import pypdf
import pytest

from apkit import reports, stats
from apkit.errors import NotFoundError
from apkit.exports import (
    ExportPathError,
    neutralise_formula,
    path_inside,
    safe_filename,
    write_admin_workbook,
    write_attendance_pdf,
    write_csv,
    write_workbook,
)
from apkit.model import Activity, Enrolment, EnrolmentSource
from apkit.names import sort_key
from apkit.store import Store
from tests.conftest import new_database_url
from tests.report_school import (
    FORMULA_LAST,
    SCRIPT_TITLE,
    TAB_FIRST,
    allocated_sample_school,
    build_report_school,
)

HARD_TEXT = [
    "D'ALMEIDA",
    "DE LA CRUZ",
    "ÉCUYER",
    "Éluard",
    FORMULA_LAST,
    "+33",
    "-x",
    "@SUM(A1)",
    "\tTAB",
    "\rCR",
    "<script>alert(1)</script>",
    "Lætitia",
    "DESCŒURS",
    TAB_FIRST,
]


@pytest.fixture
def school(store):
    return store, build_report_school(store)


def _read_csv(path):
    return pd.read_csv(
        path, encoding="utf-8-sig", sep=";", dtype=str, keep_default_na=False
    )


def _expected_csv_text(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLIEN("x")', '\'=HYPERLIEN("x")'),
        ("+33", "'+33"),
        ("-x", "'-x"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", "'\tTAB"),
        ("\rCR", "'\rCR"),
        ("D'ALMEIDA", "D'ALMEIDA"),
        ("Jean-Luc", "Jean-Luc"),
        (-3, -3),
    ],
)
def test_neutralise_formula(value, expected):
    assert neutralise_formula(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("../../etc/passwd", "etc_passwd"),
        ("..", "fichier"),
        ("", "fichier"),
        ("Écuyer Lætitia", "Ecuyer_Laetitia"),
        ("DESCŒURS", "DESCOEURS"),
        ("D'ALMEIDA", "D_ALMEIDA"),
        (SCRIPT_TITLE, "Projet_radio_script_alert_1_script"),
        ("C:\\Windows\\system32", "C_Windows_system32"),
        ("CON", "CON_"),
        ("lpt1", "lpt1_"),
        (".bashrc", "bashrc"),
    ],
)
def test_safe_filename(text, expected):
    assert safe_filename(text) == expected


def test_safe_filename_cut_and_suffix():
    name = safe_filename("A" * 300, suffix=".csv")
    assert name == "A" * 100 + ".csv"


def test_path_inside_accepts_plain_name(tmp_path):
    assert path_inside(tmp_path, "liste.csv") == (tmp_path / "liste.csv").resolve()


@pytest.mark.parametrize("name", ["../liste.csv", "/etc/passwd", "a/../../b", "."])
def test_path_inside_rejects_escape(tmp_path, name):
    with pytest.raises(
        ExportPathError, match="sortirait du dossier d'export"
    ) as caught:
        path_inside(tmp_path / "exports", name)
    assert caught.value.name == name
    assert caught.value.folder == (tmp_path / "exports").resolve()


def test_path_inside_rejects_symlink_out(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "lien").symlink_to(tmp_path)
    with pytest.raises(ExportPathError):
        path_inside(folder, "lien")


def test_safe_filename_stays_inside(tmp_path):
    for text in HARD_TEXT + ["../../x", "/abs/olu", "..\\..\\x"]:
        target = path_inside(tmp_path, safe_filename(text, suffix=".csv"))
        assert target.parent == tmp_path.resolve()


def test_csv_round_trip_hard_text(tmp_path):
    frame = pd.DataFrame({"Nom": HARD_TEXT, "Rang": range(len(HARD_TEXT))})
    path = write_csv(frame, tmp_path / "noms.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfNom;Rang\r\n")
    back = _read_csv(path)
    assert back["Nom"].tolist() == [_expected_csv_text(v) for v in HARD_TEXT]
    assert back["Rang"].tolist() == [str(i) for i in range(len(HARD_TEXT))]


def test_csv_french_decimal_and_booleans(tmp_path):
    frame = pd.DataFrame({"Taux": [0.75], "Fermé": [True], "Ouvert": [False]})
    back = _read_csv(write_csv(frame, tmp_path / "t.csv"))
    assert back.values.tolist() == [["0,75", "oui", "non"]]


def test_csv_block_list_rows(school, tmp_path):
    store, _ids = school
    frame = reports.block_list(store, "P1", "A")
    back = _read_csv(write_csv(frame, tmp_path / "barrette.csv"))
    assert list(back.columns) == list(frame.columns)
    for written, expected in zip(
        back.values.tolist(), frame.values.tolist(), strict=True
    ):
        assert written == [_expected_csv_text(str(v)) for v in expected]


def test_csv_unplaced_keeps_tab_name(school, tmp_path):
    store, _ids = school
    back = _read_csv(write_csv(reports.unplaced_list(store, "P1"), tmp_path / "n.csv"))
    assert back["Prénom"].tolist()[:2] == ["'@SUM(A1)", TAB_FIRST]


def _sheet_rows(sheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


YES_NO = {True: "oui", False: "non"}


def _expected_rows(frame: pd.DataFrame) -> list[list[object]]:
    rows = [list(frame.columns)]
    for row in frame.itertuples(index=False):
        rows.append([YES_NO[v] if isinstance(v, bool) else v for v in row])
    return rows


def test_workbook_sheets_and_layout(school, tmp_path):
    store, _ids = school
    path = write_admin_workbook(store, "P1", tmp_path / "P1.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [
        "Synthèse", "Barrettes", "Non inscrits", "A - heure 1", "A - heure 2"
    ]  # fmt: skip
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
        assert sheet.print_title_rows == "$1:$1", sheet.title
        assert sheet.column_dimensions["A"].width >= 8, sheet.title
        assert all(cell.font.b for cell in sheet[1]), sheet.title
    assert (
        "Période 1 (P1), du 15/09/2025 au 17/10/2025"
        in book["Synthèse"].oddHeader.center.text
    )


def test_workbook_activity_sheets_rows(school, tmp_path):
    store, _ids = school
    book = openpyxl.load_workbook(
        write_admin_workbook(store, "P1", tmp_path / "P1.xlsx")
    )
    placed = reports.placements(store, ["P1"])
    for slot in (1, 2):
        expected = placed[placed["Heure"] == slot][
            ["Atelier", "Enseignant", "Salle", "Nom", "Prénom", "Classe"]
        ]
        assert _sheet_rows(book[f"A - heure {slot}"]) == _expected_rows(expected)
    first = book["A - heure 1"]
    # A page break after the last student of each activity but the last one.
    assert [b.id for b in first.row_breaks.brk] == [4, 7]


def test_workbook_summary_rows(school, tmp_path):
    store, _ids = school
    book = openpyxl.load_workbook(
        write_admin_workbook(store, "P1", tmp_path / "P1.xlsx")
    )
    expected = stats.fill_rates(store, "P1").drop(columns="activity_id")
    assert _sheet_rows(book["Synthèse"]) == _expected_rows(expected)
    rate = book["Synthèse"].cell(
        row=2, column=expected.columns.get_loc("Taux de remplissage") + 1
    )
    assert rate.number_format == "0%"
    unplaced = reports.unplaced_list(store, "P1")
    assert _sheet_rows(book["Non inscrits"]) == _expected_rows(unplaced)


def test_workbook_formula_text_is_text(school, tmp_path):
    store, _ids = school
    path = write_admin_workbook(store, "P1", tmp_path / "P1.xlsx")
    book = openpyxl.load_workbook(path)
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    texts = [c for c in cells if isinstance(c.value, str)]
    assert all(c.data_type == "s" for c in texts)
    values = {c.value for c in texts}
    for hard in [
        FORMULA_LAST,
        "+33",
        "-x",
        "@SUM(A1)",
        TAB_FIRST,
        SCRIPT_TITLE,
        "DESCŒURS",
    ]:
        assert hard in values, hard
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in archive.read(name), name


def test_write_workbook_hard_text(tmp_path):
    frame = pd.DataFrame({"Nom": HARD_TEXT + ["bip\x07bip"], "N": range(15)})
    book = openpyxl.load_workbook(
        write_workbook({"Noms : liste?": frame}, tmp_path / "n.xlsx")
    )
    assert book.sheetnames == ["Noms - liste-"]
    names = [row[0] for row in _sheet_rows(book.active)[1:]]
    # XML readers turn a carriage return into a line feed (XML 1.0, section 2.11).
    assert names[:-1] == [text.replace("\r", "\n") for text in HARD_TEXT]
    # XML cannot carry BEL: the control character is dropped, the text kept.
    assert names[-1] == "bipbip"


def test_workbook_unknown_period(school, tmp_path):
    store, _ids = school
    with pytest.raises(NotFoundError, match="Période « P7 » introuvable"):
        write_admin_workbook(store, "P7", tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def _pages(path) -> list[list[str]]:
    reader = pypdf.PdfReader(path)
    return [page.extract_text().splitlines() for page in reader.pages]


def _student_lines(lines: list[str]) -> list[str]:
    return [
        line for line in lines if line[:1].isdigit() and not line.startswith("Page")
    ]


def test_attendance_pdf_one_page_per_group(school, tmp_path):
    store, _ids = school
    path = tmp_path / "emargement.pdf"
    assert write_attendance_pdf(store, "P1", path) == 4
    pages = _pages(path)
    assert len(pages) == 4
    titles = [
        next(line for line in page if line.startswith("Atelier")) for page in pages
    ]
    assert titles == [
        "Atelier : Débat et argumentation (A2)",
        "Atelier : Méthodologie (A1)",
        f"Atelier : {SCRIPT_TITLE} (A3)",
        "Atelier : Choisir ses spécialités (A4)",
    ]


def test_attendance_pdf_header_and_rows(school, tmp_path):
    store, _ids = school
    path = tmp_path / "emargement.pdf"
    write_attendance_pdf(store, "P1", path)
    page = _pages(path)[1]
    assert page[:7] == [
        "Feuille d'émargement - AP",
        "Période 1 (P1) : du 15/09/2025 au 17/10/2025",
        "Barrette A, heure 1",
        "Atelier : Méthodologie (A1)",
        "Enseignant : BERGER Céline",
        "Salle : A101",
        "Élèves : 3 pour 3 places",
    ]
    assert _student_lines(page) == [
        '1 =HYPERLIEN("x") Jean-Luc 2de1',
        "2 ÉCUYER Lætitia 2de1",
        "3 ZOLA +33 2de2",
        "4",
        "5",
        "6",
    ]
    assert "Signature" in " ".join(page)


def test_attendance_pdf_project_signs_each_hour(school, tmp_path):
    store, ids = school
    path = tmp_path / "projet.pdf"
    assert (
        write_attendance_pdf(store, "P1", path, teacher_id=ids["teachers"]["cruz"]) == 1
    )
    page = _pages(path)[0]
    assert "Barrette A, heure 1 et 2" in page
    assert _student_lines(page)[:2] == ["1 D'ALMEIDA Inès 2de1", "2 ÉLUARD Paul 2de2"]
    text = " ".join(page)
    assert "heure 1" in text.split("Signature")[1]
    assert "heure 2" in text.split("Signature")[2]


def test_attendance_pdf_filters(school, tmp_path):
    store, ids = school
    berger = ids["teachers"]["berger"]
    assert write_attendance_pdf(store, "P1", tmp_path / "b.pdf", teacher_id=berger) == 2
    assert write_attendance_pdf(store, "P1", tmp_path / "a.pdf", block_name="A") == 4
    with pytest.raises(NotFoundError, match="Enseignant n° 999 introuvable"):
        write_attendance_pdf(store, "P1", tmp_path / "c.pdf", teacher_id=999)


def test_attendance_pdf_no_group(school, tmp_path):
    store, ids = school
    path = tmp_path / "vide.pdf"
    assert (
        write_attendance_pdf(store, "P2", path, teacher_id=ids["teachers"]["cruz"]) == 0
    )
    assert _pages(path) == [["Aucun groupe ouvert pour la période P2.", "Page 1/1"]]


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    store = Store(new_database_url(tmp_path_factory.mktemp("sample")))
    allocated_sample_school(store)
    yield store
    store.dispose()


def test_sample_workbook_lists_every_placement(sample_store, tmp_path):
    path = write_admin_workbook(sample_store, "P1", tmp_path / "P1.xlsx")
    book = openpyxl.load_workbook(path)
    slot_sheets = [f"{block} - heure {slot}" for block in "ABC" for slot in (1, 2)]
    assert book.sheetnames == ["Synthèse", "Barrettes", "Non inscrits", *slot_sheets]
    placed = reports.placements(sample_store, ["P1"])
    assert len(placed) == 720 - 5
    for sheet_name in slot_sheets:
        block, slot = sheet_name[0], int(sheet_name[-1])
        expected = placed[(placed["Barrette"] == block) & (placed["Heure"] == slot)]
        columns = ["Atelier", "Enseignant", "Salle", "Nom", "Prénom", "Classe"]
        assert _sheet_rows(book[sheet_name]) == _expected_rows(expected[columns])
    unplaced = _sheet_rows(book["Non inscrits"])[1:]
    assert [(row[0], row[1]) for row in unplaced] == [("C", 2)] * 5


def test_sample_lists_in_french_order(sample_store):
    for block in "ABC":
        frame = reports.block_list(sample_store, "P1", block)
        for (_slot, _title), group in frame.groupby(["Heure", "Atelier"]):
            keys = [sort_key(r.Nom, r.Prénom) for r in group.itertuples()]
            assert keys == sorted(keys)


def test_sample_attendance_one_page_per_group(sample_store, tmp_path):
    fill = stats.fill_rates(sample_store, "P1")
    open_groups = int((~fill["Fermé"]).sum())
    path = tmp_path / "emargement.pdf"
    assert write_attendance_pdf(sample_store, "P1", path) == open_groups
    pages = _pages(path)
    assert len(pages) == open_groups
    for page in pages:
        header = dict(line.split(" : ", 1) for line in page[3:7])
        expected = fill[
            fill["Atelier"] + " (" + fill["Code"] + ")" == header["Atelier"]
        ]
        assert len(expected) == 1, header["Atelier"]
        row = expected.iloc[0]
        assert header["Enseignant"] == row["Enseignant"]
        assert header["Salle"] == row["Salle"]
        assert len(_student_lines(page)) == row["Inscrits"] + 3


def test_attendance_pdf_tab_as_space(school, tmp_path):
    store, ids = school
    with store.write() as session:
        activity = session.get(Activity, ids["activities"]["A1"])
        session.add(
            Enrolment(
                campaign_id=activity.campaign_id,
                activity_id=activity.id,
                student_id=ids["students"]["descoeurs"],
                slot=1,
                source=EnrolmentSource.FORCED,
            )
        )
    path = tmp_path / "emargement.pdf"
    write_attendance_pdf(store, "P1", path, teacher_id=ids["teachers"]["berger"])
    assert "2 DESCŒURS Anne Marie 2de2" in _student_lines(_pages(path)[0])
