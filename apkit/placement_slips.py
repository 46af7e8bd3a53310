"""Placement slips: each student's activity, teacher and room in every slot, as PDF.

:func:`student_placements` reads a campaign's placements, one
:class:`StudentPlacement` per student of the block present in the period;
:func:`write_slips` prints them five to an A4 page, and :func:`write_class_pdf`
prints a class's list for its class teacher. The text uses DejaVu Sans, shipped
in ``apkit/fonts``, as the attendance sheets of :mod:`apkit.exports.pdf` do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from fpdf import FPDF
from fpdf.fonts import FontFace
from sqlalchemy import select

from apkit import access, reports
from apkit.campaigns import get_campaign
from apkit.exports.pdf import FONT_FAMILY, FONTS
from apkit.model import Activity, Division, Enrolment, Student
from apkit.names import sort_key
from apkit.store import Store

SLIPS_PER_PAGE = 5
SLIP_HEIGHT = 54.6  # millimetres; five slips fill an A4 page inside its margins


@dataclass(frozen=True)
class SlotPlacement:
    """One slot of a student's slip: the activity, or ``None`` when unplaced."""

    slot: int
    activity_id: int | None
    title: str
    teacher: str
    teacher_id: int | None
    room: str


@dataclass(frozen=True)
class StudentPlacement:
    """A student of the campaign's block with their activity in every slot."""

    student_id: int
    last_name: str
    first_name: str
    class_name: str
    email: str | None
    slots: tuple[SlotPlacement, ...]


@dataclass(frozen=True)
class CampaignInfo:
    """The campaign's fields printed on every file."""

    campaign_id: int
    school_year: str
    period_code: str
    period_name: str
    start_date: dt.date
    end_date: dt.date
    block: str
    slot_count: int

    @property
    def heading(self) -> str:
        dates = f"du {self.start_date:%d/%m/%Y} au {self.end_date:%d/%m/%Y}"
        return f"{self.period_name} ({self.period_code}), {dates}"

    @property
    def label(self) -> str:
        return f"{self.period_code}, barrette {self.block}"


def campaign_info(store: Store, campaign_id: int) -> CampaignInfo:
    """Return the period and block fields of a campaign.

    Raises
    ------
    NotFoundError
        If the campaign does not exist.
    """
    with store.read() as session:
        campaign = get_campaign(session, campaign_id)
        period = campaign.period
        return CampaignInfo(
            campaign_id,
            period.school_year,
            period.code,
            period.name,
            period.start_date,
            period.end_date,
            campaign.block.name,
            campaign.block.slot_count,
        )


def student_placements(store: Store, campaign_id: int) -> list[StudentPlacement]:
    """Return every student of the block present in the period, in French order.

    A student with no enrolment in a slot gets ``Non inscrit`` for it.

    Raises
    ------
    NotFoundError
        If the campaign does not exist.
    """
    with store.read() as session:
        campaign = get_campaign(session, campaign_id)
        enrolled = {
            (enrolment.student_id, enrolment.slot): enrolment.activity
            for enrolment in session.scalars(
                select(Enrolment).where(Enrolment.campaign_id == campaign_id)
            )
        }
        students = session.scalars(
            select(Student)
            .join(Division, Student.division_id == Division.id)
            .where(Division.block_id == campaign.block_id)
        )
        placements = [
            _student_placement(student, campaign.block.slot_count, enrolled)
            for student in students
            if reports.present_in(student, campaign.period)
        ]
    return sorted(placements, key=lambda p: sort_key(p.last_name, p.first_name))


def _student_placement(
    student: Student, slot_count: int, enrolled: dict[tuple[int, int], Activity]
) -> StudentPlacement:
    slots = []
    for slot in range(1, slot_count + 1):
        activity = enrolled.get((student.id, slot))
        if activity is None:
            slots.append(SlotPlacement(slot, None, reports.UNPLACED, "", None, ""))
            continue
        slots.append(
            SlotPlacement(
                slot,
                activity.id,
                activity.title,
                reports.teacher_name(activity.teacher),
                activity.teacher_id,
                activity.room,
            )
        )
    return StudentPlacement(
        student.id,
        student.last_name,
        student.first_name,
        student.division.name if student.division else "",
        student.email,
        tuple(slots),
    )


