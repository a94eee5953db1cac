"""``mlcl-text push``: export a trained model and push it to a Hugging Face Hub repository, with
the model card of the ``export`` command (:func:`mlcl_text.cli.commands.export.card_info`); a
model of restricted data goes public only with a data use agreement."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcl_text.cli.commands.export import card_info
from mlcl_text.cli.loading import load_model, stored_thresholds
from mlcl_text.cli.options import Subparsers, add_form_option
from mlcl_text.run_folder import PLOTS_DIR

ORDER = 70


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    push = commands.add_parser(
        "push", help="export a trained model and push it to the Hugging Face Hub"
    )
    push.add_argument("model")
    push.add_argument("--repo-id", required=True)
    add_form_option(push)
    push.add_argument("--private", action="store_true", help="create a private repository")
    push.add_argument(
        "--data-use-agreement",
        help="the agreement that allows publishing a model of restricted data",
    )
    return push


def run(args: argparse.Namespace) -> int:
    from mlcl_text.export.forms import push_to_hub

    model, tokenizer, recipe = load_model(args.model)
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
        card_info=card_info(args.model, recipe),
        thresholds=stored_thresholds(args.model, model.config.tree),
        figures_dir=Path(args.model) / PLOTS_DIR,
        data_use_agreement=args.data_use_agreement,
    )
    print(f"pushed {args.model} as {args.form} to https://huggingface.co/{args.repo_id}")
    return 0
