"""Live sign-up and ranked preferences, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from apkit import audit
from apkit.corrections import move_student
from apkit.errors import CampaignError, CapacityError, EligibilityError, NotFoundError
from apkit.model import (
    Activity,
    CampaignMode,
    CampaignStatus,
    Enrolment,
    EnrolmentSource,
)
from apkit.preferences import get_preferences, set_preferences
from apkit.signup import enrol, places_left, unenrol
from tests.factories import SchoolBuilder, small_school


def _held(store, campaign_id, student_id):
    """Return {slot: activity code} of the student's enrolments."""
    with store.read() as session:
        rows = session.scalars(
            select(Enrolment).where(
                Enrolment.campaign_id == campaign_id,
                Enrolment.student_id == student_id,
            )
        )
        return {row.slot: row.activity.code for row in rows}


def _audit_count(store, campaign_id):
    with store.read() as session:
        return len(audit.entries(session, campaign_id=campaign_id))


@pytest.fixture
def live(store):
    return small_school(store)


def test_enrol_first_choice(store, live):
    student = live.students[0]
    result = enrol(store, live.campaign_id, student, live.activities["A1"], actor="e1")
    assert result.status == "enrolled"
    assert result.activity_code == "A1"
    assert result.slots == (1,)
    assert result.places_left == 2
    assert _held(store, live.campaign_id, student) == {1: "A1"}
    with store.read() as session:
        (entry,) = audit.entries(session, student_id=student)
        row = session.scalar(select(Enrolment).where(Enrolment.student_id == student))
        assert entry.id == result.audit_id
        assert entry.action == "enrol"
        assert entry.before == {"enrolments": []}
        assert entry.after["enrolments"][0]["activity"] == "A1"
        assert row.source == EnrolmentSource.SIGNUP
        assert row.locked is False


def test_enrol_again_moves_in_one_step(store, live):
    student = live.students[0]
    enrol(store, live.campaign_id, student, live.activities["A1"], actor="e1")
    result = enrol(store, live.campaign_id, student, live.activities["A2"], actor="e1")
    assert result.status == "moved"
    assert result.replaced == ("A1",)
    assert _held(store, live.campaign_id, student) == {1: "A2"}
    assert places_left(store, live.campaign_id)[live.activities["A1"]] == 3


def test_enrol_same_choice_unchanged(store, live):
    student = live.students[0]
    enrol(store, live.campaign_id, student, live.activities["A1"], actor="e1")
    result = enrol(store, live.campaign_id, student, live.activities["A1"], actor="e1")
    assert result.status == "unchanged"
    assert result.audit_id is None
    assert _audit_count(store, live.campaign_id) == 1


def test_enrol_project_replaces_both_slots(store, live):
    student = live.students[0]
    enrol(store, live.campaign_id, student, live.activities["A1"], actor="e1")
    enrol(store, live.campaign_id, student, live.activities["B1"], actor="e1")
    result = enrol(store, live.campaign_id, student, live.activities["PRJ"], actor="e1")
    assert result.status == "moved"
    assert result.slots == (1, 2)
    assert result.replaced == ("A1", "B1")
    assert _held(store, live.campaign_id, student) == {1: "PRJ", 2: "PRJ"}
    assert result.places_left == 1


def test_enrol_leaving_project_frees_both_slots(store, live):
    student = live.students[0]
    enrol(store, live.campaign_id, student, live.activities["PRJ"], actor="e1")
    result = enrol(store, live.campaign_id, student, live.activities["B2"], actor="e1")
    assert result.replaced == ("PRJ",)
    assert _held(store, live.campaign_id, student) == {2: "B2"}
    assert places_left(store, live.campaign_id)[live.activities["PRJ"]] == 2


def test_enrol_full_activity_rejected(store, live):
    for student in live.students[:2]:
        enrol(store, live.campaign_id, student, live.activities["PRJ"], actor="e")
    late = live.students[2]
    enrol(store, live.campaign_id, late, live.activities["A1"], actor="e")
    with pytest.raises(
        CapacityError, match=r"^Atelier complet : PRJ « Projet radio » a 2 places"
    ) as caught:
        enrol(store, live.campaign_id, late, live.activities["PRJ"], actor="e")
    assert caught.value.activity == "PRJ"
    assert caught.value.capacity == 2
    assert caught.value.enrolled == 2
    assert _held(store, live.campaign_id, late) == {1: "A1"}


