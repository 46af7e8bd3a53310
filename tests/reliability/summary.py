"""Counts the reliability tests collect, shown at the end of the run.

Each test adds its counts with :func:`add`; the folder's ``conftest.py`` writes
them in pytest's terminal summary, so CI's log shows them with or without ``-s``.

``APKIT_RELIABILITY_ROUNDS`` sets the rounds of the randomised tests (10 by
default); ``APKIT_RELIABILITY_FULL=1`` runs the full numbers (see each test).
"""

from __future__ import annotations

import os
from collections import defaultdict

_COUNTS: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))


def add(section: str, **counts: int) -> None:
    """Add ``counts`` to the totals of ``section``."""
    for name, value in counts.items():
        _COUNTS[section][name] += value


def lines() -> list[str]:
    """Return one line per section, ``section: name=value, ...``."""
    return [
        f"{section}: " + ", ".join(f"{k}={v}" for k, v in counts.items())
        for section, counts in sorted(_COUNTS.items())
    ]


def full_run() -> bool:
    """Return True under ``APKIT_RELIABILITY_FULL=1``."""
    return os.environ.get("APKIT_RELIABILITY_FULL", "") == "1"


def rounds(default: int = 10, full: int = 100) -> int:
    """Return how many randomised rounds or trials to run, from the environment."""
    if full_run():
        return full
    return int(os.environ.get("APKIT_RELIABILITY_ROUNDS", default))
