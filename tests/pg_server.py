"""A throwaway PostgreSQL server for the tests, started with Debian's initdb and pg_ctl.

The server listens on 127.0.0.1 only, on a free port, with its data and socket in
a temporary folder, and is stopped when the test session ends.
"""

from __future__ import annotations

import getpass
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

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


class PostgresServer:
    """A running server; ``url(name)`` gives a SQLAlchemy URL to a database."""

    def __init__(self) -> None:
        initdb, pg_ctl = find_bin("initdb"), find_bin("pg_ctl")
        if not initdb or not pg_ctl:
            raise RuntimeError(
                "PostgreSQL server programs not found (initdb, pg_ctl); "
                "install Debian's postgresql package"
            )
        self.pg_ctl = pg_ctl
        self.user = POSTGRES_USER if os.geteuid() == 0 else None
        self.root = Path(tempfile.mkdtemp(prefix="apkit-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        if self.user:
            shutil.chown(self.root, self.user)
        subprocess.run(
            [*_as_user(self.user), initdb, "-D", str(self.data), "-U", POSTGRES_USER,
             "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
            check=True, capture_output=True,
        )  # fmt: skip
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off"
        subprocess.run(
            [*_as_user(self.user), pg_ctl, "-D", str(self.data), "-o", options,
             "-l", str(self.root / "server.log"), "-w", "start"],
            check=True, capture_output=True,
        )  # fmt: skip
        self._databases = 0

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{POSTGRES_USER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database and return its URL."""
        import psycopg

        self._databases += 1
        name = f"apkit_test_{self._databases}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=POSTGRES_USER, dbname="postgres",
            autocommit=True,
        ) as connection:  # fmt: skip
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run(
            [*_as_user(self.user), self.pg_ctl, "-D", str(self.data), "-m", "fast",
             "stop"],
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.root, ignore_errors=True)


def whoami() -> str:
    return getpass.getuser()
