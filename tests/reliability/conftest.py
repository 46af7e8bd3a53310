"""Reliability suite: the counts in the terminal summary.

The browser fixtures come from ``tests/browser/fixtures.py``, registered by the
top-level conftest.
"""

from __future__ import annotations

from tests.reliability import summary


def pytest_terminal_summary(terminalreporter) -> None:
    found = summary.lines()
    if not found:
        return
    terminalreporter.section("apkit reliability counts")
    for line in found:
        terminalreporter.write_line(line)
