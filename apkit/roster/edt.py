"""Index Education EDT student export ``EXP_ELEVE.xml`` (root ``TABLE``).

Each pupil is an ``Eleves`` (or ``Eleves_et_leurs_responsables``) element.
``CLASSE`` is a comma list whose first item is the division, followed by
groups written ``[group]`` or ``division<part>``; ``N_NATIONAL`` is the INE.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from apkit.errors import RosterError
from apkit.roster.layout import derived_id
from apkit.roster.names import clean_name
from apkit.roster.result import STUDENT_COLUMNS, Roster, RowCollector, SkipRow
from apkit.roster.values import FieldReader
from apkit.roster.xmlfile import declared_encoding, parse_xml, record_lines, text

PUPIL_TAGS = ("Eleves", "Eleves_et_leurs_responsables")
COURSE_TAGS = ("Cours", "Cours_annuels")


class EdtReader:
    """Reads an EDT ``EXP_ELEVE.xml``; an ``EXP_COURS.xml`` is rejected."""

    format = "edt-xml"

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_students(
        self, data: bytes, collector: RowCollector, *, matcher, **_
    ) -> Roster:
        root = parse_xml(data, self.path)
        pupils = [child for child in root if child.tag in PUPIL_TAGS]
        if not pupils and any(child.tag in COURSE_TAGS for child in root):
            raise RosterError(
                "c'est l'export EDT des cours (EXP_COURS), pas celui des élèves",
                path=self.path,
                hint="dans EDT, exportez le type de données « Élèves » en XML",
            )
        fields = FieldReader(collector, matcher)
        lines = record_lines(data, PUPIL_TAGS, len(pupils))
        for pupil, line in zip(pupils, lines, strict=True):
            try:
                self._read_pupil(pupil, line, fields)
            except SkipRow:
                continue
        fields.report_respelled()
        return Roster(
            students=collector.frame(
                STUDENT_COLUMNS, unique="student_id", id_header="N_NATIONAL"
            ),
            dropped=collector.dropped_frame(),
            warnings=collector.warnings,
            format=self.format,
            path=self.path,
            encoding=declared_encoding(data),
        )

    def _read_pupil(self, pupil: Element, line, fields: FieldReader) -> None:
        collector = fields.collector
        last = clean_name(text(pupil, "NOM"))
        first = clean_name(text(pupil, "PRENOM"))
        name = f"{last} {first}".strip()
        ine = text(pupil, "N_NATIONAL") or None
        if not name:
            collector.bad_value(
                "élève sans nom",
                line=line,
                column="NOM",
                value=ine or "",
                hint="complétez la fiche dans EDT puis exportez de nouveau",
                text=ine or "",
            )

        items = [item.strip() for item in text(pupil, "CLASSE").split(",")]
        divisions = [item for item in items if item and not _is_group(item)]
        if not divisions:
            collector.drop(
                line, name, "aucune classe dans CLASSE, seulement des groupes"
            )
            return

        birth = fields.date(
            text(pupil, "DATE_NAISS"), line=line, column="DATE_NAISS", name=name
        )
        groups = [item.strip() for item in text(pupil, "GROUPES").split(",")]
        collector.keep(
            {
                "student_id": ine or derived_id(last, first, birth),
                "id_source": "ine" if ine else "derived",
                "last_name": last,
                "first_name": first,
                "class_name": fields.class_name(
                    divisions[0], line=line, column="CLASSE"
                ),
                "birth_date": birth,
                "sex": fields.sex(
                    text(pupil, "SEXE"), line=line, column="SEXE", name=name
                ),
                "ine": ine,
                "groups": [_unbracket(group) for group in groups if group],
                "raw_name": name,
                "raw_class": divisions[0],
                "line": line,
            }
        )


def _is_group(item: str) -> bool:
    return item.startswith("[") or "<" in item


def _unbracket(group: str) -> str:
    if group.startswith("[") and group.endswith("]"):
        return group[1:-1].strip()
    return group
