"""Format detection from a file's first bytes and its name.

The bytes decide, because teachers rename files: a zip holding
``xl/workbook.xml`` is XLSX, one with an OpenDocument ``mimetype`` is ODS, any
other zip is an archive whose XML member is read (SIECLE delivers
``ElevesSansAdresses.zip``). XML is recognised by its root element, and anything
else is read as CSV text.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from apkit.errors import RosterError
from apkit.roster.aaf import AafReader
from apkit.roster.edt import EdtReader
from apkit.roster.encoding import open_zip_member
from apkit.roster.nomenclature import Nomenclature
from apkit.roster.siecle import SiecleReader
from apkit.roster.spreadsheet import TabularReader
from apkit.roster.sts import REVERSED_ROOT, ROOT, StsReader, check_root
from apkit.roster.xmlfile import root_tag

_ZIP = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"
_OLE = b"\xd0\xcf\x11\xe0"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"

# A 30,000-row XLSX unpacks to about 10 MB; far more is no roster (or a zip bomb).
MAX_UNPACKED_BYTES = 500 * 1024 * 1024
STUDENT_ROOTS = ("BEE_ELEVES", "ficAlimMENESR", "TABLE")


def detect_format(
    path: Path,
    data: bytes,
    *,
    teachers: bool,
    nomenclature: Nomenclature | None = None,
):
    """Return ``(reader, data)``: the reader for the file and the bytes to give it.

    ``data`` changes only for a zip archive, where it becomes the XML member.

    Raises
    ------
    RosterError
        When the bytes match no format apkit reads, or the format lists the
        other kind of person (a teacher file given to ``load``...).
    """
    if not data.strip():
        raise RosterError(
            "fichier vide", path=path, hint="exportez de nouveau la liste"
        )
    if data.startswith(_OLE):
        raise RosterError(
            "format Excel 97-2003 (.xls) non pris en charge",
            path=path,
            hint="ouvrez-le dans un tableur et enregistrez-le en .xlsx, .ods ou .csv",
        )
    if data.startswith((_ZIP, _EMPTY_ZIP)):
        kind = _zip_kind(data, path)
        if kind != "archive":
            return TabularReader(path, kind), data
        _, data = open_zip_member(data, path, (".xml",))
        if not data.strip():
            raise RosterError(
                "le fichier XML de l'archive est vide",
                path=path,
                hint="téléchargez de nouveau l'export",
            )
    tag = root_tag(data)
    if tag is None:
        if path.suffix.lower() in {".xml", ".xlsx", ".ods", ".zip"}:
            raise RosterError(
                f"le contenu ne correspond pas à l'extension {path.suffix}",
                path=path,
                hint="vérifiez que le fichier n'est pas abîmé ou mal renommé",
            )
        return TabularReader(path, "csv"), data
    return _xml_reader(path, tag, teachers, nomenclature), data


def _zip_kind(data: bytes, path: Path) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_unpacked_size(archive, path)
            names = set(archive.namelist())
            if "xl/workbook.xml" in names:
                return "xlsx"
            if (
                "mimetype" in names
                and archive.read("mimetype").strip() == _ODS_MIMETYPE
            ):
                return "ods"
            if "content.xml" in names and "META-INF/manifest.xml" in names:
                return "ods"
    except zipfile.BadZipFile:
        # A truncated workbook loses its central directory, which lists the
        # members; the local headers before the cut still name them.
        if b"xl/worksheets/" in data or b"xl/workbook.xml" in data:
            return "xlsx"
        if _ODS_MIMETYPE in data[:200]:
            return "ods"
    return "archive"


def _check_unpacked_size(archive: zipfile.ZipFile, path: Path) -> None:
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > MAX_UNPACKED_BYTES:
        megabytes = unpacked // 1_000_000
        raise RosterError(
            "archive trop volumineuse une fois décompressée "
            f"({megabytes} Mo, maximum {MAX_UNPACKED_BYTES // 1_000_000} Mo)",
            path=path,
            hint="vérifiez que c'est bien l'export de la liste des élèves",
        )


def _xml_reader(path: Path, tag: str, teachers: bool, nomenclature):
    if teachers:
        if tag in (ROOT, REVERSED_ROOT):
            check_root(tag, path)
            return StsReader(path)
        if tag in STUDENT_ROOTS:
            raise RosterError(
                f"ce fichier liste des élèves (racine {tag}), pas des enseignants",
                path=path,
                value=tag,
                hint="chargez-le avec apkit.roster.load, et les enseignants depuis "
                "l'export STS-Web sts_emp_<UAI>_<année>.xml",
            )
    else:
        if tag == "BEE_ELEVES":
            return SiecleReader(path, nomenclature)
        if tag == "ficAlimMENESR":
            return AafReader(path)
        if tag == "TABLE":
            return EdtReader(path)
        if tag == REVERSED_ROOT:
            raise RosterError(
                "c'est l'export EDT vers STS (racine EDT_STS), sans liste d'élèves",
                path=path,
                value=tag,
                hint="exportez les élèves de SIECLE (ElevesSansAdresses.xml)",
            )
        if tag == ROOT:
            raise RosterError(
                f"ce fichier liste des enseignants (racine {tag}), pas des élèves",
                path=path,
                value=tag,
                hint="chargez-le avec apkit.roster.load_teachers",
            )
        if tag == "BEE_NOMENCLATURES":
            raise RosterError(
                "c'est le fichier Nomenclature.xml de SIECLE, sans liste d'élèves",
                path=path,
                value=tag,
                hint="chargez ElevesSansAdresses.xml et passez ce fichier en "
                "nomenclature=",
            )
    raise RosterError(
        f"format XML inconnu (racine {tag})",
        path=path,
        value=tag,
        hint="formats lus : SIECLE ElevesSansAdresses.xml, AAF, EDT EXP_ELEVE.xml, "
        "STS-Web sts_emp_*.xml",
    )
