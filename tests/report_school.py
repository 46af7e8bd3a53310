"""A small school built from model rows for the report, export and chart tests.

Block A (classes 2de1 and 2de2, two slots) has two periods. Its students carry
hard names: accents, apostrophes, particles, ligatures and text that a
spreadsheet would take for a formula. ``build_report_school`` returns the ids the
tests look up.

Period P1, block A:

| code | slot | title | teacher | capacity | min | students |
| --- | --- | --- | --- | --- | --- | --- |
| A1 | 1 | Méthodologie | BERGER | 3 | 2 | ÉCUYER, ZOLA, =HYPERLIEN |
| A2 | 1 | Débat et argumentation | D'ARC | 4 | 2 | DUPONT, EBERT, -x |
| A3 | 1+2 | Projet radio <script> | DE LA CRUZ | 3 | 1 | D'ALMEIDA, ÉLUARD |
| A4 | 2 | Choisir ses spécialités | BERGER | 4 | 2 | DUPONT, EBERT, ÉCUYER, -x |
| A5 | 2 | Théâtre | D'ARC | 4 | 3 | none: cancelled |

DE LA CRUZ and DESCŒURS are unplaced in slot 1, and ZOLA, DE LA CRUZ, DESCŒURS
and =HYPERLIEN in slot 2. VIEUX left before period 1 and appears nowhere.
"""

from __future__ import annotations

import datetime as dt

