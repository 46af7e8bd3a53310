"""Commands that write lists, the administration's workbook, attendance sheets, charts.

``apkit list activity|teacher|class|block|unplaced|history`` writes one list as
CSV (for French Excel) or XLSX; ``apkit workbook``, ``apkit attendance`` and
``apkit charts`` write a period's workbook, PDF attendance sheets and chart
images. File names come from the activity, teacher or class and are made safe.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import pandas as pd
from sqlalchemy import select

from apkit import reports
from apkit.cli import emit
from apkit.errors import NotFoundError
from apkit.exports import (
    path_inside,
    safe_filename,
    write_admin_workbook,
    write_attendance_pdf,
    write_csv,
    write_workbook,
)
from apkit.french import plural
from apkit.model import Activity, Block, Campaign, Period, Student, Teacher
from apkit.store import Store

Handler = Callable[[argparse.Namespace], int]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``list``, ``workbook``, ``attendance`` and ``charts`` to the parser."""
    lists = _command(
        subparsers, "list", None, "écrire une liste d'élèves (CSV ou XLSX)"
    )
    kinds = lists.add_subparsers(dest="kind", required=True, metavar="LISTE")
    _register_lists(kinds)

    workbook = _command(
        subparsers, "workbook", _workbook, "écrire le classeur de la période (XLSX)"
    )
    _period_option(workbook)
    workbook.add_argument(
        "--output", required=True, metavar="FICHIER", help="fichier .xlsx à écrire"
    )

    attendance = _command(
        subparsers, "attendance", _attendance, "écrire les feuilles d'émargement (PDF)"
    )
    _period_option(attendance)
    _output_folder(attendance)
    attendance.add_argument("--block", metavar="BARRETTE", help="une seule barrette")
    attendance.add_argument(
        "--teacher",
        metavar="IDENTIFIANT",
        help="un seul enseignant (identifiant de teachers.csv)",
    )

    chart = _command(
        subparsers, "charts", _charts, "écrire les graphiques de la période"
    )
    _period_option(chart)
    _output_folder(chart)
    chart.add_argument(
        "--format",
        choices=["png", "svg"],
        default="png",
        help="format des images (par défaut png)",
    )
    chart.add_argument(
        "--student",
        action="append",
        default=[],
        metavar="IDENTIFIANT",
        help="ajouter le parcours de cet élève (répétable)",
    )


def _register_lists(kinds: argparse._SubParsersAction) -> None:
    parser = _command(kinds, "activity", _list_activity, "liste d'un atelier")
    parser.add_argument("code", metavar="CODE", help="code de l'atelier (P1-A01)")
    parser.add_argument(
        "--block",
        metavar="BARRETTE",
        help="barrette, si deux barrettes ont un atelier de ce code",
    )
    _list_options(parser)

    parser = _command(kinds, "teacher", _list_teacher, "groupes d'un enseignant")
    parser.add_argument(
        "teacher", metavar="IDENTIFIANT", help="identifiant de l'enseignant (T01)"
    )
    _list_options(parser)

    parser = _command(
        kinds, "class", _list_class, "élèves d'une classe et leurs ateliers"
    )
    parser.add_argument("class_name", metavar="CLASSE", help="nom de la classe (2de1)")
    _list_options(parser)

    parser = _command(kinds, "block", _list_block, "inscriptions d'une barrette")
    parser.add_argument("block", metavar="BARRETTE", help="nom de la barrette (A)")
    _list_options(parser)

    parser = _command(kinds, "unplaced", _list_unplaced, "élèves non inscrits")
    parser.add_argument("--block", metavar="BARRETTE", help="une seule barrette")
    _list_options(parser)

    parser = _command(
        kinds, "history", _list_history, "tous les groupes de chaque élève"
    )
    parser.add_argument(
        "--year",
        metavar="ANNÉE",
        help="année scolaire (2025-2026) ; par défaut la dernière",
    )
    _list_options(parser, period=False)


def _command(
    subparsers: argparse._SubParsersAction,
    name: str,
    handler: Handler | None,
    summary: str,
) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        name, help=summary, description=summary, add_help=False
    )
    parser._positionals.title = "arguments"
    parser._optionals.title = "options"
    parser.add_argument(
        "-h", "--help", action="help", help="afficher cette aide et quitter"
    )
    if handler is not None:
        parser.set_defaults(handler=handler)
    return parser


def _period_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--period", required=True, metavar="PÉRIODE", help="code de la période (P1)"
    )


def _output_folder(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        default=".",
        metavar="DOSSIER",
        help="dossier où écrire les fichiers (par défaut le dossier courant)",
    )


def _list_options(parser: argparse.ArgumentParser, *, period: bool = True) -> None:
    if period:
        _period_option(parser)
    parser.add_argument(
        "--format",
        choices=["csv", "xlsx"],
        default="csv",
        help="format du fichier (par défaut csv)",
    )
    _output_folder(parser)


def _write_list(
    args: argparse.Namespace, frame: pd.DataFrame, name: str, title: str
) -> int:
    target = path_inside(args.output, safe_filename(name, suffix=f".{args.format}"))
    if args.format == "csv":
        write_csv(frame, target)
    else:
        write_workbook({title: frame}, target)
    emit(
        args,
        {"files": [str(target)], "rows": len(frame)},
        f"{plural(len(frame), 'ligne écrite', 'lignes écrites')} dans {target}",
    )
    return 0


