"""``mlcl-text evaluate``: score a trained model on a data set split; write the flat metrics JSON
and the evaluation folder (metrics.json, report.md, plots/)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcl_text.cli.loading import load_data, load_model, stored_thresholds
from mlcl_text.cli.options import (
    MODEL_HELP,
    SPLITS,
    Subparsers,
    add_batch_options,
    add_data_options,
    add_threshold_option,
    integer,
)
from mlcl_text.data.registry import DataError
from mlcl_text.run_folder import RunFolder, write_json
from mlcl_text.training.recipe import RecipeError

ORDER = 30


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    evaluate = commands.add_parser("evaluate", help="score a trained model on a data set split")
    evaluate.add_argument("model", help=MODEL_HELP)
    add_data_options(
        evaluate,
        "a data set name, or a folder/file for the generic loader "
        "(default: the data set of the model's recipe.yaml)",
        required=False,
    )
    evaluate.add_argument("--split", default="test", choices=SPLITS)
    add_threshold_option(evaluate)
    add_batch_options(evaluate)
    evaluate.add_argument(
        "--output", help="flat metrics JSON file (default: MODEL/metrics-<split>.json)"
    )
    evaluate.add_argument(
        "--output-dir",
        help="folder for metrics.json, report.md and plots/ (default: MODEL/evaluation-<split>)",
    )
    evaluate.add_argument(
        "--max-points",
        type=integer(0),
        default=2000,
        help="documents drawn in the 2-D views of the embedding spaces (0: none)",
    )
    return evaluate


def run(args: argparse.Namespace) -> int:
    from mlcl_text.evaluation.evaluate import (
        EvaluationOptions,
        evaluate_run,
        format_summary,
        split_metrics_document,
    )
    from mlcl_text.evaluation.metrics import scored_label_ids

    model, tokenizer, recipe = load_model(args.model, args.device)
    name, data, tree = _evaluation_data(args, recipe)
    if tree != model.config.tree:
        raise DataError(f"the labels of data set {name!r} differ from the model's label tree")
    output_dir = (
        Path(args.output_dir)
        if args.output_dir
        else RunFolder(args.model).evaluation_dir(args.split)
    )
    result = evaluate_run(
        model,
        tokenizer,
        data[args.split],
        tree,
        output_dir,
        thresholds=args.threshold
        if args.threshold is not None
        else stored_thresholds(args.model, tree),
        log_history=RunFolder(args.model).log_history(),
        train_label_counts=_train_label_counts(args.model, data),
        options=EvaluationOptions(
            batch_size=args.batch_size,
            max_points=args.max_points,
            split_name=args.split,
            progress=True,
            model_name=str(args.model),
            dataset_name=str(name),
            scored_labels=scored_label_ids(tree, str(recipe.get("metric_labels", "all"))),
        ),
    )
    output = (
        Path(args.output) if args.output else RunFolder(args.model).split_metrics_path(args.split)
    )
    write_json(output, split_metrics_document(result))
    print(format_summary(result, name))
    return 0


def _evaluation_data(args: argparse.Namespace, recipe: dict):
    """``(name, data, tree)`` of ``--data``, else of the data set the model's recipe names."""
    if args.data:
        data, tree = load_data(args.data, args.data_path, args.option)
        return args.data, data, tree
    name = recipe.get("dataset")
    if not name:
        raise RecipeError(f"{args.model} has no recipe.yaml naming its data set: pass --data")
    options = dict(recipe.get("dataset_options") or {})
    data, tree = load_data(name, args.data_path or recipe.get("dataset_path"), args.option, options)
    return name, data, tree


def _train_label_counts(model_dir: str, data) -> dict[str, int] | None:
    """Training documents per label name: of the run's subset when its subset.json matches
    the training split, else of the whole training split; None without one."""
    import contextlib
    from collections import Counter

    train = data.get("train")
    if train is None or len(train) == 0:
        return None
    subset_file = RunFolder(model_dir).subset_file
    if subset_file is not None:
        from mlcl_text.data.subset_index import SubsetResult

        with contextlib.suppress(ValueError):  # another data set: count all its training split
            train = SubsetResult.load(subset_file).apply(train)
    return dict(Counter(label for labels in train["labels"] for label in labels))
