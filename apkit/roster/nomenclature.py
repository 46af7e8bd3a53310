"""SIECLE ``Nomenclature.xml`` (root ``BEE_NOMENCLATURES``): codes to labels."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from apkit.errors import RosterError
from apkit.roster.encoding import read_bytes
from apkit.roster.xmlfile import parse_xml, root_tag, text


@dataclass
class Nomenclature:
    """Labels of subject codes (``CODE_MATIERE``) and level codes (``CODE_MEF``)."""

    subjects: dict[str, str]
    mefs: dict[str, str]

    def subject(self, code: str | None) -> str | None:
        """Return the long label of a subject code, or the code when unknown."""
        return self.subjects.get(code, code) if code else None

    def mef(self, code: str | None) -> str | None:
        """Return the long label of a MEF code, or the code when unknown."""
        return self.mefs.get(code, code) if code else None


def load_nomenclature(path: str | Path) -> Nomenclature:
    """Read a SIECLE ``Nomenclature.xml``.

    Raises
    ------
    RosterError
        When the file is missing, malformed or not a ``BEE_NOMENCLATURES``.
    """
    path = Path(path)
    data = read_bytes(path)
    tag = root_tag(data)
    if tag != "BEE_NOMENCLATURES":
        raise RosterError(
            f"ce n'est pas un fichier Nomenclature.xml de SIECLE (racine {tag})",
            path=path,
            value=tag,
            hint="exportez « Nomenclatures » depuis SIECLE, en XML",
        )
    root = parse_xml(data, path)
    subjects = {
        entry.get("CODE_MATIERE", ""): text(entry, "LIBELLE_LONG")
        or text(entry, "LIBELLE_COURT")
        for entry in root.iterfind("DONNEES/MATIERES/MATIERE")
    }
    mefs = {
        entry.get("CODE_MEF", ""): text(entry, "LIBELLE_LONG")
        or text(entry, "LIBELLE_EDITION")
        for entry in root.iterfind("DONNEES/MEFS/MEF")
    }
    return Nomenclature(subjects, mefs)
