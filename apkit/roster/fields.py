"""Cell values: text cleaning, Excel-protected cells and sex codes."""

from __future__ import annotations

import datetime as dt
import math
import re

from apkit.names import fold

_EXCEL_FORMULA = re.compile(r'^="(.*)"$', re.DOTALL)
_SPACES = re.compile(r"\s+")

_SEX_CODES = {
    # SIECLE and STS-Web write 1/2, Pronote G/F, AAF and STS civilities M./Mme.
    "m": "M",
    "1": "M",
    "g": "M",
    "h": "M",
    "masculin": "M",
    "garcon": "M",
    "homme": "M",
    "monsieur": "M",
    "f": "F",
    "2": "F",
    "feminin": "F",
    "fille": "F",
    "femme": "F",
    "madame": "F",
    "mme": "F",
    "mlle": "F",
    "mademoiselle": "F",
}


class SexFormatError(ValueError):
    """A sex value that is none of the known codes."""


def cell_text(value: object) -> str:
    """Return a cell as clean text: ``="203"`` unwrapped, NBSP and spaces collapsed.

    Whole floats lose their ``.0`` so that a numeric id cell ``1234.0`` reads
    ``"1234"``; dates read as ISO text.
    """
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).replace("\u00a0", " ")
    match = _EXCEL_FORMULA.match(text.strip())
    if match:
        text = match.group(1)
    return _SPACES.sub(" ", text).strip()


def parse_sex(value: object) -> str | None:
    """Return ``"F"``, ``"M"`` or ``None`` (empty) for a sex or civility value.

    Raises
    ------
    SexFormatError
        When the value is not empty and is no known code.
    """
    text = cell_text(value)
    if not text:
        return None
    code = _SEX_CODES.get(fold(text).replace(" ", ""))
    if code is None:
        raise SexFormatError(text)
    return code
