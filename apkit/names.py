"""Folding and French ordering of names.

``fold`` gives the key two spellings of one name share (case, accents, ligatures,
apostrophes, hyphens and spaces ignored); ``sort_key`` orders names the way a
French reader expects, through the Unicode Collation Algorithm (pyuca).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "ß": "ss"})
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—'’`´.,_]+")


def fold(text: str | None) -> str:
    """Return ``text`` lower-cased, without accents, ligatures or punctuation runs.

    ``"LE GOFF"`` (with a non-breaking space), ``"Le-Goff"`` and ``"le goff"`` all
    fold to ``"le goff"``; ``"DESCŒURS"`` folds to ``"descoeurs"``.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text).translate(_LIGATURES).casefold()
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SEPARATORS.sub(" ", bare).strip()


def name_key(last_name: str, first_name: str) -> str:
    """Return the folded ``"last first"`` key used to match and search students."""
    return f"{fold(last_name)} {fold(first_name)}".strip()


@lru_cache(maxsize=1)
def _collator():
    from pyuca import Collator

    return Collator()


def sort_key(*parts: str | None) -> tuple:
    """Return a key that sorts names in French alphabetical order.

    Pass the family name first, then the first name: ``sorted(rows,
    key=lambda r: sort_key(r.last_name, r.first_name))``.
    """
    collator = _collator()
    return tuple(collator.sort_key(part or "") for part in parts)
