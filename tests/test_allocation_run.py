"""The database adapter: allocate a stored campaign, on SQLite and PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from apkit.allocation import Reason, allocate, allocation_result
from apkit.allocation.report import ACTION
from apkit.audit import entries
from apkit.campaigns import find_campaign
from apkit.errors import CampaignError, NotFoundError
from apkit.model import (
    Activity,
    Campaign,
    CampaignMode,
    CampaignStatus,
    Enrolment,
    EnrolmentSource,
    UnrankedPolicy,
)
from apkit.sample import ensure_sample_school
from tests.factories import small_school


def _enrolments(store, campaign_id: int) -> list[SimpleNamespace]:
    """Return the campaign's enrolments as plain values, readable after the session."""
    columns = ("student_id", "slot", "activity_id", "source", "rank", "reason")
    with store.read() as session:
        rows = session.scalars(
            select(Enrolment)
            .where(Enrolment.campaign_id == campaign_id)
            .order_by(Enrolment.student_id, Enrolment.slot)
        )
        return [SimpleNamespace(**{c: getattr(r, c) for c in columns}) for r in rows]


def test_allocate_sample_school_places_all_but_five(store):
    ensure_sample_school(store)
    reports = {}
    for block in "ABC":
        with store.read() as session:
            campaign_id = find_campaign(session, "P1", block).id
        reports[block] = allocate(store, campaign_id, actor="test")

    unplaced = reports["C"].unplaced
    assert len(unplaced) == 5
    assert {row.slot for row in unplaced} == {2}
    assert {row.reason for row in unplaced} == {Reason.NO_PLACE.text}
    assert reports["A"].unplaced == []
    assert reports["B"].unplaced == []
    for block, report in reports.items():
        for fill in report.fill:
            assert fill.enrolled <= fill.capacity, (block, fill.code)
            assert fill.cancelled or fill.enrolled >= fill.min_size, (block, fill.code)
    assert reports["C"].counts["placed"] == 245

    campaign_id = reports["C"].campaign_id
    stored = _enrolments(store, campaign_id)
    assert len(stored) == 245
    assert {row.source for row in stored} == {EnrolmentSource.ALLOCATION}
    first_choices = [row for row in stored if row.rank == 1]
    assert all(row.reason == "" for row in first_choices)
    with store.read() as session:
        log = [
            (e.action, e.actor, e.after)
            for e in entries(session, campaign_id=campaign_id)
        ]
    allocations = [(actor, after) for action, actor, after in log if action == ACTION]
    assert [actor for actor, _after in allocations] == ["test"]
    assert allocations[0][1]["counts"]["unplaced"] == 5

    again = allocation_result(store, campaign_id)
    assert again.rows == reports["C"].rows
    assert again.counts == reports["C"].counts


def test_allocate_same_seed_same_enrolments(store):
    school = small_school(store, mode=CampaignMode.PREFERENCES)
    for student in school.students:
        school.builder.preference(
            school.campaign_id, student, 1, 1, school.activities["A1"]
        )
    first = allocate(store, school.campaign_id, seed=7)
    placed = [
        (e.student_id, e.slot, e.activity_id)
        for e in _enrolments(store, school.campaign_id)
    ]
    second = allocate(store, school.campaign_id, seed=7)
    again = [
        (e.student_id, e.slot, e.activity_id)
        for e in _enrolments(store, school.campaign_id)
    ]
    assert placed == again
    assert first.rows == second.rows
    assert first.seed == 7


def test_allocate_keeps_prescribed_and_replaces_allocation(store):
    school = small_school(store, mode=CampaignMode.PREFERENCES)
    prescribed, moved = school.students[0], school.students[1]
    school.builder.enrolment(
        school.campaign_id, prescribed, school.activities["A2"],
        source=EnrolmentSource.PRESCRIBED,
    )  # fmt: skip
    school.builder.enrolment(school.campaign_id, moved, school.activities["A2"])
    school.builder.preference(
        school.campaign_id, prescribed, 1, 1, school.activities["A1"]
    )
    school.builder.preference(school.campaign_id, moved, 1, 1, school.activities["A1"])

    report = allocate(store, school.campaign_id)

    rows = {(e.student_id, e.slot): e for e in _enrolments(store, school.campaign_id)}
    assert rows[(prescribed, 1)].activity_id == school.activities["A2"]
    assert rows[(prescribed, 1)].source == EnrolmentSource.PRESCRIBED
    assert rows[(moved, 1)].activity_id == school.activities["A1"]
    assert rows[(moved, 1)].source == EnrolmentSource.ALLOCATION
    by_student = {(r.student_id, r.slot): r for r in report.rows}
    assert by_student[(prescribed, 1)].reason == Reason.FIXED.text
    assert report.unplaced == []


