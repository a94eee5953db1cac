"""Score one split: flat and per-label scores at given thresholds, before anything is written.

:func:`score_split` is what training and ``mlcl-text evaluate`` both call on a split's labels
and probabilities; :func:`mlcl_text.evaluation.figures.write_split_figures` and
:func:`mlcl_text.evaluation.evaluate.write_split_summary` write what it returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mlcl_text.evaluation.metrics import as_scores, evaluate_predictions, per_label_scores
from mlcl_text.hierarchy import LabelTree

__all__ = ["SplitScores", "score_split", "threshold_summary"]


@dataclass
class SplitScores:
    """One scored split.

    ``threshold`` is what the labels were decided at (0.5, a number, an ``[L]`` vector or a
    :class:`~mlcl_text.evaluation.thresholds.Thresholds`), ``metrics`` the flat scores of
    :func:`~mlcl_text.evaluation.metrics.evaluate_predictions`, ``per_label`` the ``[L]`` arrays of
    :func:`~mlcl_text.evaluation.metrics.per_label_scores` with ``names``, ``frequency`` and
    ``frequency_source`` (``"train"`` or ``"split"``), ``thresholds`` their summary
    (:func:`threshold_summary`).
    """

    split: str
    y_true: np.ndarray
    probabilities: np.ndarray
    threshold: Any
    metrics: dict[str, Any]
    per_label: dict[str, Any]
    thresholds: dict[str, Any]

    @property
    def num_documents(self) -> int:
        return len(self.y_true)


def score_split(
    tree: LabelTree,
    labels: Sequence[Sequence[str]] | np.ndarray,
    probabilities: Any,
    thresholds: Any = None,
    *,
    split_name: str = "test",
    train_label_counts: Sequence[int] | np.ndarray | Mapping[str, int] | None = None,
    scored_labels: Any = None,
    metrics: dict[str, Any] | None = None,
) -> SplitScores:
    """Score ``probabilities`` ``[N, L]`` against ``labels`` (lists of label names of
    ``tree``) at ``thresholds`` (``None``: 0.5).

    ``train_label_counts`` (``[L]`` in tree order or ``{name: count}``) is the per-label
    ``frequency``; ``None`` uses the support in the split. ``scored_labels`` is
    ``evaluate_predictions``'s argument; ``metrics`` the flat scores when the caller has
    them already (not recomputed).
    """
    y_true = tree.encode(labels)
    if not len(y_true):
        raise ValueError(f"split {split_name!r} has no document")
    probabilities = as_scores(probabilities)
    if probabilities.shape != y_true.shape:
        raise ValueError(
            f"probabilities {probabilities.shape} do not match the split's labels {y_true.shape}"
        )
    threshold = 0.5 if thresholds is None else thresholds
    if metrics is None:
        metrics = evaluate_predictions(
            y_true, probabilities, tree=tree, threshold=threshold, scored_labels=scored_labels
        )
    per_label: dict[str, Any] = per_label_scores(y_true, probabilities, threshold)
    per_label["names"] = list(tree.names)
    if train_label_counts is not None:
        per_label["frequency"] = _label_counts(train_label_counts, tree)
        per_label["frequency_source"] = "train"
    else:
        per_label["frequency"] = per_label["support"].copy()
        per_label["frequency_source"] = "split"
    return SplitScores(
        split=split_name,
        y_true=y_true,
        probabilities=probabilities,
        threshold=threshold,
        metrics=metrics,
        per_label=per_label,
        thresholds=threshold_summary(thresholds, per_label["threshold"]),
    )


def threshold_summary(thresholds: Any, vector: np.ndarray) -> dict[str, Any]:
    """``{"global": t or None, "per_label": bool, "mean", "min", "max"}`` of the thresholds."""
    if hasattr(thresholds, "global_threshold"):
        global_value = float(thresholds.global_threshold)
        per_label = getattr(thresholds, "per_label", None) is not None
    elif np.ndim(thresholds) == 0:
        global_value, per_label = (0.5 if thresholds is None else float(thresholds)), False
    else:
        per_label = bool(np.any(vector != vector[0]))
        global_value = None if per_label else float(vector[0])
    return {
        "global": global_value,
        "per_label": per_label,
        "mean": float(vector.mean()),
        "min": float(vector.min()),
        "max": float(vector.max()),
    }


def _label_counts(counts: Any, tree: LabelTree) -> np.ndarray:
    if isinstance(counts, Mapping):
        unknown = [name for name in counts if name not in tree]
        if unknown:
            raise ValueError(f"train_label_counts names unknown labels: {unknown[:5]}")
        return np.array([counts.get(name, 0) for name in tree.names], dtype=np.float64)
    values = np.asarray(counts, dtype=np.float64)
    if values.shape != (len(tree),):
        raise ValueError(f"train_label_counts must have {len(tree)} values, got {values.shape}")
    return values
