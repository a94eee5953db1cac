"""``mlcl-text subset``: write few-shot (k examples per label) or fraction subset index files of
a data set split, one per size and seed, for recipes to train on."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcl_text.cli.loading import load_data
from mlcl_text.cli.options import SPLITS, Subparsers, add_data_options, integer, share
from mlcl_text.training.recipe import RecipeError

ORDER = 50


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    subset = commands.add_parser("subset", help="write few-shot or fraction subset index files")
    add_data_options(
        subset, "a data set name, or a folder/file for the generic loader", required=True
    )
    subset.add_argument("--method", choices=("k_per_label", "fraction"), default="k_per_label")
    subset.add_argument(
        "--k", type=integer(1), action="append", help="examples per label (repeatable)"
    )
    subset.add_argument(
        "--fraction",
        type=share(low_open=True),
        action="append",
        help="share of the split (repeatable)",
    )
    subset.add_argument("--level", type=integer(1), help="only the labels at this tree depth")
    subset.add_argument("--seeds", type=integer(0), nargs="+", default=[0, 1, 2])
    subset.add_argument("--split", default="train", choices=SPLITS)
    subset.add_argument("--output", required=True, help="folder for the index files")
    return subset


def run(args: argparse.Namespace) -> int:
    from mlcl_text.data.subsets import make_subset

    sizes = args.k if args.method == "k_per_label" else args.fraction
    if not sizes:
        raise RecipeError(
            f"--method {args.method} needs --{'k' if args.method == 'k_per_label' else 'fraction'}"
        )
    data, tree = load_data(args.data, args.data_path, args.option)
    output = Path(args.output)
    key = "k" if args.method == "k_per_label" else "fraction"
    for size in sizes:
        for seed in args.seeds:
            spec = {
                "method": args.method,
                key: size,
                "seed": seed,
                "level": args.level,
                "split": args.split,
            }
            result = make_subset(spec, data[args.split], tree)
            path = output / f"{args.method}-{key}{size}-seed{seed}.json"
            result.save(path)
            note = f", {len(result.unreachable)} labels below k" if result.unreachable else ""
            print(f"{path}: {len(result.indices)} of {len(data[args.split])} documents{note}")
    return 0
