"""The ``apkit`` parser's own words (help, usage, errors) in French."""

from __future__ import annotations

import argparse
import re
import subprocess

import pytest

from apkit.cli import build_parser, main
from apkit.cli.parser import FrenchArgumentParser, translate_error
from tests.conftest import ROOT

ENGLISH = [
    "usage:",
    "show this help",
    "positional arguments",
    "optional arguments",
    "error:",
]


def all_parsers(parser: argparse.ArgumentParser):
    """Yield a parser and, depth first, the parsers of all its subcommands."""
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from all_parsers(child)


def parse_error(capsys, *argv) -> list[str]:
    with pytest.raises(SystemExit) as caught:
        main(list(argv))
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    return captured.err.splitlines()


def test_main_help_in_french(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["--help"])
    out = capsys.readouterr().out
    assert caught.value.code == 0
    assert out.startswith("utilisation : apkit [-h]")
    assert re.search(r"^options:$", out, re.MULTILINE)
    assert re.search(r"^arguments:$", out, re.MULTILINE)
    assert re.search(r"-h, --help +afficher cette aide et quitter", out)
    for english in ENGLISH:
        assert english not in out


def test_every_parser_french_class():
    parsers = list(all_parsers(build_parser()))
    progs = [parser.prog for parser in parsers]
    assert "apkit codes generate" in progs
    assert "apkit list class" in progs
    for parser in parsers:
        assert isinstance(parser, FrenchArgumentParser), parser.prog


def test_every_help_in_french():
    for parser in all_parsers(build_parser()):
        text = parser.format_help()
        assert text.startswith(f"utilisation : {parser.prog} "), parser.prog
        assert "afficher cette aide et quitter" in text, parser.prog
        for english in ENGLISH:
            assert english not in text, (parser.prog, english)


def test_subcommand_prog_without_prefix():
    for parser in all_parsers(build_parser()):
        assert parser.prog.startswith("apkit"), parser.prog


def test_missing_argument_in_french(capsys):
    lines = parse_error(capsys, "import-roster")
    assert lines[0].startswith("utilisation : apkit import-roster [-h]")
    assert lines[-1] == (
        "apkit import-roster : erreur : arguments obligatoires manquants : FICHIER"
    )


def test_missing_command_in_french(capsys):
    lines = parse_error(capsys)
    assert lines[-1] == "apkit : erreur : arguments obligatoires manquants : COMMANDE"


def test_unknown_command_in_french(capsys):
    lines = parse_error(capsys, "nosuch")
    assert lines[0].startswith("utilisation : apkit [-h]")
    assert lines[-1].startswith(
        "apkit : erreur : argument COMMANDE : choix invalide : 'nosuch' "
        "(choix possibles : 'import-school', 'import-roster',"
    )


def test_invalid_choice_in_french(capsys):
    lines = parse_error(capsys, "import-roster", "f.csv", "--on-bad-rows", "zz")
    assert lines[-1] == (
        "apkit import-roster : erreur : argument --on-bad-rows : choix invalide : "
        "'zz' (choix possibles : 'error', 'warn', 'skip')"
    )


def test_unrecognized_argument_in_french(capsys):
    lines = parse_error(capsys, "summary", "--bogus")
    assert lines[-1] == "apkit : erreur : arguments non reconnus : --bogus"


def test_expected_value_in_french(capsys):
    lines = parse_error(capsys, "import-preferences", "f.csv", "--period")
    assert lines[-1] == (
        "apkit import-preferences : erreur : argument --period : "
        "une valeur est attendue"
    )


def test_invalid_integer_in_french(capsys):
    lines = parse_error(capsys, "publish", "--update", "x")
    assert lines[-1] == (
        "apkit publish : erreur : argument --update : valeur invalide : 'x' "
        "(nombre entier attendu)"
    )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("expected at most one argument", "au plus une valeur est attendue"),
        ("expected 2 arguments", "2 valeurs sont attendues"),
        (
            "argument --a: not allowed with argument --b",
            "argument --a : incompatible avec l'argument --b",
        ),
        (
            "one of the arguments --a --b is required",
            "l'un des arguments --a --b est obligatoire",
        ),
        (
            "ambiguous option: --p could match --period, --partial",
            "option ambiguë : --p peut désigner --period, --partial",
        ),
        ("invalid Path value: ''", "valeur invalide : '' (chemin attendu)"),
        ("Période inconnue : P9", "Période inconnue : P9"),
    ],
)
def test_translate_error_messages(message, expected):
    assert translate_error(message) == expected


def test_process_error_in_french():
    apkit = ROOT / ".venv" / "bin" / "apkit"
    process = subprocess.run(
        [apkit, "import-roster"], capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 2
    assert process.stdout == ""
    assert "apkit import-roster : erreur : arguments obligatoires manquants" in (
        process.stderr
    )
    assert "usage:" not in process.stderr
