"""The ``export`` and ``push`` commands: a trained model as a shareable folder or Hub repository,
with the model card's facts read from its run folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcl_text.cli.commands.loading import load_model, stored_thresholds
from mlcl_text.run_folder import PLOTS_DIR, read_metrics

CARD_METRICS = ("micro_f1", "macro_f1", "hier_f1", "micro_auc", "macro_auc", "p@5")


def run_export(args: argparse.Namespace) -> int:
    from mlcl_text.export.forms import export_model

    model, tokenizer, recipe = load_model(args.model)
    thresholds = stored_thresholds(args.model, model.config.tree)
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
        card_info=_card_info(args.model, recipe),
        thresholds=stored_thresholds(args.model, model.config.tree),
        figures_dir=Path(args.model) / PLOTS_DIR,
        data_use_agreement=args.data_use_agreement,
    )
    print(f"pushed {args.model} as {args.form} to https://huggingface.co/{args.repo_id}")
    return 0


def _card_info(model_dir: str, recipe: dict):
    """Card facts a training run folder holds: data set, headline test metrics, settings."""
    from mlcl_text.export.model_card import ModelCardInfo

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
