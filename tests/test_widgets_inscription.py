"""The student page, headless: widgets built on a real store, clicked from Python."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import ipywidgets as widgets
import pytest
from sqlalchemy import func, select, update

from apkit.access import generate_codes
from apkit.model import Activity, Campaign, CampaignMode, CampaignStatus, Enrolment
from apkit.widgets import inscription
from apkit.widgets.common import StatusArea, action, query_params
from tests.conftest import ROOT
from tests.factories import small_school

NEUTRAL = "Code inconnu ou accès refusé."


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def _buttons(page, description):
    return [
        w
        for w in _walk(page.widget)
        if isinstance(w, widgets.Button) and w.description == description
    ]


def _html(page) -> str:
    return "\n".join(w.value for w in _walk(page.widget) if isinstance(w, widgets.HTML))


def _codes(store, school):
    issued = generate_codes(store, students=True, teachers=True)
    return {item.student_id or -item.teacher_id: item.code for item in issued}


@pytest.fixture
def live(database_store):
    school = small_school(database_store, mode=CampaignMode.LIVE, capacity=2)
    return database_store, school, _codes(database_store, school)


def _count(store, activity_id) -> int:
    with store.read() as session:
        return session.scalar(
            select(func.count())
            .select_from(Enrolment)
            .where(Enrolment.activity_id == activity_id)
        )


def test_page_without_code_asks_for_it(live):
    store, _school, _codes = live
    page = inscription.build(store, code="")
    assert page.identity is None
    assert page.login_box.layout.display != "none"
    assert page.content.children == ()


def test_page_wrong_code_neutral(live):
    store, _school, _codes = live
    page = inscription.build(store, code="AAAA-BBBB-CCCC")
    assert page.identity is None
    assert page.status.kind == "error"
    assert page.status.message == NEUTRAL


def test_page_typed_code_signs_in(live):
    store, school, codes = live
    page = inscription.build(store, code="")
    page.code_input.value = codes[school.students[0]].lower()
    page.login_button.click()
    assert page.identity.student_id == school.students[0]
    assert page.code_input.value == ""
    assert "Thomas BÉRANGER" in _html(page)
    assert "barrette A" in _html(page)


def test_teacher_code_refused_on_student_page(live):
    store, school, codes = live
    page = inscription.build(store, code=codes[-school.teachers[0]])
    assert page.identity is None
    assert "pas un code élève" in page.status.message


def test_live_signup_updates_places(live):
    store, school, codes = live
    page = inscription.build(store, code=codes[school.students[0]])
    assert "2 places restantes" in _html(page)
    first = _buttons(page, "S'inscrire")[0]
    activity_id = page._targets[first.model_id]
    first.click()
    assert page.status.kind == "ok", page.status.message
    assert "tu es inscrit·e à « Atelier A1 »" in page.status.message
    assert _count(store, activity_id) == 1
    assert "Tu es inscrit·e :" in _html(page)
    assert "Changer pour celui-ci" in [
        b.description for b in _walk(page.widget) if isinstance(b, widgets.Button)
    ]
    other = inscription.build(store, code=codes[school.students[1]])
    assert "1 place restante" in _html(other)


def test_double_click_acts_once(live):
    store, school, codes = live
    page = inscription.build(store, code=codes[school.students[0]])
    button = _buttons(page, "S'inscrire")[0]
    activity_id = page._targets[button.model_id]
    button.click()
    button.click()  # the old button, as a click queued before the redraw
    assert _count(store, activity_id) == 1
    assert page.status.kind == "ok"


def test_full_activity_button_disabled_and_refused(live):
    store, school, codes = live
    a1 = school.activities["A1"]
    for student_id in school.students[1:3]:
        school.builder.enrolment(school.campaign_id, student_id, a1)
    page = inscription.build(store, code=codes[school.students[0]])
    full = [b for b in _buttons(page, "S'inscrire") if page._targets[b.model_id] == a1]
    assert full[0].disabled
    assert "complet" in _html(page)
    # A browser could send the click anyway: the capacity check still holds.
    full[0].disabled = False
    full[0].click()
    assert page.status.kind == "error"
    assert _count(store, a1) == 2


def test_refresh_shows_other_students_signups(live):
    store, school, codes = live
    page = inscription.build(store, code=codes[school.students[0]])
    school.builder.enrolment(
        school.campaign_id, school.students[1], school.activities["A1"]
    )
    page.refresh_button.click()
    assert "1 place restante" in _html(page)


def test_student_acts_only_for_self(live):
    store, school, codes = live
    page = inscription.build(store, code=codes[school.students[0]])
    button = _buttons(page, "S'inscrire")[0]
    # Whatever the browser sends, the page keeps acting for its code's holder.
    button.description = f"student {school.students[1]}"
    page.view.student_id = school.students[1]
    button.click()
    with store.read() as session:
        owners = set(session.scalars(select(Enrolment.student_id)))
    assert owners == {school.students[0]}


def test_revoked_code_stops_actions(live):
    store, school, codes = live
    page = inscription.build(store, code=codes[school.students[0]])
    generate_codes(store, students=True)
    _buttons(page, "S'inscrire")[0].click()
    assert page.status.message == NEUTRAL
    assert _count(store, school.activities["A1"]) == 0


def test_preferences_ranked_and_saved(database_store):
    school = small_school(database_store, mode=CampaignMode.PREFERENCES)
    codes = _codes(database_store, school)
    page = inscription.build(database_store, code=codes[school.students[0]])
    dropdowns = page._rankings[1]
    assert len(dropdowns) == 3
    labels = [label for label, _ in dropdowns[0].options]
    assert "Projet radio (projet, 2 heures)" in labels
    dropdowns[0].value = school.activities["A2"]
    dropdowns[1].value = school.activities["PRJ"]
    _buttons(page, "Enregistrer mes choix")[0].click()
    assert page.status.kind == "ok", page.status.message
    assert page.view.choices[1] == {
        1: school.activities["A2"],
        2: school.activities["PRJ"],
    }
    # The project counts for slot 2 as well, at the same rank.
    assert page.view.choices[2] == {2: school.activities["PRJ"]}
    assert page._rankings[1][0].value == school.activities["A2"]
    assert page._rankings[2][1].value == school.activities["PRJ"]
    assert page._rankings[2][0].value is None


def test_published_shows_placement_with_corrections(database_store):
    school = small_school(database_store, mode=CampaignMode.PREFERENCES)
    codes = _codes(database_store, school)
    student = school.students[0]
    school.builder.enrolment(school.campaign_id, student, school.activities["A1"])
    school.builder.enrolment(school.campaign_id, student, school.activities["B2"])
    with database_store.write() as session:
        session.execute(
            update(Enrolment)
            .where(Enrolment.slot == 2)
            .values(activity_id=school.activities["B1"])
        )
        session.execute(update(Campaign).values(status=CampaignStatus.PUBLISHED))
    page = inscription.build(database_store, code=codes[student])
    text = _html(page)
    assert text.count("Ton groupe") == 2
    assert "Atelier A1" in text
    assert "Atelier B1" in text
    assert "Atelier B2" not in text
    assert _buttons(page, "S'inscrire") == []


@pytest.mark.parametrize(
    "hostile", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
)
def test_hostile_title_shown_as_text(live, hostile):
    store, school, codes = live
    with store.write() as session:
        session.execute(
            update(Activity)
            .where(Activity.id == school.activities["A1"])
            .values(title=hostile, description=hostile, room=hostile)
        )
    page = inscription.build(store, code=codes[school.students[0]])
    text = _html(page)
    assert hostile not in text
    assert "&lt;" in text
    assert "<script" not in text and "<img" not in text


def test_action_unexpected_error_apology(caplog):
    class Page:
        status = StatusArea()

        @action
        def run(self, _button):
            raise RuntimeError("SELECT secret FROM /srv/apkit")

    page, button = Page(), widgets.Button()
    with caplog.at_level(logging.ERROR, logger="apkit.widgets.common"):
        page.run(button)
    assert page.status.kind == "error"
    assert "Désolé, une erreur inattendue" in page.status.message
    assert "SELECT" not in page.status.widget.value
    assert "/srv" not in page.status.widget.value
    reference = page.status.message.split("référence ")[1].rstrip(".")
    assert reference in caplog.text
    assert "RuntimeError" in caplog.text
    assert not button.disabled


def test_action_ignores_click_while_busy():
    calls = []

    class Page:
        status = StatusArea()

        @action
        def run(self, button):
            calls.append(button.disabled)
            button.click()  # re-entrant click while the action runs

    button = widgets.Button()
    button.on_click(Page().run)
    button.click()
    assert calls == [True]
    assert not button.disabled


def test_query_params_plain_and_preheat():
    assert query_params({"QUERY_STRING": "code=AB-CD&x=1&code=EF"}) == {
        "code": "EF",
        "x": "1",
    }
    assert query_params({}) == {}


def _student_page_modules() -> set[str]:
    notebook = json.loads((ROOT / "dashboards" / "inscription.ipynb").read_text())
    sources = [
        "".join(cell["source"])
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
    ]
    imports = "\n".join(
        line for source in sources for line in source.splitlines()
        if line.startswith(("import ", "from "))
    )  # fmt: skip
    assert "apkit.widgets.inscription" in imports
    probe = imports + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    return set(json.loads(completed.stdout))


def test_student_page_imports_stay_lean():
    loaded = _student_page_modules()
    for heavy in ("pandas", "matplotlib", "scipy", "voila.utils"):
        assert heavy not in loaded, f"{heavy} imported by the student page"
