"""Moves, forced moves, placing the unplaced, and undo, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from apkit import audit
from apkit.allocation import allocate
from apkit.campaigns import close_campaign, find_campaign, open_campaign
from apkit.corrections import move_student, place_unplaced, undo
from apkit.errors import (
    AccessDenied,
    CampaignError,
    CapacityError,
    EligibilityError,
    NotFoundError,
)
from apkit.history import student_history, unplaced_students
from apkit.model import (
    Activity,
    CampaignMode,
    CampaignStatus,
    Enrolment,
    EnrolmentSource,
    Publication,
)
from apkit.sample import ensure_sample_school
from apkit.signup import enrol, places_left
from tests.factories import SchoolBuilder, small_school


def _rows(store, campaign_id, student_id=None):
    """Return (student, slot, activity code, source, locked) of enrolments."""
    with store.read() as session:
        statement = select(Enrolment).where(Enrolment.campaign_id == campaign_id)
        if student_id is not None:
            statement = statement.where(Enrolment.student_id == student_id)
        return sorted(
            (r.student_id, r.slot, r.activity.code, r.source, r.locked)
            for r in session.scalars(statement)
        )


def _fill(store, school, code, students):
    for student in students:
        enrol(store, school.campaign_id, student, school.activities[code], actor="e")


@pytest.fixture
def live(store):
    return small_school(store)


def test_move_by_teacher_locked_and_audited(store, live):
    student = live.students[0]
    _fill(store, live, "A1", [student])
    result = move_student(
        store,
        live.campaign_id,
        student,
        live.activities["A2"],
        actor="prof1",
        role="teacher",
        reason="groupe de niveau",
    )
    assert result.status == "moved"
    assert result.replaced == ("A1",)
    assert result.source == "correction"
    assert _rows(store, live.campaign_id, student) == [
        (student, 1, "A2", EnrolmentSource.CORRECTION, True)
    ]
    with store.read() as session:
        entry = audit.entries(session, student_id=student)[0]
        assert entry.id == result.audit_id
        assert entry.action == "move"
        assert entry.actor == "prof1"
        assert entry.reason == "groupe de niveau"
        assert entry.before["enrolments"][0]["activity"] == "A1"
        assert entry.after["enrolments"][0]["activity"] == "A2"
        assert entry.after["role"] == "teacher"


def test_move_into_full_activity_rejected(store, live):
    _fill(store, live, "A1", live.students[:3])
    mover = live.students[3]
    with pytest.raises(CapacityError, match="Atelier complet : A1") as caught:
        move_student(store, live.campaign_id, mover, live.activities["A1"],
                     actor="prof1", role="teacher")  # fmt: skip
    assert caught.value.enrolled == 3
    assert _rows(store, live.campaign_id, mover) == []


def test_force_by_teacher_denied(store, live):
    with pytest.raises(AccessDenied, match="Seul le coordinateur peut forcer"):
        move_student(store, live.campaign_id, live.students[0], live.activities["A1"],
                     actor="prof1", role="teacher", force=True)  # fmt: skip


def test_force_by_coordinator_goes_over_capacity(store, live):
    _fill(store, live, "A1", live.students[:3])
    mover = live.students[3]
    result = move_student(store, live.campaign_id, mover, live.activities["A1"],
                          actor="coord", role="coordinator", force=True,
                          reason="PAP")  # fmt: skip
    assert result.source == "forced"
    assert result.status == "placed"
    assert _rows(store, live.campaign_id, mover) == [
        (mover, 1, "A1", EnrolmentSource.FORCED, True)
    ]
    assert places_left(store, live.campaign_id)[live.activities["A1"]] == 0
    with store.read() as session:
        assert audit.entries(session, student_id=mover)[0].action == "force"


def test_force_with_free_place_is_plain_correction(store, live):
    result = move_student(store, live.campaign_id, live.students[0],
                          live.activities["A1"], actor="coord", role="coordinator",
                          force=True)  # fmt: skip
    assert result.source == "correction"


def test_force_passes_class_restriction(store, live):
    restricted = live.builder.activity(
        live.campaign_id, "S1", slot=1, eligible_divisions=("2de2",)
    )
    with pytest.raises(EligibilityError, match="réservé aux classes 2de2"):
        move_student(store, live.campaign_id, live.students[0], restricted,
                     actor="prof1", role="teacher")  # fmt: skip
    result = move_student(store, live.campaign_id, live.students[0], restricted,
                          actor="coord", role="coordinator", force=True)  # fmt: skip
    assert result.activity_code == "S1"


@pytest.mark.parametrize(
    ("role", "error", "message"),
    [
        ("student", AccessDenied, "Un élève ne peut pas déplacer d'élève"),
        ("principal", CampaignError, "Rôle inconnu : « principal » ; attendu teacher"),
    ],
)
def test_move_role_rejected(store, live, role, error, message):
    with pytest.raises(error, match=message):
        move_student(store, live.campaign_id, live.students[0], live.activities["A1"],
                     actor="x", role=role)  # fmt: skip


def test_move_in_draft_rejected(store):
    school = small_school(store, status=CampaignStatus.DRAFT)
    with pytest.raises(CampaignError, match="est en préparation ; ouvrez-la"):
        move_student(store, school.campaign_id, school.students[0],
                     school.activities["A1"], actor="c",
                     role="coordinator")  # fmt: skip


def test_move_into_project_replaces_both_slots(store, live):
    student = live.students[0]
    _fill(store, live, "A1", [student])
    _fill(store, live, "B1", [student])
    result = move_student(store, live.campaign_id, student, live.activities["PRJ"],
                          actor="c", role="coordinator")  # fmt: skip
    assert result.replaced == ("A1", "B1")
    assert [r[1:3] for r in _rows(store, live.campaign_id, student)] == [
        (1, "PRJ"),
        (2, "PRJ"),
    ]


def test_move_after_publication_marks_it_changed(store):
    school = small_school(
        store, mode=CampaignMode.PREFERENCES, status=CampaignStatus.PUBLISHED
    )
    with store.write() as session:
        session.add(Publication(campaign_id=school.campaign_id, folder="/tmp/p1"))
    move_student(store, school.campaign_id, school.students[0],
                 school.activities["A1"], actor="c", role="coordinator")  # fmt: skip
    with store.read() as session:
        assert session.scalar(select(Publication.changed)) is True


def test_place_unplaced_fills_everyone(store, live):
    report = place_unplaced(store, live.campaign_id, actor="coord")
    assert report.unplaced == []
    rows = _rows(store, live.campaign_id)
    assert len(rows) == 12
    assert all(r[3] == EnrolmentSource.CORRECTION and r[4] for r in rows)
    left = places_left(store, live.campaign_id)
    assert all(count >= 0 for count in left.values())
    # AÏT-ALI, BÉRANGER and ÇAKIR come first in French order. When ÇAKIR's turn
    # comes, A1 and A2 have one student each, so the empty project is least filled.
    ait_ali, beranger, cakir = live.students[4], live.students[0], live.students[1]
    assert [r[2] for r in _rows(store, live.campaign_id, ait_ali)] == ["A1", "B1"]
    assert [r[2] for r in _rows(store, live.campaign_id, beranger)] == ["A2", "B2"]
    assert [r[2] for r in _rows(store, live.campaign_id, cakir)] == ["PRJ", "PRJ"]
    with store.read() as session:
        entries = audit.entries(session, campaign_id=live.campaign_id)
        assert {e.action for e in entries} == {"place"}
        assert len(entries) == len(report.placed)
    # Two students take the project, so 10 placements fill the 12 slot places.
    assert len(report.placed) == 10


def test_place_unplaced_reports_lack_of_places(store):
    school = small_school(store, capacity=1)
    report = place_unplaced(store, school.campaign_id, actor="coord", slot=1)
    # Slot 1 alone: A1 and A2 have one place each; the project needs slot 2 too.
    assert len(report.placed) == 2
    assert [(row.slot, row.reason) for row in report.unplaced] == [
        (1, "not_signed_up")
    ] * 4
    assert {r[1] for r in _rows(store, school.campaign_id)} == {1}


def test_place_unplaced_selected_students_only(store, live):
    chosen = [live.students[2]]
    report = place_unplaced(store, live.campaign_id, actor="c", student_ids=chosen)
    assert {c.student_id for c in report.placed} == {live.students[2]}
    assert {r[0] for r in _rows(store, live.campaign_id)} == {live.students[2]}


def test_place_unplaced_skips_placed_slots(store, live):
    student = live.students[0]
    _fill(store, live, "B2", [student])
    place_unplaced(store, live.campaign_id, actor="c", student_ids=[student])
    rows = _rows(store, live.campaign_id, student)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        (1, "A1", EnrolmentSource.CORRECTION),
        (2, "B2", EnrolmentSource.SIGNUP),
    ]


def test_place_unplaced_avoids_repeat_and_ineligible(store):
    builder = SchoolBuilder(store)
    block = builder.block("A", ("2de1", "2de2"))
    student = builder.student("MARTIN", "Léa", "2de1")
    teacher = builder.teacher("ROUX")
    p1, p2 = builder.period("P1"), builder.period("P2", start_month=11)
    first = builder.campaign(p1, block, status=CampaignStatus.CLOSED)
    theatre_p1 = builder.activity(
        first, "T1", slot=1, title="Théâtre", teacher_id=teacher
    )
    builder.activity(first, "T2", slot=2, title="Chant")
    builder.enrolment(first, student, theatre_p1)
    second = builder.campaign(p2, block, status=CampaignStatus.CLOSED)
    builder.activity(
        second, "X1", slot=1, capacity=30, title="THEATRE", teacher_id=teacher
    )
    builder.activity(second, "X2", slot=1, capacity=30, eligible_divisions=("2de2",))
    builder.activity(second, "X3", slot=1, capacity=1, title="Échecs")
    builder.activity(second, "Y1", slot=2, capacity=5)
    report = place_unplaced(store, second, actor="c", slot=1)
    assert [c.activity_code for c in report.placed] == ["X3"]


def test_undo_move_restores_signup(store, live):
    student = live.students[0]
    _fill(store, live, "A1", [student])
    moved = move_student(store, live.campaign_id, student, live.activities["A2"],
                         actor="c", role="coordinator")  # fmt: skip
    result = undo(store, moved.audit_id, actor="coord")
    assert result.status == "undone"
    assert result.activity_code == "A1"
    assert _rows(store, live.campaign_id, student) == [
        (student, 1, "A1", EnrolmentSource.SIGNUP, False)
    ]
    with store.read() as session:
        undo_entry, move_entry, _ = audit.entries(session, student_id=student)
        assert undo_entry.action == "undo"
        assert undo_entry.after["undoes"] == moved.audit_id
        assert move_entry.undone_by == undo_entry.id
    with pytest.raises(
        CampaignError,
        match=rf"L'entrée n° {moved.audit_id} est déjà annulée \(par l'entrée n° "
        rf"{result.audit_id}\)",
    ):
        undo(store, moved.audit_id, actor="coord")


def test_undo_superseded_rejected(store, live):
    student = live.students[0]
    first = move_student(store, live.campaign_id, student, live.activities["A1"],
                         actor="c", role="coordinator")  # fmt: skip
    second = move_student(store, live.campaign_id, student, live.activities["A2"],
                          actor="c", role="coordinator")  # fmt: skip
    with pytest.raises(
        CampaignError,
        match=rf"dépassée par une modification plus récente ; annulez d'abord "
        rf"l'entrée n° {second.audit_id}$",
    ):
        undo(store, first.audit_id, actor="c")
    undo(store, second.audit_id, actor="c")
    undo(store, first.audit_id, actor="c")
    assert _rows(store, live.campaign_id, student) == []


def test_undo_placement_of_project(store, live):
    report = place_unplaced(store, live.campaign_id, actor="c")
    project = next(c for c in report.placed if c.activity_code == "PRJ")
    result = undo(store, project.audit_id, actor="c")
    assert result.slots == (1, 2)
    assert result.replaced == ("PRJ",)
    assert _rows(store, live.campaign_id, project.student_id) == []


def test_undo_forced_move(store, live):
    _fill(store, live, "A1", live.students[:3])
    mover = live.students[3]
    _fill(store, live, "A2", [mover])
    forced = move_student(store, live.campaign_id, mover, live.activities["A1"],
                          actor="c", role="coordinator", force=True)  # fmt: skip
    assert forced.source == "forced"
    undo(store, forced.audit_id, actor="c")
    assert [r[2] for r in _rows(store, live.campaign_id, mover)] == ["A2"]
    assert places_left(store, live.campaign_id)[live.activities["A2"]] == 2


def test_undo_when_place_taken_meanwhile(store, live):
    student, others = live.students[0], live.students[1:4]
    _fill(store, live, "A1", [student])
    moved = move_student(store, live.campaign_id, student, live.activities["A2"],
                         actor="c", role="coordinator")  # fmt: skip
    _fill(store, live, "A1", others)
    with pytest.raises(CapacityError, match="impossible d'annuler l'entrée") as caught:
        undo(store, moved.audit_id, actor="c")
    assert caught.value.capacity == 3
    assert [r[2] for r in _rows(store, live.campaign_id, student)] == ["A2"]


def test_undo_status_change_rejected(store):
    school = small_school(store, status=CampaignStatus.DRAFT)
    open_campaign(store, school.campaign_id, actor="c")
    with store.read() as session:
        (entry,) = audit.entries(session, campaign_id=school.campaign_id)
        entry_id = entry.id
    with pytest.raises(CampaignError, match=r"\(campaign_open\) ne change pas"):
        undo(store, entry_id, actor="c")


def test_undo_unknown_entry(store):
    with pytest.raises(NotFoundError, match="Entrée du journal introuvable : n° 7"):
        undo(store, 7, actor="c")


def test_sample_block_c_after_allocation(database_store):
    # Block C, hour 2 has 120 places for 125 students: after allocation and
    # place_unplaced, 5 students remain, until the coordinator forces one in.
    store = database_store
    ensure_sample_school(store)
    with store.read() as session:
        campaign_id = find_campaign(session, "P1", "C").id
    open_campaign(store, campaign_id, actor="coord", allow_shortfall=True)
    close_campaign(store, campaign_id, actor="coord")
    allocate(store, campaign_id)

    report = place_unplaced(store, campaign_id, actor="coord")
    assert report.placed == []
    assert [row.slot for row in report.unplaced] == [2] * 5
    assert len(unplaced_students(store, campaign_id)) == 5
    assert all(left == 0 for left in _slot_places_left(store, campaign_id, 2))

    student = report.unplaced[0].student_id
    with store.read() as session:
        target = session.scalar(
            select(Activity.id).where(
                Activity.campaign_id == campaign_id,
                Activity.first_slot == 2,
                Activity.slot_span == 1,
                Activity.cancelled.is_(False),
            )
        )
    forced = move_student(store, campaign_id, student, target, actor="coord",
                          role="coordinator", force=True)  # fmt: skip
    assert forced.source == "forced"
    assert len(unplaced_students(store, campaign_id)) == 4
    history = student_history(store, student)
    assert [(r.period_code, r.slot, r.source) for r in history][:2] == [
        ("P1", 1, "allocation"),
        ("P1", 2, "forced"),
    ]


def _slot_places_left(store, campaign_id, slot):
    left = places_left(store, campaign_id)
    with store.read() as session:
        activities = session.scalars(
            select(Activity).where(Activity.campaign_id == campaign_id)
        )
        return [left[a.id] for a in activities if slot in a.slots and not a.cancelled]
