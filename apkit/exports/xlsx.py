"""XLSX workbooks for the administration, written with openpyxl.

Every sheet is one table: a bold header row that stays frozen on screen and
repeats on each printed page, column widths set from the content, and an
autofilter. Text is always written as a text cell (``data_type "s"``), so a name
such as ``=HYPERLIEN("x")`` shows as typed and never runs as a formula.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break
from openpyxl.worksheet.worksheet import Worksheet

from apkit import reports, stats
from apkit.store import Store

log = logging.getLogger(__name__)

MIN_WIDTH = 8
MAX_WIDTH = 50
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_COLUMNS = ["Atelier", "Enseignant", "Salle", "Nom", "Prénom", "Classe"]
PERCENT_COLUMNS = {"Taux de remplissage", "Part de vœux 1"}


def sheet_title(text: str) -> str:
    """Return ``text`` as a valid sheet name: no ``[]:*?/\\``, at most 31 characters."""
    return _SHEET_FORBIDDEN.sub("-", text)[:31] or "Feuille"


def cell_value(value: object) -> object:
    """Return ``value`` as openpyxl stores it: Python scalars, ``None`` for missing."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and pd.isna(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, str):
        # NOTE: XML 1.0 cannot carry control characters other than tab, LF and
        # CR, so openpyxl rejects them; they are dropped from the cell. A CR
        # comes back as LF, since XML readers normalise line ends.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def write_table(
    sheet: Worksheet,
    frame: pd.DataFrame,
    *,
    header: str = "",
    break_on: str | None = None,
) -> None:
    """Fill ``sheet`` with ``frame``: header row, text cells, widths, print set-up.

    Parameters
    ----------
    header
        Text printed at the top of each page (period, block...).
    break_on
        A column: a page break is put before each change of its value, so each
        activity of a list prints on its own pages.
    """
    sheet.append(list(frame.columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    previous = None
    for position, row in enumerate(frame.itertuples(index=False), start=2):
        for column, value in enumerate(row, start=1):
            _write_cell(sheet, position, column, cell_value(value), frame.columns)
        if break_on is not None:
            current = row[frame.columns.get_loc(break_on)]
            if previous is not None and current != previous:
                sheet.row_breaks.append(Break(id=position - 1))
            previous = current
    _set_widths(sheet, frame)
    _set_print(sheet, frame, header)


def _write_cell(
    sheet: Worksheet, row: int, column: int, value: object, columns: pd.Index
) -> None:
    cell = sheet.cell(row=row, column=column)
    cell.value = value
    if isinstance(value, str):
        # openpyxl takes any text starting with "=" for a formula; force text.
        cell.data_type = "s"
    elif isinstance(value, bool):
        cell.value = "oui" if value else "non"
    elif columns[column - 1] in PERCENT_COLUMNS:
        cell.number_format = "0%"


def _set_widths(sheet: Worksheet, frame: pd.DataFrame) -> None:
    for index, column in enumerate(frame.columns, start=1):
        lengths = [len(str(column))] + [len(str(v)) for v in frame[column]]
        width = min(max(max(lengths) + 2, MIN_WIDTH), MAX_WIDTH)
        sheet.column_dimensions[get_column_letter(index)].width = width


def _set_print(sheet: Worksheet, frame: pd.DataFrame, header: str) -> None:
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    if len(frame.columns):
        last = get_column_letter(len(frame.columns))
        sheet.auto_filter.ref = f"A1:{last}{max(len(frame) + 1, 1)}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    # "&" starts a control code in page headers; "&&" prints one ampersand.
    sheet.oddHeader.center.text = header.replace("&", "&&")
    sheet.oddFooter.right.text = "Page &P / &N"


def write_workbook(frames: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write one sheet per ``(title, frame)`` item with :func:`write_table`.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, frame in frames.items():
        write_table(workbook.create_sheet(sheet_title(title)), frame, header=title)
    return _save(workbook, path)


def _save(workbook: Workbook, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    log.info("Workbook written: %s (%d sheets)", path, len(workbook.sheetnames))
    return path


def write_admin_workbook(store: Store, period_code: str, path: str | Path) -> Path:
    """Write the administration's workbook of a period and return its path.

    Sheets: ``Synthèse`` (each activity's places, enrolled, first choices and
    fill rate), ``Barrettes`` (places and unplaced per block and slot),
    ``Non inscrits``, then one sheet per block and slot (``A - heure 1``) listing
    each activity's students, one activity per printed page.

    Raises
    ------
    NotFoundError
        If the period is unknown.
    OSError
        If the file cannot be written.
    """
    with store.read() as session:
        period = reports.find_period(session, period_code)
        dates = f"du {period.start_date:%d/%m/%Y} au {period.end_date:%d/%m/%Y}"
        heading = f"{period.name} ({period.code}), {dates}"

    workbook = Workbook()
    workbook.remove(workbook.active)
    summary = stats.fill_rates(store, period_code).drop(columns="activity_id")
    write_table(workbook.create_sheet("Synthèse"), summary, header=heading)
    blocks = stats.block_fill(store, period_code)
    write_table(workbook.create_sheet("Barrettes"), blocks, header=heading)
    unplaced = reports.unplaced_list(store, period_code)
    write_table(workbook.create_sheet("Non inscrits"), unplaced, header=heading)

    placed = reports.placements(store, [period_code])
    for (block, slot), group in placed.groupby(["Barrette", "Heure"], sort=True):
        title = sheet_title(f"{block} - heure {slot}")
        header = f"{heading} - barrette {block}, heure {slot}"
        table = group[SHEET_COLUMNS].reset_index(drop=True)
        write_table(
            workbook.create_sheet(title), table, header=header, break_on="Atelier"
        )
    return _save(workbook, path)
