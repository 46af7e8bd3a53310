"""Class (division) names: spellings, file names and matching to the school's list.

Teachers write one class many ways: ``205``, ``2nde 5``, ``2de5``, ``Seconde 5``,
``1ère G4``, ``1 G 4``. :func:`class_key` reduces each spelling to a level, a
track and a number; :class:`ClassMatcher` then finds the school's own class
with that key. The raw spelling is always kept beside the match, and every
spelling read as another class is reported, so nothing is guessed silently.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from apkit.names import fold

_LEVELS = {
    "seconde": "2",
    "2nde": "2",
    "2de": "2",
    "2nd": "2",
    "2e": "2",
    "2": "2",
    "premiere": "1",
    "1ere": "1",
    "1re": "1",
    "1er": "1",
    "1e": "1",
    "1": "1",
    "terminale": "T",
    "term": "T",
    "tle": "T",
    "t": "T",
}
_LEVEL_PATTERN = "|".join(sorted(_LEVELS, key=len, reverse=True))
_SPELLING = re.compile(rf"({_LEVEL_PATTERN})([a-z]*?)(\d{{1,2}})")
# "205" is seconde 5 and "112" première 12 in the usual SIECLE numbering.
_NUMERIC = re.compile(r"([12])(\d{2})")
_FILE_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def compact(text: str) -> str:
    """Return ``text`` folded with its spaces removed: ``"2NDE 5 "`` -> ``"2nde5"``."""
    return fold(text).replace(" ", "")


def class_key(text: str) -> str | None:
    """Return the ``level|track|number`` key of a class spelling, or ``None``.

    ``"2nde 5"``, ``"205"`` and ``"Seconde 5"`` give ``"2||5"``; ``"1ère G4"``
    and ``"1 G 4"`` give ``"1|g|4"``; ``"TG3"`` gives ``"T|g|3"``. A spelling
    with no level and number, such as ``"3E B"``, gives ``None``.
    """
    folded = compact(text)
    numeric = _NUMERIC.fullmatch(folded)
    if numeric:
        return f"{numeric.group(1)}||{int(numeric.group(2))}"
    match = _SPELLING.fullmatch(folded)
    if not match:
        return None
    level = _LEVELS[match.group(1)]
    track = match.group(2)
    if level == "2" and track in {"gt", "g"}:
        track = ""
    return f"{level}|{track}|{int(match.group(3))}"


class ClassMatcher:
    """The school's classes, found from any spelling of their names.

    Parameters
    ----------
    classes
        The school's class names as stored (``"205"``, ``"2de1"``...).
    """

    def __init__(self, classes: Iterable[str]) -> None:
        self.classes = sorted({str(name).strip() for name in classes if name})
        self._by_compact = {compact(name): name for name in self.classes}
        self._by_key: dict[str, list[str]] = {}
        for name in self.classes:
            key = class_key(name)
            if key is not None:
                self._by_key.setdefault(key, []).append(name)

    def match(self, spelling: str) -> str | None:
        """Return the school's class for ``spelling``, or ``None`` when none fits.

        Raises
        ------
        ValueError
            When the spelling fits two of the school's classes.
        """
        found = self._by_compact.get(compact(spelling))
        if found is not None:
            return found
        key = class_key(spelling)
        candidates = self._by_key.get(key, []) if key else []
        if len(candidates) > 1:
            raise ValueError(", ".join(candidates))
        return candidates[0] if candidates else None

    def tried(self, spelling: str) -> str:
        """Describe in French the comparisons made for ``spelling``."""
        key = class_key(spelling)
        parts = [f"« {spelling} »", f"« {compact(spelling)} » sans casse ni espaces"]
        if key is not None:
            level, track, number = key.split("|")
            series = f", série « {track.upper()} »" if track else ""
            parts.append(f"niveau {level}{series}, numéro {number}")
        return ", ".join(parts)


def classes_in_name(name: str, matcher: ClassMatcher | None = None) -> list[str]:
    """Return the class names a file or sheet name contains, last token first.

    ``"pronote_liste_eleves_205"`` gives ``["205"]`` and ``"Spé maths 1G4"``
    gives ``["1G4"]``. With a matcher, tokens are matched to the school's
    classes; without one, a token counts when it has a class key.
    """
    found: list[str] = []
    for token in [name, *reversed(_FILE_TOKEN.findall(name))]:
        if matcher is not None:
            try:
                match = matcher.match(token)
            except ValueError:
                match = None
            if match is not None and match not in found:
                found.append(match)
        elif class_key(token) is not None and token not in found:
            found.append(token)
    return found
