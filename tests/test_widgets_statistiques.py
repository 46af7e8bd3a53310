"""The administration's statistics page, driven headless: filters, charts, workbook."""

from __future__ import annotations

import base64
import gc
import io
import re

import ipywidgets as widgets
import openpyxl
import pytest
from matplotlib.figure import Figure
from sqlalchemy import select

from apkit import access
from apkit.model import Activity, Division, Enrolment, EnrolmentSource, Role, Student
from apkit.sample import ensure_sample_school
from apkit.store import Store
from apkit.widgets import corrections, listes, statistiques
from tests.conftest import clone_database_url, new_database_url

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LINK = re.compile(r'download="([^"]+)" href="data:([^;]+);base64,([^"]+)"')


def _enrol_block(store, block_id: int, codes_by_slot: dict[int, str], count: int):
    """Place ``count`` students of a block in one activity per slot."""
    with store.write() as session:
        students = list(
            session.scalars(
                select(Student)
                .join(Division)
                .where(Division.block_id == block_id)
                .order_by(Student.id)
                .limit(count)
            )
        )
        for slot, code in codes_by_slot.items():
            activity = session.scalars(
                select(Activity).where(Activity.code == code)
            ).one()
            for student in students:
                session.add(
                    Enrolment(
                        campaign_id=activity.campaign_id,
                        student_id=student.id,
                        slot=slot,
                        activity_id=activity.id,
                        source=EnrolmentSource.ALLOCATION,
                    )
                )


@pytest.fixture(scope="module")
def school_template(tmp_path_factory):
    """The sample school with a few enrolments in block A and the staff's codes."""
    url = new_database_url(tmp_path_factory.mktemp("school"))
    store = Store(url)
    ensure_sample_school(store)
    with store.read() as session:
        block_a = session.scalars(
            select(Division.block_id).where(Division.name == "2de1")
        ).one()
    _enrol_block(store, block_a, {1: "P1-A01", 2: "P1-A10"}, count=10)
    codes = access.generate_codes(
        store, teachers=True, coordinator=True, administration=True
    )
    store.dispose()
    return url, {code.label: code.code for code in codes}


@pytest.fixture
def school(school_template, tmp_path):
    url, codes = school_template
    store = Store(clone_database_url(url, tmp_path))
    yield store, codes
    store.dispose()


@pytest.fixture
def page(school):
    store, codes = school
    page = statistiques.build(store, code=codes["Coordination"])
    page.period.value = "P1"
    return page


def _count(kind: type) -> int:
    gc.collect()
    return sum(1 for item in gc.get_objects() if isinstance(item, kind))


def _shown(page, name: str) -> bool:
    page.show_chart(name)
    image = page.charts[name]
    png = bytes(image.value).startswith(PNG_SIGNATURE)
    return png and image.layout.display != "none"


def test_build_without_code_hides_charts(school):
    store, _ = school
    page = statistiques.build(store, code="")
    assert page.identity is None
    assert page.sections.layout.display == "none"
    assert bytes(page.charts["fill"].value) == b""


def test_page_displays_as_widget(school):
    store, _ = school
    bundle = statistiques.build(store, code="")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_teacher_code_rejected(school):
    store, codes = school
    teacher_code = next(
        code
        for label, code in codes.items()
        if label not in ("Coordination", "Administration")
    )
    page = statistiques.build(store, code=teacher_code)
    assert page.identity is None
    assert page.status.kind == "error"
    assert page.status.message == (
        "Cette page est réservée à l'administration et à la coordination."
    )
    assert page.sections.layout.display == "none"


def test_administration_code_opens_page(school):
    store, codes = school
    page = statistiques.build(store, code=codes["Administration"])
    assert page.identity is not None
    assert page.identity.role is Role.ADMINISTRATION
    assert page.status.kind == "info"
    assert page.status.message == "Connecté : Administration"
    assert page.sections.layout.display == ""
    page.period.value = "P1"
    assert _shown(page, "fill")


