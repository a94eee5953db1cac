r"""Ranking scores of ``S`` (no threshold): ROC-AUC and precision / recall at ``k``.

Notation as in :mod:`mlcl_text.evaluation.metrics`: document ``i``, label ``j``, true labels ``Y``,
scores ``S``.

* ``micro_auc``: ROC-AUC of all ``N·L`` entries pooled (scikit-learn's
  ``roc_auc_score(Y, S, average="micro")``). ``macro_auc``: mean of the per-label ROC-AUCs
  over the labels with both classes in ``Y`` (``0 < n1_j < N``); ``macro_auc_skipped_labels``
  counts the others. Both use the Mann–Whitney form (Mann & Whitney 1947; Hanley & McNeil
  1982): with ``n1`` positives, ``n0`` negatives and ``R1`` the sum of the positives' ranks
  among all ``n1 + n0`` values (ties get the average of their ranks),
  ``AUC = (R1 − n1 (n1 + 1) / 2) / (n1 n0)`` — the probability that a random positive scores
  above a random negative, ties counting ½, which equals the trapezoidal area under the ROC
  curve that scikit-learn computes (Fawcett 2006). ``nan`` when undefined (one class only).
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

Per-label AUCs come from sorting each block of score columns and a vectorised binary search
of the positives' scores in their sorted column (the average rank); no ``N × L`` rank matrix
is formed.

References:
    Fawcett, T. (2006). An introduction to ROC analysis. Pattern Recognition Letters 27(8).
    Hanley, J. A. & McNeil, B. J. (1982). The meaning and use of the area under a receiver
    operating characteristic (ROC) curve. Radiology 143(1).
    Jain, H., Prabhu, Y. & Varma, M. (2016). Extreme multi-label loss functions for
    recommendation, tagging, ranking & other missing label applications. KDD 2016.
    Mann, H. B. & Whitney, D. R. (1947). On a test of whether one of two random variables is
    stochastically larger than the other. Annals of Mathematical Statistics 18(1).
    McSherry, F. & Najork, M. (2008). Computing information retrieval performance measures
    efficiently in the presence of tied scores. ECIR 2008, LNCS 4956.
"""

from __future__ import annotations

import numpy as np

from mlcl_text.evaluation.metrics.inputs import TruePositions, block_step

TOP_K: tuple[int, ...] = (1, 5, 8, 15)
"""The ``k`` of the ``p@k`` / ``r@k`` scores."""


def top_k_scores(hits: dict[int, np.ndarray], row_true: np.ndarray) -> dict[str, float]:
    """``p@k`` and ``r@k`` for every ``k`` of ``hits`` (expected ``|top_k(i) ∩ T_i|`` per
    document), ``row_true`` the number of true labels of each document."""
    scores = {}
    has_true = row_true > 0
    for k, per_row in hits.items():
        scores[f"p@{k}"] = float(np.mean(per_row / k))
        scores[f"r@{k}"] = (
            float(np.mean(per_row[has_true] / row_true[has_true]))
            if has_true.any()
            else float("nan")
        )
    return scores


def top_k_hits(
    block: np.ndarray, start: int, true_keys: np.ndarray, hits: dict[int, np.ndarray]
) -> None:
    """Tie-averaged ``|top_k ∩ T_i|`` of a block of rows for every ``k`` (see the module docstring)."""
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


def auc_scores(
    scores: np.ndarray, truth: TruePositions, columns: np.ndarray | None = None
) -> dict[str, float]:
    """Per-label and pooled ROC-AUC from average ranks (see the module docstring), column block-wise,
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

    step = block_step(num_docs)
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
            below = segment_search(flat, offset, num_docs, values, strict=True)
            upto = segment_search(flat, offset, num_docs, values, strict=False)
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


def segment_search(
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
