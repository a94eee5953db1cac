"""Label trees: names ⇄ ids, parents, depths, ancestor closure and level views.

A :class:`LabelTree` is a forest of label names. Every label has at most one parent; roots
sit at depth 1 and a label's depth is one more than its parent's. Level ``l`` is the set of
labels at depth ``l``; the *level view* of a multi-hot matrix replaces every label by its
ancestor at depth ``l`` (labels shallower than ``l`` have none and drop out).

Label ids follow the order in which labels were given, so the columns of a user's multi-hot
matrix keep their meaning. Multi-hot matrices may be NumPy arrays, SciPy sparse matrices
or torch tensors; results keep the input's kind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp
import torch

Matrix = TypeVar("Matrix", np.ndarray, sp.spmatrix, sp.sparray, torch.Tensor)

_FORMAT_VERSION = 1


class LabelTree:
    """A forest of labels with ids, parents and depths.

    Build one with :meth:`from_parents`, :meth:`from_paths` or :meth:`from_labels`; store it
    with :meth:`to_dict` and restore it with :meth:`from_dict`.

    Example:
        >>> tree = LabelTree.from_paths(["CS/ML", "CS/DB", "Bio"], sep="/")
        >>> tree.names
        ['CS', 'CS/ML', 'CS/DB', 'Bio']
        >>> tree.ancestors("CS/ML")
        ['CS']
        >>> tree.num_levels
        2
    """

    def __init__(self, names: Sequence[str], parents: Sequence[str | None]):
        if len(names) != len(parents):
            raise ValueError(f"got {len(names)} label names but {len(parents)} parents")
        index: dict[str, int] = {}
        for position, name in enumerate(names):
            if not isinstance(name, str):
                raise ValueError(f"label name at position {position} is not a string: {name!r}")
            if not name.strip():
                raise ValueError(f"label name at position {position} is empty")
            if name in index:
                raise ValueError(f"label name {name!r} is used twice")
            index[name] = position
        parent_ids = np.full(len(names), -1, dtype=np.int64)
        for position, (name, parent) in enumerate(zip(names, parents, strict=True)):
            if parent is None:
                continue
            if parent not in index:
                raise ValueError(f"parent {parent!r} of label {name!r} is not a label of the tree")
            if parent == name:
                raise ValueError(f"label {name!r} is its own parent (a cycle)")
            parent_ids[position] = index[parent]
        self._names = list(names)
        self._index = index
        self._parent = parent_ids
        self._depth = _depths(self._names, parent_ids)
        self._ancestor_at_depth = _ancestor_table(parent_ids, self._depth)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_parents(
        cls, parents: Mapping[str, str | None] | Iterable[tuple[str, str | None]]
    ) -> LabelTree:
        """Build from ``child -> parent`` pairs; a root's parent is ``None``.

        Every label must appear as a child, roots included (``{"CS": None, "CS/ML": "CS"}``).
        """
        pairs = list(parents.items()) if isinstance(parents, Mapping) else list(parents)
        for position, pair in enumerate(pairs):
            if not (isinstance(pair, tuple | list) and len(pair) == 2):
                raise ValueError(f"entry {position} is not a (child, parent) pair: {pair!r}")
        return cls([child for child, _ in pairs], [parent for _, parent in pairs])

    @classmethod
    def from_paths(cls, paths: Iterable[str], sep: str | Sequence[str] = "/") -> LabelTree:
        """Build from label paths such as ``"CS/ML"`` or ``"devel::lang:python"``.

        ``sep`` is a separator or a sequence of them (``("::", ":")`` for debtags). Every
        prefix of a path up to a separator becomes a label named by that prefix, so
        ``"devel::lang:python"`` yields ``devel`` → ``devel::lang`` → ``devel::lang:python``
        and label names equal the strings found in the data. Paths may repeat and share
        prefixes; labels are numbered in order of first appearance, parents first.
        """
        separators = [sep] if isinstance(sep, str) else list(sep)
        if not separators or any(not s for s in separators):
            raise ValueError(f"separators must be non-empty strings, got {sep!r}")
        splitter = re.compile(
            "|".join(re.escape(s) for s in sorted(separators, key=len, reverse=True))
        )
        parent_of: dict[str, str | None] = {}
        for row, path in enumerate(paths):
            if not isinstance(path, str) or not path.strip():
                raise ValueError(f"label path at position {row} is empty or not a string: {path!r}")
            parent: str | None = None
            segment_start = 0
            for cut, next_start in [
                *((m.start(), m.end()) for m in splitter.finditer(path)),
                (len(path), len(path)),
            ]:
                if cut == segment_start:
                    raise ValueError(f"label path {path!r} has an empty segment")
                name = path[:cut]
                parent_of.setdefault(name, parent)
                parent, segment_start = name, next_start
        return cls(list(parent_of), list(parent_of.values()))

    @classmethod
    def from_labels(cls, labels: Iterable[str]) -> LabelTree:
        """A flat tree: every label is a root at depth 1."""
        names = list(labels)
        return cls(names, [None] * len(names))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LabelTree:
        """Inverse of :meth:`to_dict`."""
        try:
            names, parents = data["names"], data["parents"]
        except (KeyError, TypeError) as error:
            raise ValueError(
                f"a label-tree dict needs 'names' and 'parents', got {data!r}"
            ) from error
        version = data.get("format_version", _FORMAT_VERSION)
        if version != _FORMAT_VERSION:
            raise ValueError(f"unsupported label-tree format_version {version!r}")
        return cls(list(names), list(parents))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable form that :meth:`from_dict` restores exactly."""
        return {
            "format_version": _FORMAT_VERSION,
            "names": list(self._names),
            "parents": [self._names[p] if p >= 0 else None for p in self._parent],
        }

    # ------------------------------------------------------------------ names and ids
    @property
    def names(self) -> list[str]:
        """Label names, position = label id."""
        return list(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelTree):
            return NotImplemented
        return self._names == other._names and np.array_equal(self._parent, other._parent)

    def __hash__(self) -> int:
        return hash((tuple(self._names), self._parent.tobytes()))

    def __repr__(self) -> str:
        return f"LabelTree({len(self)} labels, {self.num_levels} levels, {len(self.roots)} roots)"

    def index(self, name: str) -> int:
        """The id of ``name``; ``ValueError`` naming it when it is not a label."""
        try:
            return self._index[name]
        except KeyError:
            raise ValueError(f"unknown label {name!r}") from None

    def _id(self, label: str | int) -> int:
        if isinstance(label, str):
            return self.index(label)
        if not 0 <= int(label) < len(self):
            raise ValueError(f"label id {label} is out of range for a tree of {len(self)} labels")
        return int(label)

    # ------------------------------------------------------------------ structure
    @property
    def parent_ids(self) -> np.ndarray:
        """``parent_ids[i]`` is the id of label ``i``'s parent, ``-1`` for a root."""
        return self._parent.copy()

    @property
    def depths(self) -> np.ndarray:
        """``depths[i]`` is the depth of label ``i`` (roots are at depth 1)."""
        return self._depth.copy()

    @property
    def num_levels(self) -> int:
        """The depth of the deepest label (0 for an empty tree)."""
        return int(self._depth.max()) if len(self) else 0

    @property
    def roots(self) -> list[str]:
        return [self._names[i] for i in np.flatnonzero(self._parent < 0)]

    @property
    def leaves(self) -> list[str]:
        """Labels that are nobody's parent."""
        is_parent = np.zeros(len(self), dtype=bool)
        is_parent[self._parent[self._parent >= 0]] = True
        return [self._names[i] for i in np.flatnonzero(~is_parent)]

    def parent(self, label: str | int) -> str | None:
        p = self._parent[self._id(label)]
        return self._names[p] if p >= 0 else None

    def children(self, label: str | int) -> list[str]:
        return [self._names[i] for i in np.flatnonzero(self._parent == self._id(label))]

    def depth(self, label: str | int) -> int:
        return int(self._depth[self._id(label)])

    def ancestors(self, label: str | int) -> list[str]:
        """Ancestors of ``label`` from its root down to its parent (the label excluded)."""
        i = self._id(label)
        return [self._names[int(a)] for a in self._ancestor_at_depth[: self._depth[i] - 1, i]]

    def with_ancestors(self, names: Iterable[str]) -> list[str]:
        """``names`` and all their ancestors, each once, in tree order (by label id).

        The label-name form of :meth:`closure`: ``["CS/ML", "Bio"]`` → ``["CS", "CS/ML",
        "Bio"]``. An unknown name raises ``ValueError`` naming it, as :meth:`index` does.
        """
        if isinstance(names, str):
            raise ValueError(f"expected a list of label names, got the string {names!r}")
        ids: set[int] = set()
        for name in names:
            i = self.index(name)
            ids.update(self._ancestor_at_depth[: self._depth[i], i].tolist())
        return [self._names[i] for i in sorted(ids)]

    def level(self, depth: int) -> list[str]:
        """Names of the labels at ``depth`` (1 = roots)."""
        return [self._names[i] for i in self.level_ids(depth)]

    def level_ids(self, depth: int) -> np.ndarray:
        self._check_depth(depth)
        return np.flatnonzero(self._depth == depth)

    def ancestor_at_depth(self, depth: int) -> np.ndarray:
        """``out[i]`` = id of label ``i``'s ancestor-or-self at ``depth``; ``-1`` if too shallow."""
        self._check_depth(depth)
        return self._ancestor_at_depth[depth - 1].copy()

    def _check_depth(self, depth: int) -> None:
        if not 1 <= depth <= self.num_levels:
            raise ValueError(f"level {depth} is outside 1..{self.num_levels} of this tree")

    # ------------------------------------------------------------------ multi-hot views
    def encode(self, label_sets: Iterable[Iterable[str]]) -> np.ndarray:
        """Multi-hot ``float32`` matrix ``[N, len(tree)]`` of lists of label names."""
        rows = list(label_sets)
        out = np.zeros((len(rows), len(self)), dtype=np.float32)
        for row, labels in enumerate(rows):
            if isinstance(labels, str):
                raise ValueError(
                    f"row {row}: labels must be a list of names, got the string {labels!r}"
                )
            for name in labels:
                if name not in self._index:
                    raise ValueError(f"row {row}: unknown label {name!r}")
                out[row, self._index[name]] = 1.0
        return out

    def decode(self, multi_hot: Matrix) -> list[list[str]]:
        """Lists of label names of the non-zero entries of each row."""
        dense = _to_numpy(multi_hot)
        self._check_width(dense.shape)
        return [[self._names[j] for j in np.flatnonzero(row)] for row in dense]

    def closure(self, multi_hot: Matrix) -> Matrix:
        """Add every ancestor of every present label (values become 0/1)."""
        self._check_width(multi_hot.shape)
        return _binary_matmul(multi_hot, self._ancestor_matrix(), len(self))

    def most_specific(self, multi_hot: Matrix) -> np.ndarray:
        """``[N, L]`` bool: each row's labels that have no child in the same row.

        On ancestor-closed rows this is the leaf label set (the codes without their
        categories and chapters); rows that are not ancestor-closed keep every label
        whose children are absent.
        """
        self._check_width(multi_hot.shape)
        labels = _to_numpy(multi_hot) > 0
        rows, columns = np.nonzero(labels)
        parents = self._parent[columns]
        inner = parents >= 0
        has_child = np.zeros_like(labels)
        has_child[rows[inner], parents[inner]] = True
        return labels & ~has_child

    def level_view(self, multi_hot: Matrix, depth: int) -> Matrix:
        """``[N, |level|]`` multi-hot: each label replaced by its ancestor at ``depth``.

        Columns follow :meth:`level_ids`; labels shallower than ``depth`` drop out.
        """
        self._check_width(multi_hot.shape)
        return _binary_matmul(multi_hot, self._level_matrix(depth), len(self.level_ids(depth)))

    def is_consistent(self, multi_hot: Matrix) -> bool:
        """``True`` when no present label lacks its parent."""
        return not bool(self.violations(multi_hot).any())

    def violations(self, multi_hot: Matrix) -> np.ndarray:
        """Boolean ``[N, len(tree)]``: label present while its parent is absent."""
        self._check_width(multi_hot.shape)
        dense = _to_numpy(multi_hot) != 0
        has_parent = self._parent >= 0
        out = np.zeros_like(dense)
        out[:, has_parent] = dense[:, has_parent] & ~dense[:, self._parent[has_parent]]
        return out

    def consistent_decoding(self, predictions: Matrix) -> Matrix:
        """Drop every predicted label whose parent is not predicted (top-down, level by level).

        A label survives only when its whole ancestor path is predicted, so the result is
        always :meth:`is_consistent`. Works on NumPy arrays and torch tensors of 0/1 or bool.
        """
        self._check_width(predictions.shape)
        is_tensor = isinstance(predictions, torch.Tensor)
        keep = (predictions != 0).clone() if is_tensor else np.asarray(predictions) != 0
        for depth in range(2, self.num_levels + 1):
            ids = self.level_ids(depth)
            parents = self._parent[ids]
            if is_tensor:
                ids_t = torch.as_tensor(ids, device=keep.device)
                keep[:, ids_t] &= keep[:, torch.as_tensor(parents, device=keep.device)]
            else:
                keep[:, ids] &= keep[:, parents]
        return (
            keep.to(predictions.dtype) if is_tensor else keep.astype(np.asarray(predictions).dtype)
        )

    def _check_width(self, shape: tuple[int, ...]) -> None:
        if len(shape) != 2 or shape[1] != len(self):
            raise ValueError(
                f"expected a multi-hot matrix of shape [N, {len(self)}], got {tuple(shape)}"
            )

    def _ancestor_matrix(self) -> sp.csr_array:
        """``A[i, a] = 1`` when ``a`` is ``i`` or an ancestor of ``i``."""
        rows, cols = np.nonzero(self._ancestor_at_depth.T >= 0)
        return sp.csr_array(
            (np.ones(len(rows), dtype=np.float32), (rows, self._ancestor_at_depth.T[rows, cols])),
            shape=(len(self), len(self)),
        )

    def _level_matrix(self, depth: int) -> sp.csr_array:
        """``P[i, c] = 1`` when level column ``c`` is ``i``'s ancestor-or-self at ``depth``."""
        ancestor = self.ancestor_at_depth(depth)
        column_of = np.full(len(self), -1, dtype=np.int64)
        column_of[self.level_ids(depth)] = np.arange(len(self.level_ids(depth)))
        rows = np.flatnonzero(ancestor >= 0)
        return sp.csr_array(
            (np.ones(len(rows), dtype=np.float32), (rows, column_of[ancestor[rows]])),
            shape=(len(self), len(self.level_ids(depth))),
        )


