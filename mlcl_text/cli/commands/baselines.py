"""``mlcl-text baselines``: fit the TF-IDF, frozen-encoder and SetFit baselines on a recipe's
data and score them as training does; one run folder per baseline that ``compare`` reads like
a training run (the baselines themselves: :mod:`mlcl_text.studies.baselines`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcl_text.cli.options import Subparsers, add_set_option
from mlcl_text.modeling.hub import ensure_model_available
from mlcl_text.run_folder import METRICS_FILE
from mlcl_text.studies.baselines import BASELINES, BaselineError

#: what ``mlcl-text baselines`` fits unless ``--methods`` says otherwise
FAST_BASELINES = ("tfidf", "frozen")

ORDER = 90


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    baselines = commands.add_parser(
        "baselines",
        help="fit TF-IDF, frozen-encoder and SetFit baselines on a recipe's data and score "
        "them like training does",
        description="Fit each baseline on the recipe's training split (its subset applied), "
        "tune thresholds on validation and score validation and test as training does; write "
        "one run folder per baseline (recipe.yaml, metrics.json, no weights) that the "
        "compare command reads like a training run. See mlcl_text/studies/baselines/.",
    )
    baselines.add_argument("recipe", help="recipe file (see recipes/): its data, encoder and seed")
    baselines.add_argument(
        "--methods",
        nargs="+",
        default=list(FAST_BASELINES),
        metavar="METHOD",
        help=f"baselines to run, of {', '.join(BASELINES)} (default: "
        f"{' '.join(FAST_BASELINES)}, seconds to a minute on a CPU; setfit, minutes, needs "
        "pip install setfit)",
    )
    baselines.add_argument(
        "--overwrite",
        action="store_true",
        help="replace baseline runs already in the output folder (refused otherwise)",
    )
    baselines.add_argument(
        "--output-dir",
        help="folder for the run folders DIR/<method>/ (default: the recipe's output_dir "
        "followed by -baselines)",
    )
    add_set_option(baselines, "override a recipe key (repeatable), e.g. --set max_length=64")
    baselines.add_argument(
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="METHOD.KEY=VALUE",
        help="a baseline option (repeatable), e.g. --option frozen.C=0.5 "
        "--option setfit.num_iterations=5",
    )
    return baselines


def run(args: argparse.Namespace) -> int:
    from mlcl_text.studies.baselines import resolve_options, run_baseline
    from mlcl_text.training.recipe import load_recipe

    methods = list(dict.fromkeys(args.methods))
    options = _baseline_options(args.options, methods)
    for method in methods:  # unknown names and options, or setfit missing: before any work
        resolve_options(method, options.get(method))
    recipe = load_recipe(args.recipe, args.overrides)
    output_dir = (
        Path(args.output_dir) if args.output_dir else Path(f"{recipe.output_dir}-baselines")
    )
    if set(methods) - {"tfidf"}:  # the encoder baselines load the recipe's model
        ensure_model_available(recipe.model_name_or_path)
    earlier = [m for m in methods if (output_dir / m / METRICS_FILE).exists()]
    if earlier and not args.overwrite:
        raise BaselineError(
            f"{output_dir} already holds the {', '.join(earlier)} baseline run"
            f"{'s' if len(earlier) > 1 else ''}: pass --overwrite to replace "
            f"{'them' if len(earlier) > 1 else 'it'}, or --output-dir for a new folder"
        )
    for method in methods:
        folder = output_dir / method
        metrics = run_baseline(method, recipe, folder, options.get(method))
        print(f"{method}: {_baseline_summary(metrics)} -> {folder}", flush=True)
    print(f"compare with a trained model: mlcl-text compare {output_dir} {recipe.output_dir}")
    return 0


def _baseline_options(option_args: list[str], methods: list[str]) -> dict[str, dict]:
    """``--option METHOD.KEY=VALUE`` arguments as ``{method: {key: value}}``, each for one of
    the ``methods`` run."""
    from mlcl_text.training.recipe import apply_override

    options: dict = {}
    for option in option_args:
        key = option.partition("=")[0].strip()
        method, dot, name = key.partition(".")
        if "=" not in option or not dot or not method or not name:
            raise BaselineError(f"--option {option!r} is not of the form METHOD.KEY=VALUE")
        if method not in methods:
            raise BaselineError(
                f"--option {option!r} is for {method!r}, which is not run "
                f"(--methods {' '.join(methods)})"
            )
        apply_override(options, option, "--option")
    return options


def _baseline_summary(metrics: dict) -> str:
    """A baseline run's validation and test F1 and its fit and predict times, on one line."""
    scores = [
        f"{split} micro_f1 {metrics[split]['micro_f1']:.4f} "
        f"macro_f1 {metrics[split]['macro_f1']:.4f}"
        for split in ("validation", "test")
        if split in metrics
    ]
    timing = metrics["timing"]
    return (
        f"{'; '.join(scores) or 'no evaluation split'}; "
        f"fit {timing['train_seconds']:.1f} s, predict {timing['predict_seconds']:.1f} s"
    )
