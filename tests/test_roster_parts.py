"""Unit tests of the roster helpers: name splitting, class spellings, dates, sex."""

from __future__ import annotations

import datetime as dt

import pytest

from apkit.roster.classes import ClassMatcher, class_key, classes_in_name
from apkit.roster.columns import STUDENT_FIELDS, map_headers, normalize_header
from apkit.roster.dates import DateFormatError, parse_date
from apkit.roster.fields import SexFormatError, cell_text, parse_sex
from apkit.roster.names import split_full_name


@pytest.mark.parametrize(
    ("cell", "last", "first"),
    [
        ("LE PAIN--PERDU Alexia", "LE PAIN--PERDU", "Alexia"),
        ("BAUDON Samuel Quentin Jaques", "BAUDON", "Samuel Quentin Jaques"),
        ("ÀLADIN Marthe", "ÀLADIN", "Marthe"),
        ("D’ALMEIDA Sofia", "D’ALMEIDA", "Sofia"),
        ("D'ALMEIDA Sofia", "D'ALMEIDA", "Sofia"),
        ("N’DIAYE Awa", "N’DIAYE", "Awa"),
        ("DU MESNIL Claire-Lise ", "DU MESNIL", "Claire-Lise"),
        ("LE\u00a0BRIS Gaël", "LE BRIS", "Gaël"),
        ("Van de Velde Jules", "Van de Velde", "Jules"),
        ("VAN DER BERG Anna", "VAN DER BERG", "Anna"),
        ("DOS SANTOS LIMA Tiago", "DOS SANTOS LIMA", "Tiago"),
        ("BEN SALAH Rania", "BEN SALAH", "Rania"),
        ("EL AMRANI Yasmine", "EL AMRANI", "Yasmine"),
        ("DA SILVA João", "DA SILVA", "João"),
        ("DO Minh-Khoa", "DO", "Minh-Khoa"),
        ("DE LA FONTAINE Jean", "DE LA FONTAINE", "Jean"),
        ("DESCŒURS Noémie", "DESCŒURS", "Noémie"),
        ("BENALI-ROUSSEAU Inès", "BENALI-ROUSSEAU", "Inès"),
        ("NGUYEN Kim Anh", "NGUYEN", "Kim Anh"),
    ],
)
def test_split_full_name_certain(cell, last, first):
    split = split_full_name(cell)

    assert split.last_name == last
    assert split.first_name == first
    assert split.certain


@pytest.mark.parametrize(
    ("cell", "last", "first"),
    [
        ("DUPONT JEAN", "DUPONT", "JEAN"),
        ("Dupont Jean", "Dupont", "Jean"),
        ("Marie", "Marie", ""),
    ],
)
def test_split_full_name_ambiguous(cell, last, first):
    split = split_full_name(cell)

    assert (split.last_name, split.first_name) == (last, first)
    assert not split.certain


@pytest.mark.parametrize(
    ("spelling", "key"),
    [
        ("205", "2||5"),
        ("2nde 5", "2||5"),
        ("2de5", "2||5"),
        ("2NDE 5 ", "2||5"),
        ("Seconde 5", "2||5"),
        ("2GT5", "2||5"),
        ("1ère G4", "1|g|4"),
        ("1 G 4", "1|g|4"),
        ("1G4", "1|g|4"),
        ("1ERE G4", "1|g|4"),
        ("TG3", "T|g|3"),
        ("Tle G3", "T|g|3"),
        ("Terminale G 3", "T|g|3"),
        ("3E B", None),
        ("AP 2NDE A", None),
    ],
)
def test_class_key(spelling, key):
    assert class_key(spelling) == key


def test_class_matcher_exact_before_key():
    matcher = ClassMatcher(["203", "2de3 euro"])

    assert matcher.match("2DE3 EURO") == "2de3 euro"
    assert matcher.match("2nde 3") == "203"
    assert matcher.match("Seconde 4") is None


def test_class_matcher_ambiguous_names_both():
    matcher = ClassMatcher(["203", "2de3"])

    with pytest.raises(ValueError, match="^203, 2de3$"):
        matcher.match("Seconde 3")


def test_classes_in_name():
    assert classes_in_name("pronote_liste_eleves_205") == ["205"]
    assert classes_in_name("Spé maths 1G4") == ["1G4"]
    assert classes_in_name("2nde 5") == ["2nde 5"]
    assert classes_in_name("liste_eleves") == []
    assert classes_in_name("liste_2nde5_prof", ClassMatcher(["205", "1G4"])) == ["205"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12/03/2010", dt.date(2010, 3, 12)),
        ("7/5/2010", dt.date(2010, 5, 7)),
        ("25/07/10", dt.date(2010, 7, 25)),
        ("01/01/75", dt.date(1975, 1, 1)),
        ("12.03.2010", dt.date(2010, 3, 12)),
        ("2010-03-12", dt.date(2010, 3, 12)),
        ("2010-03-12 00:00:00", dt.date(2010, 3, 12)),
        (40249, dt.date(2010, 3, 12)),
        (40249.0, dt.date(2010, 3, 12)),
        (dt.datetime(2010, 3, 12), dt.date(2010, 3, 12)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["31/02/2010", "le 5 juin", "13/13/2010", "12", 3.5])
def test_parse_date_rejects(value):
    with pytest.raises(DateFormatError):
        parse_date(value)


@pytest.mark.parametrize(
    ("value", "sex"),
    [("F", "F"), ("G", "M"), ("M", "M"), ("1", "M"), ("2", "F"), ("Mme", "F")]
    + [("M.", "M"), ("MME", "F"), ("fille", "F"), ("", None)],
)
def test_parse_sex(value, sex):
    assert parse_sex(value) == sex


def test_parse_sex_rejects_unknown():
    with pytest.raises(SexFormatError):
        parse_sex("X")


def test_cell_text_cleans():
    assert cell_text('="203"') == "203"
    assert cell_text(" LE\u00a0 BRIS ") == "LE BRIS"
    assert cell_text(412.0) == "412"
    assert cell_text(float("nan")) == ""
    assert cell_text(dt.datetime(2010, 3, 12)) == "2010-03-12"


def test_headers_matched_like_ent_feeder():
    headers = ["Prénom*", "Nom*", "Date de naissance*", "Classes*", "Nom d'usage"]
    headers += ["NE(E) LE", "DIV.", "Groupes", "Groupes"]

    columns = map_headers(headers, STUDENT_FIELDS)

    assert normalize_header("Né(e) le") == "neele"
    assert columns["first_name"] == [0]
    assert columns["last_name"] == [1]
    assert columns["birth_date"] == [2, 5]
    assert columns["class_name"] == [3, 6]
    assert columns["usage_name"] == [4]
    assert columns["groups"] == [7, 8]
