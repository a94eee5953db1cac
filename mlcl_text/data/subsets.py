"""Few-shot and data-subset recipes over a training split, saved as reproducible index files.

Two recipes pick rows of a split (a ``datasets.Dataset`` with a ``text`` column and a
``labels`` column of label names closed under ancestors):

* :func:`k_per_label` — a greedy *multi-cover*: the fewest documents (greedily) such that
  every label of a chosen set has at least ``k`` of them (the few-shot recipe);
* :func:`fraction` — a stratified fraction of the split (1 %, 5 %, 10 %, …) by iterative
  stratification (``iterstrat``), so every label keeps about its share.

Both return a :class:`~mlcl_text.data.subset_index.SubsetResult` (the index file: rows,
parameters, a fingerprint of the source split; :mod:`mlcl_text.data.subset_index`), drawn by
the algorithms of :mod:`mlcl_text.data.subset_selection`.

Example:
    >>> result = k_per_label(data["train"], tree, k=5, seed=1, level=2)  # doctest: +SKIP
    >>> result.save("subsets/wos-k5-level2-seed1.json")  # doctest: +SKIP
    >>> few_shot = SubsetResult.load("subsets/wos-k5-level2-seed1.json").apply(data["train"])  # doctest: +SKIP
    >>> make_subset({"method": "fraction", "fraction": 0.05, "seed": 0}, data["train"], tree)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from datasets import Dataset, DatasetDict

from mlcl_text.data.subset_index import DEFAULT_SPLIT, SubsetResult, dataset_fingerprint
from mlcl_text.data.subset_selection import (
    greedy_multicover,
    label_matrix,
    stratified_sample,
    target_ids,
)
from mlcl_text.hierarchy import LabelTree

__all__ = [
    "METHODS",
    "fraction",
    "k_per_label",
    "make_subset",
    "subsets_for_seeds",
]


def k_per_label(
    dataset: Dataset | DatasetDict,
    tree: LabelTree,
    k: int,
    seed: int = 0,
    level: int | None = None,
    labels: str = "leaves",
    split: str | None = None,
) -> SubsetResult:
    """Few documents such that every target label has at least ``k`` of them (greedy).

    Target labels: the tree's leaves (``labels="leaves"``, the default), every node
    (``labels="all"``), or — when ``level`` is given, which takes precedence — the labels at
    depth ``level`` (1 = roots; a document counts for a level label when it carries it, i.e.
    when one of its labels descends from it, since label sets are closed under ancestors).

    Algorithm (greedy set multi-cover, as for weighted set cover):

    1. Build the sparse multi-hot matrix ``Y`` (documents × target labels, ancestors
       closed). A label's *need* is ``min(k, available)``; labels with fewer than ``k``
       documents in the split can't reach ``k``: all their documents are taken and they
       are reported in :attr:`SubsetResult.unreachable` (label → available count).
    2. Each document's *gain* is the number of its target labels still short of their need
       (only deficits count; surplus coverage is worth nothing).
    3. Repeatedly pick the unpicked document with the largest gain; ties go to the earlier
       document in a random permutation drawn from ``seed`` (so seeds give different but
       reproducible subsets). Decrement the deficits of its labels; when a label reaches
       its need, subtract one from the gain of every document carrying it (one sparse column
       per label, each touched once). Stop when no label is short.

    Every pick is O(N) (an ``argmax``) plus the picked row's labels; the gain updates are
    O(nnz(Y)) over the whole run. The greedy is within a factor ``1 + ln(max labels per
    document)`` of the smallest possible subset. ``split`` names the split in the index file
    (default: the data set's own split name, else ``"train"``); with a ``DatasetDict`` it
    picks the split.
    """
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    dataset, split_name = _resolve_split(dataset, split)
    closed = label_matrix(dataset, tree)
    target = target_ids(tree, level, labels)
    matrix = closed[:, target].tocsr()
    matrix.sort_indices()
    available = np.asarray(matrix.sum(axis=0)).ravel().astype(np.int64)
    need = np.minimum(available, k)
    picked = greedy_multicover(matrix, need, np.random.default_rng(seed))
    names = tree.names
    unreachable = {names[target[j]]: int(available[j]) for j in np.flatnonzero(available < k)}
    params = {
        "method": "k_per_label",
        "k": int(k),
        "seed": int(seed),
        "level": None if level is None else int(level),
        "labels": labels,
        **_source_params(dataset, split_name),
    }
    return _result(picked, params, unreachable, closed, names)


def fraction(
    dataset: Dataset | DatasetDict,
    tree: LabelTree,
    fraction: float,
    seed: int = 0,
    level: int | None = None,
    labels: str = "leaves",
    split: str | None = None,
) -> SubsetResult:
    """A stratified ``fraction`` of the split (``round(fraction · N)`` rows, at least 1).

    Stratifies on the multi-hot matrix of the leaves (default), of every node
    (``labels="all"``), or of the labels at depth ``level`` when given. Single-label data is
    the special case of one leaf per row.

    Algorithm: ``iterstrat.ml_stratifiers.MultilabelStratifiedShuffleSplit(n_splits=1,
    test_size=size, random_state=seed)`` — the iterative stratification of Sechidis et al.
    (2011): labels are handled rarest first, and each of a label's documents goes to the side
    (subset or rest) that still wants most of that label. Its "test" side is the subset.
    Iterative stratification only approximately meets the requested size, so the result is
    then trimmed or topped up to exactly ``size`` rows, one document at a time: drop (when
    too big) or add (when too small) the document whose move most lowers the squared error
    ``Σ_j (count_j − fraction · total_j)²`` of the subset's label counts (ties by a seeded
    random order). The deviation is usually a few rows, at most a few percent of ``size``.

    Cost: ``iterstrat`` works on a dense ``N × L`` boolean matrix and loops over labels,
    each step a pass over that matrix: fine for tens of thousands of documents and hundreds
    of labels (30k × 100: about 0.5 s), not for thousands (50k × 9k: ~0.25 s per step and
    up to one step per label, i.e. tens of minutes, and 450 MB) — stratify on a shallower
    ``level`` there (50k documents, 300 labels at level 2: about 7 s).
    """
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not 0 < fraction <= 1:
        raise ValueError(f"fraction must be a number in (0, 1], got {fraction!r}")
    dataset, split_name = _resolve_split(dataset, split)
    closed = label_matrix(dataset, tree)
    target = target_ids(tree, level, labels)
    num_rows = dataset.num_rows
    size = min(num_rows, max(1, round(fraction * num_rows))) if num_rows else 0
    if size >= num_rows:
        picked = np.arange(num_rows)
    else:
        matrix = closed[:, target].tocsr()
        picked = stratified_sample(matrix, size, fraction, seed)
    params = {
        "method": "fraction",
        "fraction": float(fraction),
        "seed": int(seed),
        "level": None if level is None else int(level),
        "labels": labels,
        **_source_params(dataset, split_name),
    }
    return _result(picked, params, {}, closed, tree.names)


METHODS: dict[str, Callable[..., SubsetResult]] = {"k_per_label": k_per_label, "fraction": fraction}

_SPEC_KEYS = {
    "k_per_label": {"method", "k", "seed", "level", "labels", "split"},
    "fraction": {"method", "fraction", "seed", "level", "labels", "split"},
}
_REQUIRED_KEYS = {"k_per_label": {"k"}, "fraction": {"fraction"}}


def subsets_for_seeds(
    dataset: Dataset | DatasetDict,
    tree: LabelTree,
    method: str | Callable[..., SubsetResult],
    seeds: Iterable[int] = (0, 1, 2),
    **kwargs: Any,
) -> list[SubsetResult]:
    """One subset per seed: ``[method(dataset, tree, seed=s, **kwargs) for s in seeds]``.

    ``method`` is ``"k_per_label"``, ``"fraction"`` or one of those functions.
    """
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"unknown subset method {method!r}; available: {', '.join(METHODS)}")
        method = METHODS[method]
    if "seed" in kwargs:
        raise ValueError("pass seeds=..., not seed=..., to subsets_for_seeds")
    return [method(dataset, tree, seed=int(seed), **kwargs) for seed in seeds]


def make_subset(
    spec: Mapping[str, Any], dataset: Dataset | DatasetDict, tree: LabelTree
) -> SubsetResult:
    """Run a recipe-style dict such as ``{"method": "k_per_label", "k": 5, "seed": 1, "level": 2}``
    or ``{"method": "fraction", "fraction": 0.05, "seed": 0}``.

    Keys: ``method`` and the keyword arguments of that method (``k`` / ``fraction``,
    ``seed``, ``level``, ``labels``, ``split``). ``ValueError`` naming unknown or missing
    keys, or an unknown method.
    """
    if not isinstance(spec, Mapping):
        raise ValueError(f"a subset spec must be a dict, got {type(spec).__name__}")
    method = spec.get("method")
    if method not in METHODS:
        raise ValueError(
            f"subset spec needs 'method' set to one of {', '.join(map(repr, METHODS))}, "
            f"got {method!r}"
        )
    unknown = sorted(set(spec) - _SPEC_KEYS[method])
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(map(repr, unknown))} in {method} subset spec; "
            f"allowed: {', '.join(sorted(_SPEC_KEYS[method]))}"
        )
    missing = sorted(_REQUIRED_KEYS[method] - set(spec))
    if missing:
        raise ValueError(f"{method} subset spec lacks {', '.join(map(repr, missing))}")
    kwargs = {key: value for key, value in spec.items() if key != "method"}
    return METHODS[method](dataset, tree, **kwargs)


def _resolve_split(dataset: Dataset | DatasetDict, split: str | None) -> tuple[Dataset, str]:
    if isinstance(dataset, DatasetDict):
        name = split or DEFAULT_SPLIT
        if name not in dataset:
            raise ValueError(f"the DatasetDict has no split {name!r}; it has {list(dataset)}")
        return dataset[name], name
    if not isinstance(dataset, Dataset):
        raise ValueError(f"expected a datasets.Dataset, got {type(dataset).__name__}")
    own = str(dataset.split) if dataset.split is not None else None
    return dataset, split or own or DEFAULT_SPLIT


def _source_params(dataset: Dataset, split_name: str) -> dict[str, Any]:
    fingerprint, column = dataset_fingerprint(dataset)
    return {
        "split": split_name,
        "num_rows": int(dataset.num_rows),
        "fingerprint": fingerprint,
        "fingerprint_field": column,
    }


def _result(
    picked: np.ndarray,
    params: dict[str, Any],
    unreachable: dict[str, int],
    closed: sp.csr_array,
    names: list[str],
) -> SubsetResult:
    indices = np.unique(np.asarray(picked, dtype=np.int64))
    counts = np.asarray(closed[indices].sum(axis=0)).ravel() if len(indices) else np.zeros(0)
    label_counts = {names[j]: int(counts[j]) for j in np.flatnonzero(counts)}
    return SubsetResult(
        indices=[int(i) for i in indices],
        params=params,
        unreachable=unreachable,
        label_counts=label_counts,
    )
