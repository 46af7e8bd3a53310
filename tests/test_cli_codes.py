"""``apkit codes generate`` for one student, through apkit.cli.main."""

from __future__ import annotations

import pytest
from pypdf import PdfReader

from apkit import access
from apkit.cli import main
from apkit.errors import AccessDenied
from apkit.model import Role
from tests.test_access import NEUTRAL, _add_people


@pytest.fixture
def people(store):
    _add_people(store)
    return store


def generate(capsys, store, *options) -> tuple[int, str, str]:
    code = main(["--database", store.url, "codes", "generate", *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_codes_generate_one_student(people, tmp_path, capsys):
    class_csv = tmp_path / "codes_2de1.csv"
    code, _, _ = generate(capsys, people, "--class", "2de1", "--out", str(class_csv))
    assert code == 0
    old = {item.label: item for item in access.read_codes_csv(class_csv)}

    late_csv = tmp_path / "codes_S1.csv"
    slips = tmp_path / "coupons"
    code, out, _ = generate(
        capsys, people, "--student", "S1", "--out", str(late_csv), "--slips", str(slips)
    )

    assert code == 0
    assert out.startswith(f"1 code créé et écrit dans {late_csv} ;")
    issued = access.read_codes_csv(late_csv)
    assert [(i.role, i.label, i.class_name) for i in issued] == [
        (Role.STUDENT, "MARTIN Œdipe", "2de1")
    ]
    assert [p.name for p in slips.iterdir()] == ["codes_2de1.pdf"]
    text = PdfReader(slips / "codes_2de1.pdf").pages[0].extract_text()
    assert "MARTIN Œdipe" in text
    assert "DUPONT Léa" not in text
    assert access.authenticate(people, issued[0].code).label == "MARTIN Œdipe"
    assert access.authenticate(people, old["DUPONT Léa"].code).label == "DUPONT Léa"
    with pytest.raises(AccessDenied, match=NEUTRAL):
        access.authenticate(people, old["MARTIN Œdipe"].code)


def test_codes_generate_unknown_student(people, tmp_path, capsys):
    out = tmp_path / "codes.csv"
    code, _, err = generate(capsys, people, "--student", "STU999", "--out", str(out))
    assert code == 2
    assert err.startswith("apkit : Élève introuvable : « STU999 » ; donnez ")
    assert "apkit summary" in err
    assert not out.exists()


def test_codes_generate_student_in_help(capsys):
    with pytest.raises(SystemExit):
        main(["codes", "generate", "--help"])
    words = " ".join(capsys.readouterr().out.split())
    assert "--student ID l'élève de cet identifiant (STU001)" in words
    assert "sans toucher aux codes des autres élèves" in words


def test_codes_export_french_roles(people, capsys):
    access.generate_codes(people, student_ids=["S0"], coordinator=True)
    code = main(["--database", people.url, "codes", "export"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0
    assert lines[0] == "rôle;nom;préfixe;créé le"
    assert [line.split(";")[:2] for line in lines[1:]] == [
        ["coordination", "Coordination"],
        ["élève", "DUPONT Léa"],
    ]
