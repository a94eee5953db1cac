"""Few-shot and fraction subsets: guarantees, minimality, seeds, index files, stratification."""

from __future__ import annotations

import json

import numpy as np
import pytest
from datasets import Dataset, DatasetDict

from mlcl_text.data.subset_index import SubsetResult
from mlcl_text.data.subsets import fraction, k_per_label, make_subset, subsets_for_seeds
from mlcl_text.hierarchy import LabelTree

RARE = "Médecine/Ünïcode/rare"  # non-ASCII on purpose: the index file is UTF-8
EMPTY = "Médecine/Ünïcode/empty"


def _closed(tree: LabelTree, leaves) -> list[str]:
    names = set()
    for leaf in leaves:
        names.add(leaf)
        names.update(tree.ancestors(leaf))
    return sorted(names, key=tree.index)


def _synthetic(num_docs: int, seed: int = 0) -> tuple[Dataset, LabelTree]:
    """3 roots × 4 children × 3 leaves, Zipf-like leaf frequencies, 1-3 leaves per document,
    plus a leaf with 2 documents (RARE) and a leaf with none (EMPTY)."""
    rng = np.random.default_rng(seed)
    paths = [f"r{a}/c{b}/g{c}" for a in range(3) for b in range(4) for c in range(3)]
    tree = LabelTree.from_paths([*paths, RARE, EMPTY])
    weights = 1.0 / np.arange(1, len(paths) + 1) ** 0.8
    weights = weights[rng.permutation(len(paths))] / weights.sum()
    label_sets = []
    for _ in range(num_docs):
        size = int(rng.integers(1, 4))
        label_sets.append(_closed(tree, rng.choice(paths, size=size, replace=False, p=weights)))
    for row in (5, 17):
        label_sets[row] = _closed(tree, [RARE, paths[0]])
    data = Dataset.from_dict(
        {
            "id": [f"doc-{i}" for i in range(num_docs)],
            "text": [f"text of document {i}" for i in range(num_docs)],
            "labels": label_sets,
        }
    )
    return data, tree


@pytest.fixture(scope="module")
def synthetic() -> tuple[Dataset, LabelTree]:
    return _synthetic(600)


@pytest.fixture(scope="module")
def large() -> tuple[Dataset, LabelTree]:
    return _synthetic(2000, seed=1)


def _counts(rows: Dataset) -> dict[str, int]:
    out: dict[str, int] = {}
    for labels in rows["labels"]:
        for name in labels:
            out[name] = out.get(name, 0) + 1
    return out


def _multi_hot(data: Dataset, names: list[str]) -> np.ndarray:
    column = {name: j for j, name in enumerate(names)}
    out = np.zeros((data.num_rows, len(names)))
    for row, labels in enumerate(data["labels"]):
        for name in labels:
            if name in column:
                out[row, column[name]] = 1
    return out


# ---------------------------------------------------------------------------- k_per_label


@pytest.mark.parametrize("k", [1, 3, 5])
@pytest.mark.parametrize("labels", ["leaves", "all"])
def test_every_reachable_label_gets_k(synthetic, k, labels):
    data, tree = synthetic
    result = k_per_label(data, tree, k=k, seed=0, labels=labels)
    targets = tree.leaves if labels == "leaves" else tree.names
    available = _counts(data)
    counts = _counts(result.apply(data))
    assert counts == result.label_counts
    for name in targets:
        if available.get(name, 0) >= k:
            assert counts.get(name, 0) >= k, name
        else:  # unreachable: all of its documents are taken, and it is reported
            assert counts.get(name, 0) == available.get(name, 0)
            assert result.unreachable[name] == available.get(name, 0)
    assert result.indices == sorted(set(result.indices))
    assert result.params["method"] == "k_per_label"
    assert result.params["k"] == k
    assert result.params["labels"] == labels


