"""Small schools built row by row for the tests of sign-up, corrections and history.

``SchoolBuilder`` adds model rows directly, one short transaction per call, and
returns ids. ``small_school`` builds the usual fixture: block A of two classes,
six students, and one campaign in period P1 with four one-hour workshops and a
two-hour project.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from apkit.model import (
    Activity,
    ActivityEligibility,
    Block,
    Campaign,
    CampaignMode,
    CampaignStatus,
    Division,
    Enrolment,
    EnrolmentSource,
    Period,
    Preference,
    Student,
    Teacher,
)
from apkit.names import name_key
from apkit.store import Store


class SchoolBuilder:
    """Add blocks, students, teachers, periods, campaigns and activities to a store."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._serial = 0

    def _next(self) -> int:
        self._serial += 1
        return self._serial

    def block(self, name: str = "A", classes=("2de1", "2de2"), slot_count=2) -> int:
        with self.store.write() as session:
            block = Block(name=name, slot_count=slot_count)
            session.add(block)
            session.flush()
            for class_name in classes:
                session.add(Division(name=class_name, block_id=block.id))
            return block.id

    def student(
        self,
        last_name: str,
        first_name: str,
        class_name: str,
        *,
        left_on: dt.date | None = None,
    ) -> int:
        with self.store.write() as session:
            division = session.query(Division).filter_by(name=class_name).one()
            student = Student(
                source_id=f"STU{self._next():04d}",
                last_name=last_name,
                first_name=first_name,
                name_key=name_key(last_name, first_name),
                division_id=division.id,
                left_on=left_on,
            )
            session.add(student)
            session.flush()
            return student.id

    def students(self, class_name: str, count: int, prefix: str = "ELEVE") -> list[int]:
        return [
            self.student(f"{prefix}{class_name.upper()}", f"N{i:03d}", class_name)
            for i in range(1, count + 1)
        ]

    def teacher(self, last_name: str, first_name: str = "Prof") -> int:
        with self.store.write() as session:
            teacher = Teacher(
                source_id=f"T{self._next():03d}",
                last_name=last_name,
                first_name=first_name,
            )
            session.add(teacher)
            session.flush()
            return teacher.id

    def period(
        self, code: str = "P1", school_year: str = "2025-2026", start_month: int = 9
    ) -> int:
        year = int(school_year[:4]) + (1 if start_month < 8 else 0)
        start = dt.date(year, start_month, 1)
        with self.store.write() as session:
            period = Period(
                code=code,
                name=f"Période {code[1:]}",
                school_year=school_year,
                start_date=start,
                end_date=start + dt.timedelta(days=30),
            )
            session.add(period)
            session.flush()
            return period.id

    def campaign(
        self,
        period_id: int,
        block_id: int,
        *,
        mode: CampaignMode = CampaignMode.LIVE,
        status: CampaignStatus = CampaignStatus.OPEN,
        max_choices: int = 3,
    ) -> int:
        with self.store.write() as session:
            campaign = Campaign(
                period_id=period_id,
                block_id=block_id,
                mode=mode,
                status=status,
                max_choices=max_choices,
            )
            session.add(campaign)
            session.flush()
            return campaign.id

    def activity(
        self,
        campaign_id: int,
        code: str,
        *,
        capacity: int = 3,
        slot: int = 1,
        span: int = 1,
        teacher_id: int | None = None,
        room: str = "",
        title: str | None = None,
        min_size: int = 0,
        eligible_divisions: tuple[str, ...] = (),
        named_students: tuple[int, ...] = (),
        cancelled: bool = False,
    ) -> int:
        with self.store.write() as session:
            activity = Activity(
                campaign_id=campaign_id,
                code=code,
                title=title or f"Atelier {code}",
                capacity=capacity,
                min_size=min_size,
                first_slot=slot,
                slot_span=span,
                teacher_id=teacher_id,
                room=room,
                eligible_divisions=list(eligible_divisions),
                cancelled=cancelled,
            )
            session.add(activity)
            session.flush()
            for student_id in named_students:
                session.add(
                    ActivityEligibility(activity_id=activity.id, student_id=student_id)
                )
            return activity.id

    def enrolment(
        self,
        campaign_id: int,
        student_id: int,
        activity_id: int,
        *,
        source: EnrolmentSource = EnrolmentSource.ALLOCATION,
    ) -> None:
        with self.store.write() as session:
            activity = session.get(Activity, activity_id)
            for slot in activity.slots:
                session.add(
                    Enrolment(
                        campaign_id=campaign_id,
                        student_id=student_id,
                        slot=slot,
                        activity_id=activity_id,
                        source=source,
                    )
                )

    def preference(
        self, campaign_id: int, student_id: int, slot: int, rank: int, activity_id: int
    ) -> None:
        with self.store.write() as session:
            session.add(
                Preference(
                    campaign_id=campaign_id,
                    student_id=student_id,
                    slot=slot,
                    rank=rank,
                    activity_id=activity_id,
                )
            )


@dataclass
class SmallSchool:
    """Ids of the rows :func:`small_school` created."""

    builder: SchoolBuilder
    block_id: int
    period_id: int
    campaign_id: int
    students: list[int]
    teachers: list[int]
    activities: dict[str, int] = field(default_factory=dict)


def small_school(
    store: Store,
    *,
    mode: CampaignMode = CampaignMode.LIVE,
    status: CampaignStatus = CampaignStatus.OPEN,
    capacity: int = 3,
) -> SmallSchool:
    """Build block A (2de1, 2de2, three students each) with one campaign in P1.

    Activities: ``A1`` and ``A2`` in slot 1, ``B1`` and ``B2`` in slot 2, each of
    ``capacity`` places and its own teacher and room, and the project ``PRJ``
    (slots 1 and 2, 2 places).
    """
    builder = SchoolBuilder(store)
    block_id = builder.block("A", ("2de1", "2de2"))
    students = [
        builder.student("BÉRANGER", "Thomas", "2de1"),
        builder.student("ÇAKIR", "Elif", "2de1"),
        builder.student("D'HAUSSY", "Anne-Claire", "2de1"),
        builder.student("LE GOFF", "Yann", "2de2"),
        builder.student("AÏT-ALI", "Samir", "2de2"),
        builder.student("DA COSTA", "Inês", "2de2"),
    ]
    teachers = [builder.teacher(f"PROF{i}") for i in range(1, 6)]
    period_id = builder.period("P1")
    campaign_id = builder.campaign(period_id, block_id, mode=mode, status=status)
    school = SmallSchool(builder, block_id, period_id, campaign_id, students, teachers)
    layout = [("A1", 1, 1), ("A2", 1, 1), ("B1", 2, 1), ("B2", 2, 1)]
    for index, (code, slot, span) in enumerate(layout):
        school.activities[code] = builder.activity(
            campaign_id,
            code,
            capacity=capacity,
            slot=slot,
            span=span,
            teacher_id=teachers[index],
            room=f"R{index + 1}",
        )
    school.activities["PRJ"] = builder.activity(
        campaign_id,
        "PRJ",
        capacity=2,
        slot=1,
        span=2,
        teacher_id=teachers[4],
        room="R5",
        title="Projet radio",
    )
    return school
