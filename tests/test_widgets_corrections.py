"""The corrections page, headless: a teacher or the coordinator on a real store."""

from __future__ import annotations

import ipywidgets as widgets
import pytest
from sqlalchemy import select

from apkit.access import generate_codes
from apkit.model import AuditEntry, CampaignMode, Enrolment, EnrolmentSource, Role
from apkit.widgets import corrections

NEUTRAL = "Code inconnu ou accès refusé."


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def _html(page) -> str:
    return "\n".join(w.value for w in _walk(page.widget) if isinstance(w, widgets.HTML))


@pytest.fixture
def school(sqlite_store):
    from tests.factories import small_school

    school = small_school(sqlite_store, mode=CampaignMode.LIVE, capacity=2)
    issued = generate_codes(
        sqlite_store, students=True, teachers=True, coordinator=True
    )
    school.codes = {
        item.role: item.code for item in issued if item.role is not Role.STUDENT
    }
    school.student_code = next(i.code for i in issued if i.role is Role.STUDENT)
    return school


def _places(store, student_id):
    with store.read() as session:
        rows = session.scalars(
            select(Enrolment).where(Enrolment.student_id == student_id)
        ).all()
        return {(row.slot, row.activity_id, row.source) for row in rows}


def _page(store, school, role=Role.TEACHER):
    return corrections.build(store, code=school.codes[role])


def _pick(page, query):
    page.search_input.value = query
    page.search_button.click()
    return page.results.value


def test_student_code_refused(sqlite_store, school):
    page = corrections.build(sqlite_store, code=school.student_code)
    assert page.identity is None
    assert page.status.message == NEUTRAL
    assert page.content.children == ()


def test_search_ignores_accents_and_case(sqlite_store, school):
    page = _page(sqlite_store, school)
    assert _pick(page, "beranger") == school.students[0]
    assert "BÉRANGER Thomas (2de1)" in page.results.label
    assert _pick(page, "ÇAKIR elif") == school.students[1]
    _pick(page, "zzz")
    assert page.results.options == ()
    assert "Aucun élève" in page.status.message


def test_teacher_moves_student_within_capacity(sqlite_store, school):
    student = school.students[0]
    school.builder.enrolment(
        school.campaign_id,
        student,
        school.activities["A1"],
        source=EnrolmentSource.SIGNUP,
    )
    page = _page(sqlite_store, school)
    assert page.force.layout.display == "none"
    assert sum(w is page.status.widget for w in _walk(page.widget)) == 1
    _pick(page, "béranger")
    assert "Atelier A1" in page.history.value
    page.target.value = school.activities["A2"]
    page.reason.value = "demande du professeur principal"
    page.move_button.click()
    assert page.status.kind == "ok", page.status.message
    assert _places(sqlite_store, student) == {
        (1, school.activities["A2"], EnrolmentSource.CORRECTION)
    }
    assert "Atelier A2" in page.history.value
    assert "déplacement" in _html(page)
    assert "demande du professeur principal" in _html(page)


def test_move_into_full_activity_refused_without_force(sqlite_store, school):
    a2 = school.activities["A2"]
    for other in school.students[1:3]:
        school.builder.enrolment(school.campaign_id, other, a2)
    page = _page(sqlite_store, school)
    _pick(page, "béranger")
    page.target.value = a2
    page.force.value = True  # hidden for a teacher; a browser could still send it
    page.move_button.click()
    assert page.status.kind == "error"
    assert _places(sqlite_store, school.students[0]) == set()


def test_coordinator_forces_past_capacity(sqlite_store, school):
    a2 = school.activities["A2"]
    for other in school.students[1:3]:
        school.builder.enrolment(school.campaign_id, other, a2)
    page = _page(sqlite_store, school, Role.COORDINATOR)
    assert page.force.layout.display is None
    _pick(page, "béranger")
    page.target.value = a2
    page.move_button.click()
    assert page.status.kind == "error"
    page.target.value = a2
    page.force.value = True
    page.move_button.click()
    assert page.status.kind == "ok", page.status.message
    assert _places(sqlite_store, school.students[0]) == {
        (1, a2, EnrolmentSource.FORCED)
    }
    assert page.force.value is False


def test_move_twice_acts_once(sqlite_store, school):
    page = _page(sqlite_store, school)
    _pick(page, "béranger")
    page.target.value = school.activities["B1"]
    page.move_button.click()
    page.move_button.click()
    assert "déjà dans cet atelier" in page.status.message
    with sqlite_store.read() as session:
        moves = session.scalars(select(AuditEntry).where(AuditEntry.action == "move"))
        assert len(moves.all()) == 1


def test_place_unplaced_in_one_click(sqlite_store, school):
    page = _page(sqlite_store, school)
    assert "heures sans groupe" in page.unplaced.value
    assert "ÇAKIR" in page.unplaced.value
    page.place_button.click()
    assert page.status.kind == "ok", page.status.message
    assert "placement(s) fait(s)" in page.status.message
    with sqlite_store.read() as session:
        placed = session.scalars(select(Enrolment.student_id)).all()
    assert set(placed) == set(school.students)


def test_undo_restores_previous_place(sqlite_store, school):
    student = school.students[0]
    school.builder.enrolment(school.campaign_id, student, school.activities["A1"])
    page = _page(sqlite_store, school)
    _pick(page, "béranger")
    page.target.value = school.activities["A2"]
    page.move_button.click()
    undo_buttons = [
        w
        for w in _walk(page.trail)
        if isinstance(w, widgets.Button) and w.description == "Annuler"
    ]
    assert len(undo_buttons) == 1
    undo_buttons[0].click()
    assert page.status.kind == "ok", page.status.message
    assert {(s, a) for s, a, _ in _places(sqlite_store, student)} == {
        (1, school.activities["A1"])
    }
    assert "annulé" in _html(page)
    undo_buttons[0].click()  # the same undo again changes nothing
    assert {(s, a) for s, a, _ in _places(sqlite_store, student)} == {
        (1, school.activities["A1"])
    }


@pytest.mark.parametrize(
    "hostile", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
)
def test_hostile_name_shown_as_text(sqlite_store, school, hostile):
    student = school.builder.student(hostile, hostile, "2de1")
    page = _page(sqlite_store, school)
    page.search_input.value = "alert"
    page.search_button.click()
    assert page.results.value == student
    page.reason.value = hostile
    page.target.value = school.activities["A1"]
    page.move_button.click()
    text = _html(page)
    assert hostile not in text
    assert "&lt;" in text