def test_unreachable_labels_are_reported_with_their_counts(synthetic):
    data, tree = synthetic
    result = k_per_label(data, tree, k=3)
    assert result.unreachable == {RARE: 2, EMPTY: 0}
    assert {5, 17} <= set(result.indices)  # both documents of the rare label are taken
    assert k_per_label(data, tree, k=2).unreachable == {EMPTY: 0}


def test_greedy_is_no_larger_than_naive_union(synthetic):
    data, tree = synthetic
    k = 3
    matrix = _multi_hot(data, tree.leaves)
    greedy = k_per_label(data, tree, k=k, seed=0)
    for seed in range(3):  # naive: k random documents per label, independently, then union
        rng = np.random.default_rng(seed)
        naive: set[int] = set()
        for j in range(matrix.shape[1]):
            docs = np.flatnonzero(matrix[:, j])
            naive.update(rng.choice(docs, size=min(k, len(docs)), replace=False).tolist())
        assert len(greedy) <= len(naive)
    # a cover never needs more than k documents per label
    assert len(greedy) <= k * len(tree.leaves)


def test_one_document_covering_everything_gives_exactly_k():
    tree = LabelTree.from_paths(["a/x", "a/y", "b/z", "b/w", "c"])
    rows = [tree.leaves] * 7 + [[leaf] for leaf in tree.leaves for _ in range(10)]
    label_sets = [_closed(tree, leaves) for leaves in rows]
    data = Dataset.from_dict(
        {"id": list(range(len(rows))), "text": ["t"] * len(rows), "labels": label_sets}
    )
    for seed in range(3):
        result = k_per_label(data, tree, k=4, seed=seed)
        assert len(result) == 4
        assert set(result.indices) <= set(range(7))
        assert result.unreachable == {}


def test_level_restricts_the_target_labels(synthetic):
    data, tree = synthetic
    k = 4
    by_level = k_per_label(data, tree, k=k, level=1)
    roots = tree.level(1)
    counts = by_level.label_counts
    assert by_level.unreachable == {"Médecine": 2}  # the root of RARE and EMPTY
    assert all(counts.get(root, 0) >= k for root in roots if root != "Médecine")
    assert len(by_level) <= k * len(roots)
    # leaves are not targets: some fall short, and none is reported as unreachable
    assert any(counts.get(leaf, 0) < k for leaf in tree.leaves)
    assert by_level.params["level"] == 1
    # level 3 = the 36 synthetic leaves plus RARE and EMPTY (the last two, unreachable)
    level3 = k_per_label(data, tree, k=k, level=3)
    assert set(level3.unreachable) == {RARE, EMPTY}
    assert all(level3.label_counts.get(name, 0) >= k for name in tree.level(3)[:-2])
    level2 = k_per_label(data, tree, k=k, level=2)
    assert level2.unreachable == {"Médecine/Ünïcode": 2}
    assert all(level2.label_counts.get(name, 0) >= k for name in tree.level(2)[:-1])
    with pytest.raises(ValueError, match="level 4"):
        k_per_label(data, tree, k=k, level=4)


def test_seeds_change_the_subset_and_the_same_seed_repeats_it(synthetic):
    data, tree = synthetic
    results = subsets_for_seeds(data, tree, "k_per_label", seeds=(0, 1, 2), k=2)
    assert [r.params["seed"] for r in results] == [0, 1, 2]
    index_sets = [tuple(r.indices) for r in results]
    assert len(set(index_sets)) == 3
    assert k_per_label(data, tree, k=2, seed=1) == results[1]
    again = subsets_for_seeds(data, tree, fraction, seeds=(0, 1), fraction=0.1)
    assert again == subsets_for_seeds(data, tree, "fraction", seeds=(0, 1), fraction=0.1)
    assert again[0].indices != again[1].indices


