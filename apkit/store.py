"""The database: the only module that opens connections.

SQLite is the default, in ``data/apkit.sqlite`` beside the package, with WAL
journaling and foreign keys on. Any SQLAlchemy URL can be given instead, as an
argument or through ``APKIT_DATABASE_URL``; PostgreSQL is the tested alternative.

Every write runs in one transaction from :meth:`Store.write`. On SQLite that
transaction starts with ``BEGIN IMMEDIATE``, so two writers never interleave and a
capacity check followed by an insert cannot be overtaken. On PostgreSQL the same
guarantee comes from locking the rows involved with ``SELECT ... FOR UPDATE``
(:func:`lock`), which SQLite's dialect omits.
"""

from __future__ import annotations

import logging
import os
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session

from apkit.errors import StoreError
from apkit.model import Base

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)

ENV_URL = "APKIT_DATABASE_URL"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30

T = TypeVar("T")


def default_url() -> str:
    """Return the database URL: ``APKIT_DATABASE_URL`` or the embedded SQLite file."""
    url = os.environ.get(ENV_URL, "").strip()
    if url:
        return url
    return f"sqlite:///{PROJECT_ROOT / 'data' / 'apkit.sqlite'}"


def _make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"Adresse de base de données invalide : « {url} » ; attendu par exemple "
            "sqlite:///data/apkit.sqlite ou postgresql+psycopg://user@127.0.0.1/apkit"
        ) from exc
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)

    database = parsed.database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
    _configure_sqlite(engine, in_memory=database in ("", ":memory:"))
    return engine


def _configure_sqlite(engine: Engine, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself instead of pysqlite's
        # implicit, deferred one, as SQLAlchemy's SQLite documentation describes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writing = connection.get_execution_options().get("apkit_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


class Store:
    """A school's database.

    Parameters
    ----------
    url
        A SQLAlchemy URL; by default :func:`default_url`.
    upgrade
        Create or migrate the schema to the current version on opening.

    Raises
    ------
    StoreError
        If the URL is invalid or the database cannot be reached or migrated.
    """

    def __init__(self, url: str | None = None, *, upgrade: bool = True) -> None:
        self.url = url or default_url()
        self.engine = _make_engine(self.url)
        # A store dropped without dispose() (the CLI's) closes its pooled
        # connections: psycopg warns about connections deleted while open.
        weakref.finalize(self, self.engine.dispose)
        if upgrade:
            self.upgrade()

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def alembic_config(self) -> Config:
        # Alembic is imported here, not at the top, because a dashboard kernel
        # opens the store without migrating it and should not pay for the import.
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.set_main_option(
            "sqlalchemy.url", self.engine.url.render_as_string(hide_password=False)
        )
        return config

    def upgrade(self) -> None:
        """Bring the schema to the current version.

        A new, empty database gets the current tables at once and is stamped with
        the latest revision; an existing one goes through the migrations.
        """
        from alembic import command

        try:
            with self.engine.begin() as connection:
                tables = inspect(connection).get_table_names()
                config = self.alembic_config()
                config.attributes["connection"] = connection
                if not tables:
                    Base.metadata.create_all(connection)
                    command.stamp(config, "head")
                else:
                    command.upgrade(config, "head")
        except OperationalError as exc:
            raise StoreError(
                f"Base de données inaccessible ({self!r}) : {exc.orig}; "
                "vérifiez l'adresse et que le serveur est démarré"
            ) from exc

    @contextmanager
    def read(self) -> Iterator[Session]:
        """Open a session for reading; nothing it changes is committed."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session
            session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """Open one write transaction, committed on success and rolled back on error."""
        with Session(self.engine, expire_on_commit=False) as session:
            session.connection(execution_options={"apkit_write": True})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()


def lock(session: Session, entity: type[T], ids: list[int]) -> list[T]:
    """Lock rows of ``entity`` for the rest of the transaction, in id order.

    PostgreSQL gets ``SELECT ... FOR UPDATE``; on SQLite the transaction already
    holds the database's write lock, and the clause is left out.
    """
    statement = (
        select(entity)
        .where(entity.id.in_(ids))  # type: ignore[attr-defined]
        .order_by(entity.id)  # type: ignore[attr-defined]
        .with_for_update()
    )
    return list(session.scalars(statement))
