"""The teacher's lists page in headless Chromium, against a real Voilà server.

Block C's campaign of the served school has no enrolment, so the module first
moves a few of its students into one teacher's activity; no student of block C
has a code, so the other browser tests do not see them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from apkit.corrections import move_student
from apkit.model import Activity, Division, Role, Student
from apkit.names import sort_key

pytestmark = pytest.mark.browser

ACTIVITY = "P1-C01"
GROUP_SIZE = 6


@pytest.fixture(scope="module")
def group(served_school):
    """Return the teacher's label and the students moved into the activity."""
    store = served_school.store
    with store.read() as session:
        activity = session.scalars(
            select(Activity).where(Activity.code == ACTIVITY)
        ).one()
        teacher = f"{activity.teacher.last_name} {activity.teacher.first_name}"
        students = session.scalars(
            select(Student)
            .join(Division)
            .where(Division.name == "2de9")
            .order_by(Student.id)
            .limit(GROUP_SIZE)
        ).all()
        activity_id, campaign_id = activity.id, activity.campaign_id
        names = [(s.id, s.last_name, s.first_name) for s in students]
    for student_id, _, _ in names:
        move_student(
            store,
            campaign_id,
            student_id,
            activity_id,
            actor="tests",
            role=Role.COORDINATOR,
        )
    names.sort(key=lambda row: sort_key(row[1], row[2]))
    return teacher, [last for _, last, _ in names]


def _teacher_code(served_school, label: str) -> str:
    return next(c.code for c in served_school.codes if c.label == label)


def test_teacher_sees_group_in_order(
    served_school, group, page, open_dashboard, screenshot
):
    teacher, last_names = group
    url = served_school.url("listes.ipynb", code=_teacher_code(served_school, teacher))
    open_dashboard(page, url)
    page.get_by_label("Période").select_option(label="Période 1 (P1)")
    page.wait_for_selector(".apkit-card", timeout=60_000)

    card = page.locator(".apkit-card").first
    cells = card.locator("td").all_inner_texts()
    shown = [text for text in cells if text in last_names]
    assert shown == last_names
    assert f"{GROUP_SIZE} élèves" in card.inner_text()

    page.wait_for_selector("a.apkit-download", timeout=60_000)
    links = page.locator("a.apkit-download")
    assert links.count() == 2
    names = [links.nth(i).get_attribute("download") for i in range(2)]
    assert names[0].endswith(".xlsx")
    assert names[1].endswith(".pdf")
    screenshot(page, "listes_enseignant")


def test_typed_code_opens_lists(served_school, group, page, open_dashboard):
    teacher, _ = group
    open_dashboard(page, served_school.url("listes.ipynb"))
    page.locator("input[type=password]").fill(_teacher_code(served_school, teacher))
    page.get_by_role("button", name="Ouvrir mes listes").click()
    page.wait_for_selector(".apkit-status-info", timeout=60_000)
    assert teacher in page.inner_text(".apkit-status-info")


def test_student_code_rejected(served_school, page, open_dashboard, screenshot):
    code = served_school.code_of(Role.STUDENT, "2de1")
    open_dashboard(page, served_school.url("listes.ipynb", code=code.code))
    page.wait_for_selector(".apkit-status-error", timeout=60_000)
    message = page.inner_text(".apkit-status-error")
    assert message == "Cette page est réservée aux enseignants."
    assert page.locator(".apkit-card").count() == 0
    screenshot(page, "listes_code_eleve")
