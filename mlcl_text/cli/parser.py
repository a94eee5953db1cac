"""The argument parser of the ``mlcl-text`` command: one small builder per command.

:func:`build_parser` composes the builders and binds each command to the function that runs
it (``args.run``); :func:`mlcl_text.cli.main.build_parser` passes the command functions of
:mod:`mlcl_text.cli.commands`. Option blocks that several commands share are built by one helper.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable, Mapping

from mlcl_text.export.forms import FORMS
from mlcl_text.studies.baselines import BASELINES

Runner = Callable[[argparse.Namespace], int]
Subparsers = argparse._SubParsersAction
SPLITS = ("train", "validation", "test")
RECIPE_HELP = "recipe file (see recipes/)"
MODEL_HELP = "training output folder or exported full model"


class UsageError(ValueError):
    """A command line the parser refuses; :func:`mlcl_text.cli.main.main` prints it as one
    ``mlcl-text: error:`` line with exit status 2, as every other mistake."""


class _Parser(argparse.ArgumentParser):
    """An argument parser that raises :class:`UsageError` instead of printing the usage and
    exiting (``--help`` still prints and exits)."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(f"{message} (see {self.prog} --help)")


@functools.cache
def _integer(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer ``>= minimum`` (one function per minimum)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


@functools.cache
def _share(low_open: bool) -> Callable[[str], float]:
    """An argparse type: a number in ``(0, 1]`` (``low_open``) or ``[0, 1]``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not (0 < value <= 1 if low_open else 0 <= value <= 1):
            raise argparse.ArgumentTypeError(
                f"must be in {'(0, 1]' if low_open else '[0, 1]'}, got {text}"
            )
        return value

    parse.__name__ = "share"
    return parse


def build_parser(runners: Mapping[str, Runner]) -> argparse.ArgumentParser:
    """The ``mlcl-text`` parser; ``runners`` maps every command name to its function."""
    parser = _Parser(
        prog="mlcl-text",
        description="Multi-label and hierarchical text classification with supervised contrastive learning.",
    )
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of one-line errors"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress messages")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, add_parser in COMMANDS.items():
        add_parser(commands).set_defaults(run=runners[name])
    return parser


# ---------------------------------------------------------------------- shared option blocks
def _add_set_option(parser: argparse.ArgumentParser, help_text: str) -> None:
    parser.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE", help=help_text
    )


def _add_data_options(parser: argparse.ArgumentParser, data_help: str, required: bool) -> None:
    """``--data``, ``--data-path`` and the loader's ``--option KEY=VALUE``."""
    parser.add_argument("--data", required=required, help=data_help)
    parser.add_argument("--data-path", help="where a named data set's files are")
    parser.add_argument(
        "--option", action="append", default=[], metavar="KEY=VALUE", help="loader option"
    )


def _add_threshold_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threshold",
        type=_share(low_open=False),
        help="default: the model's thresholds.json, else 0.5",
    )


def _add_batch_options(parser: argparse.ArgumentParser) -> None:
    """``--batch-size`` and ``--device`` of the commands that run a model."""
    parser.add_argument("--batch-size", type=_integer(1), default=32)
    parser.add_argument(
        "--device", default="auto", help="cpu, cuda, cuda:1, ... (default: cuda when available)"
    )


def _add_form_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--form", choices=FORMS, default="full")


# ---------------------------------------------------------------------- one builder per command
def _add_train_parser(commands: Subparsers) -> argparse.ArgumentParser:
    train = commands.add_parser("train", help="train a model from a YAML recipe")
    train.add_argument("recipe", help=RECIPE_HELP)
    _add_set_option(train, "override a recipe key (repeatable), e.g. --set learning_rate=3e-5")
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
    return train


def _add_inspect_parser(commands: Subparsers) -> argparse.ArgumentParser:
    inspect = commands.add_parser(
        "inspect",
        help="report how many positives each contrastive head finds in the recipe's batches",
    )
    inspect.add_argument("recipe", help=RECIPE_HELP)
    _add_set_option(inspect, "override a recipe key (repeatable), e.g. --set memory_size=1024")
    inspect.add_argument(
        "--steps", type=_integer(1), default=50, help="training steps sampled (default: 50)"
    )
    inspect.add_argument(
        "--processes",
        type=_integer(1),
        default=1,
        help="processes the run will train on (accelerate launch / torchrun; default: 1)",
    )
    return inspect


def _add_evaluate_parser(commands: Subparsers) -> argparse.ArgumentParser:
    evaluate = commands.add_parser("evaluate", help="score a trained model on a data set split")
    evaluate.add_argument("model", help=MODEL_HELP)
    _add_data_options(
        evaluate,
        "a data set name, or a folder/file for the generic loader "
        "(default: the data set of the model's recipe.yaml)",
        required=False,
    )
    evaluate.add_argument("--split", default="test", choices=SPLITS)
    _add_threshold_option(evaluate)
    _add_batch_options(evaluate)
    evaluate.add_argument(
        "--output", help="flat metrics JSON file (default: MODEL/metrics-<split>.json)"
    )
    evaluate.add_argument(
        "--output-dir",
        help="folder for metrics.json, report.md and plots/ (default: MODEL/evaluation-<split>)",
    )
    evaluate.add_argument(
        "--max-points",
        type=_integer(0),
        default=2000,
        help="documents drawn in the 2-D views of the embedding spaces (0: none)",
    )
    return evaluate


