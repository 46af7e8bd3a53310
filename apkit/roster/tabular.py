"""Grids of cells from CSV, XLSX and ODS files, with their source line numbers."""

from __future__ import annotations

import csv
import io
import statistics
import zipfile
from dataclasses import dataclass

import pandas as pd
from python_calamine import CalamineError

from apkit.errors import RosterError

SEPARATORS = (";", ",", "\t")


@dataclass
class Grid:
    """The cells of one CSV file or one sheet.

    ``cells`` has one object column per column of the file, with ``None`` for
    an empty or missing cell. ``lines[i]`` is the source line of row ``i``.
    """

    cells: pd.DataFrame
    lines: list[int]
    sheet: str | None = None

    def head(self, count: int) -> list[list[object]]:
        """Return the first ``count`` rows as lists."""
        return self.cells.iloc[:count].to_numpy(dtype=object).tolist()

    @property
    def rows(self) -> list[list[object]]:
        """All rows as lists, for the short files (teachers) read row by row."""
        return self.cells.to_numpy(dtype=object).tolist()

    def is_blank(self) -> bool:
        """Return whether every cell is empty or white space."""
        cells = self.cells.to_numpy(dtype=object).ravel()
        return all(
            cell is None or (isinstance(cell, str) and not cell.strip())
            for cell in cells
        )


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


def read_csv_grid(text: str, path) -> Grid:
    """Parse a CSV text into a grid, honouring quotes.

    Raises
    ------
    RosterError
        When the text is binary (a NUL character) or has an unclosed quote.
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
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            rows.append(row)
            lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise RosterError(
            f"CSV illisible ({exc})",
            path=path,
            line=start,
            hint="vérifiez les guillemets de cette ligne",
        ) from exc
    width = max((len(row) for row in rows), default=0)
    padded = [
        row if len(row) == width else row + [None] * (width - len(row)) for row in rows
    ]
    return Grid(pd.DataFrame(padded, columns=range(width), dtype=object), lines)


def read_workbook(path, data: bytes) -> list[Grid]:
    """Read every sheet of an XLSX or ODS file through calamine.

    Date cells come back as ``datetime``, numbers as ``int`` or ``float``.

    Raises
    ------
    RosterError
        When the workbook is damaged or truncated.
    """
    try:
        sheets = pd.read_excel(
            io.BytesIO(data),
            sheet_name=None,
            header=None,
            dtype=object,
            engine="calamine",
        )
    except (CalamineError, zipfile.BadZipFile, ValueError, KeyError, OSError) as exc:
        raise RosterError(
            "classeur illisible ou tronqué",
            path=path,
            hint="ouvrez-le dans un tableur et enregistrez-le de nouveau",
        ) from exc
    grids = []
    for name, frame in sheets.items():
        cells = frame.astype(object).where(frame.notna(), None)
        cells.columns = range(cells.shape[1])
        grids.append(Grid(cells, list(range(1, len(cells) + 1)), str(name)))
    return grids
