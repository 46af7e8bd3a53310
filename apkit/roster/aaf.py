"""AAF feed files (root ``ficAlimMENESR``), as academic ENTs receive them.

Each pupil is an ``addRequest`` (or ``modifyRequest``) whose ``attributes``
hold ``<attr name="..."><value>...</value></attr>`` pairs, a multi-valued
attribute repeating ``<value>``. Classes and groups are written
``<structure id>$<code>``.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree.ElementTree import Element

from apkit.roster.names import clean_name
from apkit.roster.result import STUDENT_COLUMNS, Roster, RowCollector, SkipRow
from apkit.roster.values import FieldReader
from apkit.roster.xmlfile import parse_xml, record_lines

_REQUESTS = ("addRequest", "modifyRequest")


class AafReader:
    """Reads an AAF ``Eleve`` file."""

    format = "aaf-xml"

    def __init__(self, path: Path) -> None:
        self.path = path

    def read_students(
        self, data: bytes, collector: RowCollector, *, matcher, **_
    ) -> Roster:
        root = parse_xml(data, self.path)
        fields = FieldReader(collector, matcher)
        requests = [child for child in root if child.tag in _REQUESTS]
        lines = record_lines(data, _REQUESTS, len(requests))
        for request, line in zip(requests, lines, strict=True):
            try:
                self._read_request(request, line, fields)
            except SkipRow:
                continue
        for request in root.iterfind("deleteRequest"):
            identifier = request.findtext("identifier/id", default="").strip()
            collector.drop(None, identifier, "demande de suppression du flux AAF")
        fields.report_respelled()
        return Roster(
            students=collector.frame(
                STUDENT_COLUMNS, unique="student_id", id_header="ENTPersonJointure"
            ),
            dropped=collector.dropped_frame(),
            warnings=collector.warnings,
            format=self.format,
            path=self.path,
            encoding="utf-8",
        )

    def _read_request(self, request: Element, line, fields: FieldReader) -> None:
        collector = fields.collector
        attrs = _attributes(request)
        last = clean_name(_first(attrs, "sn") or _first(attrs, "ENTPersonNomPatro"))
        first = clean_name(_first(attrs, "givenName"))
        name = f"{last} {first}".strip()
        joint = _first(attrs, "ENTPersonJointure") or request.findtext(
            "identifier/id", default=""
        )
        if not last and not first:
            collector.bad_value(
                "élève sans nom (attributs sn et givenName vides)",
                line=line,
                column="sn",
                value=joint,
                hint="signalez la fiche à l'administrateur de l'ENT",
                text=joint,
            )
        classes = [_code(value) for value in attrs.get("ENTEleveClasses", [])]
        classes = [code for code in classes if code]
        if not classes:
            collector.drop(line, name, "aucune classe (ENTEleveClasses vide)")
            return
        collector.keep(
            {
                "student_id": joint.strip() or None,
                "id_source": "ENTPersonJointure",
                "last_name": last,
                "first_name": first,
                "class_name": fields.class_name(
                    classes[0], line=line, column="ENTEleveClasses"
                ),
                "birth_date": fields.date(
                    _first(attrs, "ENTPersonDateNaissance"),
                    line=line,
                    column="ENTPersonDateNaissance",
                    name=name,
                ),
                "sex": fields.sex(
                    _first(attrs, "personalTitle"),
                    line=line,
                    column="personalTitle",
                    name=name,
                ),
                "ine": _first(attrs, "ENTEleveINE") or None,
                "groups": [_code(value) for value in attrs.get("ENTEleveGroupes", [])],
                "raw_name": name,
                "raw_class": classes[0],
                "line": line,
                "family_name": clean_name(_first(attrs, "ENTPersonNomPatro")) or None,
                "first_names": attrs.get("ENTPersonAutresPrenoms", []),
                "mef": _first(attrs, "ENTEleveMEF") or None,
            }
        )


def _attributes(request: Element) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for attr in request.iterfind("attributes/attr"):
        values = [(value.text or "").strip() for value in attr.iterfind("value")]
        found[attr.get("name", "")] = [value for value in values if value]
    return found


def _first(attrs: dict[str, list[str]], name: str) -> str:
    values = attrs.get(name)
    return values[0] if values else ""


def _code(value: str) -> str:
    return value.rsplit("$", 1)[-1].strip()
