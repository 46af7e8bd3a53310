"""Birth dates as French exports write them, always read day first.

Accepted: ``dd/mm/yyyy``, ``d/m/yyyy``, ``dd/mm/yy``, ``dd-mm-yyyy``, ``dd.mm.yyyy``,
ISO ``yyyy-mm-dd`` (with an optional time), Excel serial numbers, and the
``date``/``datetime`` values that openpyxl and odfpy return for date cells.
"""

from __future__ import annotations

import datetime as dt
import re

_DAY_FIRST = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})")
_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_SERIAL = re.compile(r"\d{4,5}(?:[.,]0+)?")
_EXCEL_EPOCH = dt.date(1899, 12, 30)

# Two-digit years: a pupil born in "10" was born in 2010, a teacher born in
# "75" in 1975. Years up to this pivot are read as 20yy.
TWO_DIGIT_PIVOT = 30
# Excel serials 10958 (1930-01-01) to 54789 (2049-12-31) are read as dates;
# other plain numbers are not birth dates.
_SERIAL_RANGE = (10958, 54789)


class DateFormatError(ValueError):
    """A value that is not a date in any accepted spelling."""


def parse_date(value: object) -> dt.date | None:
    """Return the date ``value`` spells, or ``None`` when it is empty.

    Raises
    ------
    DateFormatError
        When ``value`` is not empty and is no accepted date.
    """
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(value, value)
    text = str(value).strip()
    if not text:
        return None
    return _parse_text(text)


def _parse_text(text: str) -> dt.date:
    match = _DAY_FIRST.fullmatch(text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        if len(match.group(3)) == 2:
            year += 2000 if year <= TWO_DIGIT_PIVOT else 1900
        return _make(year, month, day, text)
    match = _ISO.fullmatch(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
        return _make(year, month, day, text)
    if _SERIAL.fullmatch(text):
        return _from_serial(float(text.replace(",", ".")), text)
    raise DateFormatError(text)


def _make(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise DateFormatError(text) from exc


def _from_serial(number: float, original: object) -> dt.date:
    if number != int(number) or not _SERIAL_RANGE[0] <= number <= _SERIAL_RANGE[1]:
        raise DateFormatError(str(original))
    return _EXCEL_EPOCH + dt.timedelta(days=int(number))