def _add_predict_parser(commands: Subparsers) -> argparse.ArgumentParser:
    predict = commands.add_parser(
        "predict",
        help="label texts: the rows of a JSONL/CSV/TSV/Parquet FILE, or one text per line of "
        "another FILE or of stdin (-, the default)",
    )
    predict.add_argument("model", help=MODEL_HELP)
    predict.add_argument("input", nargs="?", default="-", metavar="FILE|-")
    predict.add_argument(
        "--text-column",
        dest="text_columns",
        action="append",
        default=None,
        metavar="NAME",
        help="column holding the text (repeatable: joined by a blank line; default: text)",
    )
    predict.add_argument("--id-column", default="id", help="column kept as id (default: id)")
    predict.add_argument(
        "--output", help="a .jsonl or .csv file for the predictions (default: JSON lines on stdout)"
    )
    predict.add_argument(
        "--top-k",
        type=_integer(1),
        help="only the K most probable labels' probabilities, highest first",
    )
    _add_threshold_option(predict)
    predict.add_argument(
        "--inconsistent",
        action="store_true",
        help="keep labels whose parent is not predicted (default: hierarchy-consistent)",
    )
    _add_batch_options(predict)
    predict.add_argument(
        "--max-length",
        type=_integer(8),
        default=None,
        help="tokens per text (default: the length the model was trained with)",
    )
    return predict


def _add_subset_parser(commands: Subparsers) -> argparse.ArgumentParser:
    subset = commands.add_parser("subset", help="write few-shot or fraction subset index files")
    _add_data_options(
        subset, "a data set name, or a folder/file for the generic loader", required=True
    )
    subset.add_argument("--method", choices=("k_per_label", "fraction"), default="k_per_label")
    subset.add_argument(
        "--k", type=_integer(1), action="append", help="examples per label (repeatable)"
    )
    subset.add_argument(
        "--fraction",
        type=_share(low_open=True),
        action="append",
        help="share of the split (repeatable)",
    )
    subset.add_argument("--level", type=_integer(1), help="only the labels at this tree depth")
    subset.add_argument("--seeds", type=_integer(0), nargs="+", default=[0, 1, 2])
    subset.add_argument("--split", default="train", choices=SPLITS)
    subset.add_argument("--output", required=True, help="folder for the index files")
    return subset


def _add_export_parser(commands: Subparsers) -> argparse.ArgumentParser:
    export = commands.add_parser("export", help="export a trained model")
    export.add_argument("model")
    _add_form_option(export)
    export.add_argument("--output", required=True, help="new or empty folder")
    return export


def _add_push_parser(commands: Subparsers) -> argparse.ArgumentParser:
    push = commands.add_parser(
        "push", help="export a trained model and push it to the Hugging Face Hub"
    )
    push.add_argument("model")
    push.add_argument("--repo-id", required=True)
    _add_form_option(push)
    push.add_argument("--private", action="store_true", help="create a private repository")
    push.add_argument(
        "--data-use-agreement",
        help="the agreement that allows publishing a model of restricted data",
    )
    return push


def _add_compare_parser(commands: Subparsers) -> argparse.ArgumentParser:
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


def _add_baselines_parser(commands: Subparsers) -> argparse.ArgumentParser:
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
        default=list(BASELINES),
        metavar="METHOD",
        help=f"baselines to run, of {', '.join(BASELINES)} (default: all; setfit needs "
        "pip install setfit)",
    )
    baselines.add_argument(
        "--output-dir",
        help="folder for the run folders DIR/<method>/ (default: the recipe's output_dir "
        "followed by -baselines)",
    )
    _add_set_option(baselines, "override a recipe key (repeatable), e.g. --set max_length=64")
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


def _add_sweep_parser(commands: Subparsers) -> argparse.ArgumentParser:
    sweep = commands.add_parser(
        "sweep",
        help="train recipes (and fit baselines) × shots × seeds from a sweep spec (resumable), "
        "then compare",
    )
    sweep.add_argument("spec", help="sweep spec YAML (see mlcl_text/studies/sweep.py)")
    _add_set_option(
        sweep, "override a key of every recipe (repeatable), after the spec's overrides"
    )
    sweep.add_argument(
        "--keep-going",
        action="store_true",
        help="go on with the other cells when one fails (a failed cell is retried next run)",
    )
    return sweep


def _add_demo_parser(commands: Subparsers) -> argparse.ArgumentParser:
    demo = commands.add_parser(
        "demo", help="fine-tune MiniLM on the embedded debtags set with the MLCL recipe"
    )
    demo.add_argument("--output-dir", default="outputs/demo")
    demo.add_argument(
        "--overwrite", action="store_true", help="replace an earlier demo run in --output-dir"
    )
    _add_set_option(demo, "override a recipe key (repeatable), e.g. --set max_steps=20")
    return demo


#: every command's parser builder, in the order ``mlcl-text --help`` lists them
COMMANDS: dict[str, Callable[[Subparsers], argparse.ArgumentParser]] = {
    "train": _add_train_parser,
    "inspect": _add_inspect_parser,
    "evaluate": _add_evaluate_parser,
    "predict": _add_predict_parser,
    "subset": _add_subset_parser,
    "export": _add_export_parser,
    "push": _add_push_parser,
    "compare": _add_compare_parser,
    "baselines": _add_baselines_parser,
    "sweep": _add_sweep_parser,
    "demo": _add_demo_parser,
}
