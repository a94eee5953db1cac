"""Multi-label classification metrics, computed with scikit-learn (nothing fetched from the Hub)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import f1_score, precision_score, recall_score

from mlcl_text.hierarchy import LabelTree


def evaluate_predictions(
    y_true: np.ndarray,
    y_score: np.ndarray,
    tree: LabelTree | None = None,
    threshold: float = 0.5,
) -> dict[str, float]:
    """Micro, macro and samples precision/recall/F1 of ``y_score >= threshold``.

    ``y_true`` is ``[N, L]`` 0/1 and ``y_score`` ``[N, L]`` probabilities. With a ``tree``,
    also ``consistent_*`` scores of the hierarchy-consistent decoding (a label counts only
    when its parent is predicted) and ``violation_rate``, the share of predicted labels whose
    parent is not predicted.
    """
    y_true = np.asarray(y_true) > 0
    y_score = np.asarray(y_score, dtype=np.float64)
    if y_true.shape != y_score.shape or y_true.ndim != 2:
        raise ValueError(f"y_true {y_true.shape} and y_score {y_score.shape} must both be [N, L]")
    predicted = y_score >= threshold
    metrics = _set_scores(y_true, predicted)
    if tree is not None:
        violations = tree.violations(predicted)
        metrics["violation_rate"] = float(violations.sum() / max(predicted.sum(), 1))
        consistent = tree.consistent_decoding(predicted)
        metrics.update({f"consistent_{k}": v for k, v in _set_scores(y_true, consistent).items()})
    return metrics


def _set_scores(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    scores = {}
    for average in ("micro", "macro", "samples"):
        kwargs = {"average": average, "zero_division": 0}
        scores[f"{average}_precision"] = float(precision_score(y_true, predicted, **kwargs))
        scores[f"{average}_recall"] = float(recall_score(y_true, predicted, **kwargs))
        scores[f"{average}_f1"] = float(f1_score(y_true, predicted, **kwargs))
    return scores
