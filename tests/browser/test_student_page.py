"""The student page in headless Chromium, against a real Voilà server."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest

from apkit.model import Role
from apkit.serve import VoilaServer, free_port
from tests.browser.fixtures import OFF_SITE_REQUESTS

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


@pytest.mark.parametrize(
    ("notebook", "role"),
    [
        ("accueil.ipynb", None),
        ("inscription.ipynb", Role.STUDENT),
        ("corrections.ipynb", Role.TEACHER),
        ("listes.ipynb", Role.TEACHER),
        ("statistiques.ipynb", Role.COORDINATOR),
    ],
)
def test_pages_stay_on_school_server(
    served_school, page, open_dashboard, notebook, role
):
    query = {} if role is None else {"code": served_school.code_of(role).code}
    OFF_SITE_REQUESTS.clear()
    open_dashboard(page, served_school.url(notebook, **query))
    page.wait_for_load_state("networkidle")
    assert OFF_SITE_REQUESTS == []
    assert page.evaluate("document.documentElement.lang") == "fr"


def test_preheated_page_behind_prefix(
    served_school, tmp_path, new_page, open_dashboard
):
    # A preheated kernel requests its page details under the base URL. With a
    # wrong path it gets no code, so the page would reject the student.
    code = served_school.code_of(Role.STUDENT, "2de1", index=1)
    log = tmp_path / "voila.log"
    server = VoilaServer(
        database_url=served_school.server.database_url,
        port=free_port(),
        base_url="/ap/",
        student_pool=1,
        log_path=log,
    )
    with server:
        # Voilà uses the pool only once its first kernel has started, so a page
        # requested earlier would get an ordinary kernel.
        deadline = time.monotonic() + 60
        while "Kernel pool of inscription.ipynb is filled" not in log.read_text():
            assert time.monotonic() < deadline, "the preheated pool never filled"
            time.sleep(0.2)
        url = server.page_url("inscription.ipynb", urlencode({"code": code.code}))
        assert "/ap/voila/render/" in url
        page = new_page(width=390, height=844)
        open_dashboard(page, url)
        page.wait_for_selector("text=Heure 1")
        assert page.locator(f"text={code.label.split()[1]}").count() >= 1
    assert "Using pre-heated kernel" in log.read_text()
