"""Header names: normalisation, known synonyms and finding the header row.

Headers are compared the way Open ENT NG's feeder compares them, after
lower-casing and removing accents and every character that is not a letter or a
digit (spaces, ``*``, ``'``, ``.``, brackets), so ``"Né(e) le"``, ``"NE(E) LE"``
and ``"neele"`` are one header.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from apkit.errors import RosterError

STUDENT_FIELDS = (
    "student_id",
    "ine",
    "login",
    "full_name",
    "last_name",
    "usage_name",
    "first_name",
    "class_name",
    "birth_date",
    "sex",
    "groups",
    "email",
    "leave_date",
)
TEACHER_FIELDS = (
    "teacher_id",
    "full_name",
    "last_name",
    "usage_name",
    "first_name",
    "email",
    "sex",
    "birth_date",
    "subjects",
    "classes",
    "function",
    "main_teacher_of",
    "login",
)

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "student_id": (
        "studentid",
        "ideleve",
        "eleveid",
        "identifianteleve",
        "numeroeleve",
        "numerointerne",
        "ninterne",
        "elenoet",
        "ideleveetab",
        "numero",
    ),
    "teacher_id": ("teacherid", "idenseignant", "identifiantenseignant", "idprof"),
    "ine": ("ine", "idnational", "nnational", "numeronational", "inerne"),
    "login": ("login", "identifiantent", "identifiantconnexion", "loginactuel"),
    "full_name": (
        "eleve",
        "eleves",
        "nomprenom",
        "nometprenom",
        "nomprenomeleve",
        "identite",
    ),
    "last_name": (
        "lastname",
        "nom",
        "nomdefamille",
        "nomeleve",
        "nompatronymique",
        "nomfamille",
        "sn",
    ),
    "usage_name": ("usagename", "nomdusage", "nomusage", "nomdusageeleve"),
    "first_name": ("firstname", "prenom", "prenom1", "prenomeleve", "prenoms"),
    "class_name": (
        "classname",
        "classe",
        "classes",
        "div",
        "division",
        "libelleclasse",
        "classeouregroupement",
        "class",
    ),
    "birth_date": (
        "birthdate",
        "datedenaissance",
        "datenaiss",
        "datenaissance",
        "neele",
        "nele",
        "nee",
        "naissance",
    ),
    "sex": ("sex", "sexe", "genre"),
    "groups": ("groups", "groupes", "groupe", "regroupement", "regroupements"),
    "email": ("email", "mail", "mel", "courriel", "adresseemail", "adressemail"),
    "leave_date": ("leavedate", "sortie", "datesortie", "datedesortie"),
    "subjects": (
        "subjects",
        "subject",
        "discipline",
        "disciplines",
        "matiere",
        "matieres",
        "matiereenseignee",
    ),
    "classes": ("classes", "classe", "class"),
    "function": ("fonction", "function"),
    "main_teacher_of": ("professeurprincipal", "profprincipal", "pp"),
}


_TEACHER_SYNONYMS = {
    **_SYNONYMS,
    "full_name": (
        "nomprenom",
        "nometprenom",
        "identite",
        "enseignant",
        "enseignants",
        "professeur",
        "responsable",
        "responsables",
    ),
}


def normalize_header(text: object) -> str:
    """Return the comparison key of a header: lower case, letters and digits only."""
    if text is None:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    return "".join(c for c in decomposed if c.isalnum() and c.isascii())


def map_headers(
    headers: Sequence[str],
    fields: Sequence[str],
    mapping: Mapping[str, str] | None = None,
) -> dict[str, list[int]]:
    """Return, for each known field found, the indexes of its columns.

    ``mapping`` maps a header text to a field and wins over the synonyms. A field
    may own several columns (Open ENT NG repeats ``Groupes``); fields that keep
    one value use the first.

    Raises
    ------
    RosterError
        When ``mapping`` names a field that does not exist.
    """
    by_key = {
        normalize_header(header): field for header, field in (mapping or {}).items()
    }
    unknown = sorted(set(by_key.values()) - set(fields))
    if unknown:
        raise RosterError(
            f"champ inconnu dans mapping : {', '.join(unknown)}",
            value=unknown[0],
            hint=f"choisissez parmi : {', '.join(fields)}",
        )
    known = _TEACHER_SYNONYMS if "teacher_id" in fields else _SYNONYMS
    synonyms = {key: field for field in fields for key in known.get(field, (field,))}
    found: dict[str, list[int]] = {}
    for index, header in enumerate(headers):
        key = normalize_header(header)
        field = by_key.get(key) or synonyms.get(key)
        if field is not None:
            found.setdefault(field, []).append(index)
    return found