def test_administration_code_refused_on_corrections(school):
    store, codes = school
    page = corrections.build(store, code=codes["Administration"])
    assert page.identity is None
    assert page.status.kind == "error"
    assert page.status.message == "Code inconnu ou accès refusé."


def test_administration_code_refused_on_lists(school):
    store, codes = school
    page = listes.build(store, code=codes["Administration"])
    assert page.identity is None
    assert page.status.kind == "error"
    assert page.status.message == "Cette page est réservée aux enseignants."


def test_page_opens_on_a_period_with_data(school):
    # Whatever today's date, the page opens on P1, the only period with
    # activities, never on a later, empty one.
    store, codes = school
    page = statistiques.build(store, code=codes["Coordination"])
    assert page.period.value == "P1"
    assert _shown(page, "fill")


def test_coordinator_sees_every_chart(page):
    assert page.status.kind == "info"
    for name in ("fill", "demand", "blocks", "unplaced", "satisfaction"):
        assert _shown(page, name), name
    assert not _shown(page, "history")
    assert "Choisissez un élève" in page.notes["history"].value


def test_block_filter_changes_fill_chart(page):
    everything = page.charts["fill"].value
    page.block.value = "A"
    assert _shown(page, "fill")
    assert page.charts["fill"].value != everything
    fill = statistiques.filtered_fill(
        statistiques.stats.fill_rates(page.store, "P1"), "A", ""
    )
    assert set(fill["Barrette"]) == {"A"}
    assert len(fill) == 17


def test_slot_filter_keeps_two_hour_projects(page):
    fill = statistiques.stats.fill_rates(page.store, "P1")
    second = statistiques.filtered_fill(fill, "A", "2")
    assert "1 et 2" in set(second["Heure"])
    assert len(second) == 9
    page.slot.value = "2"
    assert _shown(page, "fill")
    assert _shown(page, "blocks")


def test_period_without_activities_shows_notice(page):
    page.period.value = "P2"
    assert not _shown(page, "fill")
    assert page.notes["fill"].value == (
        '<p class="apkit-muted">Aucune donnée pour ces filtres.</p>'
    )
    assert page.status.kind == "info"


def test_student_history_drawn(page):
    label = next(iter(page.students))
    page.student.value = label
    assert _shown(page, "history")
    assert page.notes["history"].value == ""
    page.student.value = ""
    assert not _shown(page, "history")


def test_only_selected_chart_drawn(page):
    assert page.shown_chart == "fill"
    assert bytes(page.charts["fill"].value).startswith(PNG_SIGNATURE)
    assert bytes(page.charts["blocks"].value) == b""
    page.show_chart("blocks")
    assert bytes(page.charts["blocks"].value).startswith(PNG_SIGNATURE)


def test_redraw_keeps_no_figure_or_widget(page):
    widgets_before = _count(widgets.Widget)
    for name, block in [
        ("fill", "A"),
        ("unplaced", "B"),
        ("fill", ""),
        ("blocks", "C"),
    ]:
        page.show_chart(name)
        page.block.value = block
    assert _count(Figure) == 0
    assert _count(widgets.Widget) == widgets_before


def test_workbook_link_holds_admin_workbook(page):
    page.prepare.click()
    found = LINK.findall(page.download.value)
    assert len(found) == 1
    name, mime, data = found[0]
    assert name == "administration_P1.xlsx"
    assert mime == statistiques.XLSX_MIME
    workbook = openpyxl.load_workbook(io.BytesIO(base64.b64decode(data)))
    assert workbook.sheetnames[:3] == ["Synthèse", "Barrettes", "Non inscrits"]
    assert page.status.kind == "ok"


def test_filter_change_clears_workbook_link(page):
    page.prepare.click()
    assert page.download.value
    page.period.value = "P2"
    assert page.download.value == ""


@pytest.mark.parametrize(
    "label, slot, expected",
    [("1", 1, True), ("1", 2, False), ("1 et 2", 2, True), ("2", 12, False)],
)
def test_runs_in_cases(label, slot, expected):
    assert statistiques.runs_in(label, slot) is expected
