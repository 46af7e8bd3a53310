"""Shared fixtures: a store on each backend, and the sample data folders.

``store`` runs a test on SQLite and on PostgreSQL. The PostgreSQL server is
started once per test session; outside CI a missing server skips those tests with
the reason, and under ``CI=true`` it fails them, so a green CI run always means
both backends were tested.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apkit.store import Store
from tests.pg_server import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
FORMATS = DATA / "formats"
SCHOOL = ROOT / "data" / "school"
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def postgres_server():
    try:
        server = PostgresServer()
    except Exception as exc:  # noqa: BLE001 - any start failure means "no server"
        if IN_CI:
            pytest.fail(f"PostgreSQL server could not start under CI: {exc}")
        pytest.skip(f"PostgreSQL server not available: {exc}")
    yield server
    server.stop()


@pytest.fixture
def sqlite_store(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'apkit.sqlite'}")
    yield store
    store.dispose()


@pytest.fixture
def postgres_store(postgres_server):
    store = Store(postgres_server.new_database())
    yield store
    store.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request):
    """A new, empty, migrated store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_store")
    return request.getfixturevalue("postgres_store")
