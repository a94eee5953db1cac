"""``mlcl_text.cli.parser``: one builder per command, shared option blocks built once."""

from __future__ import annotations

import argparse

import pytest

from mlcl_text.cli import main as cli
from mlcl_text.cli.commands import sharing
from mlcl_text.cli.parser import COMMANDS, build_parser


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in parser._actions}


def test_cli_binds_every_command_to_its_run_function():
    commands = subcommands(cli.build_parser())
    assert list(commands) == list(COMMANDS)
    for name, parser in commands.items():
        assert parser.get_default("run") is getattr(cli, f"run_{name}")


def test_a_command_without_a_runner_is_refused():
    runners = {name: (lambda args: 0) for name in COMMANDS if name != "push"}
    with pytest.raises(KeyError, match="push"):
        build_parser(runners)


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
    assert (args.form, args.run) == ("full", sharing.run_export)


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
