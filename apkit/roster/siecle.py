"""SIECLE ``ElevesSansAdresses.xml`` (root ``BEE_ELEVES``), plain or zipped.

The file has three sections joined on the ``ELEVE_ID`` attribute, in any
order: ``ELEVES`` (identity), ``OPTIONS`` (subjects chosen) and ``STRUCTURES``
(the division, type ``D``, and groups, type ``G``). Files before summer 2016
write one ``NOM`` (the usage name) instead of ``NOM_DE_FAMILLE`` and
``NOM_USAGE``. A pupil is kept when he has exactly one division other than
``Inactifs`` and no leaving date today or earlier. The others go to
``dropped`` with the reason.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from apkit.errors import RosterError
from apkit.roster.dates import DateFormatError, parse_date
from apkit.roster.names import clean_name
from apkit.roster.nomenclature import Nomenclature
from apkit.roster.result import STUDENT_COLUMNS, Roster, RowCollector, SkipRow
from apkit.roster.values import FieldReader
from apkit.roster.xmlfile import declared_encoding, parse_xml, record_lines, text

INACTIVE_DIVISION = "inactifs"
_INE_TAGS = ("ID_NATIONAL", "INE_RNIE", "INE_BEA")


class SiecleReader:
    """Reads ``BEE_ELEVES`` bytes (already taken out of their zip)."""

    format = "siecle-xml"

    def __init__(self, path: Path, nomenclature: Nomenclature | None = None) -> None:
        self.path = path
        self.nomenclature = nomenclature

    def read_students(
        self, data: bytes, collector: RowCollector, *, matcher, **_
    ) -> Roster:
        root = parse_xml(data, self.path)
        fields = FieldReader(collector, matcher)
        structures = _structures(root)
        options = _options(root)
        pupils = root.findall("DONNEES/ELEVES/ELEVE")
        lines = record_lines(data, ("ELEVE",), len(pupils))
        for pupil, line in zip(pupils, lines, strict=True):
            eleve_id = pupil.get("ELEVE_ID", "").strip()
            try:
                self._read_pupil(pupil, line, fields, structures.get(eleve_id), options)
            except SkipRow:
                continue
        fields.report_respelled()
        school = self._school(root, collector)
        return Roster(
            students=collector.frame(
                STUDENT_COLUMNS, unique="student_id", id_header="ELEVE_ID"
            ),
            dropped=collector.dropped_frame(),
            warnings=collector.warnings,
            format=self.format,
            path=self.path,
            encoding=declared_encoding(data),
            school=school,
        )

    def _read_pupil(
        self, pupil, line, fields: FieldReader, structures, options
    ) -> None:
        collector = fields.collector
        identity = self._identity(pupil, line, collector)
        name = identity["raw_name"]

        no_sex = "" if text(pupil, "CODE_SEXE") else " ; pas de CODE_SEXE non plus"
        division = self._division(structures, line, name, collector, no_sex)
        if division is None:
            return
        left = self._leaving_date(pupil, line, name, fields)
        if fields.has_left(left):
            reason = (
                f"a quitté l'établissement le {left:%d/%m/%Y} "
                f"(encore rattaché à {division})"
            )
            collector.drop(line, name, reason)
            return

        record = {**identity, **self._facts(pupil, line, name, fields)}
        record["class_name"] = fields.class_name(
            division, line=line, column="CODE_STRUCTURE"
        )
        record["raw_class"] = division
        record["groups"] = [code for code, kind in structures if kind == "G"]
        record["options"] = options.get(identity["student_id"], [])
        record["line"] = line
        if self.nomenclature is not None:
            record["mef_label"] = self.nomenclature.mef(record["mef"])
            record["option_labels"] = [
                self.nomenclature.subject(code) for code in record["options"]
            ]
        collector.keep(record)

    def _identity(self, pupil, line, collector: RowCollector) -> dict[str, Any]:
        """Return the pupil's id and names, raising or applying the policy if absent."""
        eleve_id = pupil.get("ELEVE_ID", "").strip()
        family = clean_name(text(pupil, "NOM_DE_FAMILLE") or text(pupil, "NOM"))
        first_names = [
            clean_name(text(pupil, tag)) for tag in ("PRENOM", "PRENOM2", "PRENOM3")
        ]
        first_names = [first for first in first_names if first]
        first = first_names[0] if first_names else ""
        name = f"{family} {first}".strip()
        if not eleve_id:
            raise RosterError(
                "élève sans attribut ELEVE_ID",
                path=self.path,
                line=line,
                column="ELEVE_ID",
                value=name,
                hint="utilisez l'export SIECLE « Elèves sans adresses » non modifié",
            )
        if not family:
            collector.bad_value(
                "élève sans nom",
                line=line,
                column="NOM_DE_FAMILLE",
                value=eleve_id,
                hint="corrigez la fiche dans SIECLE puis exportez de nouveau",
                text=eleve_id,
            )
        return {
            "student_id": eleve_id,
            "id_source": "ELEVE_ID",
            "last_name": family,
            "first_name": first,
            "usage_name": clean_name(text(pupil, "NOM_USAGE")) or None,
            "raw_name": name,
            "first_names": first_names,
        }

    def _facts(self, pupil, line, name: str, fields: FieldReader) -> dict[str, Any]:
        """Return the birth date, sex, INE and school facts of a pupil kept."""
        sex_code = text(pupil, "CODE_SEXE")
        if not sex_code:
            fields.collector.warn(f"ligne {line} : {name} n'a pas de CODE_SEXE")
        ine = next((text(pupil, tag) for tag in _INE_TAGS if text(pupil, tag)), None)
        return {
            "birth_date": fields.date(
                text(pupil, "DATE_NAISS"), line=line, column="DATE_NAISS", name=name
            ),
            "sex": fields.sex(sex_code, line=line, column="CODE_SEXE", name=name),
            "ine": ine,
            "elenoet": pupil.get("ELENOET") or text(pupil, "ELENOET") or None,
            "mef": text(pupil, "CODE_MEF") or None,
            "repeating": text(pupil, "DOUBLEMENT") == "1",
        }

    def _division(self, structures, line, name, collector, note) -> str | None:
        if not structures:
            reason = "aucune structure : pas encore affecté à une classe"
            collector.drop(line, name, reason + note)
            return None
        divisions = [code for code, kind in structures if kind == "D"]
        if not divisions:
            groups = ", ".join(code for code, _ in structures)
            collector.drop(
                line, name, f"seulement des groupes ({groups}), aucune classe"
            )
            return None
        if len(divisions) > 1:
            reason = (
                f"plusieurs classes ({', '.join(divisions)}) ; corrigez dans SIECLE"
            )
            collector.drop(line, name, reason)
            return None
        if divisions[0].casefold() == INACTIVE_DIVISION:
            collector.drop(line, name, f"classe « {divisions[0]} » (élève inactif)")
            return None
        return divisions[0]

    def _leaving_date(self, pupil, line, name, fields: FieldReader):
        value = text(pupil, "DATE_SORTIE")
        if not value:
            return None
        return fields.date(value, line=line, column="DATE_SORTIE", name=name)

    def _school(self, root: Element, collector: RowCollector) -> dict[str, object]:
        uai = text(root, "PARAMETRES/UAJ") or None
        year = text(root, "PARAMETRES/ANNEE_SCOLAIRE") or None
        exported = text(root, "PARAMETRES/DATE_EXPORT")
        try:
            export_date = parse_date(exported)
        except DateFormatError:
            export_date = None
        if year and export_date is not None:
            expected = (
                export_date.year if export_date.month >= 9 else export_date.year - 1
            )
            if year != str(expected):
                collector.warn(
                    f"ANNEE_SCOLAIRE vaut {year} alors que l'export date du "
                    f"{export_date:%d/%m/%Y} (année {expected}-{expected + 1}) : "
                    "SIECLE a peut-être déjà basculé d'année ; vérifiez l'export"
                )
        return {"uai": uai, "school_year": year, "export_date": export_date}


def _structures(root: Element) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = {}
    for entry in root.iterfind("DONNEES/STRUCTURES/STRUCTURES_ELEVE"):
        codes = found.setdefault(entry.get("ELEVE_ID", "").strip(), [])
        for structure in entry.iterfind("STRUCTURE"):
            code = clean_name(text(structure, "CODE_STRUCTURE"))
            if code:
                codes.append((code, text(structure, "TYPE_STRUCTURE").upper()))
    return found


def _options(root: Element) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for entry in root.iterfind("DONNEES/OPTIONS/OPTION"):
        codes = found.setdefault(entry.get("ELEVE_ID", "").strip(), [])
        for option in entry.iterfind("OPTIONS_ELEVE"):
            code = text(option, "CODE_MATIERE")
            if code:
                codes.append(code)
    return found
