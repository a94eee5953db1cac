"""Baselines: the strongest simple alternatives, scored like trained models on the same documents.

Each baseline is fitted on the recipe's training split (its ``subset`` applied) and gives
probabilities ``[N, L]`` over every node of the label tree (``tree.names``; labels are the
loaders' ancestor-closed name lists, multi-hot by ``tree.encode`` exactly as training encodes
them) for the validation and test splits (cut to ``max_eval_samples``). These are scored by
:func:`mlcl_text.training.run.score_splits`, the function that scores trained models: thresholds
tuned on validation as the recipe says, validation and test at those thresholds and at 0.5.

One module per baseline, each stating what it fits and its sources:
:mod:`~mlcl_text.studies.baselines.tfidf` (``tfidf``), :mod:`~mlcl_text.studies.baselines.frozen_encoder`
(``frozen``) and :mod:`~mlcl_text.studies.baselines.setfit_baseline` (``setfit``, with the optional
``setfit`` package). What they share is in :mod:`~mlcl_text.studies.baselines.model`, their names
and options in :mod:`~mlcl_text.studies.baselines.options`, and fitting, scoring and writing the run
folder in :mod:`~mlcl_text.studies.baselines.runner` (:func:`run_baseline`).

Labels with one class only in the training split get a constant probability, their clipped
training frequency (:mod:`~mlcl_text.studies.baselines.model`).

Everything is seeded from the recipe's ``seed`` (``recipe.training.get("seed", 42)``): the
same recipe gives the same scores (on the same hardware and library versions).
"""

from __future__ import annotations

from mlcl_text.studies.baselines.model import CONSTANT_CLIP, BaselineModel
from mlcl_text.studies.baselines.options import (
    BASELINES,
    DEFAULT_OPTIONS,
    BaselineError,
    require_setfit,
    resolve_options,
)
from mlcl_text.studies.baselines.runner import fit_predict, make_baseline, run_baseline

__all__ = [
    "BASELINES",
    "CONSTANT_CLIP",
    "DEFAULT_OPTIONS",
    "BaselineError",
    "BaselineModel",
    "fit_predict",
    "make_baseline",
    "require_setfit",
    "resolve_options",
    "run_baseline",
]
