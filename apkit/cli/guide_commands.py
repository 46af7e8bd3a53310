"""``apkit quick-guide``: the students' one-page guide as a PDF to print."""

from __future__ import annotations

import argparse
from pathlib import Path

from apkit.cli import emit
from apkit.quickguide import write_quick_guide

SUMMARY = "écrire le guide rapide des élèves (PDF d'une page)"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``quick-guide`` to the ``apkit`` parser."""
    parser = subparsers.add_parser(
        "quick-guide",
        help=SUMMARY,
        description="Écrit le guide d'inscription des élèves sur une page A4, à "
        "imprimer et distribuer avec les coupons des codes.",
    )
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        metavar="FICHIER",
        help="fichier PDF à écrire, par exemple guide-rapide.pdf",
    )
    parser.add_argument(
        "--url",
        metavar="URL",
        help="adresse publique du serveur (comme sur les coupons) ; la page "
        "d'inscription est alors imprimée sous le titre",
    )
    parser.set_defaults(handler=_quick_guide)


def _quick_guide(args: argparse.Namespace) -> int:
    path = write_quick_guide(args.output, base_url=args.url)
    emit(args, {"path": str(path)}, f"Guide rapide écrit : {path}")
    return 0
