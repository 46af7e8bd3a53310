"""Reliability suite: write the counts the tests collected in the terminal summary."""

from __future__ import annotations

from tests.reliability import summary


def pytest_terminal_summary(terminalreporter) -> None:
    found = summary.lines()
    if not found:
        return
    terminalreporter.section("apkit reliability counts")
    for line in found:
        terminalreporter.write_line(line)
