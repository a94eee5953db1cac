"""Head coverage: positives per anchor in replayed training batches, against a plain loop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlcl_text import LabelTree
from mlcl_text.cli.main import main
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.training.coverage import BatchSetup, measure_coverage, step_batches
from tests.helpers.recipe_files import write_files_recipe

TREE = LabelTree.from_paths([f"{top}/{leaf}" for top in "ABCD" for leaf in "xyz"], sep="/")
LEAVES = [TREE.index(n) for n in TREE.leaves]


def closed_labels(n: int, seed: int, leaves: int = 12) -> np.ndarray:
    """One leaf per row (of the first ``leaves`` leaves) and its root."""
    rng = np.random.default_rng(seed)
    rows = np.zeros((n, len(TREE)), dtype=np.float32)
    rows[np.arange(n), np.asarray(LEAVES[:leaves])[rng.integers(leaves, size=n)]] = 1
    return np.asarray(TREE.closure(rows))


def loop_share(labels: np.ndarray, setup: BatchSetup, steps: int, same) -> float:
    """Share of anchors with a positive, one pair at a time (single process, no memory)."""
    batches = step_batches(labels, setup, TREE)
    found = total = 0
    for _ in range(steps):
        (rows,) = next(batches)
        rows = list(rows) * setup.views
        for i, anchor in enumerate(rows):
            total += 1
            found += any(
                same(labels[anchor], labels[other]) for j, other in enumerate(rows) if j != i
            )
    return found / total


LEAF_SAME = lambda a, b: bool(np.array_equal(a, b) and a.any())  # noqa: E731


def test_shares_equal_a_plain_loop():
    labels = closed_labels(300, seed=0)
    head = ContrastiveHeadSpec("exact", positives="all")
    for setup in (BatchSetup(batch_size=8), BatchSetup(batch_size=8, views=2)):
        (coverage,) = measure_coverage([head], TREE, labels, setup, steps=30)
        assert coverage.with_positive == pytest.approx(loop_share(labels, setup, 30, LEAF_SAME))
        assert coverage.candidates == setup.rows_per_step - 1
    assert coverage.with_positive == 1.0  # the second view is always a positive


def test_two_rows_per_batch_make_a_head_identically_zero():
    labels = closed_labels(100, seed=1, leaves=2)
    head = ContrastiveHeadSpec("codes", positives="sd")
    (coverage,) = measure_coverage([head], TREE, labels, BatchSetup(batch_size=2), steps=20)
    assert coverage.with_positive > 0.3  # positives exist, yet each is the only candidate
    assert coverage.status == "zero" and "identically zero" in coverage.summary()


def test_memory_and_processes_enlarge_the_contrast_set():
    labels = closed_labels(400, seed=2)
    head = [ContrastiveHeadSpec("exact", positives="all")]
    (small,) = measure_coverage(head, TREE, labels, BatchSetup(batch_size=4), steps=40)
    (memory,) = measure_coverage(
        head, TREE, labels, BatchSetup(batch_size=4, memory_size=64), steps=40
    )
    (gathered,) = measure_coverage(
        head, TREE, labels, BatchSetup(batch_size=4, processes=4), steps=40
    )
    assert small.status == "starved" and "batch_sampler: labels" in small.summary()
    assert memory.candidates == 4 + 64 - 1 and gathered.candidates == 16 - 1
    assert memory.with_positive > 0.9 > gathered.with_positive > small.with_positive


def test_the_label_sampler_gives_every_anchor_a_positive():
    labels = closed_labels(400, seed=3)
    head = [ContrastiveHeadSpec("exact", positives="all")]
    setup = BatchSetup(batch_size=8, sampler="labels", samples_per_label=2)
    (coverage,) = measure_coverage(head, TREE, labels, setup, steps=40)
    assert coverage.with_positive == 1.0 and coverage.status == "ok"


def test_a_hierarchical_head_is_reported_per_level():
    labels = closed_labels(200, seed=4)
    head = [ContrastiveHeadSpec("tree", positives="himulcone")]
    levels = measure_coverage(head, TREE, labels, BatchSetup(batch_size=8), steps=20)
    assert [c.head for c in levels] == ["tree level 2", "tree level 1"]
    finest, top = levels
    roots = TREE.level_ids(1)
    roots_same = lambda a, b: bool(a[roots].any() and np.array_equal(a[roots], b[roots]))  # noqa: E731
    assert top.with_positive == pytest.approx(
        loop_share(labels, BatchSetup(batch_size=8), 20, roots_same)
    )
    assert finest.with_positive < top.with_positive


def test_inspect_prints_a_table_per_head(tmp_path, model_dir, data_dir, capsys):
    heads = [{"name": "top", "positives": "all", "level": 1}, {"name": "leaf", "positives": "all"}]
    recipe = write_files_recipe(tmp_path / "r.yaml", model_dir, data_dir, heads=heads)
    assert main(["inspect", str(recipe), "--steps", "5", "--processes", "2"]) == 0
    out = capsys.readouterr().out
    assert "24 training documents, 5 labels" in out
    assert "contrast set batch 8 × 2 processes = 16 rows (random batches); 5 steps" in out
    assert "| top |" in out and "| leaf |" in out

    bce = write_files_recipe(tmp_path / "bce.yaml", model_dir, data_dir, heads=[])
    assert main(["inspect", str(bce)]) == 0
    assert "no contrastive heads" in capsys.readouterr().out


def test_inspect_names_missing_data_in_one_line(tmp_path, capsys):
    recipe = Path(__file__).resolve().parents[2] / "recipes" / "mimic3-50" / "sd.yaml"
    missing = tmp_path / "no-mimic"
    assert main(["inspect", str(recipe), "--set", f"dataset_path={missing}"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("mlcl-text: error: ") and str(missing) in error
    assert len(error.splitlines()) == 1
