"""The teacher's lists page, driven headless: codes, filters, lists and downloads."""

from __future__ import annotations

import base64
import datetime as dt
import io
import re

import openpyxl
import pytest
from sqlalchemy import select

from apkit import access
from apkit.model import (
    Activity,
    Campaign,
    Division,
    Enrolment,
    EnrolmentSource,
    Period,
    Student,
    Teacher,
)
from apkit.sample import ensure_sample_school
from apkit.store import Store
from apkit.widgets import listes
from tests.conftest import clone_database_url, new_database_url

LINK = re.compile(r'download="([^"]+)" href="data:([^;]+);base64,([^"]+)"')


def _enrol(
    store, activity_code: str, slot: int, count: int, skip: int = 0
) -> list[Student]:
    """Place ``count`` students of the activity's block, in id order after ``skip``."""
    with store.write() as session:
        activity = session.scalars(
            select(Activity).where(Activity.code == activity_code)
        ).one()
        campaign = session.get(Campaign, activity.campaign_id)
        students = list(
            session.scalars(
                select(Student)
                .join(Division)
                .where(Division.block_id == campaign.block_id)
                .order_by(Student.id)
                .offset(skip)
                .limit(count)
            )
        )
        for student in students:
            session.add(
                Enrolment(
                    campaign_id=campaign.id,
                    student_id=student.id,
                    slot=slot,
                    activity_id=activity.id,
                    source=EnrolmentSource.ALLOCATION,
                )
            )
    return students


@pytest.fixture(scope="module")
def school_template(tmp_path_factory):
    """The sample school with teacher and coordinator codes, built once per module."""
    url = new_database_url(tmp_path_factory.mktemp("school"))
    store = Store(url)
    ensure_sample_school(store)
    codes = access.generate_codes(store, teachers=True, coordinator=True)
    store.dispose()
    return url, {code.label: code.code for code in codes}


@pytest.fixture
def school(school_template, tmp_path):
    url, codes = school_template
    store = Store(clone_database_url(url, tmp_path))
    yield store, codes
    store.dispose()


def _teacher_label(store, activity_code: str) -> str:
    with store.read() as session:
        activity = session.scalars(
            select(Activity).where(Activity.code == activity_code)
        ).one()
        teacher = session.get(Teacher, activity.teacher_id)
        return f"{teacher.last_name} {teacher.first_name}"


def _links(page) -> dict[str, tuple[str, bytes]]:
    found = LINK.findall(page.downloads.value)
    return {name: (mime, base64.b64decode(data)) for name, mime, data in found}


def test_build_without_code_shows_login(school):
    store, _ = school
    page = listes.build(store, code="")
    assert page.identity is None
    assert page.login.layout.display != "none"
    assert page.filters.layout.display == "none"
    assert page.groups.value == ""


def test_page_displays_as_widget(school):
    store, _ = school
    bundle = listes.build(store, code="")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_build_reads_code_from_query_string(school, monkeypatch):
    store, codes = school
    label = _teacher_label(store, "P1-A01")
    monkeypatch.setenv("QUERY_STRING", f"code={codes[label]}&x=1")
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    page = listes.build(store)
    assert page.identity is not None
    assert page.identity.label == label


def test_wrong_code_shows_message_and_no_lists(school):
    store, _ = school
    page = listes.build(store, code="AAAA-BBBB-CCCC")
    assert page.identity is None
    assert page.status.kind == "error"
    assert page.status.message == "Code inconnu ou accès refusé."
    assert page.filters.layout.display == "none"


def test_student_code_rejected(school):
    store, _ = school
    issued = access.generate_codes(store, class_names=["2de1"])
    page = listes.build(store, code=issued[0].code)
    assert page.identity is None
    assert page.status.message == "Cette page est réservée aux enseignants."


def test_teacher_sees_own_groups_in_french_order(school):
    store, codes = school
    students = _enrol(store, "P1-A01", slot=1, count=12)
    _enrol(store, "P1-A02", slot=1, count=0)
    label = _teacher_label(store, "P1-A01")

    page = listes.build(store, code=codes[label])
    page.period.value = "P1"

    assert page.status.kind == "info"
    assert page.teacher.layout.display == "none"
    html = page.groups.value
    assert "Choisir ses spécialités" in html
    assert "Débat et argumentation" not in html
    assert "12 élèves" in html
    expected = listes.groups_of(store, [page.identity.teacher_id], "P1")[0][2]
    assert len(expected) == len(students)
    positions = [html.index(f"<td>{name}</td>") for name in expected["Nom"]]
    assert positions == sorted(positions)


