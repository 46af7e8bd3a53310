"""Time apkit.roster.load on large generated rosters and print a markdown table.

Generates, with a fixed seed, a SIECLE ``ElevesSansAdresses.xml`` of 2,000
students and a 30,000-row spreadsheet saved as XLSX and as CSV, then loads
each file several times. The table gives the median wall and CPU time (CPU
time moves less when other processes share the cores) and the peak Python
memory that tracemalloc records during one extra load (tracemalloc slows the
code, so that run is not timed).

Run: ``.venv/bin/python benchmarks/import.py [--runs 5] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import random
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl

from apkit.roster import load

SEED = 20250915
LAST_NAMES = [
    "MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND",
    "LEROY", "MOREAU", "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID",
    "BERTRAND", "ROUX", "VINCENT", "FOURNIER", "MOREL", "GIRARD", "ANDRÉ", "MERCIER",
    "DUPONT", "LAMBERT", "BONNET", "FRANÇOIS", "MARTINEZ", "LE GOFF", "N’DIAYE",
    "DESCŒURS", "VAN DE VELDE", "DOS SANTOS", "BEN SALAH", "NGUYEN", "ÖZTÜRK",
]  # fmt: skip
FIRST_NAMES = [
    "Léa", "Hugo", "Chloé", "Lucas", "Inès", "Nathan", "Manon", "Louis", "Jade",
    "Gabriel", "Camille", "Adam", "Zoé", "Raphaël", "Lina", "Arthur", "Maëlys",
    "Jules", "Noémie", "Paul Henri", "Claire-Lise", "Minh-Khoa", "Lætitia",
]  # fmt: skip
CLASSES = [f"2de{number}" for number in range(1, 13)]


def random_pupils(count: int, rng: random.Random) -> list[dict]:
    pupils = []
    for index in range(count):
        born = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(365))
        pupils.append(
            {
                "id": f"{800000 + index}",
                "last": rng.choice(LAST_NAMES),
                "first": rng.choice(FIRST_NAMES),
                "born": born,
                "sex": rng.choice("12"),
                "class": CLASSES[index % len(CLASSES)],
            }
        )
    return pupils


def write_siecle(path: Path, pupils: list[dict]) -> None:
    eleves, structures = [], []
    for pupil in pupils:
        eleves.append(
            f'      <ELEVE ELEVE_ID="{pupil["id"]}" ELENOET="{pupil["id"][-4:]}">\n'
            f"        <ID_NATIONAL>999{pupil['id']}X</ID_NATIONAL>\n"
            f"        <NOM_DE_FAMILLE>{escape(pupil['last'])}</NOM_DE_FAMILLE>\n"
            "        <NOM_USAGE></NOM_USAGE>\n"
            f"        <PRENOM>{escape(pupil['first'])}</PRENOM>\n"
            "        <PRENOM2></PRENOM2>\n"
            f"        <DATE_NAISS>{pupil['born']:%d/%m/%Y}</DATE_NAISS>\n"
            f"        <CODE_SEXE>{pupil['sex']}</CODE_SEXE>\n"
            "        <CODE_MEF>20010018110</CODE_MEF>\n"
            "      </ELEVE>\n"
        )
        structures.append(
            f'      <STRUCTURES_ELEVE ELEVE_ID="{pupil["id"]}">\n'
            f"        <STRUCTURE><CODE_STRUCTURE>{pupil['class']}</CODE_STRUCTURE>"
            "<TYPE_STRUCTURE>D</TYPE_STRUCTURE></STRUCTURE>\n"
            f"        <STRUCTURE><CODE_STRUCTURE>AP {pupil['class']}</CODE_STRUCTURE>"
            "<TYPE_STRUCTURE>G</TYPE_STRUCTURE></STRUCTURE>\n"
            "      </STRUCTURES_ELEVE>\n"
        )
    text = (
        '<?xml version="1.0" encoding="ISO-8859-15"?>\n<BEE_ELEVES VERSION="2.1">\n'
        "  <PARAMETRES>\n    <UAJ>0999996W</UAJ>\n"
        "    <ANNEE_SCOLAIRE>2025</ANNEE_SCOLAIRE>\n"
        "    <DATE_EXPORT>18/11/2025</DATE_EXPORT>\n  </PARAMETRES>\n"
        "  <DONNEES>\n    <ELEVES>\n"
        + "".join(eleves)
        + "    </ELEVES>\n    <STRUCTURES>\n"
        + "".join(structures)
        + "    </STRUCTURES>\n  </DONNEES>\n</BEE_ELEVES>\n"
    )
    # ’ is not in ISO-8859-15, so it goes in as a character reference.
    path.write_bytes(text.encode("iso-8859-15", errors="xmlcharrefreplace"))


def spreadsheet_rows(pupils: list[dict]) -> list[list[object]]:
    rows: list[list[object]] = [
        ["N° interne", "Nom", "Prénom", "Classe", "Né(e) le", "Sexe"]
    ]
    for pupil in pupils:
        sex = "F" if pupil["sex"] == "2" else "M"
        rows.append(
            [
                pupil["id"],
                pupil["last"],
                pupil["first"],
                pupil["class"],
                pupil["born"],
                sex,
            ]
        )
    return rows


def write_xlsx(path: Path, rows: list[list[object]]) -> None:
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Élèves")
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def write_csv(path: Path, rows: list[list[object]]) -> None:
    lines = [
        ";".join(
            f"{cell:%d/%m/%Y}" if isinstance(cell, dt.date) else str(cell)
            for cell in row
        )
        for row in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def measure(path: Path, runs: int) -> tuple[float, float, float, int]:
    """Return the median wall and CPU seconds, the peak MB and the student count."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        roster = load(path)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    tracemalloc.start()
    load(path)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    count = len(roster.students)
    return statistics.median(wall), statistics.median(cpu), peak / 1e6, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed loads per file")
    parser.add_argument("--keep", type=Path, help="folder to write the files to")
    args = parser.parse_args()

    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        siecle = folder / "ElevesSansAdresses.xml"
        write_siecle(siecle, random_pupils(2_000, rng))
        rows = spreadsheet_rows(random_pupils(30_000, rng))
        xlsx, csv = folder / "eleves_30000.xlsx", folder / "eleves_30000.csv"
        write_xlsx(xlsx, rows)
        write_csv(csv, rows)

        targets = {siecle: 1.0, xlsx: 3.0, csv: 3.0}
        python = platform.python_version()
        print(f"Python {python}, {platform.machine()}, runs={args.runs}")
        print()
        print(
            "| file | size (MB) | students | median load (s) | median CPU (s) "
            "| target (s) | peak memory (MB) |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for path, target in targets.items():
            wall, cpu, peak, count = measure(path, args.runs)
            size = path.stat().st_size / 1e6
            print(
                f"| {path.name} | {size:.1f} | {count} | {wall:.2f} | {cpu:.2f} "
                f"| {target:.0f} | {peak:.0f} |"
            )


if __name__ == "__main__":
    main()
