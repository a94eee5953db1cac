r"""Multi-label and hierarchical classification metrics (scikit-learn/NumPy/SciPy; nothing from the Hub).

One entry point, :func:`evaluate_predictions`, turns a 0/1 matrix of true labels ``Y``
(``[N, L]``, dense or SciPy sparse) and a score matrix ``S`` (``[N, L]``, probabilities or
logits) into a flat ``dict`` of scores. Notation: document ``i``, label ``j``, threshold
``t_j``, prediction ``P_ij = [S_ij >= t_j]``, ``TP_ij = P_ij Y_ij``; ``|.|`` counts entries.

Set-based scores of the thresholded predictions (Yang 1999; Sokolova & Lapalme 2009; the
``average=`` of :func:`sklearn.metrics.f1_score`, with ``zero_division=0``: a ratio whose
denominator is 0 is 0):

* ``micro_*``: pool all entries — ``P = ΣTP / ΣP``, ``R = ΣTP / ΣY``,
  ``F1 = 2 ΣTP / (ΣP + ΣY)``.
* ``macro_*``: the same per label ``j`` (sums over ``i``), then the plain mean over all
  ``L`` labels (labels with no true and no predicted document score 0, as in scikit-learn).
* ``samples_*``: the same per document ``i`` (sums over ``j``), then the mean over all ``N``
  documents (example-based scores; Godbole & Sarawagi 2004).

Ranking scores of ``S`` (no threshold):

* ``micro_auc``: ROC-AUC of all ``N·L`` entries pooled (scikit-learn's
  ``roc_auc_score(Y, S, average="micro")``). ``macro_auc``: mean of the per-label ROC-AUCs
  over the labels with both classes in ``Y`` (``0 < n1_j < N``); ``macro_auc_skipped_labels``
  counts the others. Both use the Mann–Whitney form (Mann & Whitney 1947; Hanley & McNeil
  1982): with ``n1`` positives, ``n0`` negatives and ``R1`` the sum of the positives' ranks
  among all ``n1 + n0`` values (ties get the average of their ranks),
  ``AUC = (R1 − n1 (n1 + 1) / 2) / (n1 n0)`` — the probability that a random positive scores
  above a random negative, ties counting ½, which equals the trapezoidal area under the ROC
  curve that scikit-learn computes. ``nan`` when undefined (one class only).
* ``p@k`` and ``r@k`` for ``k`` in :data:`TOP_K` (precision and recall at ``k`` as used in
  extreme multi-label classification, e.g. Jain, Prabhu & Varma 2016): with ``T_i`` the true
  labels and ``top_k(i)`` the ``k`` highest-scoring labels of document ``i``,
  ``p@k = mean_i |top_k(i) ∩ T_i| / k`` over all documents and
  ``r@k = mean_i |top_k(i) ∩ T_i| / |T_i|`` over the documents with ``|T_i| ≥ 1``
  (``nan`` if there are none). Ties at the ``k``-th score are averaged over all orders of the
  tied labels (McSherry & Najork 2008): with ``s_k`` the ``k``-th highest score of the row,
  ``hits = |{j ∈ T_i : S_ij > s_k}| + (k − |{j : S_ij > s_k}|) · |{j ∈ T_i : S_ij = s_k}| /
  |{j : S_ij = s_k}|`` — the expected number of hits under random tie-breaking, independent
  of the label order. Without ties this is the usual count. When ``k > L`` every label is in
  the top ``k`` (the divisor of ``p@k`` stays ``k``).

Hierarchical scores (with a :class:`~mlcl_text.hierarchy.LabelTree`); ``Ĉ`` is a document's
true label set and ``Ĉ'`` its predicted set, each closed under ancestors
(:meth:`LabelTree.closure`: a label brings its parent, grandparent, … up to its root):

* ``hier_precision = Σ_i |Ĉ_i ∩ Ĉ'_i| / Σ_i |Ĉ'_i|``,
  ``hier_recall = Σ_i |Ĉ_i ∩ Ĉ'_i| / Σ_i |Ĉ_i|``,
  ``hier_f1 = 2 hP hR / (hP + hR)`` (Kiritchenko, Matwin & Famili 2005; Kiritchenko, Matwin,
  Nock & Famili 2006; sums over documents — the micro-averaged form of Silla & Freitas 2011
  and of ``hiclass.metrics.precision/recall/f1(average="micro")``). Every label of the forest,
  roots included, is a node of the sets (there is no artificial super-root to exclude).
* ``level{d}_micro_f1`` / ``level{d}_macro_f1``: micro/macro F1 (as above) of the level-``d``
  view of the closed sets, ``tree.level_view(closure(·), d)`` — the columns
  ``tree.level_ids(d)`` of the closed matrices — for ``d = 1 … tree.num_levels``.
* ``violation_rate``: the share of predicted labels whose parent is not predicted,
  ``Σ_ij P_ij [parent(j) exists and P_i,parent(j) = 0] / ΣP`` (0 when nothing is predicted).
* ``consistent_*``: the set-based, hierarchical and per-level scores again, for the
  hierarchy-consistent decoding of ``P`` (:meth:`LabelTree.consistent_decoding`: a predicted
  label survives only when its whole ancestor path is predicted). See ``consistent`` below.

Scaling: everything runs over blocks of rows (thresholded and top-``k`` scores) or blocks of
columns (AUC) of about :data:`_BLOCK_ELEMENTS` entries, with no Python loop over documents
or labels. ``Y`` is held as sorted ``(row, column)`` positions of its positives, never as a
dense matrix, and besides a few blocks only ``O(N + L + nnz(Y))`` vectors are allocated;
``S`` is used as given (``float32`` stays ``float32``, no copy). Per-label AUCs come from
sorting each block of score columns and a vectorised binary search of the positives'
scores in their sorted column (the average rank); no ``N × L`` rank matrix is formed.

References:
    Fawcett, T. (2006). An introduction to ROC analysis. Pattern Recognition Letters 27(8).
    Godbole, S. & Sarawagi, S. (2004). Discriminative methods for multi-labeled
    classification. PAKDD 2004, LNCS 3056.
    Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. Radiology 143(1).
    Jain, H., Prabhu, Y. & Varma, M. (2016). Extreme multi-label loss functions for
    recommendation, tagging, ranking & other missing label applications. KDD 2016.
    Kiritchenko, S., Matwin, S. & Famili, A. F. (2005). Functional annotation of genes using
    hierarchical text categorization. BioLINK SIG, ISMB 2005.
    Kiritchenko, S., Matwin, S., Nock, R. & Famili, A. F. (2006). Learning and evaluation in
    the presence of class hierarchies: application to text categorization. Canadian AI 2006,
    LNAI 4013.
    Mann, H. B. & Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Annals of Mathematical Statistics 18(1).
    McSherry, F. & Najork, M. (2008). Computing information retrieval performance measures
    efficiently in the presence of tied scores. ECIR 2008, LNCS 4956.
    Silla, C. N. & Freitas, A. A. (2011). A survey of hierarchical classification across
    different application domains. Data Mining and Knowledge Discovery 22(1–2).
    Sokolova, M. & Lapalme, G. (2009). A systematic analysis of performance measures for
    classification tasks. Information Processing & Management 45(4).
    Yang, Y. (1999). An evaluation of statistical approaches to text categorization.
    Information Retrieval 1(1–2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from mlcl_text.hierarchy import LabelTree

TOP_K: tuple[int, ...] = (1, 5, 8, 15)
"""The ``k`` of the ``p@k`` / ``r@k`` scores."""

_BLOCK_ELEMENTS = 1 << 22
"""Entries per block of rows or columns (4 Mi: 16 MiB of ``float32``)."""

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
    return str(Path(__file__).resolve().parent / "evaluate_module" / EVALUATE_SCRIPT)


def evaluate_predictions(
    y_true: Any,
    y_score: Any,
    tree: LabelTree | None = None,
    threshold: Any = 0.5,
    consistent: bool | None = None,
    scored_labels: Any = None,
) -> dict[str, float]:
    """All scores of the module docstring (which states every formula), as a flat dict.

    Args:
        y_true: ``[N, L]`` true labels, a NumPy array (or anything ``np.asarray`` takes) or a
            SciPy sparse matrix/array; entries ``> 0`` are positives.
        y_score: ``[N, L]`` scores (probabilities or logits), dense. Float arrays are used
            as they are (no copy); ``NaN`` is refused.
        tree: the label tree of the ``L`` columns; adds the hierarchical scores.
        threshold: a number, or one threshold per label (``[L]``), or an object with an
            ``array(num_labels)`` method such as :class:`mlcl_text.thresholds.Thresholds`.
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
    counts = _count(scores, truth, flat_truth, thresholds, tree, with_consistent, columns)
    metrics = _set_scores(counts.plain, counts.label_true, counts.row_true)
    metrics.update(_auc_scores(scores, flat_truth, columns))
    for k in TOP_K:
        hits = counts.hits[k]
        metrics[f"p@{k}"] = float(np.mean(hits / k))
        has_true = counts.row_true > 0
        metrics[f"r@{k}"] = (
            float(np.mean(hits[has_true] / counts.row_true[has_true]))
            if has_true.any()
            else float("nan")
        )
    if tree is not None:
        metrics.update(_hierarchical_scores(counts.plain, counts.closed_true, tree))
        metrics["violation_rate"] = _ratio(counts.violations, counts.num_predicted)
    if with_consistent:
        decoded = _set_scores(counts.consistent, counts.label_true, counts.row_true)
        decoded.update(_hierarchical_scores(counts.consistent, counts.closed_true, tree))
        metrics.update({f"consistent_{name}": value for name, value in decoded.items()})
    return metrics


