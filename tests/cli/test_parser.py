"""The ``mlcl-text`` parser: one module per command in ``mlcl_text.cli.commands``, found
without a list (``mlcl_text.cli.main``), shared option blocks built once
(``mlcl_text.cli.options``)."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import re
import sys
import textwrap

import pytest

from mlcl_text.cli import commands as command_package
from mlcl_text.cli import main as cli
from mlcl_text.cli.commands import export, push
from mlcl_text.cli.main import build_parser, command_modules

#: the order ``mlcl-text --help`` lists the commands in (each module's ORDER)
COMMANDS = (
    "train",
    "inspect",
    "evaluate",
    "predict",
    "subset",
    "export",
    "push",
    "compare",
    "baselines",
    "sweep",
    "demo",
)


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in parser._actions}


def test_cli_binds_every_command_to_its_run_function():
    commands = subcommands(cli.build_parser())
    assert list(commands) == list(COMMANDS)
    for name, parser in commands.items():
        module = importlib.import_module(f"mlcl_text.cli.commands.{name}")
        assert parser.get_default("run") is module.run


def test_a_command_without_a_runner_is_refused(monkeypatch):
    monkeypatch.delattr(push, "run")
    with pytest.raises(TypeError, match="push"):
        build_parser()


def test_every_command_module_is_found_and_listed_by_help_in_order(capsys):
    modules = [info.name for info in pkgutil.iter_modules(command_package.__path__)]
    assert sorted(modules) == sorted(COMMANDS)
    assert [module.__name__.rpartition(".")[2] for module in command_modules()] == list(COMMANDS)
    assert [module.ORDER for module in command_modules()] == sorted(
        module.ORDER for module in command_modules()
    )
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    listed = re.findall(r"^ {4}(\S+)", capsys.readouterr().out, flags=re.MULTILINE)
    assert listed == list(COMMANDS)


@pytest.fixture
def add_command_module(tmp_path, monkeypatch):
    """Write a module that ``mlcl_text.cli.commands`` holds, as if added to its folder."""
    monkeypatch.setattr(command_package, "__path__", [*command_package.__path__, str(tmp_path)])
    added = []

    def add(name: str, source: str) -> None:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(source))
        importlib.invalidate_caches()
        added.append(name)

    yield add
    for name in added:
        sys.modules.pop(f"{command_package.__name__}.{name}", None)
        vars(command_package).pop(name, None)


HELLO = """
    \"""``mlcl-text hello``: greet someone.\"""
    ORDER = {order}

    def add_parser(commands):
        hello = commands.add_parser("{command}", help="say hello")
        hello.add_argument("name")
        return hello

    def run(args):
        print(f"hello {{args.name}}")
        return 0
"""


def test_one_new_module_is_one_new_command(add_command_module, capsys):
    add_command_module("hello", HELLO.format(order=45, command="hello"))
    commands = subcommands(build_parser())
    assert list(commands) == [*COMMANDS[:4], "hello", *COMMANDS[4:]]
    assert cli.main(["hello", "world"]) == 0
    assert capsys.readouterr().out == "hello world\n"


@pytest.mark.parametrize(
    ("name", "source", "message"),
    [
        (
            "helper",
            "ORDER = 200\ndef add_parser(commands):\n    return commands.add_parser('helper')\n",
            "mlcl_text.cli.commands.helper is no command: it lacks run (every module of "
            "mlcl_text.cli.commands is one command and defines ORDER: int, add_parser(commands) "
            "-> argparse.ArgumentParser and run(args: argparse.Namespace) -> int)",
        ),
        (
            "shared",
            "def format_row(row):\n    return str(row)\n",
            "mlcl_text.cli.commands.shared is no command: it lacks ORDER, add_parser, run (",
        ),
        (
            "hello",
            HELLO.format(order=40, command="hello"),
            "mlcl_text.cli.commands.hello and mlcl_text.cli.commands.predict both have "
            "ORDER = 40: give each command its own place in mlcl-text --help",
        ),
        (
            "hello",
            HELLO.format(order=45, command="greet"),
            "mlcl_text.cli.commands.hello.add_parser must add and return the parser of the "
            "command 'hello': a command is named after its module",
        ),
    ],
    ids=["without-run", "a-helper-module", "order-taken", "named-otherwise"],
)
def test_a_module_that_is_no_command_stops_the_parser_with_one_message(
    add_command_module, name, source, message
):
    add_command_module(name, source)
    with pytest.raises(TypeError) as error:
        build_parser()
    assert str(error.value).startswith(message), str(error.value)


def test_shared_blocks_give_the_same_options_to_each_command():
    commands = subcommands(cli.build_parser())
    evaluate, predict = options(commands["evaluate"]), options(commands["predict"])
    for dest in ("threshold", "batch_size", "device"):
        assert (evaluate[dest].default, evaluate[dest].help, evaluate[dest].type) == (
            predict[dest].default,
            predict[dest].help,
            predict[dest].type,
        )
    subset = options(commands["subset"])
    assert subset["data"].required and not evaluate["data"].required
    assert subset["option"].metavar == evaluate["option"].metavar == "KEY=VALUE"
    for name in ("train", "inspect", "baselines", "sweep", "demo"):
        assert options(commands[name])["overrides"].default == []
    args = cli.build_parser().parse_args(["export", "run", "--output", "out"])
    assert (args.form, args.run) == ("full", export.run)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["subset", "--data", "d", "--k", "0", "--output", "o"],
            "argument --k: must be >= 1, got 0",
        ),
        (["subset", "--data", "d", "--seeds", "-1", "--output", "o"], "--seeds: must be >= 0"),
        (["subset", "--data", "d", "--fraction", "0", "--output", "o"], "must be in (0, 1]"),
        (["subset", "--data", "d", "--level", "0", "--output", "o"], "--level: must be >= 1"),
        (["predict", "m", "--batch-size", "0"], "argument --batch-size: must be >= 1, got 0"),
        (["predict", "m", "--top-k", "0"], "argument --top-k: must be >= 1"),
        (["predict", "m", "--max-length", "4"], "argument --max-length: must be >= 8, got 4"),
        (["predict", "m", "--threshold", "1.5"], "argument --threshold: must be in [0, 1]"),
        (["evaluate", "m", "--max-points", "-1"], "argument --max-points: must be >= 0"),
        (["inspect", "r", "--steps", "ten"], "argument --steps: expected an integer, got 'ten'"),
        (["inspect", "r", "--processes", "0"], "argument --processes: must be >= 1"),
        (["trian", "r"], "invalid choice: 'trian'"),
    ],
)
def test_a_bad_option_value_is_one_error_line(arguments, message, capsys):
    assert cli.main(arguments) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("mlcl-text: error: ") and message in line, line
    assert line.endswith("--help)")
