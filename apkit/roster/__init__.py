"""Loaders for the student and teacher lists that French schools export.

:func:`load` reads students from SIECLE (XML, zipped XML, CSV), Pronote, EDT,
WIMS, Open ENT NG, AAF and teachers' own spreadsheets (CSV, XLSX, ODS);
:func:`load_teachers` reads teachers from STS-Web, Open ENT NG and spreadsheets.
Both detect the format from the file's bytes and name and return rows as
pandas DataFrames, with the rows left out and the reason for each.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path

from apkit.errors import RosterError
from apkit.roster.classes import ClassMatcher
from apkit.roster.detect import detect_format
from apkit.roster.encoding import read_bytes
from apkit.roster.nomenclature import load_nomenclature
from apkit.roster.result import (
    STUDENT_COLUMNS,
    TEACHER_COLUMNS,
    BadRowPolicy,
    Roster,
    RowCollector,
    TeacherRoster,
)

__all__ = [
    "STUDENT_COLUMNS",
    "TEACHER_COLUMNS",
    "Roster",
    "RosterError",
    "TeacherRoster",
    "load",
    "load_teachers",
]


def load(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    class_name: str | None = None,
    classes: Iterable[str] | None = None,
    on_bad_rows: BadRowPolicy = "error",
    today: dt.date | None = None,
    nomenclature: str | Path | None = None,
) -> Roster:
    """Read the students of one export file.

    Parameters
    ----------
    path
        The file: SIECLE ``ElevesSansAdresses.xml`` (or its .zip),
        ``EXP_Liste_des_eleves_par_division.csv``, a Pronote, WIMS or Open ENT
        NG CSV, an AAF or EDT XML, or a spreadsheet (.csv, .xlsx, .ods).
    mapping
        Header text to field name (``{"Nom de l'élève": "last_name"}``) for
        columns the known synonyms miss. Fields: ``student_id``, ``ine``,
        ``login``, ``full_name`` (``"NOM Prénom"`` in one cell), ``last_name``,
        ``usage_name``, ``first_name``, ``class_name``, ``birth_date``, ``sex``,
        ``groups``, ``email``, ``leave_date``.
    class_name
        The class of every pupil, for a list that has no class column and no
        class in its file name (a Pronote export of one class).
    classes
        The school's classes. When given, every class spelling (``2nde 5``,
        ``Seconde 5``) is matched to one of them, and a spelling that matches
        none raises.
    on_bad_rows
        What to do with a row whose birth date or sex is unreadable or which
        has no name: ``"error"`` raises, ``"warn"`` keeps it without the value
        and adds a warning, ``"skip"`` moves it to ``dropped``.
    today
        The date that decides whether a leaving date is past; today by default.
    nomenclature
        A SIECLE ``Nomenclature.xml``, to add the labels of ``mef`` and
        ``options`` (``mef_label``, ``option_labels``) to a SIECLE roster.

    Returns
    -------
    Roster
        ``students``, ``dropped``, ``warnings``, ``format`` and ``path``.

    Raises
    ------
    RosterError
        When the file is missing, too large, of no known format, holds no
        pupil, lacks a needed column, contains an unknown class or duplicate
        ids, or has a bad row under ``on_bad_rows="error"``.
    """
    path = Path(path)
    collector = RowCollector(path, on_bad_rows, today)
    matcher = ClassMatcher(classes) if classes is not None else None
    codes = load_nomenclature(nomenclature) if nomenclature is not None else None
    reader, data = detect_format(
        path, read_bytes(path), teachers=False, nomenclature=codes
    )
    roster = reader.read_students(
        data, collector, mapping=mapping, class_name=class_name, matcher=matcher
    )
    _check_not_empty(roster)
    return roster


def _check_not_empty(roster: Roster) -> None:
    # A full re-import marks every stored student missing from the file as left,
    # so a file that yields no pupil would empty the school: reject it here.
    if not roster.students.empty:
        return
    dropped = len(roster.dropped)
    if dropped:
        problem = (
            "aucun élève retenu : la seule ligne lue a été écartée"
            if dropped == 1
            else f"aucun élève retenu : les {dropped} lignes lues ont été écartées"
        )
        hint = "vérifiez les motifs dans roster.dropped (élèves partis, sans classe)"
    else:
        problem = "aucun élève trouvé dans le fichier"
        hint = "exportez de nouveau la liste complète des élèves"
    raise RosterError(problem, path=roster.path, hint=hint)


def load_teachers(
    path: str | Path,
    *,
    mapping: Mapping[str, str] | None = None,
    on_bad_rows: BadRowPolicy = "error",
) -> TeacherRoster:
    """Read the teachers of an STS-Web export, an Open ENT NG CSV or a spreadsheet.

    Parameters
    ----------
    path
        ``sts_emp_<UAI>_<année>.xml``, an Open ENT NG ``Teacher.csv`` or a
        spreadsheet with columns like ``teacher_id;last_name;first_name;email``.
    mapping
        Header text to field name, as for :func:`load`; fields are
        ``teacher_id``, ``full_name``, ``last_name``, ``usage_name``,
        ``first_name``, ``email``, ``sex``, ``birth_date``, ``subjects``,
        ``classes``, ``function`` and ``login``.
    on_bad_rows
        The policy for unreadable dates, unknown sex values and rows without a
        name, as for :func:`load`.

    Returns
    -------
    TeacherRoster
        ``teachers``, ``dropped``, ``warnings``, ``format`` and ``path``.

    Raises
    ------
    RosterError
        When the file is missing, too large, of no known format (an EDT -> STS
        export ``EDT_STS`` instead of ``STS_EDT``), lacks a needed column or
        has a bad row under ``on_bad_rows="error"``.
    """
    path = Path(path)
    collector = RowCollector(path, on_bad_rows)
    reader, data = detect_format(path, read_bytes(path), teachers=True)
    return reader.read_teachers(data, collector, mapping=mapping)
