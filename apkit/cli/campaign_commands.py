"""Commands that run campaigns: list, check, choose the mode, open, close, unplaced.

A campaign is named by its period and block (``--period P1 --block A``). Every
command prints French text, or JSON with ``--json`` (before or after the command
name).
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from apkit.campaigns import (
    MODE_LABELS,
    STATUS_LABELS,
    FeasibilityProblem,
    check_feasibility,
    close_campaign,
    find_campaign,
    list_campaigns,
    open_campaign,
    set_campaign_mode,
)
from apkit.cli import emit
from apkit.french import plural
from apkit.history import unplaced_students
from apkit.model import CampaignMode, UnrankedPolicy
from apkit.store import Store

Handler = Callable[[argparse.Namespace], int]

MODES = [str(mode) for mode in CampaignMode]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the campaign commands to the ``apkit`` parser."""
    _command(subparsers, "campaigns", _campaigns, "lister les campagnes et leur état")
    parser = _command(
        subparsers,
        "check",
        _check,
        "vérifier qu'une campagne peut ouvrir (places, enseignants, salles)",
    )
    _campaign_options(parser)
    parser = _command(
        subparsers, "open", _open_command, "ouvrir (ou rouvrir) une campagne"
    )
    _campaign_options(parser)
    parser.add_argument(
        "--allow-shortfall",
        action="store_true",
        help="ouvrir même s'il manque des places (le manque reste signalé)",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        help="choisir d'abord le mode : live (inscription directe), preferences "
        "(vœux classés) ou rotation",
    )
    _actor_option(parser)
    parser = _command(
        subparsers,
        "mode",
        _mode_command,
        "choisir le mode d'une campagne en préparation ou fermée",
    )
    _campaign_options(parser)
    parser.add_argument(
        "mode",
        choices=MODES,
        help="live (inscription directe, premier arrivé premier servi), "
        "preferences (vœux classés puis répartition) ou rotation",
    )
    parser.add_argument(
        "--max-choices", type=int, metavar="N", help="nombre de vœux par heure"
    )
    parser.add_argument(
        "--unranked",
        choices=[str(p) for p in UnrankedPolicy],
        help="élèves sans vœu : fill (placés dans les places restantes) ou leave "
        "(laissés sans atelier)",
    )
    _actor_option(parser)
    parser = _command(subparsers, "close", _close_command, "fermer une campagne")
    _campaign_options(parser)
    _actor_option(parser)
    parser = _command(
        subparsers, "unplaced", _unplaced, "lister les élèves sans atelier"
    )
    _campaign_options(parser)
    parser.add_argument(
        "--slot", type=int, metavar="N", help="seulement l'heure N (1, 2...)"
    )


def _command(
    subparsers: argparse._SubParsersAction, name: str, handler: Handler, summary: str
) -> argparse.ArgumentParser:
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
    parser.add_argument("--block", required=True, metavar="NOM", help="barrette, ex. A")


def _actor_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--actor",
        metavar="NOM",
        help="auteur noté dans le journal (par défaut l'utilisateur du système)",
    )


def _campaign_id(store: Store, args: argparse.Namespace) -> int:
    with store.read() as session:
        return find_campaign(session, args.period, args.block).id


def _with_store(args: argparse.Namespace, work: Callable[[Store], int]) -> int:
    store = Store(args.database)
    try:
        return work(store)
    finally:
        store.dispose()


def _campaigns(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        rows = [asdict(summary) for summary in list_campaigns(store)]
        lines = [
            f"{r['period']:<6} barrette {r['block']:<4} "
            f"{MODE_LABELS.get(r['mode'], r['mode']):<20} "
            f"{STATUS_LABELS.get(r['status'], r['status']):<15} "
            f"{plural(r['activities'], 'atelier')}"
            for r in rows
        ]
        emit(args, rows, "\n".join(lines) or "Aucune campagne.")
        return 0

    return _with_store(args, work)


def _problem_json(problem: FeasibilityProblem) -> dict[str, Any]:
    return asdict(problem) | {"waivable": problem.waivable}


def _check(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        problems = check_feasibility(store, _campaign_id(store, args))
        result = {
            "period": args.period,
            "block": args.block,
            "problems": [_problem_json(p) for p in problems],
        }
        text = "\n".join(p.message for p in problems) or (
            f"Campagne {args.period}, barrette {args.block} : aucun problème."
        )
        emit(args, result, text)
        return 1 if problems else 0

    return _with_store(args, work)


def _mode_command(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        summary = set_campaign_mode(
            store,
            _campaign_id(store, args),
            args.mode,
            actor=args.actor or getpass.getuser(),
            max_choices=args.max_choices,
            unranked_policy=args.unranked,
        )
        text = (
            f"Campagne {args.period}, barrette {args.block} : mode "
            f"« {MODE_LABELS[summary.mode]} »."
        )
        emit(args, asdict(summary), text)
        return 0

    return _with_store(args, work)


def _open_command(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        warnings = open_campaign(
            store,
            _campaign_id(store, args),
            actor=args.actor or getpass.getuser(),
            allow_shortfall=args.allow_shortfall,
            mode=args.mode,
        )
        where = f"Campagne {args.period}, barrette {args.block}"
        lines = [f"{where} ouverte."]
        if args.mode is not None:
            lines = [f"{where} ouverte en mode « {MODE_LABELS[args.mode]} »."]
        lines += [f"Attention : {w.message}" for w in warnings]
        result = {"status": "open", "warnings": [_problem_json(w) for w in warnings]}
        if args.mode is not None:
            result["mode"] = args.mode
        emit(args, result, "\n".join(lines))
        return 0

    return _with_store(args, work)


def _close_command(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        close_campaign(
            store, _campaign_id(store, args), actor=args.actor or getpass.getuser()
        )
        text = f"Campagne {args.period}, barrette {args.block} fermée."
        emit(args, {"status": "closed"}, text)
        return 0

    return _with_store(args, work)


def _unplaced(args: argparse.Namespace) -> int:
    def work(store: Store) -> int:
        rows = unplaced_students(store, _campaign_id(store, args), slot=args.slot)
        result = [asdict(row) | {"reason_text": row.reason_text} for row in rows]
        lines = [
            f"{row.last_name} {row.first_name} ({row.class_name}), heure "
            f"{row.slot} : {row.reason_text}"
            for row in rows
        ]
        vacant = plural(len(rows), "place à pourvoir", "places à pourvoir")
        total = f"{vacant}." if rows else "Tout le monde est placé."
        emit(args, result, "\n".join([*lines, total]))
        return 0

    return _with_store(args, work)