# Slips


class SlipDocument(FPDF):
    """An A4 document of placement slips in DejaVu Sans."""

    def __init__(self) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.add_font(FONT_FAMILY, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT_FAMILY, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_auto_page_break(auto=False)
        self.set_margins(12, 12, 12)
        self.set_title("Fiches d'affectation AP")
        self.set_creator("apkit")


def personal_page(base_url: str | None, code: str | None) -> str:
    """Return the text that tells a student where to see their groups."""
    if not base_url:
        return (
            "Consulte tes groupes sur la page d'inscription, avec ton code personnel."
        )
    if code:
        return f"Ta page personnelle : {access.signup_link(base_url, code)}"
    page = access.signup_link(base_url, "").partition("?")[0]
    return f"Consulte tes groupes sur {page}, avec ton code personnel."


def write_slips(
    placements: list[StudentPlacement],
    info: CampaignInfo,
    path: Path,
    *,
    base_url: str | None = None,
    codes: dict[int, str] | None = None,
) -> Path:
    """Write the placement slips of ``placements`` into one PDF, five a page.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    document = SlipDocument()
    for index, placement in enumerate(placements):
        if index % SLIPS_PER_PAGE == 0:
            document.add_page()
        top = document.t_margin + (index % SLIPS_PER_PAGE) * SLIP_HEIGHT
        link = personal_page(base_url, (codes or {}).get(placement.student_id))
        _draw_slip(document, placement, info, link, top)
    if not placements:
        document.add_page()
        document.set_font(FONT_FAMILY, "", 12)
        document.multi_cell(0, 8, f"Aucun élève pour {info.label}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    document.output(str(path))
    return path


def _draw_slip(
    document: SlipDocument,
    placement: StudentPlacement,
    info: CampaignInfo,
    link: str,
    top: float,
) -> None:
    with document.local_context():
        document.set_draw_color(150)
        document.set_dash_pattern(dash=2, gap=2)
        document.line(document.l_margin, top, document.w - document.r_margin, top)
    document.set_xy(document.l_margin, top + 3)
    document.set_font(FONT_FAMILY, "B", 12)
    name = f"{placement.last_name} {placement.first_name}"
    document.cell(
        0, 6, f"{name} – {placement.class_name}", new_x="LMARGIN", new_y="NEXT"
    )
    document.set_font(FONT_FAMILY, "", 9)
    line = f"Accompagnement personnalisé, barrette {info.block} : {info.heading}"
    document.cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    document.ln(1)
    with document.table(
        col_widths=(18, 82, 50, 36),
        line_height=5,
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD"),
        markdown=False,
    ) as table:
        table.row(["Heure", "Atelier", "Enseignant", "Salle"])
        for slot in placement.slots:
            table.row([str(slot.slot), slot.title, slot.teacher, slot.room])
    document.ln(1)
    document.set_font(FONT_FAMILY, "", 8)
    document.multi_cell(0, 4, link, new_x="LMARGIN", new_y="NEXT")


def write_class_pdf(frame: pd.DataFrame, title: str, path: Path) -> Path:
    """Write a class's placements (from :func:`apkit.reports.class_list`) as a table.

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    document = SlipDocument()
    document.set_auto_page_break(auto=True, margin=12)
    document.add_page(orientation="landscape")
    document.set_font(FONT_FAMILY, "B", 13)
    document.multi_cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
    document.ln(2)
    document.set_font(FONT_FAMILY, "", 9)
    widths = [_column_weight(str(column)) for column in frame.columns]
    with document.table(
        col_widths=widths,
        line_height=5,
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD"),
        markdown=False,
    ) as table:
        table.row([str(column) for column in frame.columns])
        for values in frame.itertuples(index=False):
            table.row(["" if pd.isna(value) else str(value) for value in values])
    path.parent.mkdir(parents=True, exist_ok=True)
    document.output(str(path))
    return path


def _column_weight(column: str) -> int:
    # Activity titles get three times the width of a room, names twice.
    if column.startswith("Salle"):
        return 1
    if column.startswith("Heure"):
        return 3
    return 2