from apkit.model import (
    Activity,
    Block,
    Campaign,
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

FORMULA_LAST = '=HYPERLIEN("x")'
TAB_FIRST = "Anne\tMarie"
SCRIPT_TITLE = "Projet radio <script>alert(1)</script>"

# (key, last name, first name, class)
STUDENTS = [
    ("dupont", "DUPONT", "Émile", "2de1"),
    ("ebert", "EBERT", "Zoé", "2de1"),
    ("ecuyer", "ÉCUYER", "Lætitia", "2de1"),
    ("eluard", "ÉLUARD", "Paul", "2de2"),
    ("zola", "ZOLA", "+33", "2de2"),
    ("dalmeida", "D'ALMEIDA", "Inès", "2de1"),
    ("delacruz", "DE LA CRUZ", "@SUM(A1)", "2de2"),
    ("descoeurs", "DESCŒURS", TAB_FIRST, "2de2"),
    ("formula", FORMULA_LAST, "Jean-Luc", "2de1"),
    ("minus", "-x", "Chloé", "2de2"),
    ("gone", "VIEUX", "Parti", "2de1"),
]

# (activity, slot, student, rank obtained, source)
P1_ENROLMENTS = [
    ("A1", 1, "ecuyer", 1, EnrolmentSource.ALLOCATION),
    ("A1", 1, "zola", None, EnrolmentSource.PRESCRIBED),
    ("A1", 1, "formula", 2, EnrolmentSource.ALLOCATION),
    ("A2", 1, "dupont", 1, EnrolmentSource.ALLOCATION),
    ("A2", 1, "ebert", 2, EnrolmentSource.ALLOCATION),
    ("A2", 1, "minus", 3, EnrolmentSource.ALLOCATION),
    ("A3", 1, "dalmeida", 1, EnrolmentSource.ALLOCATION),
    ("A3", 2, "dalmeida", 1, EnrolmentSource.ALLOCATION),
    ("A3", 1, "eluard", 1, EnrolmentSource.ALLOCATION),
    ("A3", 2, "eluard", 1, EnrolmentSource.ALLOCATION),
    ("A4", 2, "dupont", 1, EnrolmentSource.ALLOCATION),
    ("A4", 2, "ebert", None, EnrolmentSource.CORRECTION),
    ("A4", 2, "ecuyer", 1, EnrolmentSource.ALLOCATION),
    ("A4", 2, "minus", 2, EnrolmentSource.ALLOCATION),
]

# First choices of period 1: (student, slot, activity).
P1_FIRST_CHOICES = [
    ("ecuyer", 1, "A1"),
    ("formula", 1, "A2"),
    ("dupont", 1, "A2"),
    ("ebert", 1, "A3"),
    ("minus", 1, "A3"),
    ("dalmeida", 1, "A3"),
    ("eluard", 1, "A3"),
    ("delacruz", 1, "A3"),
    ("dalmeida", 2, "A3"),
    ("eluard", 2, "A3"),
    ("dupont", 2, "A4"),
    ("ecuyer", 2, "A4"),
    ("ebert", 2, "A5"),
    ("minus", 2, "A5"),
    ("zola", 2, "A5"),
]

P2_ENROLMENTS = [
    ("B1", 1, "dupont", 1),
    ("B1", 1, "zola", 1),
    ("B2", 2, "dupont", 2),
    ("B2", 2, "zola", None),
]


def build_report_school(store: Store) -> dict[str, dict[str, int]]:
    """Write the school into ``store``; return ids by kind then by key."""
    with store.write() as session:
        block = Block(name="A", slot_count=2)
        divisions = {
            name: Division(name=name, block=block) for name in ("2de1", "2de2")
        }
        students = {
            key: Student(
                source_id=f"S-{key}",
                last_name=last,
                first_name=first,
                name_key=name_key(last, first),
                division=divisions[division],
                left_on=dt.date(2025, 9, 1) if key == "gone" else None,
            )
            for key, last, first, division in STUDENTS
        }
        teachers = {
            "berger": Teacher(source_id="T1", last_name="BERGER", first_name="Céline"),
            "darc": Teacher(source_id="T2", last_name="D'ARC", first_name="Jeanne"),
            "cruz": Teacher(source_id="T3", last_name="DE LA CRUZ", first_name="Ana"),
        }
        p1 = Period(
            code="P1",
            name="Période 1",
            school_year="2025-2026",
            start_date=dt.date(2025, 9, 15),
            end_date=dt.date(2025, 10, 17),
        )
        p2 = Period(
            code="P2",
            name="Période 2",
            school_year="2025-2026",
            start_date=dt.date(2025, 11, 3),
            end_date=dt.date(2025, 12, 19),
        )
        c1 = Campaign(period=p1, block=block, status=CampaignStatus.PUBLISHED)
        c2 = Campaign(period=p2, block=block, status=CampaignStatus.PUBLISHED)
        activities = _activities(c1, c2, teachers)
        session.add_all([block, *students.values(), *teachers.values(), c1, c2])
        session.add_all(activities.values())
        session.flush()

        for code, slot, key, rank, source in P1_ENROLMENTS:
            session.add(
                _enrolment(c1, activities[code], students[key], slot, rank, source)
            )
        for code, slot, key, rank in P2_ENROLMENTS:
            source = EnrolmentSource.ALLOCATION
            session.add(
                _enrolment(c2, activities[code], students[key], slot, rank, source)
            )
        for key, slot, code in P1_FIRST_CHOICES:
            session.add(
                Preference(
                    campaign_id=c1.id,
                    student_id=students[key].id,
                    slot=slot,
                    rank=1,
                    activity_id=activities[code].id,
                )
            )
        session.flush()
        return {
            "students": {key: s.id for key, s in students.items()},
            "teachers": {key: t.id for key, t in teachers.items()},
            "activities": {code: a.id for code, a in activities.items()},
        }


def _activities(
    c1: Campaign, c2: Campaign, teachers: dict[str, Teacher]
) -> dict[str, Activity]:
    def make(campaign, code, title, category, teacher, room, capacity, min_size, slot,
             span=1, cancelled=False):  # fmt: skip
        return Activity(
            campaign=campaign,
            code=code,
            title=title,
            category=category,
            teacher=teachers[teacher],
            room=room,
            capacity=capacity,
            min_size=min_size,
            first_slot=slot,
            slot_span=span,
            cancelled=cancelled,
        )

    return {
        "A1": make(c1, "A1", "Méthodologie", "soutien", "berger", "A101", 3, 2, 1),
        "A2": make(
            c1,
            "A2",
            "Débat et argumentation",
            "approfondissement",
            "darc",
            "B2",
            4,
            2,
            1,
        ),
        "A3": make(c1, "A3", SCRIPT_TITLE, "projet", "cruz", "CDI", 3, 1, 1, span=2),
        "A4": make(
            c1,
            "A4",
            "Choisir ses spécialités",
            "orientation",
            "berger",
            "A101",
            4,
            2,
            2,
        ),
        "A5": make(
            c1,
            "A5",
            "Théâtre",
            "approfondissement",
            "darc",
            "Salle polyvalente",
            4,
            3,
            2,
            cancelled=True,
        ),  # fmt: skip
        "B1": make(c2, "B1", "Remise à niveau", "soutien", "berger", "A101", 10, 2, 1),
        "B2": make(c2, "B2", "Métiers du soin", "orientation", "darc", "B2", 10, 2, 2),
    }


def _enrolment(campaign, activity, student, slot, rank, source) -> Enrolment:
    return Enrolment(
        campaign_id=campaign.id,
        activity_id=activity.id,
        student_id=student.id,
        slot=slot,
        rank=rank,
        source=source,
        locked=source != EnrolmentSource.ALLOCATION,
    )


def allocated_sample_school(store: Store) -> None:
    """Load the sample school into ``store`` and allocate every period 1 campaign."""
    from sqlalchemy import select

    from apkit.allocation import allocate
    from apkit.sample import ensure_sample_school

    ensure_sample_school(store)
    with store.read() as session:
        campaign_ids = list(session.scalars(select(Campaign.id).order_by(Campaign.id)))
    for campaign_id in campaign_ids:
        allocate(store, campaign_id)
