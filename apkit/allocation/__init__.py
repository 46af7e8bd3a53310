"""Allocation: place students into activities, optimally and reproducibly.

:func:`solve` works on a plain :class:`Problem` with no database;
:func:`allocate` reads a campaign from the store, solves it and writes the
enrolments back; :func:`allocation_result` reads a stored result.
"""

from apkit.allocation.engine import solve
from apkit.allocation.problem import (
    Allocation,
    AllocationError,
    Offer,
    Placement,
    Problem,
    Reason,
)
from apkit.allocation.report import ActivityFill, AllocationReport, ReportRow
from apkit.allocation.run import allocate, allocation_result

__all__ = [
    "ActivityFill",
    "Allocation",
    "AllocationReport",
    "AllocationError",
    "Offer",
    "Placement",
    "Problem",
    "Reason",
    "ReportRow",
    "allocate",
    "allocation_result",
    "solve",
]
