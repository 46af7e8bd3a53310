"""Format detection from a file's first bytes and its name."""

from __future__ import annotations

from pathlib import Path

from apkit.errors import RosterError
from apkit.roster.spreadsheet import TabularReader

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"


def detect_format(path: Path, data: bytes, *, teachers: bool):
    """Return the reader for ``data``.

    Raises
    ------
    RosterError
        When the bytes match no format apkit reads.
    """
    if not data.strip():
        raise RosterError(
            "fichier vide",
            path=path,
            hint="exportez de nouveau la liste",
        )
    if data.startswith(_OLE):
        raise RosterError(
            "format Excel 97-2003 (.xls) non pris en charge",
            path=path,
            hint="ouvrez-le dans un tableur et enregistrez-le en .xlsx, .ods ou .csv",
        )
    return TabularReader(path, "csv")
