r"""Multi-label and hierarchical classification metrics (scikit-learn/NumPy/SciPy; nothing from the Hub).

One entry point, :func:`evaluate_predictions`, turns a 0/1 matrix of true labels ``Y``
(``[N, L]``, dense or SciPy sparse) and a score matrix ``S`` (``[N, L]``, probabilities or
logits) into a flat ``dict`` of scores. Notation: document ``i``, label ``j``, threshold
``t_j``, prediction ``P_ij = [S_ij >= t_j]``, ``TP_ij = P_ij Y_ij``; ``|.|`` counts entries.

Each family of scores, with its formulas and sources, has its own module:

* :mod:`mlcl_text.evaluation.metrics.flat`: set-based ``micro_*``, ``macro_*`` and ``samples_*``
  precision, recall and F1 of the thresholded predictions, and the per-label scores
  (:func:`per_label_scores`);
* :mod:`mlcl_text.evaluation.metrics.ranking`: ``micro_auc``, ``macro_auc`` and ``p@k`` / ``r@k``;
* :mod:`mlcl_text.evaluation.metrics.hierarchical`: ``hier_*``, ``level{d}_*``, ``violation_rate`` and
  the ``consistent_*`` scores of the hierarchy-consistent decoding (with a
  :class:`~mlcl_text.hierarchy.LabelTree`);
* :mod:`mlcl_text.evaluation.metrics.counts`: the one pass over blocks of rows that counts what the
  thresholded and top-``k`` scores need;
* :mod:`mlcl_text.evaluation.metrics.inputs`: checking the inputs, the positives of ``Y`` as sorted
  positions, and the blocks of rows or columns everything runs over.

Scaling: everything runs over blocks of rows (thresholded and top-``k`` scores) or blocks of
columns (AUC) of about ``2**22`` entries, with no Python loop over documents or labels.
``Y`` is held as sorted ``(row, column)`` positions of its positives, never as a dense
matrix, and besides a few blocks only ``O(N + L + nnz(Y))`` vectors are allocated; ``S`` is
used as given (``float32`` stays ``float32``, no copy).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlcl_text.evaluation.metrics.counts import count_predictions
from mlcl_text.evaluation.metrics.flat import per_label_scores, ratio, set_scores
from mlcl_text.evaluation.metrics.hierarchical import hierarchical_scores
from mlcl_text.evaluation.metrics.inputs import (
    TruePositions,
    as_scores,
    check_finite_block,
    row_blocks,
    scored_columns,
    threshold_vector,
)
from mlcl_text.evaluation.metrics.ranking import TOP_K, auc_scores, top_k_scores
from mlcl_text.hierarchy import LabelTree

__all__ = [
    "EVALUATE_SCRIPT",
    "METRIC_LABELS",
    "TOP_K",
    "TruePositions",
    "as_scores",
    "check_finite_block",
    "evaluate_module_path",
    "evaluate_predictions",
    "per_label_scores",
    "row_blocks",
    "scored_columns",
    "scored_label_ids",
    "threshold_vector",
]

EVALUATE_SCRIPT = "mlcl_multilabel.py"


METRIC_LABELS = ("all", "leaves")
"""Which labels the flat scores cover: every tree node, or the leaves (e.g. ICD codes)."""


def scored_label_ids(tree: LabelTree | None, metric_labels: str = "all") -> np.ndarray | None:
    """The ``scored_labels`` of :func:`evaluate_predictions` for a recipe's ``metric_labels``:
    ``None`` for ``"all"``, the ids of ``tree.leaves`` for ``"leaves"``."""
    if metric_labels not in METRIC_LABELS:
        raise ValueError(f"metric_labels must be one of {METRIC_LABELS}, got {metric_labels!r}")
    if metric_labels == "all":
        return None
    if tree is None:
        raise ValueError("metric_labels='leaves' needs a label tree")
    return np.array([tree.index(name) for name in tree.leaves], dtype=np.int64)


def evaluate_module_path() -> str:
    """Path of the 🤗 ``evaluate`` metric script that wraps :func:`evaluate_predictions`.

    ``evaluate.load(evaluate_module_path())`` works offline (``HF_HUB_OFFLINE=1``): a local
    script never touches the Hub. The path names the script file itself, because
    ``evaluate.load`` given a folder looks for ``<folder>/<folder-name>.py``.
    """
    return str(Path(__file__).resolve().parents[1] / "evaluate_module" / EVALUATE_SCRIPT)


def evaluate_predictions(
    y_true: Any,
    y_score: Any,
    tree: LabelTree | None = None,
    threshold: Any = 0.5,
    consistent: bool | None = None,
    scored_labels: Any = None,
) -> dict[str, float]:
    """All scores of the package (its modules state every formula), as a flat dict.

    Args:
        y_true: ``[N, L]`` true labels, a NumPy array (or anything ``np.asarray`` takes) or a
            SciPy sparse matrix/array; entries ``> 0`` are positives.
        y_score: ``[N, L]`` scores (probabilities or logits), dense. Float arrays are used
            as they are (no copy); ``NaN`` is refused.
        tree: the label tree of the ``L`` columns; adds the hierarchical scores.
        threshold: a number, or one threshold per label (``[L]``), or an object with an
            ``array(num_labels)`` method such as :class:`mlcl_text.evaluation.thresholds.Thresholds`.
            ``P_ij = S_ij >= t_j``, compared in the dtype of ``y_score``.
        consistent: whether to add the ``consistent_*`` scores of the hierarchy-consistent
            decoding. ``None`` (default) adds them whenever a ``tree`` is given — the
            behaviour callers rely on; ``False`` leaves them out; ``True`` requires a tree.
        scored_labels: label ids (or a boolean mask over the ``L`` labels) to which the
            set-based, AUC and top-``k`` scores are restricted, consistent decoding's
            included; the hierarchical, per-level and violation scores still use every
            label. ICD coding scores the codes only (:meth:`LabelTree.leaves` of a
            chapter → category → code tree), not the chapters and categories the tree adds.
            ``None`` (default) scores every label.

    Returns:
        ``micro|macro|samples_precision|recall|f1``, ``micro_auc``, ``macro_auc``,
        ``macro_auc_skipped_labels`` (an int), ``p@k`` and ``r@k`` for ``k`` in
        :data:`TOP_K`; with a tree also ``hier_precision``, ``hier_recall``, ``hier_f1``,
        ``level{d}_micro_f1``, ``level{d}_macro_f1`` (``d = 1 … num_levels``) and
        ``violation_rate``; with ``consistent`` the set-based, hierarchical and per-level
        scores again under a ``consistent_`` prefix.
    """
    scores = as_scores(y_score)
    num_labels = scores.shape[1]
    thresholds = threshold_vector(threshold, num_labels, scores.dtype)
    if tree is not None and len(tree) != num_labels:
        raise ValueError(f"the tree has {len(tree)} labels but the scores have {num_labels}")
    if consistent and tree is None:
        raise ValueError("consistent=True needs a label tree")
    with_consistent = tree is not None if consistent is None else bool(consistent)
    columns = scored_columns(scored_labels, num_labels)
    truth = TruePositions.from_labels(y_true, scores.shape)
    flat_truth = truth if columns is None else truth.select_columns(columns)
    counts = count_predictions(
        scores, truth, flat_truth, thresholds, tree, with_consistent, columns
    )
    metrics = set_scores(counts.plain, counts.label_true, counts.row_true)
    metrics.update(auc_scores(scores, flat_truth, columns))
    metrics.update(top_k_scores(counts.hits, counts.row_true))
    if tree is not None:
        metrics.update(hierarchical_scores(counts.plain, counts.closed_true, tree))
        metrics["violation_rate"] = ratio(counts.violations, counts.num_predicted)
    if with_consistent:
        decoded = set_scores(counts.consistent, counts.label_true, counts.row_true)
        decoded.update(hierarchical_scores(counts.consistent, counts.closed_true, tree))
        metrics.update({f"consistent_{name}": value for name, value in decoded.items()})
    return metrics
