"""Commands that fill the database: set-up, roster, teachers, preferences, sample.

``apkit summary`` shows what the database holds. Every command opens the store
given by ``--database`` (or the default one) and prints French text, or JSON
with ``--json``.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from apkit import roster
from apkit.campaigns import STATUS_LABELS, list_campaigns
from apkit.cli import emit
from apkit.directory import import_roster, import_teachers
from apkit.directory_rows import BAD_ROW_POLICIES
from apkit.french import plural
from apkit.model import Block, Division, Period, Student, Teacher
from apkit.preference_import import import_preferences
from apkit.sample import ensure_sample_school
from apkit.school import import_school, load_school
from apkit.store import Store


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the set-up and import commands to the ``apkit`` parser."""
    command = _adder(subparsers)

    parser = command(
        "import-school",
        _import_school,
        "importer l'organisation (barrettes, enseignants, périodes, ateliers)",
        "Lit un dossier de fichiers CSV (blocks.csv, teachers.csv, periods.csv, "
        "activities_p1.csv...) ou un classeur .xlsx ou .ods (feuilles Barrettes, "
        "Enseignants, Périodes, Ateliers), vérifie tout, puis l'enregistre. "
        "Relancer l'import avec les mêmes fichiers ne change rien.",
    )
    parser.add_argument("path", metavar="CHEMIN", help="dossier CSV ou classeur")
    _actor_option(parser)

    parser = command(
        "import-roster",
        _import_roster,
        "importer ou réimporter la liste des élèves",
        "Ajoute les nouveaux élèves, change de classe ceux qui ont changé, et "
        "marque comme partis ceux qui manquent dans une liste complète (ils ne "
        "sont jamais supprimés). Formats : SIECLE, Pronote, ENT, tableur...",
    )
    parser.add_argument("file", metavar="FICHIER", help="export de la liste des élèves")
    parser.add_argument(
        "--class-name",
        metavar="CLASSE",
        help="classe de tous les élèves d'un fichier sans colonne classe ; seuls "
        "les élèves de cette classe peuvent alors être marqués partis",
    )
    _bad_rows_option(parser)
    parser.add_argument(
        "--create-classes",
        action="store_true",
        help="créer les classes inconnues (sans barrette) au lieu de refuser la ligne",
    )
    parser.add_argument(
        "--partial",
        action="store_true",
        help="le fichier ne contient que certaines classes : seuls les élèves de "
        "ces classes peuvent être marqués partis",
    )
    parser.add_argument(
        "--allow-departures",
        action="store_true",
        help="confirmer une liste complète qui marque partis plus de 20 %% des "
        "élèves présents",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="montrer les changements sans rien enregistrer",
    )
    _actor_option(parser)

    parser = command(
        "import-teachers",
        _import_teachers,
        "importer ou mettre à jour la liste des enseignants",
        "Lit un export STS-Web, ENT ou un tableur (teacher_id;last_name;"
        "first_name;email) et ajoute ou met à jour les enseignants.",
    )
    parser.add_argument("file", metavar="FICHIER", help="liste des enseignants")
    _bad_rows_option(parser)
    _actor_option(parser)

    parser = command(
        "import-preferences",
        _import_preferences,
        "importer les vœux des élèves pour une période",
        "Lit un fichier student_id;slot;rank;activity_id et remplace les vœux "
        "des élèves qu'il cite pour la période.",
    )
    parser.add_argument("file", metavar="FICHIER", help="fichier CSV des vœux")
    parser.add_argument(
        "--period", required=True, metavar="PÉRIODE", help="période, par exemple P1"
    )
    _actor_option(parser)

    command(
        "summary",
        _summary,
        "résumer le contenu de la base",
        "Barrettes, classes et nombre d'élèves, enseignants, périodes, campagnes "
        "et leur état.",
    )
    command(
        "load-sample",
        _load_sample,
        "charger l'établissement d'exemple dans une base vide",
        "Charge data/school/ (360 élèves, 3 barrettes, 27 enseignants, 5 périodes, "
        "ateliers et vœux de la période 1) si la base ne contient aucun élève.",
    )


def _adder(subparsers: argparse._SubParsersAction) -> Callable[..., Any]:
    def command(name: str, handler, summary: str, description: str):
        parser = subparsers.add_parser(name, help=summary, description=description)
        parser.set_defaults(handler=handler)
        return parser

    return command


def _actor_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor",
        metavar="NOM",
        default=None,
        help="auteur noté dans le journal (par défaut l'utilisateur du système)",
    )


def _bad_rows_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--on-bad-rows",
        choices=BAD_ROW_POLICIES,
        default="error",
        help="ligne invalide : error arrête tout (par défaut), warn la signale et "
        "l'ignore, skip l'ignore",
    )


def _actor(args: argparse.Namespace) -> str:
    return args.actor or getpass.getuser()


def _open(args: argparse.Namespace) -> Store:
    return Store(args.database)


def _import_school(args: argparse.Namespace) -> int:
    setup = load_school(args.path)
    store = _open(args)
    try:
        changes = import_school(store, setup, actor=_actor(args))
    finally:
        store.dispose()
    lines = [f"Organisation {setup.school_year} lue dans {Path(args.path).name}."]
    lines += [f"Attention : {warning}" for warning in setup.warnings]
    lines.append(changes.summary())
    result = {
        "school_year": setup.school_year,
        "warnings": setup.warnings,
        **changes.as_dict(),
    }
    emit(args, result, "\n".join(lines))
    return 0


