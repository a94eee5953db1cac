"""Few-shot and data-subset recipes over a training split, saved as reproducible index files.

Two recipes pick rows of a split (a ``datasets.Dataset`` with a ``text`` column and a
``labels`` column of label names closed under ancestors):

* :func:`k_per_label` — a greedy *multi-cover*: the fewest documents (greedily) such that
  every label of a chosen set has at least ``k`` of them (the few-shot recipe);
* :func:`fraction` — a stratified fraction of the split (1 %, 5 %, 10 %, …) by iterative
  stratification (``iterstrat``), so every label keeps about its share.

Both return a :class:`SubsetResult`: the sorted row indices, the recipe's parameters, a
fingerprint of the source split, the labels that could not reach ``k`` and the label counts
of the subset. :meth:`SubsetResult.save` writes them to one JSON index file;
:meth:`SubsetResult.load` and :meth:`SubsetResult.apply` restore the exact rows later and
refuse a split whose rows differ from the one the subset was drawn from.

Example:
    >>> result = k_per_label(data["train"], tree, k=5, seed=1, level=2)  # doctest: +SKIP
    >>> result.save("subsets/wos-k5-level2-seed1.json")  # doctest: +SKIP
    >>> few_shot = SubsetResult.load("subsets/wos-k5-level2-seed1.json").apply(data["train"])  # doctest: +SKIP
    >>> make_subset({"method": "fraction", "fraction": 0.05, "seed": 0}, data["train"], tree)  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from datasets import Dataset, DatasetDict

from mlcl_text.hierarchy import LabelTree

__all__ = [
    "METHODS",
    "SubsetResult",
    "dataset_fingerprint",
    "fraction",
    "k_per_label",
    "make_subset",
    "subsets_for_seeds",
]

_FORMAT_VERSION = 1
_LABEL_SETS = ("leaves", "all")
_DEFAULT_SPLIT = "train"


# ---------------------------------------------------------------------------- result


@dataclass
class SubsetResult:
    """The rows a recipe picked from a split, with everything needed to reproduce them.

    Attributes:
        indices: sorted row indices into the source split.
        params: the recipe (``method``, ``k`` or ``fraction``, ``seed``, ``level``,
            ``labels``), the ``split`` name, the source split's ``num_rows`` and its
            ``fingerprint`` (sha256 of the ``id`` column, or of ``text`` without one; the
            column used is in ``fingerprint_field``).
        unreachable: label → number of documents in the whole split, for every label of the
            target set that has fewer than ``k`` (all of its documents are in the subset).
            Always empty for :func:`fraction`.
        label_counts: label → number of subset documents carrying it, for every label of the
            tree that occurs in the subset (tree order).
        source: the index file this result was loaded from or last saved to (used in error
            messages; not part of equality).
    """

    indices: list[int]
    params: dict[str, Any]
    unreachable: dict[str, int] = field(default_factory=dict)
    label_counts: dict[str, int] = field(default_factory=dict)
    source: str | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.indices)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written by :meth:`save`."""
        return {
            "format_version": _FORMAT_VERSION,
            "params": dict(self.params),
            "num_selected": len(self.indices),
            "indices": [int(i) for i in self.indices],
            "unreachable": {str(k): int(v) for k, v in self.unreachable.items()},
            "label_counts": {str(k): int(v) for k, v in self.label_counts.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None) -> SubsetResult:
        """Inverse of :meth:`to_dict`; ``ValueError`` naming ``source`` on a malformed dict."""
        where = source or "subset dict"
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
        version = data.get("format_version")
        if version != _FORMAT_VERSION:
            raise ValueError(f"{where}: unsupported subset format_version {version!r}")
        missing = [key for key in ("params", "indices") if key not in data]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        indices = [int(i) for i in data["indices"]]
        if indices != sorted(set(indices)) or (indices and indices[0] < 0):
            raise ValueError(f"{where}: indices must be sorted, unique and non-negative")
        params = dict(data["params"])
        for key in ("num_rows", "fingerprint"):
            if key not in params:
                raise ValueError(f"{where}: params lack {key!r}")
        return cls(
            indices=indices,
            params=params,
            unreachable={str(k): int(v) for k, v in data.get("unreachable", {}).items()},
            label_counts={str(k): int(v) for k, v in data.get("label_counts", {}).items()},
            source=source,
        )

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write the subset to one pretty-printed UTF-8 JSON index file and return its path.

        An existing file with the same content is left as it is; an existing file with other
        content raises ``FileExistsError`` unless ``overwrite=True``. Parent folders are
        created; the file is written atomically (temporary file, then rename).
        """
        path = Path(path)
        payload = self.to_dict()
        if path.exists():
            try:
                existing = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                existing = None
            if existing == payload:
                self.source = str(path)
                return path
            if not overwrite:
                raise FileExistsError(
                    f"{path} already exists with a different subset; pass overwrite=True to replace it"
                )
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        self.source = str(path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SubsetResult:
        """Read an index file written by :meth:`save`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not a JSON subset index file ({error})") from error
        return cls.from_dict(data, source=str(path))

    def check(self, dataset: Dataset | DatasetDict) -> Dataset:
        """Return the source split (picked by name from a ``DatasetDict``) after checking it.

        ``ValueError`` naming the index file when the row count or the fingerprint of the
        given split differs from the split the subset was drawn from.
        """
        where = self.source or "this (unsaved) subset"
        split = self.params.get("split")
        if isinstance(dataset, DatasetDict):
            name = split or _DEFAULT_SPLIT
            if name not in dataset:
                raise ValueError(f"{where}: the DatasetDict has no split {name!r}")
            dataset = dataset[name]
        expected_rows = int(self.params["num_rows"])
        if dataset.num_rows != expected_rows:
            raise ValueError(
                f"{where} was drawn from a split of {expected_rows} rows (split {split!r}), "
                f"but the given data set has {dataset.num_rows} rows"
            )
        fingerprint, column = dataset_fingerprint(dataset)
        expected_column = self.params.get("fingerprint_field", column)
        if column != expected_column or fingerprint != self.params["fingerprint"]:
            raise ValueError(
                f"{where} does not match the given data set: its {expected_column!r} fingerprint "
                f"is {self.params['fingerprint'][:12]}…, the data set's {column!r} fingerprint "
                f"is {fingerprint[:12]}… (different rows, order or version of split {split!r})"
            )
        if self.indices and self.indices[-1] >= dataset.num_rows:
            raise ValueError(f"{where}: index {self.indices[-1]} is out of range")
        return dataset

    def apply(self, dataset: Dataset | DatasetDict) -> Dataset:
        """The subset's rows of ``dataset`` (a split, or a ``DatasetDict`` holding it).

        Checks the row count and fingerprint first (see :meth:`check`).
        """
        return self.check(dataset).select(self.indices)


# ---------------------------------------------------------------------------- recipes


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
    closed = _label_matrix(dataset, tree)
    target = _target_ids(tree, level, labels)
    matrix = closed[:, target].tocsr()
    matrix.sort_indices()
    available = np.asarray(matrix.sum(axis=0)).ravel().astype(np.int64)
    need = np.minimum(available, k)
    picked = _greedy_multicover(matrix, need, np.random.default_rng(seed))
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
    closed = _label_matrix(dataset, tree)
    target = _target_ids(tree, level, labels)
    num_rows = dataset.num_rows
    size = min(num_rows, max(1, round(fraction * num_rows))) if num_rows else 0
    if size >= num_rows:
        picked = np.arange(num_rows)
    else:
        matrix = closed[:, target].tocsr()
        picked = _stratified_sample(matrix, size, fraction, seed)
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


def dataset_fingerprint(dataset: Dataset) -> tuple[str, str]:
    """``(sha256 hex digest, column)`` of the ``id`` column, or of ``text`` without one.

    Every value is hashed as its ``str`` with a length prefix, in row order, so a change of
    rows, their order or their content (ids or texts) changes the fingerprint.
    """
    column = "id" if "id" in dataset.column_names else "text"
    if column not in dataset.column_names:
        raise ValueError("the data set has neither an 'id' nor a 'text' column to fingerprint")
    digest = hashlib.sha256()
    digest.update(f"{column}\n{dataset.num_rows}\n".encode())
    for value in _column(dataset, column).to_pylist():
        encoded = str(value).encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest(), column


# ---------------------------------------------------------------------------- helpers


def _resolve_split(dataset: Dataset | DatasetDict, split: str | None) -> tuple[Dataset, str]:
    if isinstance(dataset, DatasetDict):
        name = split or _DEFAULT_SPLIT
        if name not in dataset:
            raise ValueError(f"the DatasetDict has no split {name!r}; it has {list(dataset)}")
        return dataset[name], name
    if not isinstance(dataset, Dataset):
        raise ValueError(f"expected a datasets.Dataset, got {type(dataset).__name__}")
    own = str(dataset.split) if dataset.split is not None else None
    return dataset, split or own or _DEFAULT_SPLIT


def _source_params(dataset: Dataset, split_name: str) -> dict[str, Any]:
    fingerprint, column = dataset_fingerprint(dataset)
    return {
        "split": split_name,
        "num_rows": int(dataset.num_rows),
        "fingerprint": fingerprint,
        "fingerprint_field": column,
    }


def _column(dataset: Dataset, name: str) -> pa.ChunkedArray:
    """The column ``name`` as Arrow, row order as the data set presents it (fast: no rows)."""
    if name not in dataset.column_names:
        raise ValueError(f"the data set has no {name!r} column")
    column = dataset.with_format("arrow")[name]
    return column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])


def _label_matrix(dataset: Dataset, tree: LabelTree) -> sp.csr_array:
    """Sparse ``N × len(tree)`` 0/1 ``int32`` matrix of the ``labels`` column, ancestors closed.

    ``labels`` holds lists of label names (a plain string per row is read as a one-label list).
    """
    column = _column(dataset, "labels")
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


def _target_ids(tree: LabelTree, level: int | None, labels: str) -> np.ndarray:
    if labels not in _LABEL_SETS:
        raise ValueError(f"labels must be one of {_LABEL_SETS}, got {labels!r}")
    if level is not None:
        if isinstance(level, bool) or not isinstance(level, int | np.integer):
            raise ValueError(f"level must be an integer depth or None, got {level!r}")
        return tree.level_ids(int(level))  # ValueError outside 1..num_levels
    if labels == "all":
        return np.arange(len(tree))
    leaves = set(tree.leaves)
    return np.asarray([i for i, name in enumerate(tree.names) if name in leaves], dtype=np.int64)


def _greedy_multicover(
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


def _stratified_sample(matrix: sp.csr_array, size: int, share: float, seed: int) -> np.ndarray:
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
