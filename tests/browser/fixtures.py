"""Browser test fixtures: a real Voilà server and Debian's headless Chromium.

A plugin that ``tests/conftest.py`` registers, so each fixture exists once.

``served_school`` loads the sample school into a new database (SQLite, or PostgreSQL
in the suite's PostgreSQL mode), opens its period 1 campaigns (block A in live mode,
blocks B and C with ranked preferences), gives codes to the students of 2de1 and
2de5, the teachers and the coordinator, and starts Voilà on a free loopback port
for the whole session.
``open_dashboard`` opens one page and waits for its widgets; tests open one page
at a time, because bursts of simultaneous openings on 2 cores sometimes leave a
page without widgets.

Chromium is ``/usr/bin/chromium``, never a browser Playwright downloads. Outside
CI a missing Chromium or Playwright skips these tests with the reason; under
``CI=true`` it fails them. Every request that is not to 127.0.0.1 is aborted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest
from sqlalchemy import delete, select, update

from apkit.access import IssuedCode, generate_codes
from apkit.campaigns import open_campaign
from apkit.model import Campaign, CampaignMode, Preference, Role
from apkit.sample import ensure_sample_school
from apkit.serve import VoilaServer, free_port
from apkit.store import Store
from tests.conftest import ROOT, new_database_url

IN_CI = os.environ.get("CI") == "true"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "tests" / "output" / "screenshots"
PAGE_TIMEOUT_MS = 120_000
CODE_CLASSES = ("2de1", "2de5")
LIVE_BLOCK = "A"


def _missing(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


@dataclass
class ServedSchool:
    """The sample school behind a running Voilà server."""

    server: VoilaServer
    store: Store
    log_path: Path
    campaigns: dict[str, int]
    codes: list[IssuedCode] = field(default_factory=list)

    def url(self, notebook: str, **query: str) -> str:
        """Return a dashboard's address, with ``query`` as its query string."""
        return self.server.page_url(notebook, urlencode(query))

    def code_of(self, role: Role, class_name: str | None = None, index: int = 0):
        """Return the ``index``-th issued code of a role (and class for students)."""
        matching = [
            c
            for c in self.codes
            if c.role is role and (class_name is None or c.class_name == class_name)
        ]
        return matching[index]

    def server_log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _open_campaigns(store: Store) -> dict[str, int]:
    with store.write() as session:
        campaigns = {c.block.name: c.id for c in session.scalars(select(Campaign))}
        live = campaigns[LIVE_BLOCK]
        session.execute(
            update(Campaign).where(Campaign.id == live).values(mode=CampaignMode.LIVE)
        )
        session.execute(delete(Preference).where(Preference.campaign_id == live))
    for campaign_id in campaigns.values():
        open_campaign(store, campaign_id, actor="tests", allow_shortfall=True)
    return campaigns


@pytest.fixture(scope="session")
def served_school(tmp_path_factory) -> Iterator[ServedSchool]:
    folder = tmp_path_factory.mktemp("served_school")
    url = new_database_url(folder)
    store = Store(url)
    ensure_sample_school(store)
    campaigns = _open_campaigns(store)
    codes = generate_codes(
        store, class_names=CODE_CLASSES, teachers=True, coordinator=True
    )
    log_path = folder / "voila.log"
    server = VoilaServer(database_url=url, port=free_port(), log_path=log_path)
    server.start()
    try:
        yield ServedSchool(server, store, log_path, campaigns, codes)
    finally:
        server.stop()
        store.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        _missing(f"{CHROMIUM} not found; install Debian's chromium package")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _missing(f"playwright is not installed: {exc}")
    with sync_playwright() as playwright:
        # Playwright gives each launch a fresh temporary profile (user-data dir).
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


# Every request a page tried to send elsewhere than 127.0.0.1, in order.
OFF_SITE_REQUESTS: list[str] = []


def _only_loopback(route) -> None:
    if urlparse(route.request.url).hostname == "127.0.0.1":
        route.continue_()
    else:
        OFF_SITE_REQUESTS.append(route.request.url)
        route.abort()


@pytest.fixture
def new_page(browser) -> Iterator[Callable]:
    """Return a function that opens a new browser page, in its own context."""
    contexts = []

    def make(width: int = 1280, height: int = 900):
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="fr-FR"
        )
        context.route("**/*", _only_loopback)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A desktop-sized browser page whose requests stay on 127.0.0.1."""
    return new_page()


@pytest.fixture
def open_dashboard() -> Callable:
    """Return ``open(page, url, selector=".apkit-page")``: load a dashboard, wait."""

    def open_(page, url: str, selector: str = ".apkit-page"):
        page.goto(url, wait_until="domcontentloaded", timeout=PAGE_TIMEOUT_MS)
        page.wait_for_selector(selector, timeout=PAGE_TIMEOUT_MS)
        return page

    return open_


@pytest.fixture
def screenshot() -> Callable:
    """Return ``save(page, name)``, which writes tests/output/screenshots/NAME.png."""

    def save(page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