def scored_columns(scored_labels: Any, num_labels: int) -> np.ndarray | None:
    """``scored_labels`` (ids or a boolean mask over ``num_labels``) as sorted unique ids;
    ``None`` stays ``None`` (every label)."""
    if scored_labels is None:
        return None
    columns = np.asarray(scored_labels)
    if columns.dtype == np.bool_:
        if columns.shape != (num_labels,):
            raise ValueError(
                f"a scored_labels mask needs {num_labels} entries, got {columns.shape}"
            )
        columns = np.flatnonzero(columns)
    columns = np.unique(columns.astype(np.int64))
    if len(columns) == 0 or columns[0] < 0 or columns[-1] >= num_labels:
        raise ValueError(f"scored_labels must name 1 to {num_labels} labels in [0, {num_labels})")
    return columns


# ---------------------------------------------------------------------------------- inputs
def as_scores(y_score: Any) -> np.ndarray:
    """``y_score`` as a 2-D floating NumPy array, without a copy when it already is one."""
    if sp.issparse(y_score):
        raise TypeError("y_score must be a dense [N, L] array of scores, not a sparse matrix")
    scores = np.asarray(y_score)
    if not np.issubdtype(scores.dtype, np.floating):
        scores = scores.astype(np.float64)
    if scores.ndim != 2:
        raise ValueError(f"y_score must be [N, L], got shape {scores.shape}")
    if scores.shape[0] == 0 or scores.shape[1] == 0:
        raise ValueError(f"y_score is empty: shape {scores.shape}")
    return scores