def _depths(names: list[str], parent: np.ndarray) -> np.ndarray:
    """Depth of every label (roots 1); ``ValueError`` naming the labels of a cycle."""
    depth = np.zeros(len(parent), dtype=np.int64)
    for start in range(len(parent)):
        path = []
        node = start
        on_path: set[int] = set()
        while node >= 0 and depth[node] == 0:
            if node in on_path:
                cycle = path[path.index(node) :]
                raise ValueError(
                    "the parent links form a cycle: "
                    + " -> ".join(repr(names[i]) for i in [*cycle, node])
                )
            on_path.add(node)
            path.append(node)
            node = int(parent[node])
        base = depth[node] if node >= 0 else 0
        for offset, visited in enumerate(reversed(path), start=1):
            depth[visited] = base + offset
    return depth


def _ancestor_table(parent: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """``table[d - 1, i]`` = ancestor-or-self of ``i`` at depth ``d``, ``-1`` if none."""
    levels = int(depth.max()) if len(depth) else 0
    table = np.full((levels, len(parent)), -1, dtype=np.int64)
    current = np.arange(len(parent))
    current_depth = depth.copy()
    # Walk every label up one step per round, recording where it stands at each depth.
    for _ in range(levels):
        alive = current >= 0
        table[current_depth[alive] - 1, np.flatnonzero(alive)] = current[alive]
        current = np.where(alive, parent[np.maximum(current, 0)], -1)
        current_depth = current_depth - 1
    return table


def _to_numpy(matrix: Any) -> np.ndarray:
    if isinstance(matrix, torch.Tensor):
        return matrix.detach().cpu().numpy()
    if sp.issparse(matrix):
        return matrix.toarray()
    return np.asarray(matrix)


def _binary_matmul(matrix: Any, projection: sp.csr_array, width: int) -> Any:
    """``(matrix != 0) @ projection > 0`` in the kind and dtype of ``matrix``."""
    if isinstance(matrix, torch.Tensor):
        coo = projection.tocoo()
        proj = torch.sparse_coo_tensor(
            np.vstack([coo.row, coo.col]),
            coo.data,
            size=(projection.shape[0], width),
            device=matrix.device,
            dtype=torch.float32,
            check_invariants=False,
        )
        counts = torch.sparse.mm(proj.t(), (matrix != 0).float().t()).t()
        return (counts > 0).to(matrix.dtype)
    if sp.issparse(matrix):
        binary = (sp.csr_array(matrix) != 0).astype(np.float32)
        return sp.csr_array((binary @ projection) > 0).astype(matrix.dtype)
    dense = np.asarray(matrix)
    counts = projection.T @ (dense != 0).astype(np.float32).T
    return (np.asarray(counts).T > 0).astype(dense.dtype)
