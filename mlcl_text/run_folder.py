"""The run folder: the names of its files, the one JSON writer and the one reader.

A training run (:func:`mlcl_text.training.run.train_from_recipe`) or a baseline
(:func:`mlcl_text.studies.baselines.run_baseline`) leaves a folder that ``mlcl-text evaluate``,
``export``, ``push``, ``compare`` and ``sweep`` read. Every module names its files through
the constants here, writes JSON through :func:`write_json` and reads through
:class:`RunFolder`, whose readers end a missing or unreadable file with one error line naming it.

Files of a run folder:

* :data:`METRICS_FILE` ``metrics.json``: the scores (schema below);
* :data:`RECIPE_FILE` ``recipe.yaml``: the recipe as run; :data:`SUBSET_FILE`
  ``subset.json``: the training subset's indices, when a subset was used;
* :data:`THRESHOLDS_FILE` ``thresholds.json``: the tuned decision thresholds;
* :data:`REPORT_FILE` ``report.md``: the run for people; :data:`PLOTS_DIR` ``plots/``
  holding the figures of :data:`PLOT_FILES`;
* :data:`LOG_HISTORY_FILE` ``log_history.json``: the Trainer's ``state.log_history``; each
  ``checkpoint-<step>/`` holds the Trainer's :data:`TRAINER_STATE_FILE`, and every saved
  folder :data:`TRAINING_ARGS_FILE` (the training arguments, not pickled);
* :meth:`RunFolder.evaluation_dir` ``evaluation-<split>/`` (``mlcl-text evaluate``: its own
  ``metrics.json``, ``report.md`` and ``plots/``) and
  :meth:`RunFolder.split_metrics_path`
  ``metrics-<split>.json`` (the same scores, flat as well);
* a comparison folder (``mlcl-text compare --output``, a sweep's output) holds
  :data:`COMPARISON_MD`, :data:`COMPARISON_CSV`, :data:`COMPARISON_PLOT` and, for a sweep,
  :data:`SWEEP_FILE`.

``metrics.json`` schema (every writer; readers take any key they need and ignore others)::

    {
      "<split>":      {score: number or null},  # "validation", "test": the flat scores of
                                                # mlcl_text.evaluation.metrics.evaluate_predictions at
                                                # the run's thresholds
      "<split>@0.5":  {score: number or null},  # the same at threshold 0.5 (training, baselines)
      "thresholds":   {"global": number or null, "per_label": bool,
                       "tuned_on": "validation" or null,        # training, baselines
                       "mean", "min", "max": number},           # evaluation
      "timing":       {"train_seconds": s, "<stage>_seconds": s, "predict_seconds": s},
      "budget":       {"epochs", "min_steps", "max_steps", "evaluations", "documents",
                       "steps_per_epoch", "steps", "eval_steps", "bound_by"},
                                                # training with a recipe budget only
      "baseline":     {"name": str, "options": {...}},          # baselines only
      # an evaluation of one split (evaluation-<split>/metrics.json) adds:
      "split": "<split>", "num_documents": int, "frequency_source": "train" or "split",
      "per_label": {label name: {"f1", "precision", "recall", "support", "predicted",
                                 "threshold", "frequency"}}
    }

``metrics-<split>.json`` (``mlcl-text evaluate --output``) holds ``<split>``, ``split``,
``num_documents`` and ``thresholds``. So every one of these files reads with ``document[split][metric]``, as :class:`mlcl_text.studies.compare.RunResult` reads
it. Every JSON file is strict JSON (:func:`write_json`): NaN and infinities (undefined
scores) are written as ``null``, NumPy scalars and arrays as numbers and lists.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mlcl_text.yaml_loader import parse_yaml

__all__ = [
    "CHECKPOINT_PATTERN",
    "COMPARISON_CSV",
    "COMPARISON_MD",
    "COMPARISON_PLOT",
    "CONFIG_FILE",
    "EVALUATION_DIR_PATTERN",
    "LOG_HISTORY_FILE",
    "METRICS_FILE",
    "PLOTS_DIR",
    "PLOT_FILES",
    "RECIPE_FILE",
    "REPORT_FILE",
    "SPLIT_METRICS_PATTERN",
    "SUBSET_FILE",
    "SWEEP_FILE",
    "THRESHOLDS_FILE",
    "TRAINER_STATE_FILE",
    "TRAINING_ARGS_FILE",
    "RunFolder",
    "RunFolderError",
    "json_ready",
    "read_json",
    "write_json",
    "write_metrics",
]

METRICS_FILE = "metrics.json"
RECIPE_FILE = "recipe.yaml"
SUBSET_FILE = "subset.json"
THRESHOLDS_FILE = "thresholds.json"
REPORT_FILE = "report.md"
LOG_HISTORY_FILE = "log_history.json"
"""The Trainer's ``state.log_history`` as training saves it next to ``metrics.json``."""
TRAINER_STATE_FILE = "trainer_state.json"
TRAINING_ARGS_FILE = "training_args.json"
CONFIG_FILE = "config.json"
"""The model's configuration (``save_pretrained``): a folder holding it holds a model."""
CHECKPOINT_PATTERN = "checkpoint-*"
EVALUATION_DIR_PATTERN = "evaluation-*"
SPLIT_METRICS_PATTERN = "metrics-*.json"
PLOTS_DIR = "plots"
PLOT_FILES = {
    "level_f1": "level_f1.png",
    "f1_vs_frequency": "f1_vs_frequency.png",
    "precision_recall": "precision_recall.png",
    "loss_curves": "loss_curves.png",
    "embeddings_pca": "embeddings_pca.png",
    "embeddings_umap": "embeddings_umap.png",
}
COMPARISON_MD = "comparison.md"
COMPARISON_CSV = "comparison.csv"
COMPARISON_PLOT = "metric_vs_shots.png"
SWEEP_FILE = "sweep.yaml"


