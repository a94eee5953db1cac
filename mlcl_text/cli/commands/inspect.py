"""``mlcl-text inspect``: report how many positives each contrastive head of a recipe finds in
the batches its training run will draw, before spending a run on a head that sees none."""

from __future__ import annotations

import argparse

from mlcl_text.cli.options import RECIPE_HELP, Subparsers, add_set_option, integer

ORDER = 20


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    inspect = commands.add_parser(
        "inspect",
        help="report how many positives each contrastive head finds in the recipe's batches",
    )
    inspect.add_argument("recipe", help=RECIPE_HELP)
    add_set_option(inspect, "override a recipe key (repeatable), e.g. --set memory_size=1024")
    inspect.add_argument(
        "--steps", type=integer(1), default=50, help="training steps sampled (default: 50)"
    )
    inspect.add_argument(
        "--processes",
        type=integer(1),
        default=1,
        help="processes the run will train on (accelerate launch / torchrun; default: 1)",
    )
    return inspect


def run(args: argparse.Namespace) -> int:
    from mlcl_text.training.coverage import BatchSetup, measure_coverage
    from mlcl_text.training.recipe import load_recipe
    from mlcl_text.training.run import prepare_data

    # precision does not change the batches, and a GPU recipe must load on a CPU machine
    recipe = load_recipe(args.recipe, [*args.overrides, "bf16=false", "fp16=false"])
    heads = recipe.head_specs()
    if not heads:
        print(f"{args.recipe}: no contrastive heads (BCE only): nothing to inspect")
        return 0
    data, tree = prepare_data(recipe)
    labels = tree.encode(data["train"]["labels"])
    setup = BatchSetup.from_arguments(recipe.training_arguments(), processes=args.processes)
    print(f"{args.recipe}: {len(labels)} training documents, {len(tree)} labels")
    print(f"{setup.describe()}; {args.steps} steps sampled")
    coverage = measure_coverage(heads, tree, labels, setup, steps=args.steps)
    print(format_coverage(coverage))
    return 0


def format_coverage(coverage) -> str:
    """The ``inspect`` table: one row per head (and per level of a hierarchical head)."""
    rows = [
        "| head | anchors labelled in its view | with a positive | positives / anchor | "
        "weight / anchor | candidates | status |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for head in coverage:
        rows.append(
            f"| {head.head} | {head.labelled:.1%} | {head.with_positive:.1%} | "
            f"{head.mean_positives:.2f} | "
            f"{head.mean_weight:.2f} | {head.candidates:.0f} | {head.status} |"
        )
    warnings = [head.summary() for head in coverage if head.status != "ok"]
    return "\n".join(rows + warnings)