def test_bad_arguments(synthetic):
    data, tree = synthetic
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="k must be"):
            k_per_label(data, tree, k=bad)
    with pytest.raises(ValueError, match="labels must be"):
        k_per_label(data, tree, k=1, labels="nodes")
    for bad in (0, 1.5, -0.1):
        with pytest.raises(ValueError, match="fraction must be"):
            fraction(data, tree, bad)
    with pytest.raises(ValueError, match="not a label of the tree"):
        k_per_label(data, LabelTree.from_paths(["r0/c0/g0"]), k=1)
    with pytest.raises(ValueError, match="pass seeds"):
        subsets_for_seeds(data, tree, "fraction", seed=3, fraction=0.1)


# ---------------------------------------------------------------------------- index files


def test_save_load_apply_reproduces_the_rows(synthetic, tmp_path):
    data, tree = synthetic
    result = k_per_label(data, tree, k=3, seed=2, labels="all")
    path = result.save(tmp_path / "nested" / "k3.json")
    text = path.read_text(encoding="utf-8")
    assert RARE in text  # UTF-8, not \\u escapes
    assert '\n  "params": {' in text  # pretty-printed
    stored = json.loads(text)
    assert stored["indices"] == result.indices
    assert stored["params"]["num_rows"] == data.num_rows
    assert stored["params"]["fingerprint_field"] == "id"
    loaded = SubsetResult.load(path)
    assert loaded == result
    assert loaded.source == str(path)
    assert loaded.apply(data)["id"] == data.select(result.indices)["id"]
    # a DatasetDict works too: the subset picks its split by name
    splits = DatasetDict({"train": data, "test": data.select(range(10))})
    assert loaded.apply(splits)["id"] == data.select(result.indices)["id"]


def test_mismatched_split_is_refused_naming_the_file(synthetic, tmp_path):
    data, tree = synthetic
    path = tmp_path / "subset.json"
    loaded = SubsetResult.load(k_per_label(data, tree, k=2).save(path))
    with pytest.raises(ValueError, match=r"subset\.json.*rows"):
        loaded.apply(data.select(range(data.num_rows - 1)))
    with pytest.raises(ValueError, match=r"subset\.json.*fingerprint"):
        loaded.apply(data.shuffle(seed=0))
    renamed = data.map(lambda row: {"id": row["id"] + "x"})
    with pytest.raises(ValueError, match=r"subset\.json"):
        loaded.apply(renamed)
    # without an id column, the texts are fingerprinted
    no_ids = data.remove_columns("id")
    by_text = k_per_label(no_ids, tree, k=2)
    assert by_text.params["fingerprint_field"] == "text"
    assert by_text.apply(no_ids).num_rows == len(by_text)
    edited = no_ids.map(
        lambda row, i: {"text": row["text"] + ("!" if i == 3 else "")}, with_indices=True
    )
    with pytest.raises(ValueError, match="fingerprint"):
        by_text.apply(edited)


def test_save_refuses_to_overwrite_a_different_file(synthetic, tmp_path):
    data, tree = synthetic
    path = tmp_path / "subset.json"
    first = k_per_label(data, tree, k=2, seed=0)
    second = k_per_label(data, tree, k=2, seed=1)
    first.save(path)
    first.save(path)  # same content: fine
    with pytest.raises(FileExistsError, match="overwrite=True"):
        second.save(path)
    assert SubsetResult.load(path) == first
    second.save(path, overwrite=True)
    assert SubsetResult.load(path) == second
    path.with_name("junk.json").write_text("not json", encoding="utf-8")
    with pytest.raises(FileExistsError):
        first.save(path.with_name("junk.json"))
    with pytest.raises(ValueError, match=r"junk\.json"):
        SubsetResult.load(path.with_name("junk.json"))


# ---------------------------------------------------------------------------- fraction


