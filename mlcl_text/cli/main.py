"""The ``mlcl-text`` command: train, evaluate, predict, export, push, baselines and demo.

:func:`main` is the console script. It parses the arguments (:func:`build_parser`, which finds
the commands: one module each in :mod:`mlcl_text.cli.commands`) and runs the command's ``run``
function. User mistakes (a missing file, a bad recipe key, an unknown data set) end with one
``mlcl-text: error: ...`` line and exit status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import logging
import pkgutil
import sys
from types import ModuleType

from mlcl_text.cli import commands as command_package
from mlcl_text.cli.options import Parser, UsageError
from mlcl_text.data.registry import DataError
from mlcl_text.export.errors import NotExportableError
from mlcl_text.run_folder import RunFolderError
from mlcl_text.studies.baselines import BaselineError
from mlcl_text.studies.compare import CompareError
from mlcl_text.training.recipe import RecipeError

__all__ = [
    "USER_ERRORS",
    "build_parser",
    "command_modules",
    "main",
]

USER_ERRORS = (
    RecipeError,
    RunFolderError,
    BaselineError,
    CompareError,
    DataError,
    NotExportableError,
    FileNotFoundError,
    FileExistsError,
    PermissionError,
)
COMMAND_INTERFACE = (
    "ORDER: int, add_parser(commands) -> argparse.ArgumentParser and "
    "run(args: argparse.Namespace) -> int"
)


def main(argv: list[str] | None = None) -> int:
    """Run one command; a user's mistake is one ``mlcl-text: error:`` line (exit 2), Ctrl-C
    one ``mlcl-text: interrupted`` line (exit 130) with what the command's
    ``after_interrupt(args)`` default says (``train``: how to resume)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as error:
        print(f"mlcl-text: error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    try:
        return args.run(args)
    except USER_ERRORS as error:
        if args.debug:
            raise
        print(f"mlcl-text: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        hint = getattr(args, "after_interrupt", None)
        print(f"mlcl-text: interrupted{'; ' + hint(args) if hint else ''}", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The ``mlcl-text`` parser: each module of :mod:`mlcl_text.cli.commands` adds its command
    (in the order of :func:`command_modules`), bound to its ``run`` function (``args.run``)."""
    parser = Parser(
        prog="mlcl-text",
        description="Multi-label and hierarchical text classification with supervised contrastive learning.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of one-line errors"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in command_modules():
        name = _command_name(module)
        command = module.add_parser(commands)
        if commands.choices.get(name) is not command:
            raise TypeError(
                f"{module.__name__}.add_parser must add and return the parser of the command "
                f"{name!r}: a command is named after its module"
            )
        command.set_defaults(run=module.run)
    return parser


def command_modules() -> list[ModuleType]:
    """Every module of :mod:`mlcl_text.cli.commands`, by its ``ORDER``; ``TypeError`` names a
    module that is no command (see the package's docstring) or two that share an ``ORDER``."""
    modules = []
    for info in pkgutil.iter_modules(command_package.__path__, f"{command_package.__name__}."):
        module = importlib.import_module(info.name)
        lacks = [name for name in ("ORDER", "add_parser", "run") if not _defines(module, name)]
        if lacks:
            raise TypeError(
                f"{module.__name__} is no command: it lacks {', '.join(lacks)} (every module of "
                f"{command_package.__name__} is one command and defines {COMMAND_INTERFACE})"
            )
        modules.append(module)
    modules.sort(key=lambda module: (module.ORDER, module.__name__))
    for first, second in itertools.pairwise(modules):
        if first.ORDER == second.ORDER:
            raise TypeError(
                f"{first.__name__} and {second.__name__} both have ORDER = {first.ORDER}: "
                "give each command its own place in mlcl-text --help"
            )
    return modules


def _defines(module: ModuleType, name: str) -> bool:
    value = getattr(module, name, None)
    if name == "ORDER":
        return isinstance(value, int) and not isinstance(value, bool)
    return callable(value)


def _command_name(module: ModuleType) -> str:
    return module.__name__.rpartition(".")[2]


if __name__ == "__main__":
    sys.exit(main())
