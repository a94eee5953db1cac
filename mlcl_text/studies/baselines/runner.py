"""Running a baseline: fit it, predict the evaluation splits, score them and write the run folder.

:func:`run_baseline` writes a run folder that :mod:`mlcl_text.studies.compare` (``mlcl-text
compare``) reads like a training run: ``recipe.yaml`` (the recipe as run, ``output_dir`` set
to the folder), ``subset.json`` when a subset is used, ``thresholds.json`` and
``metrics.json`` with the keys training writes (``validation``, ``test``,
``validation@0.5``, ``test@0.5``, ``thresholds``) plus ``timing`` (``train_seconds``: the
fit, including loading the encoder and embedding the training split; ``predict_seconds``:
probabilities of the validation and test splits; both ``time.perf_counter`` wall time) and
``baseline`` (``name`` and the ``options`` as run, defaults included). No model weights are
written.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlcl_text.run_folder import METRICS_FILE, RECIPE_FILE, THRESHOLDS_FILE, write_metrics
from mlcl_text.studies.baselines.frozen_encoder import FrozenEncoderBaseline
from mlcl_text.studies.baselines.model import BaselineModel
from mlcl_text.studies.baselines.options import resolve_options
from mlcl_text.studies.baselines.setfit_baseline import SetFitBaseline
from mlcl_text.studies.baselines.tfidf import TfidfBaseline
from mlcl_text.training.recipe import Recipe


def make_baseline(
    name: str, recipe: Recipe, tree=None, options: Mapping[str, Any] | None = None
) -> BaselineModel:
    """An unfitted baseline ``name`` for the recipe (``tree``: its label tree, for ``frozen``)."""
    resolved = resolve_options(name, options)
    seed = int(recipe.training.get("seed", 42))
    if name == "tfidf":
        return TfidfBaseline(recipe, resolved, seed)
    if name == "frozen":
        if tree is None:
            raise ValueError("the frozen baseline needs the label tree")
        return FrozenEncoderBaseline(recipe, resolved, seed, tree)
    return SetFitBaseline(recipe, resolved, seed)


def fit_predict(
    name: str, recipe: Recipe, data, tree, options: Mapping[str, Any] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, float], dict[str, Any]]:
    """Fit baseline ``name`` on ``data["train"]`` and predict the non-empty validation and
    test splits: ``(probabilities by split, timing, options as run)``."""
    model = make_baseline(name, recipe, tree, options)
    train = data["train"]
    started = time.perf_counter()
    model.fit(list(train["text"]), tree.encode(train["labels"]))
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    probabilities = {
        split: model.predict_proba(list(data[split]["text"]))
        for split in ("validation", "test")
        if split in data and len(data[split])
    }
    predict_seconds = time.perf_counter() - started
    timing = {
        "train_seconds": round(train_seconds, 3),
        "predict_seconds": round(predict_seconds, 3),
    }
    return probabilities, timing, model.recorded_options()


def run_baseline(
    name: str, recipe: Recipe, output_dir: str | Path, options: dict | None = None
) -> dict[str, Any]:
    """Fit baseline ``name`` on the recipe's data, score it as training scores a model and
    write the run folder ``output_dir`` (see :mod:`mlcl_text.studies.baselines.runner`); return its metrics."""
    from mlcl_text.training.run import prepare_data, score_splits

    resolve_options(name, options)  # a bad name or option fails before any work
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / METRICS_FILE).unlink(missing_ok=True)  # a crashed rerun must not look finished
    recipe = dataclasses.replace(
        recipe, training={**recipe.training, "output_dir": str(output_dir)}
    )
    data, tree = prepare_data(recipe, output_dir)
    recipe.save(output_dir / RECIPE_FILE)
    probabilities, timing, recorded = fit_predict(name, recipe, data, tree, options)
    truths = {split: tree.encode(data[split]["labels"]) for split in probabilities}
    thresholds, metrics = score_splits(recipe, tree, truths, probabilities)
    metrics["timing"] = timing
    metrics["baseline"] = {"name": name, "options": recorded}
    thresholds.save(output_dir / THRESHOLDS_FILE, labels=tree)
    write_metrics(output_dir, metrics)
    return metrics
