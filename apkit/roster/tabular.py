"""Grids of cells from CSV, XLSX and ODS files, with their source line numbers."""

from __future__ import annotations

import csv
import io
import statistics
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from apkit.errors import RosterError

SEPARATORS = (";", ",", "\t")


@dataclass
class Grid:
    """The cells of one CSV file or one sheet; ``lines[i]`` is row i's line number."""

    rows: list[list[object]]
    lines: list[int]
    sheet: str | None = None


def sniff_separator(text: str) -> str:
    """Return the separator of a CSV text among ``;``, ``,`` and tab.

    The separator is the one with the highest median count over the first
    non-empty lines, so a title line or a decimal comma does not mislead it.
    """
    lines = [line for line in text.splitlines()[:30] if line.strip()]
    if not lines:
        return ";"
    medians = {
        sep: statistics.median(line.count(sep) for line in lines) for sep in SEPARATORS
    }
    best = max(SEPARATORS, key=lambda sep: medians[sep])
    return best if medians[best] > 0 else ";"


def read_csv_grid(text: str, path: Path) -> Grid:
    """Parse a CSV text into a grid, honouring quotes.

    Raises
    ------
    RosterError
        When the text cannot be parsed as CSV (a NUL byte, an unclosed quote).
    """
    if "\x00" in text:
        raise RosterError(
            "ce fichier n'est pas un fichier texte (octets binaires)",
            path=path,
            hint="exportez la liste en CSV, XLSX ou ODS depuis le logiciel d'origine",
        )
    # strict: an unclosed quote raises instead of swallowing the rest of the file.
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=sniff_separator(text), strict=True
    )
    rows: list[list[object]] = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            rows.append(list(row))
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise RosterError(
            f"CSV illisible ({exc})",
            path=path,
            line=start,
            hint="vérifiez les guillemets de cette ligne",
        ) from exc
    return Grid(rows, lines)


def read_workbook(path: Path, data: bytes, engine: str) -> list[Grid]:
    """Read every sheet of an XLSX (``engine="openpyxl"``) or ODS (``"odf"``) file.

    Raises
    ------
    RosterError
        When the workbook is damaged or truncated.
    """
    try:
        sheets = pd.read_excel(
            io.BytesIO(data), sheet_name=None, header=None, dtype=object, engine=engine
        )
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as exc:
        raise RosterError(
            f"classeur illisible ou tronqué ({type(exc).__name__})",
            path=path,
            hint="ouvrez-le dans un tableur et enregistrez-le de nouveau",
        ) from exc
    grids = []
    for name, frame in sheets.items():
        rows = [
            [_cell(value) for value in row] for row in frame.itertuples(index=False)
        ]
        grids.append(Grid(rows, list(range(1, len(rows) + 1)), str(name)))
    return grids


def _cell(value: object) -> object:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value
