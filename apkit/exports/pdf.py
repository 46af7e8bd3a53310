"""Attendance sheets (feuilles d'émargement) as PDF, one page per group, with fpdf2.

The text uses DejaVu Sans, shipped in ``apkit/fonts`` under its own licence, so
every French letter (and ``Œ``, ``Ą``) prints whatever fonts the machine has.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy import select

from apkit import reports
from apkit.errors import NotFoundError
from apkit.model import Activity, Block, Campaign, Teacher
from apkit.names import sort_key
from apkit.store import Store

log = logging.getLogger(__name__)

FONTS = Path(__file__).resolve().parents[1] / "fonts"
FONT_FAMILY = "DejaVuSans"
BLANK_ROWS = 3  # empty lines left for students added after printing
NAME_WIDTHS = (10, 52, 42, 22)  # N°, Nom, Prénom, Classe, in millimetres
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def printable(text: str) -> str:
    """Return ``text`` with tabs, line breaks and other control characters as spaces.

    DejaVu Sans has no glyph for them, and a name typed with a tab should still
    print on one line.
    """
    return _CONTROL.sub(" ", str(text))


class AttendanceDocument(FPDF):
    """An A4 document with DejaVu Sans and a page number in the footer."""

    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.add_font(FONT_FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT_FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_auto_page_break(auto=True, margin=15)
        self.set_title("Feuilles d'émargement")
        self.set_creator("apkit")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT_FAMILY, "", 8)
        self.cell(0, 6, f"Page {self.page_no()}/{{nb}}", align="R")


def write_attendance_pdf(
    store: Store,
    period_code: str,
    path: str | Path,
    *,
    block_name: str | None = None,
    teacher_id: int | None = None,
) -> int:
    """Write the attendance sheets of a period's groups into one PDF.

    Each activity that is not closed gets its own page (more if its list is long):
    a header with the period and its dates, the block, the slot(s), the activity,
    its teacher and room, then its students in French order with one column to
    sign per hour.

    Parameters
    ----------
    block_name, teacher_id
        Only the groups of this block, or of this teacher, if given.

    Returns
    -------
    int
        The number of groups printed.

    Raises
    ------
    NotFoundError
        If the period, the block or the teacher is unknown.
    OSError
        If the file cannot be written.
    """
    activity_ids = _group_ids(store, period_code, block_name, teacher_id)
    document = AttendanceDocument()
    for activity_id in activity_ids:
        _add_group_page(document, reports.activity_list(store, activity_id))
    if not activity_ids:
        document.add_page()
        document.set_font(FONT_FAMILY, "", 12)
        document.multi_cell(0, 8, f"Aucun groupe ouvert pour la période {period_code}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.output(str(path))
    log.info("Attendance PDF written: %s (%d groups)", path, len(activity_ids))
    return len(activity_ids)


def _group_ids(
    store: Store, period_code: str, block_name: str | None, teacher_id: int | None
) -> list[int]:
    with store.read() as session:
        period = reports.find_period(session, period_code)
        statement = (
            select(Activity, Block.name)
            .join(Campaign, Activity.campaign_id == Campaign.id)
            .join(Block, Campaign.block_id == Block.id)
            .where(Campaign.period_id == period.id, Activity.cancelled.is_(False))
        )
        if block_name is not None:
            block = reports.find_block(session, block_name)
            statement = statement.where(Block.id == block.id)
        if teacher_id is not None:
            if session.get(Teacher, teacher_id) is None:
                raise NotFoundError(f"Enseignant n° {teacher_id} introuvable.")
            statement = statement.where(Activity.teacher_id == teacher_id)
        rows = [
            (
                (block, activity.first_slot, sort_key(activity.title)),
                activity.id,
            )
            for activity, block in session.execute(statement)
        ]
    return [activity_id for _key, activity_id in sorted(rows)]


def _add_group_page(document: AttendanceDocument, students: pd.DataFrame) -> None:
    group = students.attrs
    document.add_page()
    document.set_font(FONT_FAMILY, "B", 15)
    document.multi_cell(
        0, 8, "Feuille d'émargement - AP", new_x="LMARGIN", new_y="NEXT"
    )
    document.set_font(FONT_FAMILY, "", 11)
    lines = [
        f"{group['Nom de la période']} ({group['Période']}) : du "
        f"{group['Début']:%d/%m/%Y} au {group['Fin']:%d/%m/%Y}",
        f"Barrette {group['Barrette']}, heure {group['Heure']}",
        f"Atelier : {group['Atelier']} ({group['Code']})",
        f"Enseignant : {group['Enseignant'] or 'non renseigné'}",
        f"Salle : {group['Salle'] or 'non renseignée'}",
        f"Élèves : {len(students)} pour {group['Places']} places",
    ]
    for line in lines:
        document.multi_cell(0, 6, printable(line), new_x="LMARGIN", new_y="NEXT")
    document.ln(4)
    _add_student_table(document, students, str(group["Heure"]).split(" et "))


def _add_student_table(
    document: AttendanceDocument, students: pd.DataFrame, slots: list[str]
) -> None:
    sign_width = (document.epw - sum(NAME_WIDTHS)) / len(slots)
    widths = (*NAME_WIDTHS, *([sign_width] * len(slots)))
    headings = ["N°", "Nom", "Prénom", "Classe"]
    headings += [f"Signature heure {slot}" for slot in slots]
    document.set_font(FONT_FAMILY, "", 10)
    with document.table(
        col_widths=widths,
        line_height=6,
        min_row_height=8,  # room for a signature
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD"),
        markdown=False,
    ) as table:
        table.row(headings)
        for number, row in enumerate(students.itertuples(index=False), start=1):
            names = [printable(row.Nom), printable(row.Prénom), printable(row.Classe)]
            table.row([str(number), *names, *[""] * len(slots)])
        for number in range(len(students) + 1, len(students) + 1 + BLANK_ROWS):
            table.row([str(number), "", "", "", *[""] * len(slots)])