def test_enrol_closed_campaign_rejected(store):
    school = small_school(store, status=CampaignStatus.CLOSED)
    with pytest.raises(
        CampaignError,
        match=r"La campagne P1, barrette A n'est pas ouverte \(statut : fermée\)",
    ):
        enrol(store, school.campaign_id, school.students[0], school.activities["A1"],
              actor="e")  # fmt: skip
    assert _held(store, school.campaign_id, school.students[0]) == {}


def test_enrol_preferences_campaign_rejected(store):
    school = small_school(store, mode=CampaignMode.PREFERENCES)
    with pytest.raises(CampaignError, match=r"mode : vœux classés\) ; enregistrez"):
        enrol(store, school.campaign_id, school.students[0], school.activities["A1"],
              actor="e")  # fmt: skip


def test_enrol_activity_of_other_campaign_rejected(store, live):
    p2 = live.builder.period("P2", start_month=11)
    other = live.builder.campaign(p2, live.block_id)
    foreign = live.builder.activity(other, "Z1")
    with pytest.raises(CampaignError, match="L'atelier Z1 « Atelier Z1 » n'appartient"):
        enrol(store, live.campaign_id, live.students[0], foreign, actor="e")


def test_enrol_cancelled_activity_rejected(store, live):
    with store.write() as session:
        session.get(Activity, live.activities["A2"]).cancelled = True
    with pytest.raises(CampaignError, match="est annulé ; choisissez-en un autre"):
        enrol(store, live.campaign_id, live.students[0], live.activities["A2"],
              actor="e")  # fmt: skip


def test_enrol_ineligible_student_rejected(store, live):
    restricted = live.builder.activity(
        live.campaign_id, "S1", slot=1, eligible_divisions=("2de2",)
    )
    with pytest.raises(
        EligibilityError,
        match=r"réservé aux classes 2de2 ; BÉRANGER Thomas \(2de1\) n'y a pas accès",
    ):
        enrol(store, live.campaign_id, live.students[0], restricted, actor="e")
    result = enrol(store, live.campaign_id, live.students[3], restricted, actor="e")
    assert result.status == "enrolled"


def test_enrol_named_student_allowed(store, live):
    named = live.builder.activity(
        live.campaign_id, "S2", slot=1, named_students=(live.students[1],)
    )
    assert enrol(store, live.campaign_id, live.students[1], named, actor="e").status
    with pytest.raises(EligibilityError, match="réservé à des élèves désignés"):
        enrol(store, live.campaign_id, live.students[0], named, actor="e")


def test_enrol_student_who_left_rejected(store, live):
    gone = live.builder.student("PARTI", "Jean", "2de1", left_on=dt.date(2025, 1, 10))
    with pytest.raises(
        EligibilityError, match=r"PARTI Jean \(2de1\) a quitté l'établissement le 10/01"
    ):
        enrol(store, live.campaign_id, gone, live.activities["A1"], actor="e")


def test_enrol_student_of_other_block_rejected(store, live):
    live.builder.block("B", ("2de5",))
    other = live.builder.student("AUTRE", "Barrette", "2de5")
    with pytest.raises(EligibilityError, match="n'est pas de la barrette A"):
        enrol(store, live.campaign_id, other, live.activities["A1"], actor="e")


def test_enrol_unknown_student(store, live):
    with pytest.raises(NotFoundError, match="Élève introuvable : n° 999"):
        enrol(store, live.campaign_id, 999, live.activities["A1"], actor="e")


def test_unenrol_project_removes_both_rows(store, live):
    student = live.students[0]
    enrol(store, live.campaign_id, student, live.activities["PRJ"], actor="e")
    result = unenrol(store, live.campaign_id, student, actor="e", slot=2)
    assert result.status == "removed"
    assert result.slots == (1, 2)
    assert result.replaced == ("PRJ",)
    assert _held(store, live.campaign_id, student) == {}
    again = unenrol(store, live.campaign_id, student, actor="e")
    assert again.status == "unchanged"