def test_teacher_sees_only_own_groups(school):
    store, codes = school
    _enrol(store, "P1-A01", slot=1, count=5)
    _enrol(store, "P1-A02", slot=1, count=5, skip=5)
    label = _teacher_label(store, "P1-A02")
    page = listes.build(store, code=codes[label])
    page.period.value = "P1"
    assert "Débat et argumentation" in page.groups.value
    assert "Choisir ses spécialités" not in page.groups.value
    assert page.teacher_ids() == [page.identity.teacher_id]


def test_teacher_without_groups_sees_notice(school):
    store, codes = school
    label = _teacher_label(store, "P1-A01")
    page = listes.build(store, code=codes[label])
    page.period.value = "P1"
    assert "Aucun groupe pour cette période." in page.groups.value
    assert page.downloads.value == ""


def test_coordinator_chooses_teacher(school):
    store, codes = school
    _enrol(store, "P1-A01", slot=1, count=5)
    _enrol(store, "P1-A02", slot=1, count=7, skip=5)
    page = listes.build(store, code=codes["Coordination"])
    page.period.value = "P1"

    assert page.teacher.layout.display == ""
    assert page.teacher.value == listes.ALL_TEACHERS
    assert "Choisir ses spécialités" in page.groups.value
    assert "Débat et argumentation" in page.groups.value

    label = _teacher_label(store, "P1-A02")
    page.teacher.label = label
    assert "Débat et argumentation" in page.groups.value
    assert "Choisir ses spécialités" not in page.groups.value


def test_changing_period_redraws(school):
    store, codes = school
    _enrol(store, "P1-A01", slot=1, count=5)
    page = listes.build(store, code=codes["Coordination"])
    page.period.value = "P1"
    assert "Choisir ses spécialités" in page.groups.value
    page.period.value = "P2"
    assert "Aucun groupe pour cette période." in page.groups.value


def test_xlsx_download_holds_group(school):
    store, codes = school
    _enrol(store, "P1-A01", slot=1, count=4)
    label = _teacher_label(store, "P1-A01")
    page = listes.build(store, code=codes[label])
    page.period.value = "P1"

    links = _links(page)
    names = [name for name in links if name.endswith(".xlsx")]
    assert len(names) == 1
    assert re.fullmatch(r"listes_P1_[A-Za-z0-9._-]+\.xlsx", names[0])
    mime, content = links[names[0]]
    assert mime == listes.XLSX_MIME
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header_row = next(
        i for i, row in enumerate(values) if row[:3] == ["Nom", "Prénom", "Classe"]
    )
    assert len(values) - header_row - 1 == 4


def test_current_period_is_one_with_groups(school):
    store, _ = school
    # The sample school has activities in P1 only: later periods have no group.
    assert listes.current_period(store, dt.date(2025, 9, 1)) == "P1"
    assert listes.current_period(store, dt.date(2025, 11, 3)) == "P1"
    assert listes.current_period(store, dt.date(2026, 12, 4)) == "P1"
    with store.write() as session:
        p2 = session.scalars(select(Period).where(Period.code == "P2")).one()
        block_id = session.scalars(select(Campaign.block_id)).first()
        campaign = Campaign(period_id=p2.id, block_id=block_id)
        session.add(campaign)
        session.flush()
        session.add(
            Activity(campaign_id=campaign.id, code="P2-A01", title="Atelier",
                     first_slot=1, capacity=10)
        )  # fmt: skip
    assert listes.current_period(store, dt.date(2025, 11, 3)) == "P2"
    assert listes.current_period(store, dt.date(2025, 10, 1)) == "P1"
    assert listes.current_period(store, dt.date(2026, 12, 4)) == "P2"


def test_download_link_escapes_name_and_label():
    html = listes.download_link(b"x", 'a"<b>/../é.pdf', "application/pdf", "<b>PDF</b>")
    assert 'download="a_b_.._e.pdf"' in html
    assert "&lt;b&gt;PDF&lt;/b&gt;" in html
    assert "<b>" not in html
    assert "base64,eA==" in html


def test_revoked_code_stops_refresh(school):
    store, codes = school
    label = _teacher_label(store, "P1-A01")
    page = listes.build(store, code=codes[label])
    page.period.value = "P1"
    access.generate_codes(store, teachers=True)
    page.period.value = "P2"
    assert page.status.kind == "error"
    assert page.groups.value == ""
