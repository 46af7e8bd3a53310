"""Reading one field of one record under the bad-row policy: dates, sex, class."""

from __future__ import annotations

import datetime as dt

from apkit.errors import RosterError
from apkit.roster.classes import ClassMatcher
from apkit.roster.dates import DateFormatError, parse_date
from apkit.roster.fields import SexFormatError, cell_text, parse_sex
from apkit.roster.result import RowCollector


class FieldReader:
    """Parses fields for one file and reports problems where they are."""

    def __init__(self, collector: RowCollector, matcher: ClassMatcher | None) -> None:
        self.collector = collector
        self.matcher = matcher
        self.respelled: dict[str, str] = {}

    def date(
        self,
        value: object,
        *,
        line: int | None,
        column: str,
        name: str,
        sheet: str | None = None,
    ) -> dt.date | None:
        """Return the date in ``value``; on failure apply the policy and return None."""
        try:
            return parse_date(cell_text(value) if isinstance(value, str) else value)
        except DateFormatError:
            self.collector.bad_value(
                "date illisible",
                line=line,
                column=column,
                value=cell_text(value),
                hint="écrivez la date sous la forme jj/mm/aaaa",
                text=name,
                sheet=sheet,
            )
            return None

    def sex(
        self,
        value: object,
        *,
        line: int | None,
        column: str,
        name: str,
        sheet: str | None = None,
    ) -> str | None:
        """Return ``"F"``, ``"M"`` or None; on an unknown code apply the policy."""
        try:
            return parse_sex(value)
        except SexFormatError:
            self.collector.bad_value(
                "sexe inconnu",
                line=line,
                column=column,
                value=cell_text(value),
                hint="écrivez F ou M (G, H, 1, 2, M. et Mme sont aussi compris)",
                text=name,
                sheet=sheet,
            )
            return None

    def class_name(self, raw: str, *, line: int | None, column: str | None) -> str:
        """Return the school's class for ``raw``, or ``raw`` when no list was given.

        Raises
        ------
        RosterError
            When ``raw`` matches none or several of the school's classes.
        """
        if self.matcher is None:
            return raw
        try:
            found = self.matcher.match(raw)
        except ValueError as exc:
            raise RosterError(
                f"classe ambiguë : elle peut désigner {exc}",
                path=self.collector.path,
                line=line,
                column=column,
                value=raw,
                hint="écrivez la classe comme dans la liste de l'établissement",
            ) from exc
        if found is None:
            known = ", ".join(self.matcher.classes)
            raise RosterError(
                "classe inconnue de l'établissement "
                f"(essayé : {self.matcher.tried(raw)} ; classes connues : {known})",
                path=self.collector.path,
                line=line,
                column=column,
                value=raw,
                hint="corrigez la ligne ou ajoutez la classe à la liste des classes "
                "de l'établissement",
            )
        if found != raw:
            self.respelled.setdefault(raw, found)
        return found

    def report_respelled(self) -> None:
        """Add one warning per class spelling read as another class name."""
        for raw, found in sorted(self.respelled.items()):
            self.collector.warn(f"classe « {raw} » lue comme « {found} »")

    def has_left(self, left: dt.date | None) -> bool:
        """Return whether a leaving date is today or earlier."""
        return left is not None and left <= self.collector.today
