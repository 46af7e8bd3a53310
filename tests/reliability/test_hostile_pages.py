"""Hostile names on the served dashboards, in headless Chromium, and codes in logs.

The sample school is served by its own Voilà server with students of 2de1 and
the titles of block A's activities renamed to markup and script. The student
page and the corrections page must show the literal text in the DOM, and no
``alert`` dialog may open. The server's log, after those visits with codes in
the query string, must hold none of the codes.

The browser fixtures come from ``tests/browser/fixtures.py``, registered by the
top-level conftest.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from apkit.access import generate_codes
from apkit.model import Activity, Division, Role, Student
from apkit.sample import ensure_sample_school
from apkit.serve import VoilaServer, free_port
from apkit.store import Store
from tests.browser.fixtures import ServedSchool, _open_campaigns
from tests.conftest import new_database_url
from tests.reliability import summary

pytestmark = [pytest.mark.reliability, pytest.mark.browser]

NAMES = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '"><b>x</b>',
    "{{7*7}}",
]
TITLE = "<img src=x onerror=alert(2)>Atelier"


@pytest.fixture(scope="module")
def hostile_served(tmp_path_factory) -> Iterator[ServedSchool]:
    folder = tmp_path_factory.mktemp("hostile_served")
    url = new_database_url(folder)
    store = Store(url)
    ensure_sample_school(store)
    campaigns = _open_campaigns(store)
    with store.write() as session:
        pupils = session.scalars(
            select(Student.id)
            .join(Division)
            .where(Division.name == "2de1")
            .order_by(Student.id)
        ).all()
        for student_id, name in zip(pupils, NAMES, strict=False):
            session.execute(
                update(Student).where(Student.id == student_id).values(last_name=name)
            )
        session.execute(
            update(Activity)
            .where(Activity.campaign_id == campaigns["A"])
            .values(title=TITLE)
        )
    codes = generate_codes(store, class_names=["2de1"], coordinator=True)
    log_path = folder / "voila.log"
    server = VoilaServer(database_url=url, port=free_port(), log_path=log_path)
    server.start()
    try:
        yield ServedSchool(server, store, log_path, campaigns, codes)
    finally:
        server.stop()
        store.dispose()


def _watch_dialogs(page) -> list[str]:
    fired: list[str] = []

    def on_dialog(dialog) -> None:
        fired.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return fired


def test_served_pages_show_text(hostile_served, new_page, open_dashboard):
    student = next(
        c
        for c in hostile_served.codes
        if c.role is Role.STUDENT and NAMES[0] in c.label
    )
    coordinator = hostile_served.code_of(Role.COORDINATOR)

    page = new_page()
    fired = _watch_dialogs(page)
    open_dashboard(page, hostile_served.url("inscription.ipynb", code=student.code))
    page.wait_for_selector("text=Heure 1")
    text = page.inner_text("body")
    assert NAMES[0] in text
    assert "<img src=x onerror=alert(2)>" in text
    assert page.locator("img[src=x]").count() == 0

    page = new_page()
    fired += _watch_dialogs(page)
    open_dashboard(page, hostile_served.url("corrections.ipynb", code=coordinator.code))
    page.wait_for_timeout(3000)
    text = page.inner_text("body")
    assert page.locator("script:has-text('alert(1)')").count() == 0
    assert page.locator("b:text-is('x')").count() == 0
    assert fired == []
    summary.add("hostile text", served_pages=2, dialogs_fired=len(fired))

    log = hostile_served.server_log()
    leaked = [c.label for c in hostile_served.codes if c.code in log]
    summary.add(
        "access", voila_log_lines=log.count("\n"), codes_in_voila_log=len(leaked)
    )
    assert leaked == []
