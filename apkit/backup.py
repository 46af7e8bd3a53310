"""Backup and restore of a school's database, on SQLite and on PostgreSQL.

A SQLite database is copied with SQLite's online backup API
(:meth:`sqlite3.Connection.backup`), which gives a consistent copy while other
connections keep reading and writing. The copy is one self-contained file in
rollback-journal mode, so it can be moved and opened alone. A PostgreSQL database
is saved with ``pg_dump --format=custom`` and restored with ``pg_restore --clean
--if-exists`` in a single transaction. The server's address and password reach the
programs through libpq's environment variables (``PGHOST``, ``PGPASSWORD``...), so
the password never appears on a command line.

A restore checks the backup before touching the database. Its kind must match
the store's backend, and its schema revision must be one that this version of
apkit can migrate from. After the restore the schema is migrated to the current
revision, so a backup taken before an upgrade can be restored after it.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from apkit.errors import StoreError
from apkit.model import Campaign, CampaignStatus
from apkit.store import Store

log = logging.getLogger(__name__)

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class BackupError(StoreError):
    """A backup that cannot be written, or a backup file that cannot be restored.

    Attributes
    ----------
    path
        The backup file concerned.
    """

    def __init__(self, message: str, *, path: Path) -> None:
        self.path = path
        super().__init__(message)


@dataclass(frozen=True)
class BackupInfo:
    """Description of a backup file: its backend and schema revision."""

    path: Path
    backend: str  # "sqlite" or "postgresql"
    revision: str | None
    size: int


def backup(store: Store, path: str | Path) -> BackupInfo:
    """Save the whole database of ``store`` into the file ``path``.

    The copy is written beside ``path`` first and renamed at the end, so a failed
    backup never leaves a truncated file under the final name.

    Parameters
    ----------
    store
        The database to save; it may be in use while the backup runs.
    path
        The backup file to create or replace.

    Returns
    -------
    BackupInfo
        The file written, with its schema revision.

    Raises
    ------
    BackupError
        If the file cannot be written, or ``pg_dump`` is missing or fails.
    """
    path = Path(path)
    partial = path.with_name(path.name + ".partiel")
    partial.unlink(missing_ok=True)
    try:
        if store.is_sqlite:
            _backup_sqlite(store, partial)
        else:
            _backup_postgres(store, partial)
        partial.replace(path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        if isinstance(exc, BackupError):
            raise
        raise BackupError(
            f"Sauvegarde impossible dans « {path} » : {exc.strerror or exc} ; "
            "vérifiez le dossier et la place disponible",
            path=path,
        ) from exc
    info = inspect_backup(path)
    log.info(
        "backup written to %s (%d bytes, revision %s)", path, info.size, info.revision
    )
    return info


def restore(store: Store, path: str | Path, *, force: bool = False) -> BackupInfo:
    """Replace the whole database of ``store`` by the backup ``path``, then migrate.

    Everything written since the backup is lost, so the restore is rejected while a
    campaign is open for sign-up (students would lose their choices without
    knowing), unless ``force`` is set.

    Parameters
    ----------
    store
        The database to overwrite.
    path
        A file written by :func:`backup` for the same backend.
    force
        Restore even while a campaign is open.

    Returns
    -------
    BackupInfo
        The backup that was restored.

    Raises
    ------
    BackupError
        If the file is missing, is not a backup of this backend, contains a schema
        revision this version does not know, a campaign is open without ``force``,
        or the restore itself fails (the database is then left as it was).
    """
    path = Path(path)
    info = inspect_backup(path)
    expected = "sqlite" if store.is_sqlite else "postgresql"
    if info.backend != expected:
        raise BackupError(
            f"« {path.name} » est une sauvegarde {info.backend}, mais la base est "
            f"{expected} ; restaurez-la dans une base du même type",
            path=path,
        )
    _check_revision(store, info)
    if not force:
        _check_no_open_campaign(store, path)

    if store.is_sqlite:
        _restore_sqlite(store, path)
    else:
        _restore_postgres(store, path)
    store.engine.dispose()
    store.upgrade()
    log.info("database restored from %s (revision %s)", path, info.revision)
    return info


def inspect_backup(path: str | Path) -> BackupInfo:
    """Read the backend and schema revision of a backup file without restoring it.

    Raises
    ------
    BackupError
        If the file is missing or is neither a SQLite database nor a ``pg_dump``
        custom-format archive.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise BackupError(
            f"Sauvegarde introuvable ou illisible : « {path} » ({exc.strerror})",
            path=path,
        ) from exc
    size = path.stat().st_size
    if head.startswith(SQLITE_MAGIC):
        return BackupInfo(path, "sqlite", _sqlite_revision(path), size)
    if head.startswith(PG_CUSTOM_MAGIC):
        return BackupInfo(path, "postgresql", _postgres_revision(path), size)
    raise BackupError(
        f"« {path.name} » n'est pas une sauvegarde apkit (ni base SQLite, ni archive "
        "pg_dump) ; choisissez un fichier écrit par « apkit backup »",
        path=path,
    )


