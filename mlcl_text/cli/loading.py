"""What several ``mlcl-text`` commands load: a trained model folder, a data set by name or
path, and the decision thresholds stored with a run."""

from __future__ import annotations

from pathlib import Path

from mlcl_text.data.registry import DataError
from mlcl_text.evaluation.thresholds import read_thresholds
from mlcl_text.run_folder import CONFIG_FILE, RunFolder


def load_model(path: str, device: str = "cpu"):
    """``(model, tokenizer, recipe)`` of a training output folder or an exported full model."""
    from transformers import AutoTokenizer

    from mlcl_text.modeling.model import load_trained_model

    run = RunFolder(path)
    if not run.has_model:
        raise FileNotFoundError(f"{run} is not a trained model folder (no {CONFIG_FILE})")
    model = load_trained_model(run.path, device)
    return model, AutoTokenizer.from_pretrained(run.path), run.recipe()


def load_data(
    name_or_path: str, data_path: str | None, option_args: list[str], options: dict | None = None
):
    """A registered data set by name, or the generic loader on a folder or file."""
    from mlcl_text.data import available, load
    from mlcl_text.training.recipe import apply_override

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


def stored_thresholds(model_dir: str, tree):
    """The thresholds saved in the run folder, checked against ``tree``; ``None`` without."""
    return read_thresholds(model_dir, labels=tree)
