"""The ``compare``, ``baselines`` and ``sweep`` commands: studies over several runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcl_text.studies.baselines import BaselineError
from mlcl_text.studies.compare import CompareError


def run_compare(args: argparse.Namespace) -> int:
    from mlcl_text.run_folder import COMPARISON_PLOT
    from mlcl_text.studies.compare import (
        DEFAULT_METRICS,
        collect_runs,
        compare_table,
        find_run_dirs,
        format_markdown,
        plot_metric_vs_shots,
        write_comparison,
    )

    if args.plot and not args.output:
        raise CompareError("--plot needs --output, the folder to write it to")
    if args.references and not args.across_sets:
        raise CompareError("--reference needs --across-sets")
    if args.across_sets:
        return _compare_across_sets(args)
    runs = collect_runs(find_run_dirs(args.runs))
    table = compare_table(
        runs, metrics=args.metrics or DEFAULT_METRICS, split=args.split, group_by=args.group_by
    )
    print(format_markdown(table))
    if args.output:
        written = list(write_comparison(table, args.output))
        if args.plot:
            written.append(plot_metric_vs_shots(table, Path(args.output) / COMPARISON_PLOT))
        print("wrote " + ", ".join(map(str, written)))
    return 0


def _compare_across_sets(args: argparse.Namespace) -> int:
    from mlcl_text.studies.compare import collect_runs, find_run_dirs
    from mlcl_text.studies.compare.across import across_sets, format_across_markdown, write_across

    if args.plot:
        raise CompareError("--plot draws one set's comparison; leave it out with --across-sets")
    runs_by_set = {}
    for item in args.runs:
        name, _, folder = item.rpartition("=") if "=" in item else ("", "", item)
        name = name.strip() or Path(folder).name
        if name in runs_by_set:
            raise CompareError(f"data set {name!r} is given twice; name them SET=FOLDER")
        runs_by_set[name] = collect_runs(find_run_dirs([folder]))
    metric = (args.metrics or ["micro_f1"])[0]
    summary = across_sets(
        runs_by_set,
        metric=metric,
        split=args.split,
        references=args.references or ("setfit", "tfidf"),
    )
    print(format_across_markdown(summary))
    if args.output:
        print("wrote " + ", ".join(map(str, write_across(summary, args.output))))
    return 0


def run_baselines(args: argparse.Namespace) -> int:
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


def run_sweep(args: argparse.Namespace) -> int:
    from mlcl_text.studies.sweep import run_sweep as sweep

    output_dir = sweep(args.spec, overrides=args.overrides, keep_going=args.keep_going)
    print(f"sweep finished: runs, comparison and plot in {output_dir}")
    return 0
