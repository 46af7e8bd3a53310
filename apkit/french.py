"""French number agreement for the counts in messages.

French puts a noun in the singular for 0 and 1 (« 0 élève », « 1 élève ») and in
the plural from 2 on (« 2 élèves »). Messages write their counts with
:func:`plural` so that a count of 1 never reads « 1 élèves ».
"""

from __future__ import annotations

__all__ = ["plural", "plural_form"]

# Endings whose plural adds an x (« tableau », « vœu ») or nothing (« choix »).
# NOTE: exceptions to these rules (« pneu », « journal ») need an explicit plural.
_X_ENDINGS = ("au", "eu", "œu")
_INVARIABLE_ENDINGS = ("s", "x", "z")


def plural_form(singular: str) -> str:
    """Return the regular French plural of a one-word noun or adjective."""
    if singular.endswith(_INVARIABLE_ENDINGS):
        return singular
    if singular.endswith(_X_ENDINGS):
        return singular + "x"
    return singular + "s"


def plural(count: int, singular: str, plural: str | None = None) -> str:
    """Return ``count`` followed by the words that agree with it.

    Parameters
    ----------
    count
        The number of things; 0 and 1 take the singular, as in French.
    singular
        The words after a count of 1, such as ``"élève"`` or ``"code créé"``.
    plural
        The words after a count of 2 or more. By default the regular plural of
        ``singular``, which only suits a single word: give it for a phrase
        (``"codes créés"``) or an irregular word.

    Returns
    -------
    str
        For example ``"1 élève"``, ``"0 élève"`` or ``"2 élèves"``.
    """
    if abs(count) < 2:
        words = singular
    else:
        words = plural if plural is not None else plural_form(singular)
    return f"{count} {words}"
