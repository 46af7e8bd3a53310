import pytest

from apkit.french import plural, plural_form


@pytest.mark.parametrize(
    ("count", "expected"),
    [(0, "0 élève"), (1, "1 élève"), (2, "2 élèves"), (360, "360 élèves")],
)
def test_plural_regular_noun(count, expected):
    assert plural(count, "élève") == expected


def test_plural_negative_count():
    assert plural(-1, "place") == "-1 place"
    assert plural(-3, "place") == "-3 places"


def test_plural_explicit_phrase():
    assert plural(1, "code créé", "codes créés") == "1 code créé"
    assert plural(2, "code créé", "codes créés") == "2 codes créés"
    assert plural(0, "code créé", "codes créés") == "0 code créé"


@pytest.mark.parametrize(
    ("singular", "expected"),
    [("atelier", "ateliers"), ("choix", "choix"), ("vœu", "vœux"),
     ("tableau", "tableaux"), ("mis", "mis"), ("nez", "nez")],
)  # fmt: skip
def test_plural_form_endings(singular, expected):
    assert plural_form(singular) == expected
    assert plural(2, singular) == f"2 {expected}"