def _check_revision(store: Store, info: BackupInfo) -> None:
    scripts = ScriptDirectory.from_config(store.alembic_config())
    known = {revision.revision for revision in scripts.walk_revisions()}
    if info.revision is None or info.revision not in known:
        raise BackupError(
            f"« {info.path.name} » a le schéma « {info.revision} », inconnu de cette "
            "version d'apkit ; restaurez-la avec la version d'apkit qui l'a écrite",
            path=info.path,
        )


def _check_no_open_campaign(store: Store, path: Path) -> None:
    with store.read() as session:
        open_count = session.scalar(
            select(func.count())
            .select_from(Campaign)
            .where(Campaign.status == CampaignStatus.OPEN)
        )
    if open_count:
        raise BackupError(
            f"Restauration refusée : {open_count} campagne(s) ouverte(s) aux "
            "inscriptions perdraient les choix faits depuis la sauvegarde ; fermez-les "
            "ou forcez la restauration (--force)",
            path=path,
        )


# SQLite


def _sqlite_file(store: Store) -> Path:
    database = store.engine.url.database
    if not database or database == ":memory:":
        raise BackupError(
            "Une base SQLite en mémoire ne se sauvegarde pas ; utilisez un fichier",
            path=Path(":memory:"),
        )
    return Path(database)


def _backup_sqlite(store: Store, target: Path) -> None:
    source = sqlite3.connect(_sqlite_file(store), timeout=30)
    destination = sqlite3.connect(target)
    try:
        source.backup(destination)
        # The copy inherits WAL mode from the source; switch it back so that the
        # backup is one file with no -wal or -shm beside it.
        destination.execute("PRAGMA journal_mode=DELETE")
    finally:
        destination.close()
        source.close()


def _restore_sqlite(store: Store, path: Path) -> None:
    store.engine.dispose()
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    destination = sqlite3.connect(_sqlite_file(store), timeout=30)
    try:
        source.backup(destination)
        destination.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise BackupError(
            f"Restauration de « {path.name} » impossible : {exc} ; la base est "
            "restée telle quelle",
            path=path,
        ) from exc
    finally:
        destination.close()
        source.close()


def _sqlite_revision(path: Path) -> str | None:
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = connection.execute(
                "SELECT version_num FROM alembic_version"
            ).fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


# PostgreSQL


def find_postgres_program(name: str) -> str:
    """Return the path of a PostgreSQL client program such as ``pg_dump``.

    ``PATH`` is searched first, then Debian's ``/usr/lib/postgresql/N/bin``
    folders, newest major version first, because ``pg_dump`` must be at least as
    new as the server.

    Raises
    ------
    BackupError
        If the program is found nowhere.
    """
    found = shutil.which(name)
    if found:
        return found
    folders = sorted(Path("/").glob(PG_BIN_GLOB.lstrip("/")), key=_major, reverse=True)
    for folder in folders:
        candidate = folder / name
        if candidate.exists():
            return str(candidate)
    raise BackupError(
        f"Programme PostgreSQL « {name} » introuvable ; installez le paquet "
        "postgresql-client de la version du serveur",
        path=Path(name),
    )


def _major(folder: Path) -> int:
    version = folder.parent.name
    return int(version) if version.isdigit() else 0


def _libpq_environment(store: Store) -> dict[str, str]:
    url = make_url(store.url)
    environment = dict(os.environ)
    settings = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    environment.update({key: value for key, value in settings.items() if value})
    return environment


def _run_postgres(program: str, arguments: list[str], store: Store | None, path: Path):
    environment = _libpq_environment(store) if store is not None else None
    command = [find_postgres_program(program), *arguments]
    result = subprocess.run(command, env=environment, capture_output=True, check=False)
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip()
        raise BackupError(
            f"{program} a échoué sur « {path.name} » (code {result.returncode}) : "
            f"{detail}",
            path=path,
        )
    return result


def _backup_postgres(store: Store, target: Path) -> None:
    _run_postgres("pg_dump", ["--format=custom", f"--file={target}"], store, target)


def _restore_postgres(store: Store, path: Path) -> None:
    arguments = [
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={make_url(store.url).database}",
        str(path),
    ]
    _run_postgres("pg_restore", arguments, store, path)


def _postgres_revision(path: Path) -> str | None:
    # pg_restore without --dbname prints the archive as SQL; the table's data is
    # a COPY block whose first row is the revision.
    arguments = ["--data-only", "--table=alembic_version", "--file=-", str(path)]
    sql = _run_postgres("pg_restore", arguments, None, path).stdout.decode("utf-8")
    pattern = r"^COPY [^\n]*alembic_version[^\n]*FROM stdin;\n([^\n]+)\n"
    match = re.search(pattern, sql, flags=re.MULTILINE)
    return match.group(1).strip() if match else None