def _import_roster(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        classes = None
        if not args.create_classes:
            with store.read() as session:
                classes = list(session.scalars(select(Division.name))) or None
        students = roster.load(
            args.file,
            class_name=args.class_name,
            classes=classes,
            on_bad_rows=args.on_bad_rows,
        )
        changes = import_roster(
            store,
            students,
            actor=_actor(args),
            on_bad_rows=args.on_bad_rows,
            create_classes=args.create_classes,
            full=args.class_name is None and not args.partial,
            allow_departures=args.allow_departures,
            dry_run=args.dry_run,
        )
    finally:
        store.dispose()
    lines = [f"Attention : {warning}" for warning in students.warnings]
    lines += [
        f"Ligne {r.line} ignorée : {r.reason}" for r in students.dropped.itertuples()
    ]
    lines.append(changes.summary())
    result = {
        **changes.as_dict(),
        "warnings": list(students.warnings),
        "dropped": students.dropped.to_dict(orient="records"),
    }
    emit(args, result, "\n".join(lines))
    return 0


def _import_teachers(args: argparse.Namespace) -> int:
    teachers = roster.load_teachers(args.file, on_bad_rows=args.on_bad_rows)
    store = _open(args)
    try:
        changes = import_teachers(
            store, teachers, actor=_actor(args), on_bad_rows=args.on_bad_rows
        )
    finally:
        store.dispose()
    lines = [f"Attention : {warning}" for warning in teachers.warnings]
    lines.append(changes.summary())
    emit(args, changes.as_dict(), "\n".join(lines))
    return 0


def _import_preferences(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        result = import_preferences(store, args.file, args.period, actor=_actor(args))
    finally:
        store.dispose()
    emit(args, vars(result), result.summary())
    return 0


def _load_sample(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        loaded = ensure_sample_school(store)
    finally:
        store.dispose()
    text = (
        "Établissement d'exemple chargé."
        if loaded
        else "La base contient déjà des élèves : rien n'a été chargé."
    )
    emit(args, {"loaded": loaded}, text)
    return 0


def _summary(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        result = school_summary(store)
    finally:
        store.dispose()
    emit(args, result, _summary_text(result))
    return 0


def school_summary(store: Store) -> dict[str, Any]:
    """Return the blocks, classes, teachers, periods and campaigns of the database."""
    with store.read() as session:
        active = (
            select(Student.division_id, func.count())
            .where(Student.left_on.is_(None))
            .group_by(Student.division_id)
        )
        counts = {division: count for division, count in session.execute(active)}
        blocks = []
        for block in session.scalars(select(Block).order_by(Block.name)):
            classes = sorted(block.divisions, key=lambda d: (len(d.name), d.name))
            blocks.append(
                {
                    "block": block.name,
                    "classes": {d.name: counts.get(d.id, 0) for d in classes},
                    "students": sum(counts.get(d.id, 0) for d in classes),
                }
            )
        unassigned = session.scalars(
            select(Division).where(Division.block_id.is_(None))
        )
        periods = session.scalars(select(Period).order_by(Period.start_date))
        result = {
            "blocks": blocks,
            "classes_without_block": {d.name: counts.get(d.id, 0) for d in unassigned},
            "students": sum(counts.values()),
            "teachers": session.scalar(select(func.count()).select_from(Teacher)),
            "periods": [
                {
                    "period": p.code,
                    "name": p.name,
                    "start": p.start_date,
                    "end": p.end_date,
                }
                for p in periods
            ],
        }
    result["campaigns"] = [
        {
            "period": c.period,
            "block": c.block,
            "status": c.status,
            "activities": c.activities,
        }
        for c in list_campaigns(store)
    ]
    return result


def _summary_text(result: dict[str, Any]) -> str:
    lines = [
        f"Élèves présents : {result['students']} ; enseignants : {result['teachers']}."
    ]
    lines.append("Barrettes :" if result["blocks"] else "Aucune barrette.")
    for block in result["blocks"]:
        classes = ", ".join(f"{name} ({n})" for name, n in block["classes"].items())
        students = plural(block["students"], "élève")
        lines.append(f"  {block['block']} : {students} ; {classes}")
    if result["classes_without_block"]:
        orphans = ", ".join(
            f"{n} ({c})" for n, c in result["classes_without_block"].items()
        )
        lines.append(f"Classes sans barrette : {orphans}")
    lines.append("Périodes :" if result["periods"] else "Aucune période.")
    for p in result["periods"]:
        dates = f"du {p['start']:%d/%m/%Y} au {p['end']:%d/%m/%Y}"
        lines.append(f"  {p['period']} {p['name']} : {dates}")
    lines.append("Campagnes :" if result["campaigns"] else "Aucune campagne.")
    for c in result["campaigns"]:
        status = STATUS_LABELS.get(c["status"], c["status"])
        where = f"{c['period']}, barrette {c['block']}"
        lines.append(f"  {where} : {status}, {plural(c['activities'], 'atelier')}")
    return "\n".join(lines)