def threshold_vector(threshold: Any, num_labels: int, dtype: np.dtype) -> np.ndarray:
    """``[L]`` thresholds in ``dtype`` from a number, a per-label array or ``.array(L)``."""
    if hasattr(threshold, "array") and callable(threshold.array):
        threshold = threshold.array(num_labels)
    values = np.asarray(threshold, dtype=np.float64)
    if values.ndim == 0:
        values = np.full(num_labels, float(values))
    if values.shape != (num_labels,):
        raise ValueError(
            f"threshold must be a number or one value per label ({num_labels}), "
            f"got shape {values.shape}"
        )
    if np.isnan(values).any():
        raise ValueError("threshold contains NaN")
    return values.astype(dtype)


@dataclass
class TruePositions:
    """The positives of a ``[N, L]`` label matrix as sorted CSR positions.

    ``indptr`` (``N + 1``) and ``indices`` (column of each positive, sorted within a row)
    are the CSR structure; ``rows`` repeats the row of each positive.
    """

    indptr: np.ndarray
    indices: np.ndarray
    rows: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def from_labels(cls, y_true: Any, shape: tuple[int, int]) -> TruePositions:
        num_docs, num_labels = shape
        if sp.issparse(y_true):
            if y_true.shape != shape:
                raise ValueError(f"y_true {y_true.shape} and y_score {shape} must both be [N, L]")
            coo = sp.coo_array(y_true)
            keep = np.asarray(coo.data) > 0
            keys = np.unique(
                coo.row[keep].astype(np.int64) * num_labels + coo.col[keep].astype(np.int64)
            )
        else:
            dense = np.asarray(y_true)
            if dense.shape != shape:
                raise ValueError(f"y_true {dense.shape} and y_score {shape} must both be [N, L]")
            parts = []
            for start, stop in row_blocks(num_docs, num_labels):
                rows, cols = np.nonzero(dense[start:stop] > 0)
                parts.append((rows.astype(np.int64) + start) * num_labels + cols)
            keys = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        rows, indices = np.divmod(keys, num_labels)
        indptr = np.zeros(num_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=num_docs), out=indptr[1:])
        return cls(indptr, indices, rows, shape)

    @classmethod
    def from_matrix(cls, matrix: sp.csr_array) -> TruePositions:
        coo = sp.coo_array(matrix)
        keep = np.asarray(coo.data) != 0
        keys = np.unique(coo.row[keep].astype(np.int64) * matrix.shape[1] + coo.col[keep])
        rows, indices = np.divmod(keys, matrix.shape[1])
        indptr = np.zeros(matrix.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=matrix.shape[0]), out=indptr[1:])
        return cls(indptr, indices, rows, (int(matrix.shape[0]), int(matrix.shape[1])))

    def select_columns(self, columns: np.ndarray) -> TruePositions:
        """The positives in ``columns`` (sorted unique ids), renumbered ``0 … len - 1``."""
        renumber = np.full(self.shape[1], -1, dtype=np.int64)
        renumber[columns] = np.arange(len(columns))
        new_indices = renumber[self.indices]
        keep = new_indices >= 0
        rows = self.rows[keep]
        indptr = np.zeros(self.shape[0] + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.shape[0]), out=indptr[1:])
        return TruePositions(indptr, new_indices[keep], rows, (self.shape[0], len(columns)))

    def to_csr(self) -> sp.csr_array:
        data = np.ones(len(self.indices), dtype=np.float32)
        return sp.csr_array((data, self.indices, self.indptr), shape=self.shape)

    def block(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows (relative to ``start``) and columns of the positives of rows ``start:stop``."""
        lo, hi = self.indptr[start], self.indptr[stop]
        return self.rows[lo:hi] - start, self.indices[lo:hi]

    def label_counts(self) -> np.ndarray:
        return np.bincount(self.indices, minlength=self.shape[1])

    def row_counts(self) -> np.ndarray:
        return np.diff(self.indptr)


def per_label_scores(y_true: Any, y_score: Any, threshold: Any = 0.5) -> dict[str, np.ndarray]:
    """Per label ``j``: ``precision``, ``recall`` and ``f1`` of ``S_ij >= t_j`` (0 when the
    denominator is 0, as :func:`sklearn.metrics.f1_score` with ``average=None,
    zero_division=0``), ``support`` (true positives count), ``predicted`` and ``threshold``."""
    scores = as_scores(y_score)
    num_docs, num_labels = scores.shape
    truth = TruePositions.from_labels(y_true, scores.shape)
    thresholds = threshold_vector(threshold, num_labels, scores.dtype)
    counts = _PredictionCounts.zeros(num_docs, num_labels, num_labels, tree=False)
    for start, stop in row_blocks(num_docs, num_labels):
        rows, cols = truth.block(start, stop)
        counts.add(start, stop, scores[start:stop] >= thresholds, rows, cols)
    support = truth.label_counts()
    return {
        "precision": _ratios(counts.label_tp, counts.label_pred),
        "recall": _ratios(counts.label_tp, support),
        "f1": _ratios(2 * counts.label_tp, counts.label_pred + support),
        "support": support,
        "predicted": counts.label_pred,
        "threshold": threshold_vector(threshold, num_labels, np.float64),
    }


def row_blocks(num_rows: int, num_cols: int) -> list[tuple[int, int]]:
    """``(start, stop)`` blocks of rows of about :data:`_BLOCK_ELEMENTS` entries."""
    step = max(1, _BLOCK_ELEMENTS // max(num_cols, 1))
    return [(start, min(start + step, num_rows)) for start in range(0, num_rows, step)]


def check_finite_block(block: np.ndarray) -> None:
    if np.isnan(block).any():
        raise ValueError("y_score contains NaN")


# ---------------------------------------------------------------------------------- counting
@dataclass
class _PredictionCounts:
    """Counts of one prediction matrix: per scored label, per document, and per label of its
    ancestor closure (over every label)."""

    label_pred: np.ndarray
    label_tp: np.ndarray
    row_pred: np.ndarray
    row_tp: np.ndarray
    closed_pred: np.ndarray | None = None  # per label, of the ancestor-closed predictions
    closed_tp: np.ndarray | None = None

    @classmethod
    def zeros(
        cls, num_docs: int, num_scored: int, num_labels: int, tree: bool
    ) -> _PredictionCounts:
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
class _Counts:
    plain: _PredictionCounts
    consistent: _PredictionCounts | None
    label_true: np.ndarray  # per scored label
    row_true: np.ndarray  # per document, of the scored labels
    closed_true: np.ndarray | None  # per-label counts of the ancestor-closed truth
    num_predicted: int  # predicted labels, scored or not (the violation rate's denominator)
    violations: int
    hits: dict[int, np.ndarray]  # expected |top-k ∩ T_i| per document, over the scored labels


def _count(
    scores: np.ndarray,
    truth: TruePositions,
    flat_truth: TruePositions,
    thresholds: np.ndarray,
    tree: LabelTree | None,
    with_consistent: bool,
    columns: np.ndarray | None,
) -> _Counts:
    """One pass over blocks of rows: every count the thresholded and top-k scores need.

    The set-based and top-``k`` counts cover the scored ``columns`` (``flat_truth`` is
    ``truth`` on them; ``None``: every label), the closure and violation counts every label.
    """
    num_docs, num_labels = scores.shape
    num_scored = num_labels if columns is None else len(columns)
    plain = _PredictionCounts.zeros(num_docs, num_scored, num_labels, tree is not None)
    decoded = (
        _PredictionCounts.zeros(num_docs, num_scored, num_labels, True) if with_consistent else None
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
        plain.add(start, stop, _scored(predicted, columns), true_rows, true_cols)
        if tree is not None:
            closed_rows, closed_cols = closed_truth.block(start, stop)
            plain.add_closed(tree.closure(predicted), closed_rows, closed_cols)
            violations += int(tree.violations(predicted).sum())
            if decoded is not None:
                kept = tree.consistent_decoding(predicted)  # already closed under ancestors
                decoded.add(start, stop, _scored(kept, columns), true_rows, true_cols)
                decoded.add_closed(kept, closed_rows, closed_cols)
        _top_k_hits(_scored(block, columns), start, true_keys, hits)
    return _Counts(
        plain=plain,
        consistent=decoded,
        label_true=flat_truth.label_counts(),
        row_true=flat_truth.row_counts(),
        closed_true=closed_truth.label_counts() if closed_truth is not None else None,
        num_predicted=num_predicted,
        violations=violations,
        hits=hits,
    )


def _scored(block: np.ndarray, columns: np.ndarray | None) -> np.ndarray:
    """The scored columns of a block of rows (the block itself when every label is scored)."""
    return block if columns is None else block[:, columns]


def _top_k_hits(
    block: np.ndarray, start: int, true_keys: np.ndarray, hits: dict[int, np.ndarray]
) -> None:
    """Tie-averaged ``|top_k ∩ T_i|`` of a block of rows for every ``k`` (module docstring)."""
    num_rows, num_labels = block.shape
    stop = start + num_rows
    within = sorted({k for k in hits if k <= num_labels})
    if within:
        # k-th largest score of every row, all k at once: one partition of a copy.
        part = np.partition(block, [num_labels - k for k in within], axis=1)
        kth = {k: part[:, num_labels - k] for k in within}
        del part
        # Every label scoring >= the smallest k-th value: usually exactly max(k) per row.
        rows, cols = np.nonzero(block >= kth[within[-1]][:, None])
        values = block[rows, cols]
        keys = (rows + start) * num_labels + cols
        where = np.minimum(np.searchsorted(true_keys, keys), max(len(true_keys) - 1, 0))
        is_true = (true_keys[where] == keys) if len(true_keys) else np.zeros(len(keys), bool)
        for k in within:
            cut = kth[k][rows]
            above, tied = values > cut, values == cut
            n_above = np.bincount(rows[above], minlength=num_rows)
            n_tied = np.bincount(rows[tied], minlength=num_rows)
            hit_above = np.bincount(rows[above & is_true], minlength=num_rows)
            hit_tied = np.bincount(rows[tied & is_true], minlength=num_rows)
            hits[k][start:stop] = hit_above + (k - n_above) * hit_tied / n_tied
    lo, hi = np.searchsorted(true_keys, [start * num_labels, stop * num_labels])
    true_per_row = np.bincount(true_keys[lo:hi] // num_labels - start, minlength=num_rows)
    for k in hits:
        if k > num_labels:  # every label is in the top k
            hits[k][start:stop] = true_per_row


# ---------------------------------------------------------------------------------- scores
def _ratio(numerator: Any, denominator: Any) -> float:
    return float(numerator / denominator) if denominator else 0.0


def _ratios(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """Element-wise ``numerator / denominator`` with 0 where the denominator is 0."""
    out = np.zeros(len(numerator), dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _prf(tp: np.ndarray, pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """Micro P/R/F1 of pooled counts and the means of the per-entry P/R/F1."""
    return {
        "micro_precision": _ratio(tp.sum(), pred.sum()),
        "micro_recall": _ratio(tp.sum(), true.sum()),
        "micro_f1": _ratio(2 * tp.sum(), pred.sum() + true.sum()),
        "mean_precision": float(_ratios(tp, pred).mean()) if len(tp) else 0.0,
        "mean_recall": float(_ratios(tp, true).mean()) if len(tp) else 0.0,
        "mean_f1": float(_ratios(2 * tp, pred + true).mean()) if len(tp) else 0.0,
    }


def _set_scores(
    counts: _PredictionCounts, label_true: np.ndarray, row_true: np.ndarray
) -> dict[str, float]:
    per_label = _prf(counts.label_tp, counts.label_pred, label_true)
    per_row = _prf(counts.row_tp, counts.row_pred, row_true)
    scores = {f"micro_{m}": per_label[f"micro_{m}"] for m in ("precision", "recall", "f1")}
    scores.update({f"macro_{m}": per_label[f"mean_{m}"] for m in ("precision", "recall", "f1")})
    scores.update({f"samples_{m}": per_row[f"mean_{m}"] for m in ("precision", "recall", "f1")})
    return scores


def _hierarchical_scores(
    counts: _PredictionCounts, closed_true: np.ndarray, tree: LabelTree
) -> dict[str, float]:
    pooled = _prf(counts.closed_tp, counts.closed_pred, closed_true)
    scores = {
        "hier_precision": pooled["micro_precision"],
        "hier_recall": pooled["micro_recall"],
        "hier_f1": pooled["micro_f1"],
    }
    for depth in range(1, tree.num_levels + 1):
        ids = tree.level_ids(depth)
        level = _prf(counts.closed_tp[ids], counts.closed_pred[ids], closed_true[ids])
        scores[f"level{depth}_micro_f1"] = level["micro_f1"]
        scores[f"level{depth}_macro_f1"] = level["mean_f1"]
    return scores


# ---------------------------------------------------------------------------------- ROC-AUC
def _auc_scores(
    scores: np.ndarray, truth: TruePositions, columns: np.ndarray | None = None
) -> dict[str, float]:
    """Per-label and pooled ROC-AUC from average ranks (module docstring), column block-wise,
    over the scored ``columns`` of ``scores`` (``truth`` is on those columns; ``None``: all).

    Each block of columns is copied transposed and sorted row-wise (one sorted score column
    per label). A positive's average rank in its column is ``(#< v + #<= v + 1) / 2``, found
    by a vectorised binary search of all the block's positives at once. For the pooled AUC,
    every sorted value is located among the sorted distinct positive scores ``u``;
    histograms of those positions give, for each ``u_m``, how many of all ``N·L`` values lie
    below it and how many equal it.
    """
    num_docs, num_labels = truth.shape
    order = np.argsort(truth.indices, kind="stable")
    pos_cols = truth.indices[order]
    pos_values = scores[truth.rows[order], pos_cols if columns is None else columns[pos_cols]]
    col_ptr = np.zeros(num_labels + 1, dtype=np.int64)
    np.cumsum(np.bincount(pos_cols, minlength=num_labels), out=col_ptr[1:])
    unique, unique_counts = np.unique(pos_values, return_counts=True)
    at_most = np.zeros(len(unique) + 1, dtype=np.int64)  # values with position <= m
    equal = np.zeros(len(unique), dtype=np.int64)  # values equal to unique[m]
    rank_sum = np.zeros(num_labels, dtype=np.float64)

    step = max(1, _BLOCK_ELEMENTS // num_docs)
    buffer = np.empty((min(step, num_labels), num_docs), dtype=scores.dtype)
    for first in range(0, num_labels, step):
        last = min(first + step, num_labels)
        block = buffer[: last - first]
        np.copyto(
            block, (scores[:, first:last] if columns is None else scores[:, columns[first:last]]).T
        )
        block.sort(axis=1)
        flat = block.reshape(-1)
        lo, hi = col_ptr[first], col_ptr[last]
        if hi > lo:
            column = pos_cols[lo:hi] - first
            offset = column * num_docs
            values = pos_values[lo:hi]
            below = _segment_search(flat, offset, num_docs, values, strict=True)
            upto = _segment_search(flat, offset, num_docs, values, strict=False)
            rank_sum[first:last] += np.bincount(
                column, weights=(below + upto + 1) / 2.0, minlength=last - first
            )
        if len(unique):
            position = np.searchsorted(unique, flat)
            at_most += np.bincount(position, minlength=len(unique) + 1)
            matches = unique[np.minimum(position, len(unique) - 1)] == flat
            equal += np.bincount(position[matches], minlength=len(unique))

    positives = np.diff(col_ptr)
    negatives = num_docs - positives
    defined = (positives > 0) & (negatives > 0)
    n1 = positives[defined].astype(np.float64)
    per_label = (rank_sum[defined] - n1 * (n1 + 1) / 2) / (n1 * negatives[defined])

    total_pos = float(len(pos_values))
    total_neg = float(num_docs) * num_labels - total_pos
    if total_pos and total_neg:
        less = np.cumsum(at_most)[: len(unique)] - equal
        ranks = less + (equal + 1) / 2.0
        pooled_rank_sum = float(np.dot(unique_counts, ranks))
        micro = (pooled_rank_sum - total_pos * (total_pos + 1) / 2) / (total_pos * total_neg)
    else:
        micro = float("nan")
    return {
        "micro_auc": float(micro),
        "macro_auc": float(per_label.mean()) if len(per_label) else float("nan"),
        "macro_auc_skipped_labels": int(num_labels - defined.sum()),
    }


def _segment_search(
    flat: np.ndarray, offset: np.ndarray, length: int, values: np.ndarray, strict: bool
) -> np.ndarray:
    """For each ``v``, how many of ``flat[o : o + length]`` (sorted) are ``< v`` (``strict``)
    or ``<= v``: a binary search over all segments at once, ``bit_length(length)`` rounds."""
    lo = offset.copy()
    hi = offset + length
    last = flat.size - 1
    for _ in range(int(length).bit_length()):
        active = lo < hi
        mid = (lo + hi) >> 1
        probe = flat[np.minimum(mid, last)]
        go_right = ((probe < values) if strict else (probe <= values)) & active
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)
    return lo - offset
