"""``mlcl-text train``: train a model from a YAML recipe and print where it went and its scores.

:func:`print_summary` is also the ``demo`` command's summary."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcl_text.cli.options import RECIPE_HELP, Subparsers, add_set_option

ORDER = 10


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    train = commands.add_parser("train", help="train a model from a YAML recipe")
    train.add_argument("recipe", help=RECIPE_HELP)
    add_set_option(train, "override a recipe key (repeatable), e.g. --set learning_rate=3e-5")
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a run already in the recipe's output_dir (refused otherwise)",
    )
    train.add_argument(
        "--resume",
        nargs="?",
        const=True,
        default=None,
        metavar="CHECKPOINT",
        help="continue from CHECKPOINT, or from the latest checkpoint-* in output_dir",
    )
    train.set_defaults(after_interrupt=after_interrupt)
    return train


def after_interrupt(args: argparse.Namespace) -> str:
    """What to run after Ctrl-C: the same command with ``--resume``."""
    overrides = "".join(f" --set {override}" for override in args.overrides)
    return (
        f"continue from the last checkpoint with: mlcl-text train {args.recipe}{overrides} --resume"
    )


def run(args: argparse.Namespace) -> int:
    from mlcl_text.training.recipe import load_recipe
    from mlcl_text.training.run import train_from_recipe

    result = train_from_recipe(
        load_recipe(args.recipe, args.overrides), overwrite=args.overwrite, resume=args.resume
    )
    print_summary(result.output_dir, result.metrics)
    return 0


def print_summary(output_dir: Path, metrics: dict) -> None:
    print(f"model, tokenizer and metrics written to {output_dir}")
    threshold = metrics.get("thresholds", {}).get("global")
    if threshold is not None:
        tuned = metrics["thresholds"].get("tuned_on")
        how = f"tuned on {tuned}" if tuned else "not tuned: the default"
        print(f"  decision threshold ({how}): {threshold:.2f}")
    for split in ("validation", "test"):
        if split not in metrics:
            continue
        scores = metrics[split]
        shown = ", ".join(
            f"{k} {scores[k]:.4f}" for k in ("micro_f1", "macro_f1", "samples_f1") if k in scores
        )
        print(f"  {split}: {shown}")
