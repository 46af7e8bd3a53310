"""Reliability suite: the browser fixtures, and the counts in the terminal summary."""

from __future__ import annotations

from tests.browser.conftest import (  # noqa: F401 - fixtures, found by name
    browser,
    new_page,
    open_dashboard,
)
from tests.reliability import summary


def pytest_terminal_summary(terminalreporter) -> None:
    found = summary.lines()
    if not found:
        return
    terminalreporter.section("apkit reliability counts")
    for line in found:
        terminalreporter.write_line(line)