def test_enrol_locked_place_kept(store, live):
    student = live.students[0]
    move_student(store, live.campaign_id, student, live.activities["PRJ"],
                 actor="prof", role="teacher")  # fmt: skip
    message = (
        r"La place de BÉRANGER Thomas \(2de1\) à l'heure 1 \(PRJ « Projet radio »\) "
        r"a été fixée par un enseignant ou le coordinateur"
    )
    with pytest.raises(CampaignError, match=message):
        enrol(store, live.campaign_id, student, live.activities["B1"], actor="e")
    with pytest.raises(CampaignError, match=message):
        unenrol(store, live.campaign_id, student, actor="e")
    assert _held(store, live.campaign_id, student) == {1: "PRJ", 2: "PRJ"}
    again = enrol(store, live.campaign_id, student, live.activities["PRJ"], actor="e")
    assert again.status == "unchanged"


def test_places_left_counts_projects_once(store, live):
    enrol(store, live.campaign_id, live.students[0], live.activities["PRJ"], actor="e")
    enrol(store, live.campaign_id, live.students[1], live.activities["A1"], actor="e")
    left = places_left(store, live.campaign_id)
    assert left == {
        live.activities["A1"]: 2,
        live.activities["A2"]: 3,
        live.activities["B1"]: 3,
        live.activities["B2"]: 3,
        live.activities["PRJ"]: 1,
    }


@pytest.fixture
def ranked(store):
    return small_school(store, mode=CampaignMode.PREFERENCES)


def _ranks(store, school, student):
    return [
        (c.slot, c.rank, c.activity_code)
        for c in get_preferences(store, school.campaign_id, student)
    ]


def test_set_preferences_ranks_in_order(store, ranked):
    a = ranked.activities
    student = ranked.students[0]
    choices = set_preferences(store, ranked.campaign_id, student, 1, [a["A2"], a["A1"]])
    assert [(c.slot, c.rank, c.activity_code) for c in choices] == [
        (1, 1, "A2"),
        (1, 2, "A1"),
    ]
    assert all(c.updated_at is not None for c in choices)
    with store.read() as session:
        (entry,) = audit.entries(session, student_id=student)
        assert entry.action == "preferences"
        assert entry.after == {"1": ["A2", "A1"]}


def test_set_preferences_project_in_both_slots(store, ranked):
    a = ranked.activities
    student = ranked.students[0]
    set_preferences(store, ranked.campaign_id, student, 2, [a["B1"], a["B2"]])
    set_preferences(store, ranked.campaign_id, student, 1, [a["A1"], a["PRJ"]])
    assert _ranks(store, ranked, student) == [
        (1, 1, "A1"),
        (1, 2, "PRJ"),
        (2, 1, "B1"),
        (2, 2, "PRJ"),
        (2, 3, "B2"),
    ]
    # Dropping the project from slot 2 drops it from slot 1 as well.
    set_preferences(store, ranked.campaign_id, student, 2, [a["B2"]])
    assert _ranks(store, ranked, student) == [(1, 1, "A1"), (2, 1, "B2")]


def test_set_preferences_project_never_drops_a_choice(store, ranked):
    a = ranked.activities
    student = ranked.students[0]
    extra = ranked.builder.activity(ranked.campaign_id, "B3", slot=2)
    set_preferences(store, ranked.campaign_id, student, 2, [a["B1"], a["B2"], extra])
    before = _ranks(store, ranked, student)
    with pytest.raises(
        CampaignError,
        match=r"Le projet « Projet radio » occupe aussi l'heure 2, qui a déjà 3 "
        r"choix : retire d'abord un choix de l'heure 2 \(3 choix au maximum\)",
    ):
        set_preferences(store, ranked.campaign_id, student, 1, [a["PRJ"]])
    assert _ranks(store, ranked, student) == before
    assert _audit_count(store, ranked.campaign_id) == 1
    # Once the student frees a rank in slot 2, the project fits and nothing is lost.
    set_preferences(store, ranked.campaign_id, student, 2, [a["B1"], a["B2"]])
    set_preferences(store, ranked.campaign_id, student, 1, [a["PRJ"]])
    assert _ranks(store, ranked, student) == [
        (1, 1, "PRJ"),
        (2, 1, "PRJ"),
        (2, 2, "B1"),
        (2, 3, "B2"),
    ]
    # Withdrawing the project gives slot 2 back its own choices, in order.
    set_preferences(store, ranked.campaign_id, student, 1, [])
    assert _ranks(store, ranked, student) == [(2, 1, "B1"), (2, 2, "B2")]


