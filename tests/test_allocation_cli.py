"""The ``apkit allocate`` and ``apkit result`` commands."""

from __future__ import annotations

import json

from apkit.cli import main
from apkit.model import CampaignMode
from tests.factories import small_school


def test_cli_allocate_then_result_json(database_store, capsys):
    school = small_school(database_store, mode=CampaignMode.PREFERENCES)
    school.builder.preference(
        school.campaign_id, school.students[0], 1, 1, school.activities["A2"]
    )
    url = database_store.url

    assert main(["--database", url, "allocate", "--period", "P1", "--block", "A",
                 "--seed", "4", "--actor", "test"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert text.startswith("Campagne P1, barrette A : 12 places attribuées sur 12")
    assert "Rangs obtenus : choix 1 : 1 ; sans vœu ou hors vœux : 11." in text
    assert "Graine du tirage : 4." in text

    assert main(["--database", url, "result", "--period", "P1", "--block", "A",
                 "--json"]) == 0  # fmt: skip
    result = json.loads(capsys.readouterr().out)
    assert result["seed"] == 4
    assert result["counts"]["placed"] == 12
    assert result["unplaced"] == []
    first = [r for r in result["rows"] if r["student_id"] == school.students[0]]
    assert [(r["slot"], r["activity_code"], r["rank"]) for r in first][0] == (
        1,
        "A2",
        1,
    )


def test_cli_allocate_unknown_block(database_store, capsys):
    small_school(database_store, mode=CampaignMode.PREFERENCES)
    code = main(["--database", database_store.url, "allocate", "--period", "P1",
                 "--block", "Z"])  # fmt: skip
    assert code == 2
    assert "Barrette introuvable : « Z »" in capsys.readouterr().err
