"""End to end in Chromium: a student signs up, a teacher moves them, they see it.

The tests of this module share one server and run in order: the move needs the
sign-up, and the student's second visit needs the move. Pages are opened one at
a time.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from apkit.access import normalize_code
from apkit.model import Activity, Enrolment, Role
from tests.browser.fixtures import LIVE_BLOCK
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

FIRST_CHOICE = "Choisir ses spécialités"
MOVED_TO = "Débat et argumentation"
NEUTRAL = "Code inconnu ou accès refusé."


def _student(served_school, index=0):
    return served_school.code_of(Role.STUDENT, "2de1", index)


def _placement(served_school, student_id):
    with served_school.store.read() as session:
        rows = session.execute(
            select(Enrolment.slot, Activity.title)
            .join(Activity, Enrolment.activity_id == Activity.id)
            .where(
                Enrolment.student_id == student_id,
                Enrolment.campaign_id == served_school.campaigns[LIVE_BLOCK],
            )
        ).all()
    return dict(rows)


def test_student_signs_up(served_school, page, open_dashboard, screenshot):
    student = _student(served_school)
    open_dashboard(page, served_school.url("inscription.ipynb", code=student.code))
    page.wait_for_selector("text=Heure 1")
    page.get_by_role("button", name="S'inscrire").first.click()
    page.wait_for_selector(".apkit-status-ok", timeout=60_000)
    assert FIRST_CHOICE in page.inner_text(".apkit-status-ok")
    screenshot(page, "scenario_1_student_signed_up")
    assert _placement(served_school, student.student_id) == {1: FIRST_CHOICE}


def test_teacher_moves_student(served_school, page, open_dashboard, screenshot):
    student = _student(served_school)
    teacher = served_school.code_of(Role.TEACHER)
    open_dashboard(page, served_school.url("corrections.ipynb", code=teacher.code))
    page.get_by_placeholder("Nom ou prénom").fill(student.label.lower())
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_selector(".apkit-status-info")
    target = page.locator(".widget-dropdown", has_text="Vers").locator("select")
    # ipywidgets writes option labels with non-breaking spaces.
    labels = [
        t.replace("\xa0", " ") for t in target.locator("option").all_text_contents()
    ]
    wanted = next(i for i, label in enumerate(labels) if MOVED_TO in label)
    target.select_option(index=wanted)
    page.get_by_role("button", name="Déplacer").click()
    page.wait_for_selector(".apkit-status-ok", timeout=60_000)
    screenshot(page, "scenario_2_teacher_moved_student")
    assert _placement(served_school, student.student_id) == {1: MOVED_TO}
    assert "déplacement" in page.inner_text(".apkit-page")


def test_student_sees_move(served_school, page, open_dashboard, screenshot):
    student = _student(served_school)
    open_dashboard(page, served_school.url("inscription.ipynb", code=student.code))
    page.wait_for_selector("text=Tu es inscrit·e :")
    text = page.inner_text(".apkit-page")
    after = text.split("Tu es inscrit·e :")[1]
    placed_title = next(line for line in after.splitlines() if line.strip())
    assert placed_title.strip() == MOVED_TO
    screenshot(page, "scenario_3_student_sees_move")


def test_edited_link_shows_only_own_data(served_school, page, open_dashboard):
    student, other = _student(served_school, 0), _student(served_school, 1)
    url = served_school.url(
        "inscription.ipynb", code=student.code, student_id=str(other.student_id)
    )
    open_dashboard(page, url)
    page.wait_for_selector("text=Heure 1")
    text = page.inner_text(".apkit-page")
    assert student.label.split()[0] in text
    assert other.label.split()[0] not in text


def test_tampered_code_neutral_refusal(served_school, page, open_dashboard, screenshot):
    student, other = _student(served_school, 0), _student(served_school, 1)
    before = _placement(served_school, other.student_id)
    # The other student's public prefix with this student's secret part.
    forged = normalize_code(other.code)[:4] + normalize_code(student.code)[4:]
    open_dashboard(page, served_school.url("inscription.ipynb", code=forged))
    page.wait_for_selector(".apkit-status-error")
    assert page.inner_text(".apkit-status-error") == NEUTRAL
    text = page.inner_text(".apkit-page")
    assert other.label.split()[0] not in text
    assert "Heure 1" not in text
    assert page.get_by_role("button", name="S'inscrire").count() == 0
    screenshot(page, "scenario_tampered_code")
    assert _placement(served_school, other.student_id) == before


def test_home_page_lists_blocks(served_school, page, open_dashboard, screenshot):
    open_dashboard(page, served_school.url("accueil.ipynb"))
    text = page.inner_text(".apkit-page")
    assert re.search(r"2de1 \(\d+\)", text)
    assert "Inscription des élèves" in text
    screenshot(page, "accueil")


def test_statistics_page_shows_chart(served_school, page, open_dashboard, screenshot):
    notebook = ROOT / "dashboards" / "statistiques.ipynb"
    if not notebook.exists():
        pytest.skip("dashboards/statistiques.ipynb is missing")
    coordinator = served_school.code_of(Role.COORDINATOR)
    open_dashboard(page, served_school.url("statistiques.ipynb", code=coordinator.code))
    page.get_by_label("Période").select_option(label="Période 1 (P1)")
    page.wait_for_selector(".widget-image:visible", timeout=120_000)
    screenshot(page, "scenario_4_statistics_chart")


def test_server_log_holds_no_code(served_school):
    log = served_school.server_log()
    assert "Traceback" not in log
    for issued in served_school.codes:
        assert normalize_code(issued.code)[4:] not in log.replace("-", "")