def test_set_preferences_same_list_keeps_time(store, ranked):
    a = ranked.activities
    student = ranked.students[0]
    first = set_preferences(store, ranked.campaign_id, student, 1, [a["A1"], a["A2"]])
    again = set_preferences(store, ranked.campaign_id, student, 1, [a["A1"], a["A2"]])
    assert again == first
    assert _audit_count(store, ranked.campaign_id) == 1


def test_set_preferences_empty_list_withdraws(store, ranked):
    a = ranked.activities
    student = ranked.students[0]
    set_preferences(store, ranked.campaign_id, student, 1, [a["A1"]])
    assert set_preferences(store, ranked.campaign_id, student, 1, []) == []


@pytest.mark.parametrize(
    ("slot", "codes", "message"),
    [
        (1, ["A1", "A2", "PRJ", "A1"], r"Trop de vœux pour l'heure 1 : 4 donnés, 3 "),
        (1, ["A1", "A1"], r"A1 « Atelier A1 » est classé deux fois à l'heure 1"),
        (1, ["B1"], r"B1 « Atelier B1 » n'a pas lieu à l'heure 1 \(heure 2\)"),
        (3, ["A1"], r"Heure 3 inexistante : la barrette A a 2 heures d'AP"),
    ],
)
def test_set_preferences_invalid_rejected(store, ranked, slot, codes, message):
    ids = [ranked.activities[code] for code in codes]
    with pytest.raises(CampaignError, match=message):
        set_preferences(store, ranked.campaign_id, ranked.students[0], slot, ids)
    assert get_preferences(store, ranked.campaign_id, ranked.students[0]) == []


def test_set_preferences_ineligible_rejected(store, ranked):
    restricted = ranked.builder.activity(
        ranked.campaign_id, "S1", slot=1, eligible_divisions=("2de2",)
    )
    with pytest.raises(EligibilityError, match="réservé aux classes 2de2"):
        set_preferences(store, ranked.campaign_id, ranked.students[0], 1, [restricted])


def test_set_preferences_closed_campaign_rejected(store):
    school = small_school(
        store, mode=CampaignMode.PREFERENCES, status=CampaignStatus.CLOSED
    )
    with pytest.raises(CampaignError, match="les vœux ne peuvent plus être modifiés"):
        set_preferences(store, school.campaign_id, school.students[0], 1,
                        [school.activities["A1"]])  # fmt: skip


def test_set_preferences_live_campaign_rejected(store, live):
    with pytest.raises(CampaignError, match=r"ne se fait pas par vœux \(mode : insc"):
        set_preferences(store, live.campaign_id, live.students[0], 1,
                        [live.activities["A1"]])  # fmt: skip


def test_set_preferences_three_slots(store):
    builder = SchoolBuilder(store)
    block = builder.block("A", ("2de1",), slot_count=3)
    (student,) = builder.students("2de1", 1)
    campaign = builder.campaign(builder.period(), block, mode=CampaignMode.PREFERENCES)
    late_project = builder.activity(campaign, "P23", slot=2, span=2)
    builder.activity(campaign, "C1", slot=1)
    set_preferences(store, campaign, student, 3, [late_project])
    choices = get_preferences(store, campaign, student)
    assert [(c.slot, c.rank, c.activity_code) for c in choices] == [
        (2, 1, "P23"),
        (3, 1, "P23"),
    ]
