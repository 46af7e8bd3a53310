"""PostgreSQL servers for the tests: a throwaway one, or the one a URL names.

``PostgresServer`` starts a throwaway server with Debian's initdb and pg_ctl. It
listens on 127.0.0.1 only, on a free port, with its data and socket in a temporary
folder, and is stopped when the test session ends. ``ExistingServer`` wraps a server
that already runs (PostgreSQL mode, ``APKIT_DATABASE_URL=postgresql...``). Both hand
out fresh databases, clone a prepared one and drop them.

CI starts its server with ``python -m tests.pg_server start``, which prints the
server's folder and URL on one line, and stops it with
``python -m tests.pg_server stop FOLDER``.
"""

from __future__ import annotations

import getpass
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from sqlalchemy.engine import URL, make_url

POSTGRES_USER = "postgres"


def find_bin(name: str) -> str | None:
    """Return the path of a PostgreSQL server program, or None when it is missing."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)
    return candidates[0] if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_user(user: str | None) -> list[str]:
    # initdb refuses to run as root, so a root run (CI) starts the server as the
    # unprivileged "postgres" account that Debian's package creates.
    if user is None:
        return []
    return ["runuser", "-u", user, "--"]


def _server_user() -> str | None:
    return POSTGRES_USER if os.geteuid() == 0 else None


class Databases:
    """Create, clone and drop databases on a server reached at host:port as user."""

    host = "127.0.0.1"
    port = 5432
    user = POSTGRES_USER
    password: str | None = None

    def url(self, database: str = "postgres") -> str:
        return URL.create(
            "postgresql+psycopg", username=self.user, password=self.password,
            host=self.host, port=self.port, database=database,
        ).render_as_string(hide_password=False)  # fmt: skip

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host=self.host, port=self.port, user=self.user, password=self.password,
            dbname="postgres", autocommit=True, connect_timeout=10,
        ) as connection:  # fmt: skip
            connection.execute(sql)

    def check(self) -> None:
        """Connect once; raise psycopg's error when the server does not answer."""
        self._admin("SELECT 1")

    def new_database(self, template: str | None = None) -> str:
        """Create an empty database (or a copy of ``template``); return its URL."""
        name = f"apkit_test_{os.getpid()}_{uuid.uuid4().hex[:10]}"
        copy = f' TEMPLATE "{template}"' if template else ""
        self._admin(f'CREATE DATABASE "{name}"{copy}')
        return self.url(name)

    def clone(self, url: str) -> str:
        """Copy the database of ``url``, which no connection may use; return the URL."""
        return self.new_database(template=make_url(url).database)

    def drop(self, url: str) -> None:
        """Drop the database of ``url``, closing the connections still open to it."""
        self._admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


class ExistingServer(Databases):
    """A server that already runs, named by a SQLAlchemy URL."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.host = parsed.host or "127.0.0.1"
        self.port = parsed.port or 5432
        self.user = parsed.username or POSTGRES_USER
        self.password = parsed.password

    def stop(self) -> None:
        """Leave the server running: it is not ours."""


class PostgresServer(Databases):
    """A throwaway running server; ``url(name)`` gives a database's SQLAlchemy URL."""

    def __init__(self) -> None:
        initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError(
                "PostgreSQL server programs not found (initdb, pg_ctl); "
                "install Debian's postgresql package"
            )
        self.pg_ctl = pg_ctl
        self.server_user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="apkit-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        if self.server_user:
            shutil.chown(self.root, self.server_user)
        subprocess.run(
            [*_as_user(self.server_user), initdb, "-D", str(self.data),
             "-U", POSTGRES_USER, "--auth=trust", "--encoding=UTF8",
             "--locale=C.UTF-8"],
            check=True, capture_output=True,
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        )
        subprocess.run(
            [*_as_user(self.server_user), pg_ctl, "-D", str(self.data), "-o", options,
             "-l", str(self.root / "server.log"), "-w", "start"],
            check=True, capture_output=True,
        )  # fmt: skip

    def stop(self) -> None:
        stop_server(self.root)


def stop_server(root: Path) -> None:
    """Stop the server whose folder is ``root`` and remove the folder."""
    pg_ctl = find_bin("pg_ctl") or "pg_ctl"
    subprocess.run(
        [*_as_user(_server_user()), pg_ctl, "-D", str(Path(root) / "data"),
         "-m", "fast", "stop"],
        capture_output=True,
    )  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


def whoami() -> str:
    return getpass.getuser()


def main(argv: list[str]) -> int:
    """``start``: start a server, print ``FOLDER URL``; ``stop FOLDER``: stop it."""
    if argv[:1] == ["start"] and len(argv) == 1:
        server = PostgresServer()
        print(server.root, server.url())
        return 0
    if argv[:1] == ["stop"] and len(argv) == 2:
        stop_server(Path(argv[1]))
        return 0
    print("usage: python -m tests.pg_server start | stop FOLDER", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
