"""The ``evaluate`` and ``predict`` commands: a trained model on a data set split or on texts."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcl_text.cli.commands.loading import (
    decision_threshold,
    load_data,
    load_model,
    stored_thresholds,
)
from mlcl_text.data.registry import DataError
from mlcl_text.run_folder import SUBSET_FILE, evaluation_dir, split_metrics_path, write_json
from mlcl_text.training.recipe import RecipeError


def run_evaluate(args: argparse.Namespace) -> int:
    from mlcl_text.evaluation.evaluate import (
        EvaluationOptions,
        evaluate_run,
        format_summary,
        split_metrics_document,
    )
    from mlcl_text.evaluation.metrics import scored_label_ids
    from mlcl_text.run_folder import read_log_history

    model, tokenizer, recipe = load_model(args.model, args.device)
    name, data, tree = _evaluation_data(args, recipe)
    if tree != model.config.tree:
        raise DataError(f"the labels of data set {name!r} differ from the model's label tree")
    output_dir = (
        Path(args.output_dir) if args.output_dir else evaluation_dir(args.model, args.split)
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
        log_history=read_log_history(args.model),
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
    output = Path(args.output) if args.output else split_metrics_path(args.model, args.split)
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
    subset_file = Path(model_dir) / SUBSET_FILE
    if subset_file.is_file():
        from mlcl_text.data.subset_index import SubsetResult

        with contextlib.suppress(ValueError):  # another data set: count all its training split
            train = SubsetResult.load(subset_file).apply(train)
    return dict(Counter(label for labels in train["labels"] for label in labels))


def run_predict(args: argparse.Namespace) -> int:
    from mlcl_text.cli.prediction_io import (
        check_output,
        prediction_records,
        read_texts,
        write_records,
    )
    from mlcl_text.modeling.inference import label_predictions, predict_probabilities

    if args.output:
        check_output(args.output)  # before any work
    model, tokenizer, _ = load_model(args.model, args.device)
    texts = read_texts(args.input, args.text_columns or ["text"], args.id_column)
    if not texts.texts:
        raise DataError(f"{args.input}: no text to label")
    probabilities = predict_probabilities(
        model, tokenizer, texts.texts, args.batch_size, args.max_length, progress=True
    )
    names = model.config.tree.names
    threshold = decision_threshold(args.model, args.threshold, model.config.tree)
    predictions = label_predictions(
        model, probabilities, threshold, consistent=not args.inconsistent
    )
    records = prediction_records(texts, predictions, probabilities, names, args.top_k)
    write_records(records, args.output, names, args.top_k)
    if args.output:
        print(f"wrote {len(records)} predictions to {args.output}")
    return 0
