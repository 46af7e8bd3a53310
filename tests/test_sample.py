"""The embedded sample school: loaded once into an empty database, never twice."""

from __future__ import annotations

from sqlalchemy import select

from apkit.model import Block, Division, Student
from apkit.sample import ensure_sample_school
from tests.test_school import row_counts


def test_sample_loaded_into_empty_store(store):
    assert ensure_sample_school(store) is True
    counts = row_counts(store)
    assert counts["students"] == 360
    assert counts["blocks"] == 3
    assert counts["divisions"] == 12
    assert counts["teachers"] == 27
    assert counts["periods"] == 5
    assert counts["campaigns"] == 3
    assert counts["activities"] == 50
    assert counts["preferences"] == 1986


def test_sample_not_loaded_twice(store):
    ensure_sample_school(store)
    before = row_counts(store)
    assert ensure_sample_school(store) is False
    assert row_counts(store) == before


def test_sample_skipped_when_students_exist(store):
    with store.write() as session:
        block = Block(name="Z")
        session.add(block)
        session.flush()
        division = Division(name="1re1", block_id=block.id)
        session.add(division)
        session.flush()
        session.add(
            Student(source_id="X1", last_name="MARTIN", first_name="Léa",
                    name_key="martin lea", division_id=division.id)
        )  # fmt: skip
    before = row_counts(store)
    assert ensure_sample_school(store) is False
    assert row_counts(store) == before
    with store.read() as session:
        assert session.scalars(select(Block.name)).all() == ["Z"]
