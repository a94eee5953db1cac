"""What every baseline shares: :class:`BaselineModel` (single-class labels, seeding, one BLAS
thread) and the helpers of its subclasses.

Labels with one class only in the training split (never positive, as for tree nodes absent
from a few-shot subset, or always positive) cannot be learnt: no baseline fits them, and
their probability is the constant training frequency, clipped to
``[CONSTANT_CLIP, 1 - CONSTANT_CLIP]`` (so 0.0001 for a label never seen; the floor that
:mod:`mlcl_text.training.probe` gives such labels too).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlcl_text.run_folder import json_ready
from mlcl_text.studies.baselines.options import BaselineError
from mlcl_text.training.recipe import Recipe

logger = logging.getLogger(__name__)

#: Probabilities of single-class labels are kept this far from 0 and 1 (as mlcl_text.training.probe).
CONSTANT_CLIP = 1e-4


class BaselineModel:
    """A baseline's classifier: ``fit(texts, labels)`` then ``predict_proba(texts)``.

    ``labels`` is the multi-hot ``[N, L]`` matrix of the training texts. Labels with a single
    class there get their clipped training frequency (see :mod:`mlcl_text.studies.baselines.model`); the others
    are fitted by :meth:`_fit` on ``labels[:, varying]`` and predicted by :meth:`_predict`.
    """

    name = "baseline"

    def __init__(self, recipe: Recipe, options: Mapping[str, Any], seed: int):
        self.recipe = recipe
        self.options = dict(options)
        self.seed = seed
        self.varying: np.ndarray | None = None
        self.constant: np.ndarray | None = None

    def fit(self, texts: Sequence[str], labels: np.ndarray) -> BaselineModel:
        labels = np.asarray(labels, dtype=np.float64)
        if labels.ndim != 2 or len(labels) != len(texts):
            raise ValueError(f"labels must be [N={len(texts)}, L], got shape {labels.shape}")
        if not len(texts):
            raise BaselineError(f"the {self.name} baseline needs training documents: none given")
        positives = labels.sum(axis=0)
        self.varying = np.flatnonzero((positives > 0) & (positives < len(labels)))
        self.constant = np.clip(labels.mean(axis=0), CONSTANT_CLIP, 1.0 - CONSTANT_CLIP)
        single = labels.shape[1] - len(self.varying)
        if single:
            logger.info(
                "%s: %d of %d labels have one class in training: constant probabilities",
                self.name,
                single,
                labels.shape[1],
            )
        seed_everything(self.seed)
        if len(self.varying):
            with small_blas():
                self._fit(list(texts), (labels[:, self.varying] > 0.5).astype(np.int64))
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.varying is None or self.constant is None:
            raise RuntimeError(f"the {self.name} baseline is not fitted")
        out = np.tile(self.constant, (len(texts), 1))
        if len(texts) and len(self.varying):
            with small_blas():
                scores = np.asarray(self._predict(list(texts)), dtype=np.float64)
            out[:, self.varying] = positive_columns(scores, len(self.varying))
        return out

    def recorded_options(self) -> dict[str, Any]:
        """The options as run, for ``metrics.json``."""
        return json_ready(self.options, stringify=True)

    def _fit(self, texts: list[str], labels: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


def one_vs_rest(c: float, max_iter: int, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(
        LogisticRegression(C=float(c), max_iter=int(max_iter), random_state=seed)
    )


def positive_columns(scores: np.ndarray, width: int) -> np.ndarray:
    """Positive-class probabilities ``[N, width]``: a one-label fit is binary and gives
    ``[N, 2]`` (negative, positive) columns."""
    if scores.ndim == 2 and scores.shape[1] == width:
        return scores
    if width == 1 and scores.ndim == 2 and scores.shape[1] == 2:
        return scores[:, 1:]
    raise ValueError(f"expected probabilities of {width} labels, got shape {scores.shape}")


def small_blas():
    """One BLAS thread: one-vs-rest fits many small logistic regressions, where threaded BLAS
    mostly waits (on a busy machine, ten to a hundred times slower). Torch keeps its threads."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def seed_everything(seed: int) -> None:
    from transformers import set_seed

    set_seed(seed)


def device_of(recipe: Recipe) -> str:
    import torch

    if recipe.training.get("use_cpu") or not torch.cuda.is_available():
        return "cpu"
    return "cuda"
