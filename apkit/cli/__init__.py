"""The ``apkit`` command.

Each subcommand lives in a module of this package that defines
``register(subparsers)``; :data:`COMMAND_MODULES` lists them in help order.
Output is French text for people, or JSON with ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from apkit.cli.parser import FrenchArgumentParser
from apkit.errors import ApkitError

COMMAND_MODULES = [
    "apkit.cli.school_commands",
    "apkit.cli.campaign_commands",
    "apkit.cli.allocation_commands",
    "apkit.cli.serve_commands",
    "apkit.cli.report_commands",
    "apkit.cli.admin_commands",
    "apkit.cli.guide_commands",
]

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    """Build the ``apkit`` parser, whose subcommands' help and errors are French."""
    parser = FrenchArgumentParser(
        prog="apkit",
        description="Organisation des groupes d'accompagnement personnalisé (AP).",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="adresse SQLAlchemy de la base (par défaut APKIT_DATABASE_URL, "
        "sinon data/apkit.sqlite)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="écrire le résultat en JSON (pour un script)",
    )
    subparsers = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMANDE",
        parser_class=FrenchArgumentParser,
    )
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def emit(args: argparse.Namespace, result: Any, text: str) -> None:
    """Print ``result`` as JSON under ``--json``, else the French ``text``."""
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
    else:
        print(text)


# Exit status of a command killed by SIGPIPE (128 + 13), as shells report it.
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``apkit`` command; return its exit status.

    A reader that closes the pipe early (``apkit summary | head -1``) ends the
    command quietly with :data:`EXIT_BROKEN_PIPE`, as other command-line tools.
    """
    try:
        code = _run(argv)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout again at exit: point it at devnull so that
        # flush does not raise a second time (see the signal module's docs).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    return code


def _run(argv: Sequence[str] | None) -> int:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except ApkitError as exc:
        if args.json:
            json.dump({"error": str(exc), "type": type(exc).__name__}, sys.stdout,
                      ensure_ascii=False)  # fmt: skip
            sys.stdout.write("\n")
        print(f"apkit : {exc}", file=sys.stderr)
        return 2
