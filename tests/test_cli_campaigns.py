"""The ``apkit mode`` command and ``apkit open --mode``."""

from __future__ import annotations

import json

import pytest

from apkit.cli import main
from apkit.model import Campaign, CampaignMode, CampaignStatus
from tests.factories import small_school

WHERE = ["--period", "P1", "--block", "A"]


def _cli(store, capsys, *words):
    code = main(["--database", store.url, *words])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _mode(store, campaign_id):
    with store.read() as session:
        return session.get(Campaign, campaign_id).mode


def test_cli_mode_sets_the_mode(database_store, capsys):
    school = small_school(database_store, status=CampaignStatus.DRAFT)
    code, out, _ = _cli(database_store, capsys, "mode", *WHERE, "rotation")
    assert code == 0
    assert out.strip() == "Campagne P1, barrette A : mode « rotation »."
    assert _mode(database_store, school.campaign_id) == CampaignMode.ROTATION
    code, out, _ = _cli(database_store, capsys, "mode", *WHERE, "preferences",
                        "--max-choices", "2", "--unranked", "leave",
                        "--json")  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert (result["mode"], result["status"]) == ("preferences", "draft")
    with database_store.read() as session:
        campaign = session.get(Campaign, school.campaign_id)
        assert (campaign.max_choices, campaign.unranked_policy) == (2, "leave")


def test_cli_mode_refused_on_open_campaign(database_store, capsys):
    small_school(database_store)
    code, _, err = _cli(database_store, capsys, "mode", *WHERE, "preferences")
    assert code == 2
    assert "apkit : Campagne P1, barrette A ouverte : son mode ne peut changer" in err


def test_cli_mode_unknown_value(database_store, capsys):
    small_school(database_store, status=CampaignStatus.DRAFT)
    with pytest.raises(SystemExit):
        main(["--database", database_store.url, "mode", *WHERE, "tirage"])
    assert "tirage" in capsys.readouterr().err


def test_cli_open_with_mode(database_store, capsys):
    school = small_school(database_store, status=CampaignStatus.DRAFT)
    code, out, _ = _cli(database_store, capsys, "open", *WHERE, "--mode",
                        "preferences", "--actor", "coord")  # fmt: skip
    assert code == 0
    assert out.strip() == ("Campagne P1, barrette A ouverte en mode « vœux classés ».")
    assert _mode(database_store, school.campaign_id) == CampaignMode.PREFERENCES
    code, out, _ = _cli(database_store, capsys, "close", *WHERE, "--json")
    code, out, _ = _cli(database_store, capsys, "--json", "open", *WHERE,
                        "--mode", "live")  # fmt: skip
    assert code == 0
    assert json.loads(out) == {"status": "open", "warnings": [], "mode": "live"}
    assert _mode(database_store, school.campaign_id) == CampaignMode.LIVE
