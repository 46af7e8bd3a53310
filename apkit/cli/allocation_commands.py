"""Commands that allocate a campaign and show its result: allocate, result."""

from __future__ import annotations

import argparse
import getpass

from apkit.allocation import AllocationReport, allocate, allocation_result
from apkit.campaigns import find_campaign
from apkit.cli import emit
from apkit.french import plural
from apkit.store import Store


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``allocate`` and ``result`` to the ``apkit`` parser."""
    parser = _command(
        subparsers,
        "allocate",
        _allocate,
        "répartir les élèves d'une campagne selon leurs vœux (remplace les "
        "inscriptions non verrouillées)",
    )
    _campaign_options(parser)
    parser.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="graine du tirage qui départage les égalités (par défaut celle de la "
        "campagne)",
    )
    parser.add_argument(
        "--actor",
        metavar="NOM",
        help="auteur noté dans le journal (par défaut l'utilisateur du système)",
    )
    parser = _command(
        subparsers, "result", _result, "afficher la répartition enregistrée"
    )
    _campaign_options(parser)


def _command(subparsers, name: str, handler, summary: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=summary, description=summary)
    # SUPPRESS keeps the main parser's --json when the flag is not repeated here.
    parser.add_argument(
        "--json",
        action="store_true",
        default=argparse.SUPPRESS,
        help="écrire le résultat en JSON (pour un script)",
    )
    parser.set_defaults(handler=handler)
    return parser


def _campaign_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--period", required=True, metavar="CODE", help="période, ex. P1"
    )
    parser.add_argument("--block", required=True, metavar="NOM", help="barrette, ex. C")


def _campaign_id(store: Store, args: argparse.Namespace) -> int:
    with store.read() as session:
        return find_campaign(session, args.period, args.block).id


def _allocate(args: argparse.Namespace) -> int:
    store = Store(args.database)
    try:
        report = allocate(
            store,
            _campaign_id(store, args),
            seed=args.seed,
            actor=args.actor or getpass.getuser(),
        )
    finally:
        store.dispose()
    emit(args, report.to_dict(), summary_text(report))
    return 0


def _result(args: argparse.Namespace) -> int:
    store = Store(args.database)
    try:
        report = allocation_result(store, _campaign_id(store, args))
    finally:
        store.dispose()
    emit(args, report.to_dict(), summary_text(report))
    return 0


def summary_text(report: AllocationReport) -> str:
    """Return the French summary of a report: counts, ranks, closed, unplaced."""
    counts = report.counts
    lines = [
        f"Campagne {report.period}, barrette {report.block} : "
        f"{plural(counts['placed'], 'place attribuée', 'places attribuées')} "
        f"sur {counts['places_asked']} ({plural(counts['students'], 'élève')}), "
        f"{counts['unplaced']} sans place.",
    ]
    ranks = ", ".join(f"choix {rank} : {n}" for rank, n in counts["by_rank"].items())
    if ranks:
        others = counts["without_rank"]
        lines.append(f"Rangs obtenus : {ranks} ; sans vœu ou hors vœux : {others}.")
    if counts["cancelled"]:
        lines.append(
            "Ateliers fermés faute d'inscrits : " + ", ".join(counts["cancelled"]) + "."
        )
    for row in report.unplaced:
        lines.append(
            f"  sans place, heure {row.slot} : {row.last_name} {row.first_name} "
            f"({row.class_name}) : {row.reason}"
        )
    if report.seed is not None:
        lines.append(f"Graine du tirage : {report.seed}.")
    return "\n".join(lines)
