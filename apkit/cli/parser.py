"""An argument parser whose help and errors are in French.

argparse writes its own words in English (« usage: », « show this help message
and exit », « error: the following arguments are required »).
:class:`FrenchArgumentParser` writes them in French without changing the
argparse module: its own ``-h/--help``, a usage line from
:class:`FrenchHelpFormatter`, French group titles, and :meth:`error` translating
the messages argparse builds. ``add_subparsers`` makes every subcommand's parser
of the same class.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

__all__ = ["FrenchArgumentParser", "FrenchHelpFormatter", "translate_error"]

USAGE_PREFIX = "utilisation : "
HELP_TEXT = "afficher cette aide et quitter"

# French names of the types argparse names in « invalid int value: 'x' ».
_TYPE_NAMES = {"int": "nombre entier", "float": "nombre décimal", "Path": "chemin"}

# The messages argparse builds (checked against Python 3.11) and their French
# templates. Each pattern matches a whole message. NOTE: a message that another
# Python version words differently is printed in English.
_MESSAGES = [
    (r"the following arguments are required: (?P<names>.+)",
     "arguments obligatoires manquants : {names}"),
    (r"invalid choice: (?P<value>.+?) \(choose from (?P<choices>.+)\)",
     "choix invalide : {value} (choix possibles : {choices})"),
    (r"unrecognized arguments: (?P<values>.+)",
     "arguments non reconnus : {values}"),
    (r"expected one argument", "une valeur est attendue"),
    (r"expected at most one argument", "au plus une valeur est attendue"),
    (r"expected at least one argument", "au moins une valeur est attendue"),
    (r"expected (?P<count>\d+) arguments?", "{count} valeurs sont attendues"),
    (r"not allowed with argument (?P<other>.+)",
     "incompatible avec l'argument {other}"),
    (r"one of the arguments (?P<names>.+) is required",
     "l'un des arguments {names} est obligatoire"),
    (r"ambiguous option: (?P<option>\S+) could match (?P<matches>.+)",
     "option ambiguë : {option} peut désigner {matches}"),
    (r"ignored explicit argument (?P<value>.+)", "valeur ignorée : {value}"),
]  # fmt: skip
_ARGUMENT = re.compile(r"argument (?P<name>.+?): (?P<message>.+)", re.DOTALL)
_INVALID_VALUE = re.compile(r"invalid (?P<type>\S+) value: (?P<value>.+)", re.DOTALL)


def translate_error(message: str) -> str:
    """Translate an error message built by argparse into French.

    ``argument --period: expected one argument`` becomes
    ``argument --period : une valeur est attendue``. A message that argparse
    does not build, such as one a ``type`` function raises, is returned as is.
    """
    argument = _ARGUMENT.fullmatch(message)
    if argument:
        inner = translate_error(argument["message"])
        return f"argument {argument['name']} : {inner}"
    invalid = _INVALID_VALUE.fullmatch(message)
    if invalid:
        expected = _TYPE_NAMES.get(invalid["type"], invalid["type"])
        return f"valeur invalide : {invalid['value']} ({expected} attendu)"
    for pattern, template in _MESSAGES:
        found = re.fullmatch(pattern, message, re.DOTALL)
        if found:
            return template.format(**found.groupdict())
    return message


class FrenchHelpFormatter(argparse.HelpFormatter):
    """Help formatter whose usage line starts with « utilisation : »."""

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        # argparse passes an empty prefix when it builds a subcommand's prog.
        super().add_usage(
            usage, actions, groups, USAGE_PREFIX if prefix is None else prefix
        )


class FrenchArgumentParser(argparse.ArgumentParser):
    """Argument parser that writes its help and its errors in French.

    It takes the arguments of :class:`argparse.ArgumentParser`. ``add_help``
    adds a French ``-h/--help``, and ``formatter_class`` defaults to
    :class:`FrenchHelpFormatter`.
    """

    def __init__(
        self,
        *args: Any,
        add_help: bool = True,
        formatter_class: type[argparse.HelpFormatter] = FrenchHelpFormatter,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            *args, add_help=False, formatter_class=formatter_class, **kwargs
        )
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        if add_help:
            self.add_argument(
                "-h", "--help", action="help", default=argparse.SUPPRESS, help=HELP_TEXT
            )

    def error(self, message: str) -> NoReturn:
        """Print the usage and the French ``message``, then exit with status 2."""
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {translate_error(message)}\n")
