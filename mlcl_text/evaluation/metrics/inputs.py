"""What every score of :mod:`mlcl_text.evaluation.metrics` starts from: checked inputs and the block layout.

``y_score`` becomes a 2-D floating array (:func:`as_scores`, no copy of a float array),
``threshold`` one value per label (:func:`threshold_vector`), ``scored_labels`` sorted label
ids (:func:`scored_columns`) and ``y_true`` the sorted ``(row, column)`` positions of its
positives (:class:`TruePositions`), never a dense matrix. Work runs over blocks of rows
(:func:`row_blocks`) or columns (:func:`block_step`) of about :data:`_BLOCK_ELEMENTS`
entries, so only a few blocks besides ``O(N + L + nnz(Y))`` vectors are allocated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

_BLOCK_ELEMENTS = 1 << 22
"""Entries per block of rows or columns (4 Mi: 16 MiB of ``float32``)."""


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


def row_blocks(num_rows: int, num_cols: int) -> list[tuple[int, int]]:
    """``(start, stop)`` blocks of rows of about :data:`_BLOCK_ELEMENTS` entries."""
    step = block_step(num_cols)
    return [(start, min(start + step, num_rows)) for start in range(0, num_rows, step)]


def block_step(length: int) -> int:
    """How many rows (or columns) of ``length`` entries make a block of about
    :data:`_BLOCK_ELEMENTS` entries (at least one)."""
    return max(1, _BLOCK_ELEMENTS // max(length, 1))


def check_finite_block(block: np.ndarray) -> None:
    if np.isnan(block).any():
        raise ValueError("y_score contains NaN")
