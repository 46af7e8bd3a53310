"""STS-Web timetable export ``sts_emp_<UAI>_<année>.xml`` (root ``STS_EDT``).

``DONNEES/INDIVIDUS/INDIVIDU`` lists the staff; ``DONNEES/STRUCTURE`` lists
divisions and groups, each with ``SERVICES/SERVICE @CODE_MATIERE`` and the
``ENSEIGNANT @ID`` who teach it. Subject codes resolve through
``NOMENCLATURES/MATIERES``. Birth dates are ISO here, unlike SIECLE.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from apkit.errors import RosterError
from apkit.roster.names import clean_name
from apkit.roster.result import TEACHER_COLUMNS, RowCollector, SkipRow, TeacherRoster
from apkit.roster.values import FieldReader
from apkit.roster.xmlfile import parse_xml, record_lines, text

ROOT = "STS_EDT"
REVERSED_ROOT = "EDT_STS"


class StsReader:
    """Reads the teachers of an STS-Web export."""

    format = "sts-xml"

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_teachers(self, data: bytes, collector: RowCollector, **_) -> TeacherRoster:
        root = parse_xml(data, self.path)
        check_root(root.tag, self.path)
        fields = FieldReader(collector, None)
        subjects = {
            entry.get("CODE", ""): text(entry, "LIBELLE_LONG")
            or text(entry, "LIBELLE_COURT")
            for entry in root.iterfind("NOMENCLATURES/MATIERES/MATIERE")
        }
        services = _services(root, subjects)
        people = root.findall("DONNEES/INDIVIDUS/INDIVIDU")
        lines = record_lines(data, ("INDIVIDU",), len(people))
        for person, line in zip(people, lines, strict=True):
            try:
                self._read_person(person, line, fields, services)
            except SkipRow:
                continue
        return TeacherRoster(
            teachers=collector.frame(
                TEACHER_COLUMNS, unique="teacher_id", id_header="ID"
            ),
            dropped=collector.dropped_frame(),
            warnings=collector.warnings,
            format=self.format,
            path=self.path,
            school=_school(root),
        )

    def _read_person(
        self, person: Element, line, fields: FieldReader, services
    ) -> None:
        collector = fields.collector
        teacher_id = person.get("ID", "").strip()
        usage = clean_name(text(person, "NOM_USAGE"))
        birth_name = clean_name(text(person, "NOM_PATRONYMIQUE")) or None
        last = usage or birth_name or ""
        first = clean_name(text(person, "PRENOM"))
        name = f"{last} {first}".strip()
        if not last:
            collector.bad_value(
                "personnel sans nom",
                line=line,
                column="NOM_USAGE",
                value=teacher_id,
                hint="complétez la fiche dans STS-Web puis exportez de nouveau",
                text=teacher_id,
            )
        taught = services.get(teacher_id, [])
        disciplines = person.findall("DISCIPLINES/DISCIPLINE")
        collector.keep(
            {
                "teacher_id": teacher_id,
                "id_source": "ID",
                "last_name": last,
                "first_name": first,
                "email": None,
                "sex": fields.sex(
                    text(person, "SEXE"), line=line, column="SEXE", name=name
                ),
                "birth_date": fields.date(
                    text(person, "DATE_NAISSANCE"),
                    line=line,
                    column="DATE_NAISSANCE",
                    name=name,
                ),
                "subjects": sorted({subject for _, subject in taught}),
                "classes": sorted({structure for structure, _ in taught}),
                "raw_name": name,
                "line": line,
                "birth_name": birth_name,
                "type": person.get("TYPE", "epp"),
                "function": text(person, "FONCTION") or None,
                "grade": text(person, "GRADE") or None,
                "discipline": disciplines[0].get("CODE") if disciplines else None,
                "discipline_label": text(disciplines[0], "LIBELLE_COURT")
                if disciplines
                else None,
                "main_teacher_of": [
                    text(entry, "CODE_STRUCTURE")
                    for entry in person.iterfind("PROFS_PRINC/PROF_PRINC")
                ],
            }
        )


def check_root(tag: str | None, path: Path) -> None:
    """Raise unless ``tag`` is ``STS_EDT``, naming the EDT -> STS mix-up.

    Raises
    ------
    RosterError
        When the root is ``EDT_STS`` or anything else.
    """
    if tag == ROOT:
        return
    if tag == REVERSED_ROOT:
        raise RosterError(
            "c'est l'export EDT vers STS (racine EDT_STS), pas l'export STS-Web "
            "des emplois du temps",
            path=path,
            value=tag,
            hint="dans STS-Web, menu Mise à jour > Exports > Emplois du temps, "
            "téléchargez sts_emp_<UAI>_<année>.xml",
        )
    raise RosterError(
        f"racine XML inattendue pour un export STS-Web (attendu {ROOT})",
        path=path,
        value=tag,
        hint="téléchargez sts_emp_<UAI>_<année>.xml depuis STS-Web",
    )


def _school(root: Element) -> dict[str, str | None]:
    uaj = root.find("PARAMETRES/UAJ")
    year = root.find("PARAMETRES/ANNEE_SCOLAIRE")
    return {
        "uai": uaj.get("CODE") if uaj is not None else None,
        "school_year": year.get("ANNEE") if year is not None else None,
    }


def _services(
    root: Element, subjects: dict[str, str]
) -> dict[str, list[tuple[str, str]]]:
    taught: dict[str, list[tuple[str, str]]] = {}
    structures = [
        *root.iterfind("DONNEES/STRUCTURE/DIVISIONS/DIVISION"),
        *root.iterfind("DONNEES/STRUCTURE/GROUPES/GROUPE"),
    ]
    for structure in structures:
        code = structure.get("CODE", "")
        for service in structure.iterfind("SERVICES/SERVICE"):
            subject_code = service.get("CODE_MATIERE", "")
            subject = subjects.get(subject_code, subject_code)
            for teacher in service.iterfind("ENSEIGNANTS/ENSEIGNANT"):
                taught.setdefault(teacher.get("ID", ""), []).append((code, subject))
    return taught
