"""Exceptions raised by apkit.

Every error derives from :class:`ApkitError` and from the builtin a caller would
catch. Messages are in French because they reach coordinators, teachers and
students as they are; the facts also travel as attributes so that dashboards and
tests read them without parsing the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


class ApkitError(Exception):
    """Base class of every error apkit raises on purpose."""


class RosterError(ApkitError, ValueError):
    """A roster or set-up file that cannot be loaded as it is.

    Attributes
    ----------
    path, line, column, value
        Where the problem is: ``line`` counts from 1 with the header as line 1,
        ``column`` is the column's header text. Any of them may be ``None``.
    hint
        What the user should do about it.
    """

    def __init__(
        self,
        problem: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: str | None = None,
        value: Any = None,
        hint: str = "",
    ) -> None:
        self.problem = problem
        self.path = Path(path) if path is not None else None
        self.line = line
        self.column = column
        self.value = value
        self.hint = hint
        super().__init__(self._format())

    def _format(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path.name
            if self.line is not None:
                where += f":{self.line}"
            where += " : "
        column = f"colonne « {self.column} » : " if self.column else ""
        value = f" (valeur : « {self.value} »)" if self.value is not None else ""
        hint = f" ; {self.hint}" if self.hint else ""
        return f"{where}{column}{self.problem}{value}{hint}"


class SetupError(RosterError):
    """A school set-up file (blocks, teachers, periods, activities) that is invalid."""


class StoreError(ApkitError, OSError):
    """The database cannot be opened, migrated or written."""


class CampaignError(ApkitError, ValueError):
    """An action that the campaign's status, mode or rules do not allow."""


class EligibilityError(CampaignError):
    """A student who may not join this activity."""


class CapacityError(ApkitError, ValueError):
    """An activity with no place left.

    Attributes
    ----------
    activity, capacity, enrolled
        The activity's code, its capacity and how many it holds.
    """

    def __init__(self, message: str, *, activity: str, capacity: int, enrolled: int):
        self.activity = activity
        self.capacity = capacity
        self.enrolled = enrolled
        super().__init__(message)


class FeasibilityError(CampaignError):
    """A campaign that cannot open because its offer does not fit its students.

    ``problems`` lists each message, ready for the French screens.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class AccessDenied(ApkitError, PermissionError):
    """A code that opens nothing, or an action outside the holder's rights.

    The message is the same whatever the cause, so it reveals nothing.
    """

    def __init__(self, message: str = "Code inconnu ou accès refusé."):
        super().__init__(message)


class NotFoundError(ApkitError, LookupError):
    """A student, teacher, activity or campaign that the database does not hold."""
