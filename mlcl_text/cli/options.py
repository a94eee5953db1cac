"""What the ``mlcl-text`` command parsers share: the argparse types, :class:`UsageError` and
:class:`Parser`, and the option blocks that several commands offer (each built by one helper,
so that a shared option has one default and one help text)."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable

from mlcl_text.export.forms import FORMS

#: what a command's ``add_parser`` receives: the ``mlcl-text`` parser's subparsers
Subparsers = argparse._SubParsersAction
SPLITS = ("train", "validation", "test")
RECIPE_HELP = "recipe file (see recipes/)"
MODEL_HELP = "training output folder or exported full model"


class UsageError(ValueError):
    """A command line the parser refuses; :func:`mlcl_text.cli.main.main` prints it as one
    ``mlcl-text: error:`` line with exit status 2, as every other mistake."""


class Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of printing the usage and
    exiting (``--help`` still prints and exits)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


@functools.cache
def integer(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer ``>= minimum`` (one function per minimum)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


@functools.cache
def share(low_open: bool) -> Callable[[str], float]:
    """An argparse type: a number in ``(0, 1]`` (``low_open``) or ``[0, 1]``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (0 < value <= 1 if low_open else 0 <= value <= 1):
            raise argparse.ArgumentTypeError(
                f"must be in {'(0, 1]' if low_open else '[0, 1]'}, got {text}"
            )
        return value

    parse.__name__ = "share"
    return parse


def add_set_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help_text
    )


def add_data_options(parser: argparse.ArgumentParser, data_help: str, required: bool) -> None:
    """``--data``, ``--data-path`` and the loader's ``--option KEY=VALUE``."""
    parser.add_argument("--data", required=required, help=data_help)
    parser.add_argument("--data-path", help="where a named data set's files are")
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="loader option"
    )


def add_threshold_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threshold",
        type=share(low_open=False),
        help="default: the model's thresholds.json, else 0.5",
    )


def add_batch_options(parser: argparse.ArgumentParser) -> None:
    """``--batch-size`` and ``--device`` of the commands that run a model."""
    parser.add_argument("--batch-size", type=integer(1), default=32)
    parser.add_argument(
        "--device", default="auto", help="cpu, cuda, cuda:1, ... (default: cuda when available)"
    )


def add_form_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--form", choices=FORMS, default="full")
