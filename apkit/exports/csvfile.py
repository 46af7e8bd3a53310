"""CSV files the way French Excel opens them: UTF-8 with BOM, ``;``, decimal comma."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from apkit.exports.safety import neutralise_formula

log = logging.getLogger(__name__)

CSV_OPTIONS = {"sep": ";", "encoding": "utf-8-sig", "decimal": ",", "index": False}


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to ``path`` as a CSV for French Excel and return the path.

    Text that starts like a formula gets a leading ``'`` (see
    :func:`~apkit.exports.safety.neutralise_formula`); booleans print as ``oui``
    and ``non``; every other value is written as it is.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    printable = frame.copy()
    for column in printable.columns:
        series = printable[column]
        if pd.api.types.is_bool_dtype(series):
            printable[column] = series.map({True: "oui", False: "non"})
        elif not pd.api.types.is_numeric_dtype(series):
            printable[column] = series.map(neutralise_formula)
    printable.to_csv(path, lineterminator="\r\n", **CSV_OPTIONS)
    log.info("CSV written: %s (%d rows)", path, len(frame))
    return path
