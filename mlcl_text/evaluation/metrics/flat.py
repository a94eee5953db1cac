r"""Set-based scores of the thresholded predictions ``P_ij = [S_ij >= t_j]``, flat over labels.

Notation as in :mod:`mlcl_text.evaluation.metrics`; ``TP_ij = P_ij Y_ij`` and ``|.|`` counts entries
(Yang 1999; Sokolova & Lapalme 2009; the ``average=`` of :func:`sklearn.metrics.f1_score`,
with ``zero_division=0``: a ratio whose denominator is 0 is 0):

* ``micro_*``: pool all entries — ``P = ΣTP / ΣP``, ``R = ΣTP / ΣY``,
  ``F1 = 2 ΣTP / (ΣP + ΣY)``.
* ``macro_*``: the same per label ``j`` (sums over ``i``), then the plain mean over all
  ``L`` labels (labels with no true and no predicted document score 0, as in scikit-learn).
* ``samples_*``: the same per document ``i`` (sums over ``j``), then the mean over all ``N``
  documents (example-based scores; Godbole & Sarawagi 2004).

:func:`per_label_scores` gives the per-label precision, recall and F1 themselves.

References:
    Godbole, S. & Sarawagi, S. (2004). Discriminative methods for multi-labeled
    classification. PAKDD 2004, LNCS 3056.
    Sokolova, M. & Lapalme, G. (2009). A systematic analysis of performance measures for
    classification tasks. Information Processing & Management 45(4).
    Yang, Y. (1999). An evaluation of statistical approaches to text categorization.
    Information Retrieval 1(1–2).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlcl_text.evaluation.metrics.counts import PredictionCounts
from mlcl_text.evaluation.metrics.inputs import (
    TruePositions,
    as_scores,
    row_blocks,
    threshold_vector,
)


def ratio(numerator: Any, denominator: Any) -> float:
    return float(numerator / denominator) if denominator else 0.0


def ratios(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise ``numerator / denominator`` with 0 where the denominator is 0."""
    out = np.zeros(len(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def prf(tp: np.ndarray, pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Micro P/R/F1 of pooled counts and the means of the per-entry P/R/F1."""
    return {
        "micro_precision": ratio(tp.sum(), pred.sum()),
        "micro_recall": ratio(tp.sum(), true.sum()),
        "micro_f1": ratio(2 * tp.sum(), pred.sum() + true.sum()),
        "mean_precision": float(ratios(tp, pred).mean()) if len(tp) else 0.0,
        "mean_recall": float(ratios(tp, true).mean()) if len(tp) else 0.0,
        "mean_f1": float(ratios(2 * tp, pred + true).mean()) if len(tp) else 0.0,
    }


def set_scores(
    counts: PredictionCounts, label_true: np.ndarray, row_true: np.ndarray
) -> dict[str, float]:
    per_label = prf(counts.label_tp, counts.label_pred, label_true)
    per_row = prf(counts.row_tp, counts.row_pred, row_true)
    scores = {f"micro_{m}": per_label[f"micro_{m}"] for m in ("precision", "recall", "f1")}
    scores.update({f"macro_{m}": per_label[f"mean_{m}"] for m in ("precision", "recall", "f1")})
    scores.update({f"samples_{m}": per_row[f"mean_{m}"] for m in ("precision", "recall", "f1")})
    return scores


def per_label_scores(y_true: Any, y_score: Any, threshold: Any = 0.5) -> dict[str, np.ndarray]:
    """Per label ``j``: ``precision``, ``recall`` and ``f1`` of ``S_ij >= t_j`` (0 when the
    denominator is 0, as :func:`sklearn.metrics.f1_score` with ``average=None,
    zero_division=0``), ``support`` (true positives count), ``predicted`` and ``threshold``."""
    scores = as_scores(y_score)
    num_docs, num_labels = scores.shape
    truth = TruePositions.from_labels(y_true, scores.shape)
    thresholds = threshold_vector(threshold, num_labels, scores.dtype)
    counts = PredictionCounts.zeros(num_docs, num_labels, num_labels, tree=False)
    for start, stop in row_blocks(num_docs, num_labels):
        rows, cols = truth.block(start, stop)
        counts.add(start, stop, scores[start:stop] >= thresholds, rows, cols)
    support = truth.label_counts()
    return {
        "precision": ratios(counts.label_tp, counts.label_pred),
        "recall": ratios(counts.label_tp, support),
        "f1": ratios(2 * counts.label_tp, counts.label_pred + support),
        "support": support,
        "predicted": counts.label_pred,
        "threshold": threshold_vector(threshold, num_labels, np.float64),
    }
