"""LabelTree: construction, structure, multi-hot views, serialisation and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from mlcl_text.hierarchy import LabelTree


@pytest.fixture
def wos_like() -> LabelTree:
    return LabelTree.from_paths(
        ["CS/ML", "CS/DB", "Medical/Cancer", "Medical/Cancer/Lung"], sep="/"
    )


def test_from_paths_names_prefixes_in_first_appearance_order(wos_like):
    assert wos_like.names == [
        "CS",
        "CS/ML",
        "CS/DB",
        "Medical",
        "Medical/Cancer",
        "Medical/Cancer/Lung",
    ]
    assert wos_like.parent("CS/ML") == "CS"
    assert wos_like.parent("CS") is None
    assert wos_like.depth("Medical/Cancer/Lung") == 3
    assert wos_like.num_levels == 3
    assert wos_like.roots == ["CS", "Medical"]
    assert wos_like.leaves == ["CS/ML", "CS/DB", "Medical/Cancer/Lung"]
    assert wos_like.children("CS") == ["CS/ML", "CS/DB"]
    assert wos_like.level(2) == ["CS/ML", "CS/DB", "Medical/Cancer"]


def test_from_paths_debtags_style_separators():
    tree = LabelTree.from_paths(
        ["devel::lang:python", "devel::lang:c", "role::program"], sep=("::", ":")
    )
    assert tree.ancestors("devel::lang:python") == ["devel", "devel::lang"]
    assert tree.parent("devel::lang:c") == "devel::lang"
    assert tree.depth("role::program") == 2
    assert "devel::lang" in tree


def test_from_paths_repeated_paths_are_merged():
    tree = LabelTree.from_paths(["a/b", "a/b", "a/c", "a"])
    assert tree.names == ["a", "a/b", "a/c"]


def test_from_parents_and_ids():
    tree = LabelTree.from_parents({"root": None, "x": "root", "y": "x"})
    assert tree.index("y") == 2
    assert tree.names[tree.index("x")] == "x"
    assert tree.ancestors("y") == ["root", "x"]
    assert tree.ancestors(2) == ["root", "x"]
    assert list(tree.parent_ids) == [-1, 0, 1]
    assert list(tree.depths) == [1, 2, 3]
    pairs = LabelTree.from_parents([("root", None), ("x", "root")])
    assert pairs.names == ["root", "x"]


def test_children_may_precede_parents():
    tree = LabelTree.from_parents({"leaf": "mid", "mid": "top", "top": None})
    assert tree.names == ["leaf", "mid", "top"]
    assert list(tree.depths) == [3, 2, 1]
    assert tree.ancestors("leaf") == ["top", "mid"]


def test_flat_labels_have_depth_one():
    tree = LabelTree.from_labels(["a", "b", "c"])
    assert tree.num_levels == 1
    assert tree.leaves == tree.roots == ["a", "b", "c"]
    y = tree.encode([["a", "c"], []])
    np.testing.assert_array_equal(tree.closure(y), y)
    assert tree.is_consistent(y)


def test_encode_decode_round_trip(wos_like):
    sets = [["CS/ML"], ["Medical", "Medical/Cancer"], []]
    y = wos_like.encode(sets)
    assert y.dtype == np.float32 and y.shape == (3, 6)
    assert wos_like.decode(y) == [["CS/ML"], ["Medical", "Medical/Cancer"], []]


def test_encode_names_row_and_label_at_fault(wos_like):
    with pytest.raises(ValueError, match=r"row 1: unknown label 'CS/AI'"):
        wos_like.encode([["CS/ML"], ["CS/AI"]])
    with pytest.raises(ValueError, match="row 0: labels must be a list"):
        wos_like.encode(["CS/ML"])


def _expected_closure(tree: LabelTree, y: np.ndarray) -> np.ndarray:
    out = y.copy()
    for row in range(y.shape[0]):
        for label in np.flatnonzero(y[row]):
            for ancestor in tree.ancestors(int(label)):
                out[row, tree.index(ancestor)] = 1
    return out


@pytest.mark.parametrize("kind", ["numpy", "torch", "scipy"])
def test_closure_adds_every_ancestor(wos_like, kind):
    y = wos_like.encode([["CS/ML"], ["Medical/Cancer/Lung"], ["CS/DB", "Medical"], []])
    expected = _expected_closure(wos_like, y)
    given = {"numpy": y, "torch": torch.tensor(y), "scipy": sp.csr_array(y)}[kind]
    closed = wos_like.closure(given)
    dense = {"numpy": lambda m: m, "torch": lambda m: m.numpy(), "scipy": lambda m: m.toarray()}[
        kind
    ](closed)
    np.testing.assert_array_equal(dense, expected)
    assert type(closed) is type(given)
    assert not wos_like.is_consistent(given)
    assert wos_like.is_consistent(closed)


def test_closure_keeps_dtype_and_is_idempotent(wos_like):
    y = wos_like.encode([["Medical/Cancer/Lung"]]).astype(np.int64)
    closed = wos_like.closure(y)
    assert closed.dtype == np.int64
    np.testing.assert_array_equal(wos_like.closure(closed), closed)


def test_with_ancestors_closes_names_in_tree_order(wos_like):
    names = ["Medical/Cancer/Lung", "CS/ML", "CS", "CS/ML"]
    closed = wos_like.with_ancestors(names)
    assert closed == ["CS", "CS/ML", "Medical", "Medical/Cancer", "Medical/Cancer/Lung"]
    assert closed == sorted(closed, key=wos_like.index)  # tree order, each name once
    rows = wos_like.encode([closed])
    np.testing.assert_array_equal(rows, wos_like.closure(wos_like.encode([names])))
    assert wos_like.with_ancestors([]) == []
    with pytest.raises(ValueError, match="unknown label 'Physics'"):
        wos_like.with_ancestors(["CS", "Physics"])
    with pytest.raises(ValueError, match="the string 'CS'"):
        wos_like.with_ancestors("CS")


@pytest.mark.parametrize("kind", ["numpy", "torch", "scipy"])
def test_level_view_replaces_labels_by_their_ancestor_at_depth(wos_like, kind):
    y = wos_like.encode([["CS/ML"], ["Medical/Cancer/Lung"], ["CS"], ["CS/DB", "Medical/Cancer"]])
    given = {"numpy": y, "torch": torch.tensor(y), "scipy": sp.csr_array(y)}[kind]
    level2 = wos_like.level_view(given, 2)
    dense = level2.toarray() if kind == "scipy" else np.asarray(level2)
    # columns: CS/ML, CS/DB, Medical/Cancer; "CS" alone is too shallow for level 2
    np.testing.assert_array_equal(dense, [[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 1, 1]])
    level1 = wos_like.level_view(y, 1)
    np.testing.assert_array_equal(level1, [[1, 0], [0, 1], [1, 0], [1, 1]])


def test_ancestor_at_depth(wos_like):
    lung = wos_like.index("Medical/Cancer/Lung")
    assert wos_like.ancestor_at_depth(1)[lung] == wos_like.index("Medical")
    assert wos_like.ancestor_at_depth(3)[lung] == lung
    assert wos_like.ancestor_at_depth(3)[wos_like.index("CS")] == -1
    with pytest.raises(ValueError, match=r"level 4 is outside 1\.\.3"):
        wos_like.ancestor_at_depth(4)


def test_violations_mark_labels_without_parent(wos_like):
    y = wos_like.encode([["CS", "CS/ML"], ["Medical/Cancer"]])
    violations = wos_like.violations(y)
    assert violations.sum() == 1
    assert violations[1, wos_like.index("Medical/Cancer")]


def test_to_dict_from_dict_round_trip_through_json(wos_like):
    restored = LabelTree.from_dict(json.loads(json.dumps(wos_like.to_dict())))
    assert restored == wos_like
    assert restored.names == wos_like.names
    assert [restored.parent(n) for n in restored] == [wos_like.parent(n) for n in wos_like]
    assert hash(restored) == hash(wos_like)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: LabelTree.from_parents({"a": "b", "b": "c", "c": "a"}),
            "cycle: 'a' -> 'b' -> 'c' -> 'a'",
        ),
        (lambda: LabelTree.from_parents({"a": "a"}), "'a' is its own parent"),
        (
            lambda: LabelTree.from_parents({"a": None, "b": "ghost"}),
            "parent 'ghost' of label 'b' is not a label",
        ),
        (
            lambda: LabelTree.from_parents([("a", None), ("a", None)]),
            "label name 'a' is used twice",
        ),
        (lambda: LabelTree.from_labels(["x", "x"]), "label name 'x' is used twice"),
        (lambda: LabelTree.from_labels(["x", " "]), "position 1 is empty"),
        (lambda: LabelTree.from_paths(["a//b"]), "label path 'a//b' has an empty segment"),
        (lambda: LabelTree.from_paths(["a", ""]), "position 1 is empty"),
        (
            lambda: LabelTree.from_parents([("a", None, "extra")]),
            r"entry 0 is not a \(child, parent\) pair",
        ),
        (lambda: LabelTree.from_dict({"names": ["a"]}), "needs 'names' and 'parents'"),
    ],
)
def test_bad_input_names_the_offender(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_unknown_label_and_wrong_width(wos_like):
    with pytest.raises(ValueError, match="unknown label 'nope'"):
        wos_like.index("nope")
    with pytest.raises(ValueError, match=r"shape \[N, 6\], got \(2, 5\)"):
        wos_like.closure(np.zeros((2, 5)))


def test_large_random_tree():
    """A 12k-label random tree (its build time is measured in bench/hierarchy.py)."""
    rng = np.random.default_rng(0)
    n = 12_000
    parent_of = [int(rng.integers(0, i)) if i else -1 for i in range(n)]
    tree = LabelTree.from_parents(
        {f"n{i}": (f"n{p}" if p >= 0 else None) for i, p in enumerate(parent_of)}
    )
    assert len(tree) == n
    expected_depth = [1] * n
    for i in range(1, n):
        expected_depth[i] = expected_depth[parent_of[i]] + 1
    assert list(tree.depths) == expected_depth
    y = np.zeros((4, n), dtype=np.float32)
    y[np.arange(4), rng.integers(0, n, 4)] = 1
    assert tree.is_consistent(tree.closure(y))


@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_consistent_decoding_keeps_only_full_paths(wos_like, kind):
    y = wos_like.encode(
        [
            ["CS", "CS/ML"],  # consistent: kept
            ["Medical/Cancer", "Medical/Cancer/Lung"],  # no root: both dropped
            ["Medical", "Medical/Cancer/Lung"],  # missing middle: leaf dropped
        ]
    )
    given = torch.tensor(y) if kind == "torch" else y
    decoded = wos_like.consistent_decoding(given)
    assert wos_like.decode(decoded) == [["CS", "CS/ML"], [], ["Medical"]]
    assert wos_like.is_consistent(decoded)
    assert type(decoded) is type(given)
