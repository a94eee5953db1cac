"""``mlcl-text sweep``: train the recipes of a sweep spec (and fit its baselines) × shots ×
seeds, resumable, then compare them (the sweep itself: :mod:`mlcl_text.studies.sweep`)."""

from __future__ import annotations

import argparse

from mlcl_text.cli.options import Subparsers, add_set_option

ORDER = 100


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    sweep = commands.add_parser(
        "sweep",
        help="train recipes (and fit baselines) × shots × seeds from a sweep spec (resumable), "
        "then compare",
    )
    sweep.add_argument("spec", help="sweep spec YAML (see mlcl_text/studies/sweep.py)")
    add_set_option(sweep, "override a key of every recipe (repeatable), after the spec's overrides")
    sweep.add_argument(
        "--keep-going",
        action="store_true",
        help="go on with the other cells when one fails (a failed cell is retried next run)",
    )
    return sweep


def run(args: argparse.Namespace) -> int:
    from mlcl_text.studies.sweep import run_sweep

    output_dir = run_sweep(args.spec, overrides=args.overrides, keep_going=args.keep_going)
    print(f"sweep finished: runs, comparison and plot in {output_dir}")
    return 0
