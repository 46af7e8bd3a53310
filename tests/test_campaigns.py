"""Campaigns: lookup, feasibility checks and status changes, on both backends."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select

from apkit import audit
from apkit.campaigns import (
    check_feasibility,
    close_campaign,
    default_period_code,
    find_campaign,
    list_campaigns,
    mark_published,
    open_campaign,
    set_campaign_mode,
)
from apkit.cli import main
from apkit.errors import CampaignError, FeasibilityError, NotFoundError
from apkit.model import Campaign, CampaignMode, CampaignStatus, UnrankedPolicy
from apkit.sample import ensure_sample_school
from tests.factories import SchoolBuilder, small_school


def _draft(store, capacity=3):
    return small_school(store, status=CampaignStatus.DRAFT, capacity=capacity)


def _status(store, campaign_id):
    with store.read() as session:
        return session.get(Campaign, campaign_id).status


def test_find_campaign_by_period_and_block(store):
    school = _draft(store)
    with store.read() as session:
        campaign = find_campaign(session, "P1", "A")
        assert campaign.id == school.campaign_id


@pytest.mark.parametrize(
    ("period", "block", "message"),
    [
        ("P9", "A", r"Période introuvable : « P9 » ; périodes connues : P1"),
        ("P1", "Z", r"Barrette introuvable : « Z » ; barrettes connues : A"),
    ],
)
def test_find_campaign_unknown_names(store, period, block, message):
    _draft(store)
    with store.read() as session:
        with pytest.raises(NotFoundError, match=message):
            find_campaign(session, period, block)


def test_find_campaign_missing_campaign(store):
    school = _draft(store)
    school.builder.period("P2", start_month=11)
    with store.read() as session:
        with pytest.raises(NotFoundError, match="Aucune campagne pour la période P2"):
            find_campaign(session, "P2", "A")


def test_list_campaigns_in_period_order(store):
    school = _draft(store)
    p2 = school.builder.period("P2", start_month=11)
    later = school.builder.campaign(p2, school.block_id)
    summaries = list_campaigns(store)
    assert [s.id for s in summaries] == [school.campaign_id, later]
    assert summaries[0].period == "P1"
    assert summaries[0].block == "A"
    assert summaries[0].status == "draft"
    assert summaries[0].activities == 5
    assert summaries[0].slots == [1, 2]


def test_feasibility_clean_offer_has_no_problem(store):
    school = _draft(store)
    assert check_feasibility(store, school.campaign_id) == []


def test_feasibility_shortfall_message(store):
    # Slot 2 offers B1 + B2 + PRJ = 1 + 1 + 2 places for 6 students.
    school = _draft(store, capacity=1)
    problems = check_feasibility(store, school.campaign_id)
    assert [p.message for p in problems] == [
        "Barrette A, heure 1 : 6 élèves pour 4 places, il manque 2 places",
        "Barrette A, heure 2 : 6 élèves pour 4 places, il manque 2 places",
    ]
    assert problems[0].kind == "shortfall"
    assert problems[0].slot == 1
    assert problems[0].missing == 2


def test_feasibility_one_missing_place_singular(store):
    school = _draft(store, capacity=2)
    school.builder.student("NOUVEL", "Arrivant", "2de1")
    school.builder.student("AUTRE", "Arrivant", "2de2")
    school.builder.student("TROISIEME", "Arrivant", "2de2")
    messages = [p.message for p in check_feasibility(store, school.campaign_id)]
    assert messages == [
        "Barrette A, heure 1 : 9 élèves pour 6 places, il manque 3 places",
        "Barrette A, heure 2 : 9 élèves pour 6 places, il manque 3 places",
    ]
    with store.write() as session:
        session.get(Campaign, school.campaign_id).activities[0].capacity = 4
    messages = [p.message for p in check_feasibility(store, school.campaign_id)]
    assert messages[0] == (
        "Barrette A, heure 1 : 9 élèves pour 8 places, il manque 1 place"
    )


def test_feasibility_ignores_leavers_and_cancelled(store):
    school = _draft(store, capacity=1)
    builder = school.builder
    builder.activity(school.campaign_id, "X1", capacity=9, slot=1, cancelled=True)
    builder.student("PARTI", "Jean", "2de1", left_on=dt.date(2025, 1, 10))
    problems = check_feasibility(store, school.campaign_id)
    assert problems[0].message == (
        "Barrette A, heure 1 : 6 élèves pour 4 places, il manque 2 places"
    )


def test_feasibility_eligibility_limits_places(store):
    # A1 takes only the 3 students of 2de2, so 2 of its 5 places stay unusable and
    # the 3 students of 2de1 share the single place of A2.
    builder = SchoolBuilder(store)
    block = builder.block("A", ("2de1", "2de2"))
    for class_name in ("2de1", "2de2"):
        builder.students(class_name, 3)
    campaign = builder.campaign(builder.period(), block, status=CampaignStatus.DRAFT)
    builder.activity(campaign, "A1", capacity=5, slot=1, eligible_divisions=("2de2",))
    builder.activity(campaign, "A2", capacity=1, slot=1)
    builder.activity(campaign, "B1", capacity=6, slot=2)
    problems = check_feasibility(store, campaign)
    assert [p.message for p in problems] == [
        "Barrette A, heure 1 : 6 élèves pour 6 places, mais les restrictions "
        "d'inscription n'en laissent que 4 utilisables, il manque 2 places"
    ]


def test_feasibility_named_student_counts(store):
    builder = SchoolBuilder(store)
    block = builder.block("A", ("2de1",))
    first, second = builder.students("2de1", 2)
    campaign = builder.campaign(builder.period(), block, status=CampaignStatus.DRAFT)
    builder.activity(campaign, "A1", capacity=2, slot=1, named_students=(first,))
    builder.activity(campaign, "B1", capacity=2, slot=2)
    problems = check_feasibility(store, campaign)
    assert [p.missing for p in problems] == [1]


def test_feasibility_teacher_and_room_twice(store):
    school = _draft(store)
    builder = school.builder
    builder.activity(
        school.campaign_id, "A3", slot=1, teacher_id=school.teachers[0], room="R2"
    )
    problems = check_feasibility(store, school.campaign_id)
    by_kind = {p.kind: p for p in problems}
    assert by_kind["teacher_twice"].message == (
        "Barrette A, heure 1 : PROF1 Prof anime 2 ateliers à la fois (A1, A3) ; "
        "gardez-en un seul dans cette heure"
    )
    assert by_kind["room_twice"].message == (
        "Barrette A, heure 1 : la salle R2 est attribuée à 2 ateliers (A2, A3) ; "
        "changez la salle de l'un d'eux"
    )
    assert by_kind["room_twice"].activities == ("A2", "A3")


def test_feasibility_project_clashes_in_second_slot(store):
    school = _draft(store)
    school.builder.activity(
        school.campaign_id, "B3", slot=2, teacher_id=school.teachers[4]
    )
    problems = check_feasibility(store, school.campaign_id)
    assert [(p.kind, p.slot) for p in problems] == [("teacher_twice", 2)]


def test_feasibility_min_size_over_capacity(store):
    school = _draft(store)
    school.builder.activity(school.campaign_id, "A4", capacity=4, min_size=6)
    problems = check_feasibility(store, school.campaign_id)
    assert [p.message for p in problems] == [
        "Atelier A4 « Atelier A4 » : effectif minimum 6 supérieur à la capacité 4 ; "
        "il ne pourrait jamais ouvrir"
    ]


def test_open_campaign_audited(store):
    school = _draft(store)
    assert open_campaign(store, school.campaign_id, actor="coord") == []
    with store.read() as session:
        campaign = session.get(Campaign, school.campaign_id)
        assert campaign.status == CampaignStatus.OPEN
        assert campaign.opened_at is not None
        (entry,) = audit.entries(session, campaign_id=school.campaign_id)
        assert entry.action == "campaign_open"
        assert entry.actor == "coord"
        assert entry.before == {"status": "draft"}
        assert entry.after == {"status": "open"}


def test_open_campaign_shortfall_blocks(store):
    school = _draft(store, capacity=1)
    with pytest.raises(FeasibilityError, match="il manque 2 places") as caught:
        open_campaign(store, school.campaign_id, actor="coord")
    assert len(caught.value.problems) == 2
    assert _status(store, school.campaign_id) == CampaignStatus.DRAFT


def test_open_campaign_shortfall_allowed_as_warning(store, caplog):
    school = _draft(store, capacity=1)
    warnings = open_campaign(
        store, school.campaign_id, actor="coord", allow_shortfall=True
    )
    assert [w.kind for w in warnings] == ["shortfall", "shortfall"]
    assert _status(store, school.campaign_id) == CampaignStatus.OPEN
    with store.read() as session:
        (entry,) = audit.entries(session, campaign_id=school.campaign_id)
        assert len(entry.after["warnings"]) == 2
    assert "opened despite" in caplog.text


def test_open_campaign_room_twice_blocks_even_if_allowed(store):
    school = _draft(store)
    school.builder.activity(school.campaign_id, "A3", slot=1, room="R1")
    with pytest.raises(FeasibilityError, match="la salle R1 est attribuée"):
        open_campaign(store, school.campaign_id, actor="coord", allow_shortfall=True)
    assert _status(store, school.campaign_id) == CampaignStatus.DRAFT


def test_status_transitions_full_cycle(store):
    school = _draft(store)
    campaign_id = school.campaign_id
    open_campaign(store, campaign_id, actor="coord")
    close_campaign(store, campaign_id, actor="coord")
    open_campaign(store, campaign_id, actor="coord")
    close_campaign(store, campaign_id, actor="coord")
    mark_published(store, campaign_id, actor="coord")
    with store.read() as session:
        campaign = session.get(Campaign, campaign_id)
        assert campaign.status == CampaignStatus.PUBLISHED
        assert campaign.closed_at is not None
        assert campaign.published_at is not None
        actions = [e.action for e in audit.entries(session, campaign_id=campaign_id)]
    assert actions == [
        "campaign_published",
        "campaign_closed",
        "campaign_open",
        "campaign_closed",
        "campaign_open",
    ]


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        (CampaignStatus.DRAFT, close_campaign, "en préparation : elle ne peut pas "
         "passer au statut « fermée » ; statuts possibles : ouverte"),
        (CampaignStatus.DRAFT, mark_published, "passer au statut « publiée »"),
        (CampaignStatus.OPEN, mark_published, "ouverte : elle ne peut pas passer au "
         "statut « publiée » ; statuts possibles : fermée"),
        (CampaignStatus.OPEN, open_campaign, "passer au statut « ouverte »"),
        (CampaignStatus.PUBLISHED, open_campaign, "publiée : elle ne peut pas passer "
         "au statut « ouverte »$"),
    ],
)  # fmt: skip
def test_status_transition_rejected(store, status, action, message):
    school = small_school(store, status=status)
    with pytest.raises(CampaignError, match=message):
        action(store, school.campaign_id, actor="coord")
    assert _status(store, school.campaign_id) == status
    with store.read() as session:
        assert audit.entries(session, campaign_id=school.campaign_id) == []


def test_open_unknown_campaign(store):
    with pytest.raises(NotFoundError, match="Campagne introuvable : n° 42"):
        open_campaign(store, 42, actor="coord")


def test_sample_school_block_c_hour_2_short(database_store):
    ensure_sample_school(database_store)
    with database_store.read() as session:
        ids = {name: find_campaign(session, "P1", name).id for name in "ABC"}
    assert check_feasibility(database_store, ids["A"]) == []
    assert check_feasibility(database_store, ids["B"]) == []
    (problem,) = check_feasibility(database_store, ids["C"])
    assert problem.message == (
        "Barrette C, heure 2 : 125 élèves pour 120 places, il manque 5 places"
    )


def _cli(store, capsys, *words):
    code = main(["--database", store.url, *words])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_campaigns_and_check(database_store, capsys):
    school = _draft(database_store, capacity=1)
    code, out, _ = _cli(database_store, capsys, "campaigns")
    assert code == 0
    expected = "P1 barrette A inscription directe en préparation 5 ateliers"
    assert out.split() == expected.split()
    code, out, _ = _cli(
        database_store, capsys, "check", "--period", "P1", "--block", "A"
    )
    assert code == 1
    assert out.splitlines()[0] == (
        "Barrette A, heure 1 : 6 élèves pour 4 places, il manque 2 places"
    )
    code, out, _ = _cli(
        database_store, capsys, "check", "--period", "P1", "--block", "A", "--json"
    )
    result = json.loads(out)
    assert result["problems"][1]["slot"] == 2
    assert result["problems"][1]["missing"] == 2
    assert result["problems"][1]["waivable"] is True
    assert _status(database_store, school.campaign_id) == CampaignStatus.DRAFT


def test_cli_open_close_and_unplaced(database_store, capsys):
    school = _draft(database_store, capacity=1)
    where = ["--period", "P1", "--block", "A"]
    code, _, err = _cli(database_store, capsys, "open", *where)
    assert code == 2
    assert "apkit : Barrette A, heure 1 : 6 élèves pour 4 places" in err
    code, out, _ = _cli(database_store, capsys, "--json", "open", *where,
                        "--allow-shortfall", "--actor", "coord")  # fmt: skip
    assert code == 0
    assert len(json.loads(out)["warnings"]) == 2
    code, out, _ = _cli(database_store, capsys, "unplaced", *where, "--slot", "2")
    assert out.splitlines()[0] == "AÏT-ALI Samir (2de2), heure 2 : pas inscrit"
    assert out.splitlines()[-1] == "6 places à pourvoir."
    code, out, _ = _cli(database_store, capsys, "close", *where)
    assert out.strip() == "Campagne P1, barrette A fermée."
    assert _status(database_store, school.campaign_id) == CampaignStatus.CLOSED
    with database_store.read() as session:
        actors = [e.actor for e in audit.entries(session)]
        assert actors[1] == "coord"


def _mode(store, campaign_id):
    with store.read() as session:
        campaign = session.get(Campaign, campaign_id)
        return campaign.mode, campaign.max_choices, campaign.unranked_policy


def test_set_campaign_mode_on_draft_is_audited(store):
    school = _draft(store)
    summary = set_campaign_mode(store, school.campaign_id, "preferences",
                                actor="coord", max_choices=2,
                                unranked_policy="leave")  # fmt: skip
    assert summary.mode == "preferences"
    assert _mode(store, school.campaign_id) == (
        CampaignMode.PREFERENCES,
        2,
        UnrankedPolicy.LEAVE,
    )
    with store.read() as session:
        (entry,) = audit.entries(session, campaign_id=school.campaign_id)
        assert (entry.action, entry.actor) == ("campaign_mode", "coord")
        before, after = entry.before, entry.after
    assert before == {"mode": "live", "max_choices": 3, "unranked_policy": "fill"}
    assert after == {"mode": "preferences", "max_choices": 2,
                     "unranked_policy": "leave"}  # fmt: skip


def test_set_campaign_mode_on_closed_campaign(store):
    school = small_school(store, status=CampaignStatus.CLOSED)
    set_campaign_mode(store, school.campaign_id, CampaignMode.ROTATION, actor="c")
    assert _mode(store, school.campaign_id)[0] == CampaignMode.ROTATION


@pytest.mark.parametrize(
    ("status", "published", "label"),
    [
        (CampaignStatus.OPEN, False, "ouverte"),
        (CampaignStatus.PUBLISHED, True, "publiée"),
    ],
)
def test_set_campaign_mode_refused_open_or_published(store, status, published, label):
    school = small_school(store, status=status)
    if published:
        with store.write() as session:
            session.get(Campaign, school.campaign_id).published_at = dt.datetime.now()
    with pytest.raises(
        CampaignError,
        match=f"Campagne P1, barrette A {label} : son mode ne peut changer qu'en "
        "préparation, ou fermée et jamais publiée",
    ):
        set_campaign_mode(store, school.campaign_id, "preferences", actor="c")
    assert _mode(store, school.campaign_id)[0] == CampaignMode.LIVE
    with store.read() as session:
        assert audit.entries(session, campaign_id=school.campaign_id) == []


def test_set_campaign_mode_unchanged_is_accepted_when_open(store):
    school = small_school(store)
    set_campaign_mode(store, school.campaign_id, "live", actor="c")
    with store.read() as session:
        assert audit.entries(session, campaign_id=school.campaign_id) == []


@pytest.mark.parametrize(
    ("mode", "options", "message"),
    [
        ("tirage", {}, r"Mode inconnu : « tirage » ; valeurs possibles : live \(in"),
        ("live", {"unranked_policy": "x"}, r"Règle inconnue pour les élèves sans vœu"),
        (
            "live",
            {"max_choices": 0},
            r"Nombre de vœux invalide : 0 ; donnez au moins 1",
        ),
    ],
)
def test_set_campaign_mode_invalid_values(store, mode, options, message):
    school = _draft(store)
    school_mode = _mode(store, school.campaign_id)
    with pytest.raises(CampaignError, match=message):
        set_campaign_mode(store, school.campaign_id, mode, actor="c", **options)
    assert _mode(store, school.campaign_id) == school_mode


def test_set_campaign_mode_keeps_ranked_choices(store):
    school = small_school(store, mode=CampaignMode.PREFERENCES,
                          status=CampaignStatus.CLOSED)  # fmt: skip
    for rank, code in enumerate(["A1", "A2", "PRJ"], start=1):
        school.builder.preference(school.campaign_id, school.students[0], 1, rank,
                                  school.activities[code])  # fmt: skip
    with pytest.raises(CampaignError, match="des élèves ont déjà classé 3 vœux"):
        set_campaign_mode(store, school.campaign_id, "preferences", actor="c",
                          max_choices=2)  # fmt: skip
    assert _mode(store, school.campaign_id)[1] == 3


def test_set_campaign_mode_missing_campaign(store):
    with pytest.raises(NotFoundError, match="Campagne introuvable : n° 42"):
        set_campaign_mode(store, 42, "live", actor="c")


def test_open_with_mode_is_one_change(store):
    school = _draft(store, capacity=1)
    with pytest.raises(FeasibilityError):
        open_campaign(store, school.campaign_id, actor="c", mode="preferences")
    assert _mode(store, school.campaign_id)[0] == CampaignMode.LIVE
    open_campaign(store, school.campaign_id, actor="c", mode="preferences",
                  allow_shortfall=True)  # fmt: skip
    assert _mode(store, school.campaign_id)[0] == CampaignMode.PREFERENCES
    assert _status(store, school.campaign_id) == CampaignStatus.OPEN


def _year(store):
    """P1 (Sep.) with activities, P2 (Nov.) with a cancelled one, P3 (Jan.) empty."""
    builder = SchoolBuilder(store)
    block = builder.block("A", ("2de1",))
    periods = {
        code: builder.period(code, start_month=month)
        for code, month in [("P1", 9), ("P2", 11), ("P3", 1)]
    }
    builder.activity(builder.campaign(periods["P1"], block), "A1")
    cancelled = builder.campaign(periods["P2"], block)
    builder.activity(cancelled, "A2", cancelled=True)
    builder.campaign(periods["P3"], block)
    return builder, block, periods


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (dt.date(2025, 8, 20), "P1"),  # before the year: the first with data
        (dt.date(2025, 9, 10), "P1"),
        (dt.date(2025, 11, 10), "P1"),  # P2 has only a cancelled activity
        (dt.date(2026, 1, 10), "P1"),  # P3's campaign has no activity
        (dt.date(2026, 12, 4), "P1"),  # long after the year
    ],
)
def test_default_period_is_one_with_data(store, today, expected):
    _year(store)
    assert default_period_code(store, today) == expected


def test_default_period_prefers_today_then_last_started(store):
    builder, block, periods = _year(store)
    with store.read() as session:
        p3 = session.scalars(
            select(Campaign.id).where(Campaign.period_id == periods["P3"])
        ).one()
    builder.activity(p3, "C1")
    assert default_period_code(store, dt.date(2026, 1, 10)) == "P3"
    assert default_period_code(store, dt.date(2025, 11, 10)) == "P1"
    assert default_period_code(store, dt.date(2026, 12, 4)) == "P3"


def test_default_period_without_data_or_periods(store):
    assert default_period_code(store) is None
    builder = SchoolBuilder(store)
    builder.period("P1", start_month=9)
    builder.period("P2", start_month=11)
    assert default_period_code(store, dt.date(2025, 8, 1)) == "P1"
    assert default_period_code(store, dt.date(2025, 12, 1)) == "P2"


def test_default_period_of_the_latest_year_only(store):
    builder = SchoolBuilder(store)
    block = builder.block("A", ("2de1",))
    old = builder.period("P1", school_year="2024-2025")
    builder.activity(builder.campaign(old, block), "A1")
    builder.period("Q1", school_year="2025-2026")
    assert default_period_code(store, dt.date(2025, 12, 1)) == "Q1"
