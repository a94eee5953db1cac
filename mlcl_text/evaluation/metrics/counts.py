"""One pass over blocks of rows that counts everything the thresholded and top-``k`` scores need.

Per block of rows of ``S``: the predictions ``P = S >= t``, their counts per scored label and
per document (:class:`PredictionCounts`), the counts of their ancestor closure and of the
hierarchy-consistent decoding when a tree is given, the violations, and the expected top-``k``
hits (:func:`mlcl_text.evaluation.metrics.ranking.top_k_hits`). The scores are computed from these
counts by :mod:`mlcl_text.evaluation.metrics.flat` and :mod:`mlcl_text.evaluation.metrics.hierarchical`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mlcl_text.evaluation.metrics.inputs import TruePositions, check_finite_block, row_blocks
from mlcl_text.evaluation.metrics.ranking import TOP_K, top_k_hits
from mlcl_text.hierarchy import LabelTree


@dataclass
class PredictionCounts:
    """Counts of one prediction matrix: per scored label, per document, and per label of its
    ancestor closure (over every label)."""

    label_pred: np.ndarray
    label_tp: np.ndarray
    row_pred: np.ndarray
    row_tp: np.ndarray
    closed_pred: np.ndarray | None = None  # per label, of the ancestor-closed predictions
    closed_tp: np.ndarray | None = None

    @classmethod
    def zeros(cls, num_docs: int, num_scored: int, num_labels: int, tree: bool) -> PredictionCounts:
        def z(n):
            return np.zeros(n, dtype=np.int64)

        return cls(
            z(num_scored),
            z(num_scored),
            z(num_docs),
            z(num_docs),
            z(num_labels) if tree else None,
            z(num_labels) if tree else None,
        )

    def add(self, start, stop, predicted, true_rows, true_cols) -> None:
        hit = predicted[true_rows, true_cols]
        self.label_pred += np.count_nonzero(predicted, axis=0)
        self.row_pred[start:stop] = np.count_nonzero(predicted, axis=1)
        self.label_tp += np.bincount(true_cols[hit], minlength=predicted.shape[1])
        self.row_tp[start:stop] = np.bincount(true_rows[hit], minlength=stop - start)

    def add_closed(self, closed, closed_rows, closed_cols) -> None:
        self.closed_pred += np.count_nonzero(closed, axis=0)
        hit = closed[closed_rows, closed_cols]
        self.closed_tp += np.bincount(closed_cols[hit], minlength=closed.shape[1])


@dataclass
class Counts:
    plain: PredictionCounts
    consistent: PredictionCounts | None
    label_true: np.ndarray  # per scored label
    row_true: np.ndarray  # per document, of the scored labels
    closed_true: np.ndarray | None  # per-label counts of the ancestor-closed truth
    num_predicted: int  # predicted labels, scored or not (the violation rate's denominator)
    violations: int
    hits: dict[int, np.ndarray]  # expected |top-k ∩ T_i| per document, over the scored labels


def count_predictions(
    scores: np.ndarray,
    truth: TruePositions,
    flat_truth: TruePositions,
    thresholds: np.ndarray,
    tree: LabelTree | None,
    with_consistent: bool,
    columns: np.ndarray | None,
) -> Counts:
    """One pass over blocks of rows: every count the thresholded and top-k scores need.

    The set-based and top-``k`` counts cover the scored ``columns`` (``flat_truth`` is
    ``truth`` on them; ``None``: every label), the closure and violation counts every label.
    """
    num_docs, num_labels = scores.shape
    num_scored = num_labels if columns is None else len(columns)
    plain = PredictionCounts.zeros(num_docs, num_scored, num_labels, tree is not None)
    decoded = (
        PredictionCounts.zeros(num_docs, num_scored, num_labels, True) if with_consistent else None
    )
    closed_truth = (
        TruePositions.from_matrix(tree.closure(truth.to_csr())) if tree is not None else None
    )
    hits = {k: np.zeros(num_docs, dtype=np.float64) for k in TOP_K}
    num_predicted = violations = 0
    true_keys = flat_truth.rows * num_scored + flat_truth.indices  # sorted: CSR order
    for start, stop in row_blocks(num_docs, num_labels):
        block = scores[start:stop]
        check_finite_block(block)
        true_rows, true_cols = flat_truth.block(start, stop)
        predicted = block >= thresholds
        num_predicted += int(np.count_nonzero(predicted))
        plain.add(start, stop, scored_block(predicted, columns), true_rows, true_cols)
        if tree is not None:
            closed_rows, closed_cols = closed_truth.block(start, stop)
            plain.add_closed(tree.closure(predicted), closed_rows, closed_cols)
            violations += int(tree.violations(predicted).sum())
            if decoded is not None:
                kept = tree.consistent_decoding(predicted)  # already closed under ancestors
                decoded.add(start, stop, scored_block(kept, columns), true_rows, true_cols)
                decoded.add_closed(kept, closed_rows, closed_cols)
        top_k_hits(scored_block(block, columns), start, true_keys, hits)
    return Counts(
        plain=plain,
        consistent=decoded,
        label_true=flat_truth.label_counts(),
        row_true=flat_truth.row_counts(),
        closed_true=closed_truth.label_counts() if closed_truth is not None else None,
        num_predicted=num_predicted,
        violations=violations,
        hits=hits,
    )


def scored_block(block: np.ndarray, columns: np.ndarray | None) -> np.ndarray:
    """The scored columns of a block of rows (the block itself when every label is scored)."""
    return block if columns is None else block[:, columns]
