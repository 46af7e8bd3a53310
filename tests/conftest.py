"""Shared fixtures: a store on each backend, new databases, the sample data folders.

The suite runs in one of two modes, chosen when the session starts:

- SQLite mode (the default): backend-agnostic tests get a new SQLite file in their
  temporary folder, and ``store`` runs a test on SQLite and on a throwaway
  PostgreSQL server that the fixtures start once per session.
- PostgreSQL mode, when ``APKIT_DATABASE_URL`` is a ``postgresql...`` URL: the server
  it names is used (none is started), and every helper below hands out a fresh
  database on it instead of a SQLite file, dropped after the test. The variable is
  removed from the environment, so nothing writes to the database it names.

Tests that are SQLite by nature (WAL, BEGIN IMMEDIATE, the backup API) use
``sqlite_store`` in both modes. Outside CI a missing PostgreSQL server skips the
tests that need it, with the reason; under ``CI=true`` it fails them, so a green CI
run always means both backends were tested.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from apkit.store import Store
from tests.pg_server import Databases, ExistingServer, PostgresServer

# The browser fixtures are registered once, here, for every folder: a second
# registration (importing them into another conftest) would start a second
# session-wide Playwright while the first still runs, which Playwright rejects.
pytest_plugins = ["tests.browser.fixtures"]

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
FORMATS = DATA / "formats"
SCHOOL = ROOT / "data" / "school"
IN_CI = os.environ.get("CI", "").lower() == "true"

_MODE_URL = os.environ.get("APKIT_DATABASE_URL", "").strip()
POSTGRES_MODE = _MODE_URL.startswith("postgresql")
if POSTGRES_MODE:
    del os.environ["APKIT_DATABASE_URL"]

_existing: ExistingServer | None = None
# Databases made by new_database_url/clone_database_url: (folder given, URL).
_made: list[tuple[Path, str]] = []
_sqlite_paths: set[Path] = set()


def _missing_server(exc: Exception) -> None:
    if IN_CI:
        pytest.fail(f"PostgreSQL server could not be used under CI: {exc}")
    pytest.skip(f"PostgreSQL server not available: {exc}")


def _mode_server() -> ExistingServer:
    """Return the PostgreSQL mode's server, checked on first use."""
    global _existing
    if _existing is None:
        server = ExistingServer(_MODE_URL)
        try:
            server.check()
        except Exception as exc:  # noqa: BLE001 - any failure means "no server"
            pytest.fail(
                f"PostgreSQL mode: server of APKIT_DATABASE_URL unusable: {exc}"
            )
        _existing = server
    return _existing


def _sqlite_url(folder: Path) -> str:
    path = folder / "apkit.sqlite"
    number = 1
    while path.exists() or path in _sqlite_paths:
        number += 1
        path = folder / f"apkit-{number}.sqlite"
    _sqlite_paths.add(path)
    return f"sqlite:///{path}"


def new_database_url(tmp_path: Path) -> str:
    """Return the URL of a new, empty database of the session's backend.

    SQLite mode: a new file in ``tmp_path`` (``apkit.sqlite`` first). PostgreSQL
    mode: a new database on the server, dropped after the test whose ``tmp_path``
    this is, or at the end of the session.
    """
    if not POSTGRES_MODE:
        return _sqlite_url(tmp_path)
    url = _mode_server().new_database()
    _made.append((tmp_path, url))
    return url


def clone_database_url(url: str, tmp_path: Path) -> str:
    """Return the URL of a copy of the database at ``url``.

    No connection may be open to ``url`` (dispose its store first): SQLite copies
    the file into ``tmp_path``, PostgreSQL creates the copy with ``TEMPLATE``.
    """
    if not url.startswith("postgresql"):
        copy = _sqlite_url(tmp_path)
        shutil.copyfile(url.removeprefix("sqlite:///"), copy.removeprefix("sqlite:///"))
        return copy
    server = _mode_server() if POSTGRES_MODE else ExistingServer(url)
    copy = server.clone(url)
    _made.append((tmp_path, copy))
    return copy


def _drop_made(keep) -> None:
    for entry in list(_made):
        if not keep(entry[0]):
            _made.remove(entry)
            _mode_server().drop(entry[1])


@pytest.fixture(autouse=True, scope="session")
def _drop_session_databases():
    yield
    if POSTGRES_MODE and _made:
        _drop_made(lambda folder: False)


@pytest.fixture(autouse=True)
def _drop_test_databases(request):
    yield
    tmp_path = (request.node.funcargs or {}).get("tmp_path")
    if POSTGRES_MODE and tmp_path is not None and _made:
        _drop_made(lambda folder: folder != tmp_path)


@pytest.fixture
def database_url(tmp_path) -> str:
    """The URL of a new, empty database of the session's backend."""
    return new_database_url(tmp_path)


@pytest.fixture
def database_store(database_url):
    """A new, empty, migrated store on the session's backend."""
    store = Store(database_url)
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def postgres_server():
    """The PostgreSQL server: the mode's one, or a throwaway one for the session."""
    if POSTGRES_MODE:
        yield _mode_server()
        return
    try:
        server = PostgresServer()
    except Exception as exc:  # noqa: BLE001 - any start failure means "no server"
        _missing_server(exc)
    yield server
    server.stop()


@pytest.fixture
def sqlite_store(tmp_path):
    """A new, empty, migrated SQLite store, in both modes."""
    path = tmp_path / "apkit.sqlite"
    _sqlite_paths.add(path)
    store = Store(f"sqlite:///{path}")
    yield store
    store.dispose()


@pytest.fixture
def postgres_store(postgres_server: Databases):
    url = postgres_server.new_database()
    store = Store(url)
    yield store
    store.dispose()
    postgres_server.drop(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request):
    """A new, empty, migrated store, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_store")
    return request.getfixturevalue("postgres_store")