def _list_activity(args: argparse.Namespace) -> int:
    store = Store(args.database)
    activity_id = _find_activity(store, args.period, args.code, args.block)
    frame = reports.activity_list(store, activity_id)
    name = f"{args.period}_{frame.attrs['Code']}_{frame.attrs['Atelier']}"
    return _write_list(args, frame, name, str(frame.attrs["Atelier"]))


def _list_teacher(args: argparse.Namespace) -> int:
    store = Store(args.database)
    teacher_id, teacher = _find_teacher(store, args.teacher)
    frame = reports.teacher_lists(store, teacher_id, args.period)
    return _write_list(args, frame, f"{args.period}_{teacher}", teacher)


def _list_class(args: argparse.Namespace) -> int:
    frame = reports.class_list(Store(args.database), args.class_name, args.period)
    name = f"{args.period}_classe_{args.class_name}"
    return _write_list(args, frame, name, f"Classe {args.class_name}")


def _list_block(args: argparse.Namespace) -> int:
    frame = reports.block_list(Store(args.database), args.period, args.block)
    name = f"{args.period}_barrette_{args.block}"
    return _write_list(args, frame, name, f"Barrette {args.block}")


def _list_unplaced(args: argparse.Namespace) -> int:
    frame = reports.unplaced_list(Store(args.database), args.period, args.block)
    name = f"{args.period}_non_inscrits" + (f"_{args.block}" if args.block else "")
    return _write_list(args, frame, name, "Non inscrits")


def _list_history(args: argparse.Namespace) -> int:
    store = Store(args.database)
    year = args.year or reports.school_year_periods(store)[0].school_year
    frame = reports.student_history_table(store, year)
    return _write_list(args, frame, f"historique_{year}", f"Historique {year}")


def _workbook(args: argparse.Namespace) -> int:
    path = write_admin_workbook(Store(args.database), args.period, args.output)
    emit(args, {"files": [str(path)]}, f"Classeur écrit : {path}")
    return 0


def _attendance(args: argparse.Namespace) -> int:
    store = Store(args.database)
    teacher_id, teacher = (None, "")
    if args.teacher:
        teacher_id, teacher = _find_teacher(store, args.teacher)
    parts = ["emargement", args.period, args.block or "", teacher]
    name = "_".join(part for part in parts if part)
    target = path_inside(args.output, safe_filename(name, suffix=".pdf"))
    groups = write_attendance_pdf(
        store, args.period, target, block_name=args.block, teacher_id=teacher_id
    )
    sheets = plural(
        groups, "feuille d'émargement écrite", "feuilles d'émargement écrites"
    )
    emit(
        args,
        {"files": [str(target)], "groups": groups},
        f"{sheets} dans {target}",
    )
    return 0


def _charts(args: argparse.Namespace) -> int:
    # Imported here so that the other commands start without loading matplotlib.
    from apkit.exports.figures import write_period_charts

    store = Store(args.database)
    student_ids = [_find_student(store, source_id) for source_id in args.student]
    files = write_period_charts(
        store,
        args.period,
        args.output,
        file_format=args.format,
        student_ids=student_ids,
    )
    listing = "\n".join(f"  {path}" for path in files)
    emit(
        args,
        {"files": [str(p) for p in files]},
        f"{plural(len(files), 'graphique écrit', 'graphiques écrits')} :\n{listing}",
    )
    return 0


def _find_activity(store: Store, period_code: str, code: str, block: str | None) -> int:
    """Return the id of the activity ``code`` of a period, or raise NotFoundError."""
    with store.read() as session:
        reports.find_period(session, period_code)
        statement = (
            select(Activity.id, Block.name)
            .join(Campaign, Activity.campaign_id == Campaign.id)
            .join(Period, Campaign.period_id == Period.id)
            .join(Block, Campaign.block_id == Block.id)
            .where(Period.code == period_code, Activity.code == code)
        )
        if block is not None:
            statement = statement.where(Block.name == block)
        found = list(session.execute(statement))
    if not found:
        raise NotFoundError(
            f"Atelier « {code} » introuvable dans la période {period_code} ; "
            "vérifiez le code (colonne activity_id du fichier des ateliers)."
        )
    if len(found) > 1:
        blocks = ", ".join(sorted(name for _id, name in found))
        raise NotFoundError(
            f"Plusieurs ateliers « {code} » dans la période {period_code} (barrettes "
            f"{blocks}) ; précisez la barrette avec --block."
        )
    return found[0][0]


def _find_teacher(store: Store, source_id: str) -> tuple[int, str]:
    with store.read() as session:
        teacher = session.scalar(select(Teacher).where(Teacher.source_id == source_id))
        if teacher is None:
            raise NotFoundError(
                f"Enseignant « {source_id} » introuvable ; donnez son identifiant "
                "(colonne teacher_id du fichier des enseignants)."
            )
        return teacher.id, reports.teacher_name(teacher)


def _find_student(store: Store, source_id: str) -> int:
    with store.read() as session:
        student_id = session.scalar(
            select(Student.id).where(Student.source_id == source_id)
        )
    if student_id is None:
        raise NotFoundError(
            f"Élève « {source_id} » introuvable ; donnez son identifiant "
            "(colonne student_id de la liste des élèves)."
        )
    return student_id
