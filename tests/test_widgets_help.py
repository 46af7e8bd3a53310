"""The « Aide » panel of each dashboard, built headless: present, collapsed, French."""

from __future__ import annotations

import html
import inspect
import re

import pytest

from apkit import signup
from apkit.errors import AccessDenied, NotFoundError
from apkit.widgets import accueil, corrections, help, inscription, listes, statistiques

BUILDERS = {
    "accueil": lambda store: accueil.build(store),
    "inscription": lambda store: inscription.build(store, code="").widget,
    "corrections": lambda store: corrections.build(store, code="").widget,
    "listes": lambda store: listes.build(store, code="").widget,
    "statistiques": lambda store: statistiques.build(store, code="").widget,
}
FRENCH_WORDS = {"le", "la", "les", "des", "du", "une", "est", "pour", "cette", "page"}
ENGLISH_WORDS = {"the", "and", "click", "this", "page is", "refused", "error"}


def _words(panel_html: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", panel_html)).lower()


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_page_starts_with_help(name, database_store):
    box = BUILDERS[name](database_store)
    panels = [c for c in box.children if "apkit-help" in c._dom_classes]
    assert len(panels) == 1
    # The style sheet comes first, then the help, above the code field.
    assert box.children.index(panels[0]) == 1
    value = panels[0].value
    assert value.startswith('<details class="apkit-help-details">')
    assert "<summary><b>Aide</b></summary>" in value
    assert help.help_text(name) in value


@pytest.mark.parametrize("name", sorted(help.TEXTS))
def test_help_text_is_french(name):
    text = _words(help.help_text(name))
    words = set(re.findall(r"[a-zà-ÿ']+", text))
    assert len(FRENCH_WORDS & words) >= 5
    for english in ENGLISH_WORDS:
        assert not re.search(rf"\b{english}\b", text), english


@pytest.mark.parametrize(
    "name", ["inscription", "corrections", "listes", "statistiques"]
)
def test_help_explains_wrong_code(name):
    text = _words(help.help_text(name))
    assert "si c'est refusé" in text
    assert str(AccessDenied()).lower() in text


def test_student_help_explains_full_and_closed():
    text = _words(help.help_text("inscription"))
    assert "« atelier complet »" in text
    assert "n'est pas ouverte" in text
    # The quoted words are those of the sign-up module's refusals.
    source = inspect.getsource(signup)
    assert 'f"Atelier complet : ' in source
    assert "n'est pas ouverte " in source


@pytest.mark.parametrize(
    ("name", "module", "message"),
    [
        ("listes", listes, "Cette page est réservée aux enseignants."),
        (
            "statistiques",
            statistiques,
            "Cette page est réservée à l'administration et à la coordination.",
        ),
    ],
)
def test_refusal_quoted_as_page_raises(name, module, message):
    assert message in help.help_text(name)
    # Compared without whitespace, so a wrapped call still counts.
    raise_call = "".join(f'AccessDenied("{message}")'.split())
    assert raise_call in "".join(inspect.getsource(module).split())


def test_unknown_page_raises():
    with pytest.raises(NotFoundError, match="Aide introuvable pour la page « x »"):
        help.help_panel("x")
