"""The selection algorithms behind the subset recipes, on sparse label matrices: the
ancestor-closed multi-hot matrix of a split, the target label set, the greedy multi-cover of
:func:`mlcl_text.data.subsets.k_per_label` and the iterative stratification (with exact-size
repair) of :func:`mlcl_text.data.subsets.fraction`.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from datasets import Dataset

from mlcl_text.data.subset_index import arrow_column
from mlcl_text.hierarchy import LabelTree

__all__ = ["LABEL_SETS", "greedy_multicover", "label_matrix", "stratified_sample", "target_ids"]

LABEL_SETS = ("leaves", "all")


def label_matrix(dataset: Dataset, tree: LabelTree) -> sp.csr_array:
    """Sparse ``N × len(tree)`` 0/1 ``int32`` matrix of the ``labels`` column, ancestors closed.

    ``labels`` holds lists of label names (a plain string per row is read as a one-label list).
    """
    column = arrow_column(dataset, "labels")
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        values = column.combine_chunks()
        lengths = pc.if_else(pc.is_null(values), 0, 1).to_numpy(zero_copy_only=False)
        values = values.drop_null()
    elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        lists = column.combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
        values = pc.list_flatten(lists)
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            raise ValueError(f"the 'labels' column must hold label names, not {values.type}")
    else:
        raise ValueError(f"the 'labels' column must hold lists of label names, not {column.type}")
    indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=indptr[1:])
    ids = pc.index_in(values, value_set=pa.array(tree.names, type=values.type))
    if ids.null_count:
        position = int(np.flatnonzero(ids.is_null().to_numpy(zero_copy_only=False))[0])
        row = int(np.searchsorted(indptr, position, side="right")) - 1
        raise ValueError(
            f"row {row}: label {values[position].as_py()!r} is not a label of the tree"
        )
    matrix = sp.csr_array(
        (
            np.ones(len(ids), dtype=np.float32),
            ids.to_numpy(zero_copy_only=False).astype(np.int64),
            indptr,
        ),
        shape=(dataset.num_rows, len(tree)),
    )
    matrix.sum_duplicates()
    closed = sp.csr_array(tree.closure(matrix)).astype(np.int32)
    closed.eliminate_zeros()
    closed.sort_indices()
    return closed


def target_ids(tree: LabelTree, level: int | None, labels: str) -> np.ndarray:
    if labels not in LABEL_SETS:
        raise ValueError(f"labels must be one of {LABEL_SETS}, got {labels!r}")
    if level is not None:
        if isinstance(level, bool) or not isinstance(level, int | np.integer):
            raise ValueError(f"level must be an integer depth or None, got {level!r}")
        return tree.level_ids(int(level))  # ValueError outside 1..num_levels
    if labels == "all":
        return np.arange(len(tree))
    leaves = set(tree.leaves)
    return np.asarray([i for i, name in enumerate(tree.names) if name in leaves], dtype=np.int64)


def greedy_multicover(
    matrix: sp.csr_array, need: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Greedy multi-cover of the columns of a 0/1 CSR matrix up to ``need`` (see k_per_label)."""
    num_docs = matrix.shape[0]
    if num_docs == 0:
        return np.zeros(0, dtype=np.int64)
    deficit = need.astype(np.int64).copy()
    columns = sp.csc_array(matrix)
    columns.sort_indices()
    row_ptr, row_labels = matrix.indptr, matrix.indices
    col_ptr, col_docs = columns.indptr, columns.indices
    # key = gain · N + tie-break priority, so one argmax finds the largest gain and, among
    # equal gains, the document earliest in the seeded permutation.
    gain = matrix @ (deficit > 0).astype(np.int64)
    priority = np.empty(num_docs, dtype=np.int64)
    priority[rng.permutation(num_docs)] = np.arange(num_docs - 1, -1, -1)
    key = np.asarray(gain, dtype=np.int64) * num_docs + priority
    short = int(np.count_nonzero(deficit))
    picked: list[int] = []
    while short:
        doc = int(np.argmax(key))
        if key[doc] < num_docs:  # cannot happen: a short label always has an unpicked doc
            raise AssertionError("greedy multi-cover ran out of useful documents")
        picked.append(doc)
        key[doc] = -(num_docs * (len(need) + 1))  # never again
        own = row_labels[row_ptr[doc] : row_ptr[doc + 1]]
        own = own[deficit[own] > 0]
        deficit[own] -= 1
        for label in own[deficit[own] == 0]:
            key[col_docs[col_ptr[label] : col_ptr[label + 1]]] -= num_docs
            short -= 1
    return np.asarray(picked, dtype=np.int64)


def stratified_sample(matrix: sp.csr_array, size: int, share: float, seed: int) -> np.ndarray:
    """Iterative stratification (iterstrat) to ``size`` rows, then an exact-size repair."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    num_docs = matrix.shape[0]
    present = np.flatnonzero(np.asarray(matrix.sum(axis=0)).ravel() > 0)
    dense = matrix[:, present].toarray().astype(bool)
    # iterstrat wants a multilabel-indicator target: at least two columns.
    if dense.shape[1] < 2:
        dense = np.column_stack([dense, ~dense.any(axis=1)])
    if dense.shape[1] < 2:
        dense = np.column_stack([dense, np.zeros(num_docs, dtype=bool)])
    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=size, random_state=seed)
    _, chosen = next(splitter.split(np.zeros((num_docs, 1)), dense))
    selected = np.zeros(num_docs, dtype=bool)
    selected[chosen] = True

    # Exact-size repair, one document at a time: the move that most lowers the squared
    # error Σ_j (count_j − share · total_j)² (removing doc i changes it by
    # Σ_j y_ij (1 − 2 · excess_j), adding it by Σ_j y_ij (1 + 2 · excess_j)).
    y = sp.csr_array(dense.astype(np.float64))
    labels_per_doc = np.diff(y.indptr).astype(np.float64)
    target = share * np.asarray(y.sum(axis=0)).ravel()
    counts = np.asarray(y[selected].sum(axis=0)).ravel()
    jitter = np.random.default_rng([seed, 1]).random(num_docs) * 1e-6  # seeded tie-break
    surplus = int(selected.sum()) - size
    while surplus:
        change = 2 * (y @ (counts - target))
        if surplus > 0:
            score = np.where(selected, change - labels_per_doc + jitter, -np.inf)
        else:
            score = np.where(selected, -np.inf, -change - labels_per_doc + jitter)
        doc = int(np.argmax(score))
        step = -1 if surplus > 0 else 1
        selected[doc] = step > 0
        counts += step * y[[doc]].toarray().ravel()
        surplus += step
    return np.flatnonzero(selected)
