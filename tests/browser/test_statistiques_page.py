"""The administration's statistics page in headless Chromium, against Voilà."""

from __future__ import annotations

import pytest

from apkit.model import Role

pytestmark = pytest.mark.browser

CHART_TIMEOUT_MS = 120_000
# True once the visible chart's source differs from the one passed in.
CHANGED_IMAGE = """previous => {
  const images = [...document.querySelectorAll(".widget-image")];
  const shown = images.find(image => image.offsetParent !== null);
  return shown !== undefined && shown.src !== previous;
}"""


def _image_source(page) -> str:
    return page.locator(".widget-image:visible").first.get_attribute("src") or ""


def test_coordinator_filters_and_downloads(
    served_school, page, open_dashboard, screenshot
):
    code = served_school.code_of(Role.COORDINATOR)
    open_dashboard(page, served_school.url("statistiques.ipynb", code=code.code))
    page.get_by_label("Période").select_option(label="Période 1 (P1)")
    page.wait_for_selector(".widget-image:visible", timeout=CHART_TIMEOUT_MS)
    everything = _image_source(page)
    assert everything.startswith("blob:") or everything.startswith("data:")
    screenshot(page, "statistiques_remplissage")

    page.get_by_label("Barrette").select_option(label="Barrette C")
    page.wait_for_function(CHANGED_IMAGE, arg=everything, timeout=CHART_TIMEOUT_MS)
    assert _image_source(page) != everything

    page.get_by_role("tab", name="Non inscrits").click()
    page.wait_for_selector(".widget-image:visible", timeout=CHART_TIMEOUT_MS)
    screenshot(page, "statistiques_non_inscrits_barrette_c")

    page.get_by_role("button", name="Préparer le classeur").click()
    page.wait_for_selector("a.apkit-download", timeout=CHART_TIMEOUT_MS)
    link = page.locator("a.apkit-download")
    assert link.get_attribute("download") == "administration_P1.xlsx"
    assert link.get_attribute("href").startswith(
        "data:application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;base64,"
    )


def test_teacher_code_rejected(served_school, page, open_dashboard, screenshot):
    code = served_school.code_of(Role.TEACHER)
    open_dashboard(page, served_school.url("statistiques.ipynb", code=code.code))
    page.wait_for_selector(".apkit-status-error", timeout=60_000)
    message = page.inner_text(".apkit-status-error")
    assert message == "Cette page est réservée à l'administration et à la coordination."
    assert page.locator(".widget-image:visible").count() == 0
    screenshot(page, "statistiques_code_enseignant")