@pytest.mark.parametrize("share", [0.05, 0.1, 0.2])
def test_fraction_size_and_stratification(large, share):
    data, tree = large
    num_docs = data.num_rows
    leaves = [leaf for leaf in tree.leaves if leaf != EMPTY]
    matrix = _multi_hot(data, leaves)
    full = matrix.mean(axis=0)
    random_deviation = []
    for seed in range(3):
        result = fraction(data, tree, share, seed=seed)
        size = len(result)
        assert abs(size - share * num_docs) <= 1
        assert result.params["fraction"] == share
        assert result.unreachable == {}
        subset = matrix[result.indices]
        # Iterative stratification hands out each label's documents to the side that still
        # wants most of it, so each label's count stays within about one document of
        # share · n_j: the mean absolute deviation of the proportions is below 1 / size.
        deviation = np.abs(subset.mean(axis=0) - full).mean()
        assert deviation < 1 / size
        rng = np.random.default_rng(100 + seed)
        random_deviation += [
            np.abs(matrix[rng.choice(num_docs, size, replace=False)].mean(axis=0) - full).mean()
            for _ in range(3)
        ]
        assert deviation < np.mean(random_deviation)


def test_fraction_on_single_label_data():
    rng = np.random.default_rng(0)
    classes = [f"class{i}" for i in range(6)]
    tree = LabelTree.from_labels(classes)
    picks = rng.choice(6, size=900, p=[0.4, 0.25, 0.15, 0.1, 0.07, 0.03])
    data = Dataset.from_dict(
        {"text": [f"t{i}" for i in range(900)], "labels": [[classes[c]] for c in picks]}
    )
    result = fraction(data, tree, 0.1, seed=3)
    assert len(result) == 90
    totals = np.bincount(picks, minlength=6)
    for c, name in enumerate(classes):
        assert abs(result.label_counts.get(name, 0) - 0.1 * totals[c]) <= 1
    assert fraction(data, tree, 1.0).indices == list(range(900))
    one = LabelTree.from_labels(["only"])
    single = Dataset.from_dict({"text": ["a", "b", "c", "d"], "labels": [["only"]] * 4})
    assert len(fraction(single, one, 0.5)) == 2


def test_fraction_by_level_and_all_nodes(large):
    data, tree = large
    by_level = fraction(data, tree, 0.1, level=1)
    assert by_level.params["level"] == 1
    totals = _counts(data)
    for root in tree.level(1):
        # within 3 documents of 10 %; random sampling's standard deviation is ~5-11 here
        assert abs(by_level.label_counts.get(root, 0) - 0.1 * totals.get(root, 0)) <= 3
    assert len(fraction(data, tree, 0.1, labels="all")) == 200


# ---------------------------------------------------------------------------- recipes


def test_make_subset_runs_recipes(synthetic):
    data, tree = synthetic
    spec = {"method": "k_per_label", "k": 2, "seed": 1, "level": 2}
    assert make_subset(spec, data, tree) == k_per_label(data, tree, k=2, seed=1, level=2)
    spec = {"method": "fraction", "fraction": 0.05, "seed": 0}
    assert make_subset(spec, data, tree) == fraction(data, tree, 0.05, seed=0)
    splits = DatasetDict({"train": data})
    assert make_subset({"method": "k_per_label", "k": 1}, splits, tree).params["split"] == "train"


def test_make_subset_rejects_bad_specs(synthetic):
    data, tree = synthetic
    with pytest.raises(ValueError, match=r"'kk'.*'shots'"):
        make_subset({"method": "k_per_label", "kk": 5, "shots": 1}, data, tree)
    with pytest.raises(ValueError, match="'k'"):
        make_subset({"method": "fraction", "fraction": 0.1, "k": 5}, data, tree)
    with pytest.raises(ValueError, match="method"):
        make_subset({"k": 5}, data, tree)
    with pytest.raises(ValueError, match="method"):
        make_subset({"method": "random", "k": 5}, data, tree)
    with pytest.raises(ValueError, match="lacks 'k'"):
        make_subset({"method": "k_per_label", "seed": 0}, data, tree)
