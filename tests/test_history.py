"""A student's year, the unplaced students, and name search, on both backends."""

from __future__ import annotations

import datetime as dt

import pytest

from apkit.errors import NotFoundError
from apkit.history import find_students, student_history, unplaced_students
from apkit.model import CampaignMode, CampaignStatus
from tests.factories import SchoolBuilder, small_school


def test_history_period_by_period(store):
    builder = SchoolBuilder(store)
    block = builder.block("A", ("2de1",))
    student = builder.student("MARTIN", "Léa", "2de1")
    teacher = builder.teacher("ROUX", "Claire")
    p1, p2 = builder.period("P1"), builder.period("P2", start_month=11)
    builder.period("P0", school_year="2024-2025")
    first = builder.campaign(p1, block, status=CampaignStatus.PUBLISHED)
    second = builder.campaign(p2, block)
    theatre = builder.activity(first, "T1", slot=1, title="Théâtre",
                               teacher_id=teacher, room="B12")  # fmt: skip
    project = builder.activity(second, "PR", slot=1, span=2, title="Radio")
    builder.enrolment(first, student, theatre)
    builder.enrolment(second, student, project)

    rows = student_history(store, student)
    assert [(r.period_code, r.slot, r.activity_code) for r in rows] == [
        ("P1", 1, "T1"),
        ("P1", 2, None),
        ("P2", 1, "PR"),
        ("P2", 2, "PR"),
    ]
    assert rows[0].title == "Théâtre"
    assert rows[0].teacher == "ROUX Claire"
    assert rows[0].room == "B12"
    assert rows[0].source == "allocation"
    assert rows[1].campaign_id == first
    assert rows[0].period_name == "Période 1"


def test_history_other_year_and_no_campaign(store):
    builder = SchoolBuilder(store)
    builder.block("A", ("2de1",))
    student = builder.student("MARTIN", "Léa", "2de1")
    builder.period("P1")
    assert student_history(store, student) == []
    assert student_history(store, student, school_year="2024-2025") == []


def test_history_unknown_student(store):
    with pytest.raises(NotFoundError, match="Élève introuvable : n° 5"):
        student_history(store, 5)


def test_unplaced_with_and_without_preferences(store):
    school = small_school(store, mode=CampaignMode.PREFERENCES)
    a = school.activities
    builder = school.builder
    beranger, cakir = school.students[0], school.students[1]
    builder.preference(school.campaign_id, beranger, 1, 1, a["A1"])
    builder.enrolment(school.campaign_id, beranger, a["B1"])
    builder.enrolment(school.campaign_id, cakir, a["PRJ"])
    builder.student("PARTI", "Jean", "2de1", left_on=dt.date(2025, 1, 10))

    rows = unplaced_students(store, school.campaign_id)
    names = [(r.last_name, r.slot, r.reason) for r in rows]
    assert names == [
        ("AÏT-ALI", 1, "no_preference"),
        ("AÏT-ALI", 2, "no_preference"),
        ("BÉRANGER", 1, "preferences_unmet"),
        ("D'HAUSSY", 1, "no_preference"),
        ("D'HAUSSY", 2, "no_preference"),
        ("DA COSTA", 1, "no_preference"),
        ("DA COSTA", 2, "no_preference"),
        ("LE GOFF", 1, "no_preference"),
        ("LE GOFF", 2, "no_preference"),
    ]
    assert rows[0].reason_text == "aucun vœu"
    assert rows[0].class_name == "2de2"
    assert rows[2].reason_text == "vœux donnés, sans place"


def test_unplaced_one_slot_live(store):
    school = small_school(store)
    school.builder.enrolment(school.campaign_id, school.students[0],
                             school.activities["A1"])  # fmt: skip
    rows = unplaced_students(store, school.campaign_id, slot=1)
    assert len(rows) == 5
    assert {r.slot for r in rows} == {1}
    assert {r.reason for r in rows} == {"not_signed_up"}
    assert school.students[0] not in {r.student_id for r in rows}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("beranger", ["BÉRANGER"]),
        ("ÇAKIR elif", ["ÇAKIR"]),
        ("dhaussy", ["D'HAUSSY"]),
        ("d'haussy anne-claire", ["D'HAUSSY"]),
        ("legoff", ["LE GOFF"]),
        ("Le  Goff", ["LE GOFF"]),
        ("ait ali", ["AÏT-ALI"]),
        ("ines", ["DA COSTA"]),
        ("a", ["AÏT-ALI", "BÉRANGER", "ÇAKIR", "D'HAUSSY", "DA COSTA", "LE GOFF"]),
        ("%", []),
        ("   ", []),
    ],
)
def test_find_students_ignores_accents_and_case(store, query, expected):
    small_school(store)
    found = find_students(store, query)
    assert [row.last_name for row in found] == expected


def test_find_students_in_one_block(store):
    school = small_school(store)
    school.builder.block("B", ("2de5",))
    other = school.builder.student("BERANGER", "Paul", "2de5")
    assert len(find_students(store, "beranger")) == 2
    (row,) = find_students(store, "beranger", block_id=school.block_id)
    assert row.first_name == "Thomas"
    assert row.class_name == "2de1"
    assert row.block == "A"
    assert other not in {r.student_id for r in find_students(store, "thomas")}
