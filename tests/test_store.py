"""The store on SQLite and PostgreSQL: schema, migrations, transactions, settings."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError

from apkit.errors import StoreError
from apkit.model import Base, Block, Division, Student
from apkit.store import Store, default_url


def _current_revision(store: Store) -> str | None:
    with store.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_new_store_stamped_at_head(store):
    head = ScriptDirectory.from_config(store.alembic_config()).get_current_head()
    assert _current_revision(store) == head


def test_migrations_match_model(store):
    # Build the schema through the migrations only, then compare with the model,
    # so a model change without its migration fails here.
    with store.engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE alembic_version"))
    config = store.alembic_config()
    command.upgrade(config, "head")
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_reopen_existing_store_keeps_rows(store):
    with store.write() as session:
        session.add(Block(name="A"))
    again = Store(store.url)
    with again.read() as session:
        assert session.scalar(select(func.count()).select_from(Block)) == 1
    again.dispose()


def test_write_rolls_back_on_error(store):
    with pytest.raises(RuntimeError):
        with store.write() as session:
            session.add(Block(name="A"))
            session.flush()
            raise RuntimeError("boom")
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Block)) == 0


def test_foreign_keys_enforced(store):
    with pytest.raises(IntegrityError):
        with store.write() as session:
            session.add(Division(name="2de1", block_id=999))


def test_read_session_commits_nothing(store):
    with store.read() as session:
        session.add(Block(name="B"))
        session.flush()
    with store.read() as session:
        assert session.scalar(select(func.count()).select_from(Block)) == 0


def test_student_unique_source_id(store):
    with pytest.raises(IntegrityError):
        with store.write() as session:
            for _ in range(2):
                session.add(
                    Student(
                        source_id="S1",
                        last_name="A",
                        first_name="B",
                        name_key="a b",
                        birth_date=dt.date(2010, 1, 1),
                    )
                )
            session.flush()


def test_sqlite_wal_and_foreign_keys(sqlite_store):
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_write_begins_immediate(sqlite_store):
    # A second writer must wait for the first: with BEGIN IMMEDIATE the lock is taken
    # at the start of the transaction, not at its first write.
    import sqlite3

    path = sqlite_store.engine.url.database
    with sqlite_store.write() as session:
        session.execute(select(1))
        other = sqlite3.connect(path, timeout=0.1, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_default_url_from_environment(monkeypatch):
    monkeypatch.setenv("APKIT_DATABASE_URL", "sqlite:////tmp/elsewhere.sqlite")
    assert default_url() == "sqlite:////tmp/elsewhere.sqlite"
    monkeypatch.delenv("APKIT_DATABASE_URL")
    assert default_url().endswith("data/apkit.sqlite")


def test_invalid_url_rejected():
    with pytest.raises(StoreError, match="Adresse de base de données invalide"):
        Store("not a url")


def test_unreachable_server_rejected():
    with pytest.raises(StoreError, match="inaccessible"):
        Store("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_schema_has_every_table(store):
    tables = set(inspect(store.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