def test_allocate_history_forbids_repeat(store):
    school = small_school(store, mode=CampaignMode.PREFERENCES)
    builder = school.builder
    student = school.students[0]
    builder.enrolment(school.campaign_id, student, school.activities["A1"])
    later = builder.period("P2", start_month=11)
    campaign = builder.campaign(
        later,
        school.block_id,
        mode=CampaignMode.PREFERENCES,
        status=CampaignStatus.CLOSED,
    )
    with store.read() as session:
        first = session.get(Activity, school.activities["A1"])
        title, teacher = first.title, first.teacher_id
    repeat = builder.activity(campaign, "R1", title=title.upper(), teacher_id=teacher)
    other = builder.activity(campaign, "R2", teacher_id=school.teachers[4])
    builder.preference(campaign, student, 1, 1, repeat)
    builder.preference(campaign, student, 1, 2, other)

    report = allocate(store, campaign)

    row = next(r for r in report.rows if r.student_id == student and r.slot == 1)
    assert row.activity_id == other
    assert row.rank == 2
    assert row.reason == Reason.FIRST_CHOICE_TAKEN.text


def test_allocate_cancels_activity_below_minimum(store):
    school = small_school(store, mode=CampaignMode.PREFERENCES)
    with store.write() as session:
        session.get(Activity, school.activities["A1"]).min_size = 4
    school.builder.preference(
        school.campaign_id, school.students[0], 1, 1, school.activities["A1"]
    )
    report = allocate(store, school.campaign_id)
    with store.read() as session:
        assert session.get(Activity, school.activities["A1"]).cancelled
        assert not session.get(Activity, school.activities["A2"]).cancelled
    assert report.counts["cancelled"] == ["A1"]
    row = next(
        r for r in report.rows if r.student_id == school.students[0] and r.slot == 1
    )
    assert row.reason == Reason.OUTSIDE_CHOICES.text


def test_allocate_live_campaign_keeps_sign_ups(store):
    school = small_school(store, mode=CampaignMode.LIVE)
    signed = school.students[0]
    school.builder.enrolment(
        school.campaign_id,
        signed,
        school.activities["B1"],
        source=EnrolmentSource.SIGNUP,
    )
    report = allocate(store, school.campaign_id)
    rows = {(e.student_id, e.slot): e for e in _enrolments(store, school.campaign_id)}
    assert rows[(signed, 2)].source == EnrolmentSource.SIGNUP
    assert report.counts["unplaced"] == 0


def test_allocate_rotation_meets_new_teacher(store):
    school = small_school(store, mode=CampaignMode.PREFERENCES)
    builder = school.builder
    for student in school.students:
        builder.enrolment(school.campaign_id, student, school.activities["A1"])
    later = builder.period("P2", start_month=11)
    campaign = builder.campaign(later, school.block_id, mode=CampaignMode.ROTATION)
    with store.read() as session:
        seen_teacher = session.get(Activity, school.activities["A1"]).teacher_id
    again = builder.activity(
        campaign, "X1", capacity=6, teacher_id=seen_teacher, title="Autre"
    )
    new = builder.activity(campaign, "X2", capacity=6, teacher_id=school.teachers[4])
    report = allocate(store, campaign)
    slot_one = [r for r in report.rows if r.slot == 1]
    assert {r.activity_id for r in slot_one} == {new}
    assert again not in {r.activity_id for r in report.rows}


def test_allocate_published_campaign_rejected(store):
    school = small_school(store, status=CampaignStatus.PUBLISHED)
    with pytest.raises(CampaignError, match="barrette A déjà publiée") as caught:
        allocate(store, school.campaign_id)
    assert "corrigez" in str(caught.value)
    with store.read() as session:
        actions = {e.action for e in entries(session, campaign_id=school.campaign_id)}
    assert ACTION not in actions


def test_allocate_unknown_campaign_rejected(store):
    with pytest.raises(NotFoundError, match="Campagne introuvable : n° 999"):
        allocate(store, 999)


def test_allocate_leave_policy_reports_no_choice(store):
    school = small_school(store, mode=CampaignMode.PREFERENCES)
    with store.write() as session:
        session.get(Campaign, school.campaign_id).unranked_policy = UnrankedPolicy.LEAVE
    chooser = school.students[0]
    school.builder.preference(
        school.campaign_id, chooser, 1, 1, school.activities["A1"]
    )

    report = allocate(store, school.campaign_id)

    assert report.counts["placed"] == 1
    reasons = {(r.student_id, r.slot): r.reason for r in report.unplaced}
    assert reasons[(school.students[1], 1)] == Reason.NO_PREFERENCE.text
    assert reasons[(chooser, 2)] == Reason.NO_PREFERENCE.text
    assert (chooser, 1) not in reasons


def test_allocation_result_before_any_allocation(store):
    school = small_school(store, mode=CampaignMode.PREFERENCES)
    report = allocation_result(store, school.campaign_id)
    assert report.seed is None
    assert report.counts["placed"] == 0
    assert {row.reason for row in report.unplaced} == {"aucune inscription"}
