"""The ``mlcl-text`` command: train, evaluate, predict, export, push, baselines and demo.

:func:`main` is the console script. It parses the arguments (:mod:`mlcl_text.cli.parser`) and
runs the command's ``run_*`` function (:mod:`mlcl_text.cli.commands`). User mistakes (a
missing file, a bad recipe key, an unknown data set) end with one ``mlcl-text: error: ...``
line and exit status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys

from mlcl_text.cli import parser as cli_parser
from mlcl_text.cli.commands.scoring import run_evaluate, run_predict
from mlcl_text.cli.commands.sharing import run_export, run_push
from mlcl_text.cli.commands.studies import run_baselines, run_compare, run_sweep
from mlcl_text.cli.commands.training import run_demo, run_inspect, run_subset, run_train
from mlcl_text.data.registry import DataError
from mlcl_text.export.forms import NotExportableError
from mlcl_text.run_folder import RunFolderError
from mlcl_text.studies.baselines import BaselineError
from mlcl_text.studies.compare import CompareError
from mlcl_text.training.recipe import RecipeError

__all__ = [
    "USER_ERRORS",
    "build_parser",
    "main",
]

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


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except cli_parser.UsageError as error:
        print(f"mlcl-text: error: {error}", file=sys.stderr)
        return 2
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
    """The ``mlcl-text`` parser (:mod:`mlcl_text.cli.parser`), each command bound to its
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


if __name__ == "__main__":
    sys.exit(main())
