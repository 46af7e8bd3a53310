"""Splitting ``"NOM Prénom"`` cells into family name and first names.

Pronote and teachers' spreadsheets write a pupil as one cell, family name first
in capitals: ``"LE PAIN--PERDU Alexia"``, ``"D’ALMEIDA Sofia"``. The family name
is the leading run of tokens written in capitals, plus the particles (``de``,
``Van``, ``LE``...) in any case and the token that follows each particle, so
``"Van de Velde Jules"`` splits after ``Velde``.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

PARTICLES = frozenset(
    """
    d de del della der des di do dos du da das
    el al ben ibn bin bou abd abu ould
    la le les l lo van von ten ter op mc mac st ste saint sainte
    """.split()
)
_SPACES = re.compile(r"\s+")
_APOSTROPHES = "'’ʼ`´"


class SplitName(NamedTuple):
    """A ``"NOM Prénom"`` cell cut in two; ``certain`` is False when it was guessed."""

    last_name: str
    first_name: str
    certain: bool


def clean_name(text: object) -> str:
    """Return ``text`` with NBSP and runs of white space turned into one space."""
    if text is None:
        return ""
    normalized = unicodedata.normalize("NFC", str(text)).replace("\u00a0", " ")
    return _SPACES.sub(" ", normalized).strip()


def split_full_name(text: str) -> SplitName:
    """Split a ``"NOM Prénom"`` cell.

    When every token is in capitals the split is ambiguous; the first token
    (with its particles) is taken as the family name and ``certain`` is False.
    A cell of one token is a family name with no first name.
    """
    tokens = clean_name(text).split(" ")
    if len(tokens) < 2:
        return SplitName(tokens[0], "", len(tokens) == 1 and _is_upper(tokens[0]))
    cut = _family_name_length(tokens)
    certain = 0 < cut < len(tokens)
    if cut == 0 or cut == len(tokens):
        cut = _leading_particles(tokens) + 1
        cut = min(cut, len(tokens) - 1)
    return SplitName(" ".join(tokens[:cut]), " ".join(tokens[cut:]), certain)


def _family_name_length(tokens: list[str]) -> int:
    # A particle written in capitals (``DO``, ``LE``) belongs to a family name
    # written in capitals, so the next token must be in capitals too; after
    # ``Van`` or ``de`` any case goes.
    count = 0
    open_particle = False
    for token in tokens:
        upper = _is_upper(token)
        if is_particle(token) and count < len(tokens) - 1:
            open_particle = not upper
        elif upper or open_particle:
            open_particle = False
        else:
            break
        count += 1
    return count


def _leading_particles(tokens: list[str]) -> int:
    count = 0
    while count < len(tokens) - 2 and is_particle(tokens[count]):
        count += 1
    return count


def is_particle(token: str) -> bool:
    """Return whether ``token`` is a name particle such as ``de``, ``VAN`` or ``d’``."""
    bare = token.casefold().rstrip(_APOSTROPHES)
    return bare in PARTICLES


def _is_upper(token: str) -> bool:
    letters = [char for char in token if char.isalpha()]
    return bool(letters) and all(not char.islower() for char in letters)
