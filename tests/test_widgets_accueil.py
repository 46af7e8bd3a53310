"""The home page: blocks, classes and head counts from the database."""

from __future__ import annotations

import datetime as dt

from apkit.widgets import accueil
from tests.factories import small_school


def test_school_summary_counts_current_students(database_store):
    school = small_school(database_store)
    school.builder.student("PARTI", "Paul", "2de1", left_on=dt.date(2025, 10, 1))
    summaries = accueil.school_summary(database_store)
    assert [s.name for s in summaries] == ["A"]
    assert summaries[0].classes == [("2de1", 3), ("2de2", 3)]
    assert summaries[0].student_count == 6
    assert summaries[0].campaigns == ["P1 ouverte"]


def test_home_page_lists_blocks_and_links(database_store):
    small_school(database_store)
    page = accueil.build(database_store)
    text = "\n".join(child.value for child in page.children)
    assert "2de1 (3)" in text
    assert '<a href="inscription.ipynb"' in text
    assert '<a href="corrections.ipynb"' in text


def test_home_page_empty_database_hint(database_store):
    assert "apkit demo" in accueil.summary_html(accueil.school_summary(database_store))
