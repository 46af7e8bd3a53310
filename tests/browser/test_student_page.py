"""The student page in headless Chromium, against a real Voilà server."""

from __future__ import annotations

import pytest

from apkit.model import Role

pytestmark = pytest.mark.browser


def test_student_page_phone_width(served_school, new_page, open_dashboard, screenshot):
    code = served_school.code_of(Role.STUDENT, "2de1")
    page = new_page(width=390, height=844)
    open_dashboard(page, served_school.url("inscription.ipynb", code=code.code))
    page.wait_for_selector("text=Heure 1")
    assert page.locator(f"text={code.label.split()[1]}").count() >= 1
    screenshot(page, "inscription_390px")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
