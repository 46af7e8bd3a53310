"""Protection of exported files: formula neutralising and safe file names.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, and some also after a tab or a carriage return (OWASP's "CSV injection").
A student may type such a name, so the CSV export prefixes it with ``'`` and the
XLSX export writes it as a text cell. File names built from an activity title or
a teacher's name are reduced to safe characters and kept inside the export folder.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from apkit.errors import ApkitError

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Device names that Windows reserves whatever the extension.
_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{d}{n}" for d in ("com", "lpt") for n in range(1, 10)
}
MAX_FILENAME_LENGTH = 100


class ExportPathError(ApkitError, ValueError):
    """An export file name that would land outside its folder.

    Attributes
    ----------
    folder, name
        The export folder and the rejected name.
    """

    def __init__(self, folder: Path, name: str) -> None:
        self.folder = folder
        self.name = name
        super().__init__(
            f"Nom de fichier refusé : « {name} » sortirait du dossier d'export "
            f"{folder} ; choisissez un nom sans « / », « \\ » ni « .. »."
        )


def neutralise_formula(value: object) -> object:
    """Prefix text that starts like a formula with ``'``; return other values as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_filename(text: str, *, suffix: str = "", default: str = "fichier") -> str:
    """Return ``text`` as a portable file name: ASCII letters, digits, ``._-``.

    Accents are dropped (``Écuyer`` gives ``Ecuyer``), every other run of
    characters becomes ``_``, leading dots cannot make a hidden or parent name,
    Windows device names get a trailing ``_``, and the stem is cut to
    :data:`MAX_FILENAME_LENGTH` characters. ``suffix`` (such as ``".csv"``) is
    added after the cut.
    """
    ascii_text = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    ascii_text = ascii_text.encode("ascii", "ignore").decode("ascii")
    stem = _UNSAFE.sub("_", ascii_text).strip("._- ")
    stem = stem[:MAX_FILENAME_LENGTH].rstrip("._- ") or default
    if stem.split(".")[0].lower() in _RESERVED:
        stem += "_"
    return stem + suffix


def path_inside(folder: str | Path, name: str) -> Path:
    """Return ``folder / name`` after checking that it resolves inside ``folder``.

    Raises
    ------
    ExportPathError
        If ``name`` is absolute or climbs out of ``folder`` (``..``, a symbolic
        link pointing elsewhere).
    """
    root = Path(folder).resolve()
    target = (root / name).resolve()
    if target == root or not target.is_relative_to(root):
        raise ExportPathError(root, name)
    return target
