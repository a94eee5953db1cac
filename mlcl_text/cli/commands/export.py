"""``mlcl-text export``: export a trained model as a shareable folder in one of the export forms,
with its model card, thresholds and figures.

:func:`card_info` reads the card's facts from the run folder; the ``push`` command uses it too."""

from __future__ import annotations

import argparse
from pathlib import Path

from mlcl_text.cli.loading import load_model, stored_thresholds
from mlcl_text.cli.options import Subparsers, add_form_option
from mlcl_text.run_folder import PLOTS_DIR, RunFolder

ORDER = 60
CARD_METRICS = ("micro_f1", "macro_f1", "hier_f1", "micro_auc", "macro_auc", "p@5")


def add_parser(commands: Subparsers) -> argparse.ArgumentParser:
    export = commands.add_parser("export", help="export a trained model")
    export.add_argument("model")
    add_form_option(export)
    export.add_argument("--output", required=True, help="new or empty folder")
    return export


def run(args: argparse.Namespace) -> int:
    from mlcl_text.export.forms import export_model

    model, tokenizer, recipe = load_model(args.model)
    thresholds = stored_thresholds(args.model, model.config.tree)
    folder = export_model(
        model,
        args.output,
        args.form,
        tokenizer=tokenizer,
        card_info=card_info(args.model, recipe),
        thresholds=thresholds,
        figures_dir=Path(args.model) / PLOTS_DIR,
    )
    print(f"exported {args.model} as {args.form} to {folder}")
    return 0


def card_info(model_dir: str, recipe: dict):
    """Card facts a training run folder holds: data set, headline test metrics, settings."""
    from mlcl_text.export.model_card import ModelCardInfo

    try:
        scores = RunFolder(model_dir).metrics()
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
