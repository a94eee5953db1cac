"""The packaged data sets load offline through the named loader, as their metadata says."""

from __future__ import annotations

import gzip
import json
from importlib.resources import files

import pytest

from mlcl_text.data import DataError, available, load
from mlcl_text.data.packaged import PACKAGED, packaged_file

#: name → (depth of its label tree, whether a document may sit on several paths)
SHAPES = {"appstream": (1, True), "hpo": (2, True), "icd10cm": (2, False), "pypi": (1, True)}


def _metadata(name: str) -> dict:
    return json.loads((files("mlcl_text.data") / name / "metadata.json").read_text("utf-8"))


@pytest.fixture(scope="module", params=sorted(SHAPES))
def loaded(request):
    name = request.param
    return name, *load(name)


def test_every_packaged_set_is_registered():
    assert set(SHAPES) | {"debtags"} == set(PACKAGED)
    assert set(PACKAGED) <= set(available())


def test_split_sizes_match_the_metadata(loaded):
    name, dataset, _ = loaded
    statistics = _metadata(name)["statistics"]
    sizes = {split: len(dataset[split]) for split in dataset}
    assert list(sizes) == ["train", "validation", "test"]
    assert all(sizes.values()), sizes
    assert sum(sizes.values()) == statistics.get("documents", sum(sizes.values()))
    ids = [set(dataset[split]["id"]) for split in dataset]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])


def test_labels_are_closed_under_ancestors_and_the_tree_has_the_stated_shape(loaded):
    name, dataset, tree = loaded
    depth, several_paths = SHAPES[name]
    assert tree.num_levels == depth
    multi_path = False
    for labels in dataset["train"]["labels"]:
        assert labels, "a document without labels"
        assert tree.with_ancestors(labels) == labels
        leaves = [label for label in labels if not set(tree.children(label)) & set(labels)]
        multi_path |= len(leaves) > 1
    assert multi_path == several_paths


def test_max_train_subsamples_training_only_and_is_seeded(loaded):
    name, dataset, _ = loaded
    small, _ = load(name, max_train=50, seed=1)
    again, _ = load(name, max_train=50, seed=1)
    other, _ = load(name, max_train=50, seed=2)
    assert len(small["train"]) == 50
    assert small["train"]["id"] == again["train"]["id"] != other["train"]["id"]
    assert set(small["train"]["id"]) <= set(dataset["train"]["id"])
    assert small["validation"]["id"] == dataset["validation"]["id"]


def test_a_bad_row_in_a_user_file_is_named_by_file_and_line(tmp_path):
    good = gzip.decompress(packaged_file("hpo").read_bytes()).decode().splitlines()[:3]
    bad = json.loads(good[1])
    bad["labels"] = []
    path = tmp_path / "hpo.jsonl"
    path.write_text("\n".join([good[0], json.dumps(bad), good[2]]) + "\n")
    with pytest.raises(DataError, match=r"hpo\.jsonl:2: 'labels' must be a non-empty list"):
        load("hpo", path=str(tmp_path / "hpo.jsonl"))
