"""The raw tables of a school set-up: a folder of CSV files or one workbook.

A set-up has four tables: blocks, teachers, periods and activities. In a folder
they are ``blocks.csv``, ``teachers.csv``, ``periods.csv`` and one
``activities_<period>.csv`` per period. In a workbook (``.xlsx`` or ``.ods``) they
are the sheets ``Barrettes``, ``Enseignants``, ``Périodes`` and ``Ateliers``, and
the last one has a ``période`` column. The English names are accepted too.

Headers may be written in English (``class_name``) or in French (``classe``).
Each cell comes back as written: a stripped string, or the number or date a
workbook cell holds. Line numbers count from 1 with the header as line 1.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.sax
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from apkit.errors import SetupError
from apkit.names import fold
from apkit.roster.encoding import UTF16_BOMS, decode_text, utf16_byte_order

TABLES = ("blocks", "teachers", "periods", "activities")

# Accepted names of each table, folded; the first one is the French sheet name.
TABLE_NAMES: dict[str, tuple[str, ...]] = {
    "blocks": ("barrettes", "blocks", "barrette", "block"),
    "teachers": ("enseignants", "teachers", "enseignant", "teacher"),
    "periods": ("periodes", "periods", "periode", "period"),
    "activities": ("ateliers", "activities", "atelier", "activity"),
}
SHEET_TITLES = {
    "blocks": "Barrettes",
    "teachers": "Enseignants",
    "periods": "Périodes",
    "activities": "Ateliers",
}
WORKBOOK_SUFFIXES = (".xlsx", ".ods")

# Canonical column -> accepted headers, folded. The French header comes first
# because the workbook template writes it.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "blocks": {
        "block": ("barrette", "block"),
        "class_name": ("classe", "class name", "class", "division"),
    },
    "teachers": {
        "teacher_id": ("identifiant", "teacher id", "id"),
        "last_name": ("nom", "last name"),
        "first_name": ("prenom", "first name"),
        "email": ("courriel", "email", "e mail", "mel"),
    },
    "periods": {
        "period_id": ("identifiant", "period id", "id", "periode"),
        "name": ("nom", "name", "libelle"),
        "start_date": ("debut", "start date", "date de debut"),
        "end_date": ("fin", "end date", "date de fin"),
    },
    "activities": {
        "period_id": ("periode", "period id", "period"),
        "activity_id": ("identifiant", "activity id", "id"),
        "block": ("barrette", "block"),
        "slot": ("heure", "slot", "creneau"),
        "title": ("titre", "title", "intitule"),
        "category": ("categorie", "category"),
        "teacher_id": ("enseignant", "teacher id", "teacher"),
        "room": ("salle", "room"),
        "capacity": ("places", "capacity", "capacite"),
        "min_size": ("effectif minimum", "min size", "effectif min", "minimum"),
        "description": ("description",),
        "eligible_classes": ("classes", "eligible classes", "classes autorisees"),
    },
}
OPTIONAL_COLUMNS = {"email", "category", "room", "min_size", "description"}
OPTIONAL_COLUMNS |= {"eligible_classes"}

_ACTIVITY_FILE = re.compile(r"^(?:activities|ateliers)_(?P<period>[^.]+)\.csv$", re.I)
_SEPARATORS = (";", "\t", ",")
# What openpyxl and odfpy raise on a damaged workbook or on another file renamed
# .xlsx/.ods: not a zip, a cut or corrupted zip member, a missing part, bad XML.
_WORKBOOK_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    KeyError,
    ValueError,
    OSError,
    SyntaxError,  # xml.etree.ElementTree.ParseError
    xml.sax.SAXException,
)


@dataclass
class Row:
    """One data row: its line in the file and its cells by canonical column."""

    line: int
    cells: dict[str, Any]

    def __getitem__(self, column: str) -> Any:
        return self.cells.get(column, "")


@dataclass
class Table:
    """One table of the set-up, as read.

    ``path`` names the file, or for a workbook ``<file>[<sheet>]``, so that a
    message points at the sheet. ``headers`` maps each canonical column to its
    header as written, for messages. ``period_id`` is set for an activity file
    whose name gives the period.
    """

    kind: str
    path: Path
    rows: list[Row]
    headers: dict[str, str]
    period_id: str | None = None
    extra: list[str] = field(default_factory=list)

    def header(self, column: str) -> str:
        return self.headers.get(column, column)


def read_tables(path: str | Path) -> dict[str, list[Table]]:
    """Read the set-up tables from a folder of CSV files or from a workbook.

    Returns the tables by kind; ``activities`` may hold several tables (one per
    CSV file) or none.

    Raises
    ------
    SetupError
        When the path does not exist, is neither a folder nor a workbook, lacks a
        table, or a table lacks a column.
    """
    path = Path(path)
    if path.is_dir():
        return _read_folder(path)
    if path.suffix.lower() in WORKBOOK_SUFFIXES and path.is_file():
        return _read_workbook(path)
    if not path.exists():
        raise SetupError(
            "fichier ou dossier introuvable",
            path=path,
            hint="indiquez un dossier de fichiers CSV ou un classeur .xlsx ou .ods",
        )
    raise SetupError(
        "format d'organisation non reconnu",
        path=path,
        value=path.suffix,
        hint="indiquez un dossier de fichiers CSV ou un classeur .xlsx ou .ods",
    )


def _read_folder(folder: Path) -> dict[str, list[Table]]:
    files = {fold(p.stem): p for p in folder.iterdir() if p.suffix.lower() == ".csv"}
    tables: dict[str, list[Table]] = {kind: [] for kind in TABLES}
    for kind in ("blocks", "teachers", "periods"):
        found = next((files[n] for n in TABLE_NAMES[kind] if n in files), None)
        if found is None:
            raise SetupError(
                f"fichier {kind}.csv manquant",
                path=folder,
                hint=f"ajoutez {kind}.csv au dossier (voir data/school/README.md)",
            )
        tables[kind].append(_to_table(kind, found, _read_csv(found)))
    for csv_path in sorted(folder.glob("*.csv")):
        match = _ACTIVITY_FILE.match(csv_path.name)
        if match:
            table = _to_table("activities", csv_path, _read_csv(csv_path))
            table.period_id = match["period"]
            tables["activities"].append(table)
    return tables


def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    if not raw.strip():
        raise SetupError(
            "fichier vide",
            path=path,
            hint="remplissez-le à partir du modèle data/modele_organisation.xlsx",
        )
    if raw.startswith(UTF16_BOMS) or utf16_byte_order(raw) is not None:
        raise SetupError(
            "fichier enregistré en UTF-16 (« texte Unicode »)",
            path=path,
            hint="enregistrez-le en « CSV UTF-8 (délimité par des points-virgules) »",
        )
    if b"\0" in raw:
        line = raw[: raw.index(b"\0")].count(b"\n") + 1
        raise SetupError(
            "fichier binaire ou abîmé (caractère nul)",
            path=path,
            line=line,
            hint="enregistrez le tableau au format CSV (UTF-8, séparateur « ; »)",
        )
    # UTF-8 with or without BOM, else Windows-1252 as Excel writes it.
    text = decode_text(raw).text
    first_line = text.split("\n", 1)[0]
    separator = max(_SEPARATORS, key=first_line.count)
    return pd.read_csv(
        pd.io.common.StringIO(text),
        sep=separator,
        header=None,
        dtype=str,
        keep_default_na=False,
        skip_blank_lines=False,
    )


def _read_workbook(path: Path) -> dict[str, list[Table]]:
    engine = "odf" if path.suffix.lower() == ".ods" else "openpyxl"
    try:
        sheets = pd.read_excel(
            path, sheet_name=None, header=None, dtype=object, engine=engine
        )
    except _WORKBOOK_ERRORS as exc:
        raise SetupError(
            "classeur illisible : fichier abîmé ou qui n'est pas un classeur "
            ".xlsx/.ods",
            path=path,
            hint="enregistrez-le de nouveau depuis le tableur",
        ) from exc
    by_name = {fold(name): name for name in sheets}
    found: dict[str, str] = {}
    for kind in TABLES:
        name = next((by_name[n] for n in TABLE_NAMES[kind] if n in by_name), None)
        if name is None:
            raise SetupError(
                f"feuille « {SHEET_TITLES[kind]} » manquante",
                path=path,
                hint=f"ajoutez une feuille nommée {SHEET_TITLES[kind]} "
                "(voir le modèle data/modele_organisation.xlsx)",
            )
        found[kind] = name
    return {
        kind: [_to_table(kind, path.with_name(f"{path.name}[{name}]"), sheets[name])]
        for kind, name in found.items()
    }


def _to_table(kind: str, path: Path, frame: pd.DataFrame) -> Table:
    if frame.empty:
        raise SetupError(
            "tableau vide, sans ligne d'en-tête",
            path=path,
            hint="gardez la ligne d'en-tête du modèle",
        )
    header_cells = [_clean(value) for value in frame.iloc[0]]
    positions, headers, extra = _map_columns(kind, path, header_cells)
    rows = []
    for index, values in enumerate(frame.iloc[1:].itertuples(index=False), start=2):
        cells = {column: _clean(values[i]) for column, i in positions.items()}
        if any(cell != "" for cell in cells.values()):
            rows.append(Row(index, cells))
    return Table(kind, path, rows, headers, extra=extra)


def _map_columns(
    kind: str, path: Path, header_cells: list[Any]
) -> tuple[dict[str, int], dict[str, str], list[str]]:
    aliases = {
        alias: column for column, names in COLUMNS[kind].items() for alias in names
    }
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    extra: list[str] = []
    for index, header in enumerate(header_cells):
        column = aliases.get(fold(str(header)))
        if column is None or column in positions:
            if header != "":
                extra.append(str(header))
            continue
        positions[column] = index
        headers[column] = str(header)
    for column in COLUMNS[kind]:
        required = column not in OPTIONAL_COLUMNS
        if column == "period_id" and kind == "activities":
            required = path.suffix.lower() != ".csv"
        if required and column not in positions:
            raise SetupError(
                f"colonne « {column} » manquante dans l'en-tête",
                path=path,
                line=1,
                hint=f"en-têtes attendus : {_expected_headers(kind, path)}",
            )
    return positions, headers, extra


def _expected_headers(kind: str, path: Path) -> str:
    columns = [c for c in COLUMNS[kind] if c not in OPTIONAL_COLUMNS]
    if kind == "activities" and path.suffix.lower() == ".csv":
        columns.remove("period_id")
    return ";".join(columns)


def _clean(value: Any) -> Any:
    """Return a cell as a stripped string, or as the number or date it holds."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, str):
        return value.replace("\u00a0", " ").strip()
    return value


def iter_rows(tables: list[Table]) -> Iterator[tuple[Table, Row]]:
    """Yield every row of several tables with its table."""
    for table in tables:
        for row in table.rows:
            yield table, row
