"""``mlcl-text compare``: tabulate finished runs (mean ± std over seeds per method and shots),
or with ``--across-sets`` summarise every method over several data sets' sweeps against
reference methods."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcl_text.cli.options import Subparsers
from mlcl_text.studies.compare import CompareError

ORDER = 80


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    compare = commands.add_parser(
        "compare", help="tabulate finished runs: mean ± std over seeds per method and shots"
    )
    compare.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help="a run folder (with metrics.json), NAME=FOLDER to name its method, or a folder "
        "searched for run folders (a sweep's output_dir)",
    )
    compare.add_argument(
        "--metric",
        dest="metrics",
        action="append",
        metavar="NAME",
        help="a metric of metrics.json (repeatable; default: micro_f1, macro_f1, hier_f1)",
    )
    compare.add_argument(
        "--split", default="test", help="scores of this metrics.json entry (default: test)"
    )
    compare.add_argument(
        "--group-by",
        nargs="+",
        choices=("method", "shots", "seed"),
        default=["method", "shots"],
        help="fields that make a row (default: method shots)",
    )
    compare.add_argument(
        "--across-sets",
        action="store_true",
        help="each RUN is one data set's sweep folder (SET=FOLDER names the set): summarise "
        "every method across the sets against the --reference methods (mlcl_text/studies/compare/"
        "across.py); writes across-sets.md and across-sets.csv into --output",
    )
    compare.add_argument(
        "--reference",
        dest="references",
        action="append",
        metavar="METHOD",
        help="with --across-sets: a method to give differences to (repeatable; default: "
        "setfit, tfidf)",
    )
    compare.add_argument("--output", help="folder for comparison.md and comparison.csv")
    compare.add_argument(
        "--plot", action="store_true", help="also write metric_vs_shots.png into --output"
    )
    return compare


def run(args: argparse.Namespace) -> int:
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