class RunFolderError(ValueError):
    """A run folder's file that cannot be read; the message names the file."""


# ---------------------------------------------------------------------------- writing


def json_ready(value: Any, *, stringify: bool = False) -> Any:
    """``value`` as plain JSON values, recursively: mappings with string keys, sequences and
    arrays as lists, NumPy scalars as numbers, NaN and infinities as ``None``, paths as
    strings. Any other object stays as it is (so that :func:`write_json` refuses it), or
    becomes its ``str`` with ``stringify`` (settings echoed as another library took them)."""
    if isinstance(value, Mapping):
        return {str(k): json_ready(v, stringify=stringify) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [json_ready(v, stringify=stringify) for v in value]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if stringify and not (value is None or isinstance(value, str)):
        return str(value)
    return value


def write_json(path: str | os.PathLike, value: Any) -> Path:
    """Write ``value`` to ``path`` as strict JSON (:func:`json_ready`, ``allow_nan=False``),
    indented, with a final newline; return the path. Every run-folder JSON file is written
    by this."""
    path = Path(path)
    path.write_text(
        json.dumps(json_ready(value), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    return path


def write_metrics(folder: str | os.PathLike, metrics: Mapping[str, Any]) -> Path:
    """Write ``folder/metrics.json`` (the schema of the module docstring)."""
    return write_json(Path(folder) / METRICS_FILE, metrics)


# ---------------------------------------------------------------------------- reading


def read_json(path: str | os.PathLike) -> Any:
    """The JSON value of ``path``: ``FileNotFoundError`` when there is no such file,
    :class:`RunFolderError` naming it when it is not readable JSON."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RunFolderError(f"{path}: not readable JSON ({error})") from None


@dataclass(frozen=True)
class RunFolder:
    """A run folder, read through one object: each reader ends a missing or unreadable file
    with one error line naming it.

    ``RunFolder("outputs/demo").metrics()["test"]["micro_f1"]``; a ``checkpoint-*`` folder or
    an exported ``full`` model reads the same way (the files it lacks read as missing).
    """

    path: Path

    def __init__(self, path: str | os.PathLike) -> None:
        object.__setattr__(self, "path", Path(path))

    def __str__(self) -> str:
        return str(self.path)

    # ------------------------------------------------------------------ files it may hold

    def evaluation_dir(self, split: str) -> Path:
        """``evaluation-<split>/``: where ``mlcl-text evaluate`` writes by default."""
        return self.path / f"evaluation-{split}"

    def split_metrics_path(self, split: str) -> Path:
        """``metrics-<split>.json``: the scores ``mlcl-text evaluate`` writes by default."""
        return self.path / f"metrics-{split}.json"

    @property
    def subset_file(self) -> Path | None:
        """``subset.json`` when the run trained on a subset, else ``None``."""
        path = self.path / SUBSET_FILE
        return path if path.is_file() else None

    @property
    def has_model(self) -> bool:
        """Whether the folder holds a saved model (its ``config.json``)."""
        return (self.path / CONFIG_FILE).is_file()

    def checkpoints(self) -> list[Path]:
        """The ``checkpoint-<step>`` folders, latest step first."""
        found = [p for p in self.path.glob(CHECKPOINT_PATTERN) if p.is_dir()]
        return sorted(found, key=lambda p: _step(p.name), reverse=True)

    # ------------------------------------------------------------------ readers

    def metrics(self) -> dict[str, Any]:
        """``metrics.json`` as a dict: ``FileNotFoundError`` when the folder or the file is
        missing, :class:`RunFolderError` when it is not a readable JSON object."""
        if not self.path.is_dir():
            raise FileNotFoundError(f"run folder {self.path} does not exist")
        path = self.path / METRICS_FILE
        if not path.is_file():
            raise FileNotFoundError(
                f"run folder {self.path} has no {METRICS_FILE} (did its training finish?)"
            )
        metrics = read_json(path)
        if not isinstance(metrics, dict):
            raise RunFolderError(f"{path}: expected a JSON object of splits to scores")
        return metrics

    @property
    def is_finished(self) -> bool:
        """Whether the folder holds a readable ``metrics.json`` (a finished run)."""
        try:
            self.metrics()
        except (OSError, RunFolderError):
            return False
        return True

    def recipe(self) -> dict[str, Any]:
        """``recipe.yaml`` as a dict, ``{}`` when there is none; :class:`RunFolderError`
        naming it when it is not YAML or not a mapping."""
        path = self.path / RECIPE_FILE
        if not path.is_file():
            return {}
        try:
            recipe = parse_yaml(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise RunFolderError(f"{path}: not valid YAML ({error})") from None
        if not isinstance(recipe, dict):
            raise RunFolderError(f"{path}: expected a mapping of recipe keys")
        return recipe

    def model_type(self) -> str | None:
        """``model_type`` of ``config.json``, ``None`` without one; :class:`RunFolderError`
        naming it when it is not a JSON object."""
        if not self.has_model:
            return None
        path = self.path / CONFIG_FILE
        config = read_json(path)
        if not isinstance(config, dict):
            raise RunFolderError(f"{path}: not a model config (expected a JSON object)")
        model_type = config.get("model_type")
        return None if model_type is None else str(model_type)

    def log_history(self) -> list[dict[str, Any]] | None:
        """The Trainer's log history: ``log_history.json``, else a ``trainer_state.json`` in
        the folder, else the one of its latest ``checkpoint-<step>``; ``None`` when there is
        none."""
        states = [checkpoint / TRAINER_STATE_FILE for checkpoint in self.checkpoints()]
        for path in [self.path / LOG_HISTORY_FILE, self.path / TRAINER_STATE_FILE, *states]:
            if path.is_file():
                data = read_json(path)
                history = data if isinstance(data, list) else data.get("log_history")
                if history:
                    return list(history)
        return None


def _step(name: str) -> int:
    match = re.search(r"(\d+)$", name)
    return int(match.group(1)) if match else -1
