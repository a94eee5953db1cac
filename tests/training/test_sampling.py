"""LabelBatchSampler: label-grouped batches, deterministic per (seed, epoch), in the Trainer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mlcl_text import LabelTree
from mlcl_text.training.sampling import LabelBatchSampler, sampling_view

TREE = LabelTree.from_paths(["A/a1", "A/a2", "B/b1", "B/b2", "C/c1"], sep="/")


def random_labels(n: int, seed: int, tree: LabelTree = TREE) -> np.ndarray:
    """Ancestor-closed multi-hot rows with one or two leaves each."""
    rng = np.random.default_rng(seed)
    leaves = [tree.index(name) for name in tree.leaves]
    rows = np.zeros((n, len(tree)), dtype=np.float32)
    for row in rows:
        row[rng.choice(leaves, size=int(rng.integers(1, 3)), replace=False)] = 1
    return np.asarray(tree.closure(rows))


def batches(sampler: LabelBatchSampler) -> list[list[int]]:
    stream = list(sampler)
    size = sampler.batch_size
    return [stream[i : i + size] for i in range(0, len(stream), size)]


def test_every_batch_is_label_groups_of_distinct_documents():
    labels = random_labels(200, seed=0)
    view = sampling_view(labels, TREE)
    sampler = LabelBatchSampler(view, batch_size=16, per_label=4, seed=0)
    assert len(sampler) == 13 * 16  # ceil(200 / 16) batches, as a random epoch
    for batch in batches(sampler):
        assert len(batch) == 16 and len(set(batch)) == 16
        rows = view[batch]
        shared = rows.astype(int) @ rows.T.astype(int)
        np.fill_diagonal(shared, 0)
        assert (shared.max(axis=1) > 0).all()  # every document shares a finest label


def test_random_batches_leave_rare_labels_without_positives_the_sampler_does_not():
    """One label in 40 documents: random batches of 8 seldom hold two of them."""
    tree = LabelTree.from_labels([f"l{i}" for i in range(40)])
    labels = np.eye(40, dtype=np.float32)[np.arange(400) % 40]
    sampler = LabelBatchSampler(labels, batch_size=8, per_label=2, seed=0)
    grouped = np.mean(
        [(labels[b] @ labels[b].T - np.eye(8)).max(axis=1).mean() for b in batches(sampler)]
    )
    order = np.random.default_rng(0).permutation(400)
    shuffled = np.mean(
        [(labels[b] @ labels[b].T - np.eye(8)).max(axis=1).mean() for b in order.reshape(-1, 8)]
    )
    assert grouped == 1.0 and shuffled < 0.3
    assert sampling_view(labels, tree).shape == labels.shape


def test_the_order_depends_on_seed_and_epoch_only():
    labels = random_labels(100, seed=1)
    first = LabelBatchSampler(labels, 8, 2, seed=3)
    again = LabelBatchSampler(labels, 8, 2, seed=3)
    assert list(first) == list(again)
    other_seed = LabelBatchSampler(labels, 8, 2, seed=4)
    assert list(first) != list(other_seed)
    epoch_zero = list(first)
    first.set_epoch(1)
    assert list(first) != epoch_zero
    first.set_epoch(0)
    assert list(first) == epoch_zero


def test_sampling_views():
    labels = random_labels(30, seed=2)
    finest = sampling_view(labels, TREE)
    roots = [TREE.index(n) for n in TREE.roots]
    assert not finest[:, roots].any()  # ancestor-closed rows: only the leaves remain
    assert (finest.sum(axis=1) >= 1).all()
    top = sampling_view(labels, TREE, level=1)
    assert top.shape == (30, 3)
    np.testing.assert_array_equal(top, labels[:, TREE.level_ids(1)] > 0)
    with pytest.raises(ValueError, match=r"sampler_level must be in 1\.\.2"):
        sampling_view(labels, TREE, level=3)
    with pytest.raises(ValueError, match="needs a label tree"):
        sampling_view(labels, None, level=1)


def test_most_specific_keeps_labels_without_a_child_in_the_row():
    names = TREE.names
    row = np.zeros((1, len(TREE)))
    row[0, [names.index("A"), names.index("A/a1"), names.index("B")]] = 1
    kept = {names[i] for i in np.flatnonzero(TREE.most_specific(row)[0])}
    assert kept == {"A/a1", "B"}


def test_small_data_and_few_labels_still_fill_every_batch():
    labels = np.zeros((6, 3), dtype=np.float32)
    labels[:2, 0] = 1  # one label with two documents, the rest unlabelled
    sampler = LabelBatchSampler(labels, batch_size=8, per_label=2, seed=0)
    (batch,) = batches(sampler)
    assert len(batch) == 8 and set(batch) == set(range(6))
    assert {0, 1} <= set(batch[:2])


@pytest.mark.parametrize(
    ("batch_size", "per_label", "message"),
    [(8, 1, "must be >= 2"), (10, 4, "must be a multiple")],
)
def test_bad_settings(batch_size, per_label, message):
    with pytest.raises(ValueError, match=message):
        LabelBatchSampler(np.eye(4), batch_size, per_label, seed=0)


def test_the_trainer_draws_its_batches_from_the_sampler(tmp_path, deterministic_encoder_dir):
    from tests.helpers.tiny_trainer import TREE as TRAINER_TREE
    from tests.helpers.tiny_trainer import make_args, make_model, separable_dataset, trainer_for

    data = separable_dataset(64, seed=5)
    args = make_args(tmp_path, batch_sampler="labels", samples_per_label=4)
    trainer = trainer_for(make_model(deterministic_encoder_dir), args, data)
    loader = trainer.get_train_dataloader()
    assert isinstance(trainer._get_train_sampler(), LabelBatchSampler)
    finest = torch.as_tensor(sampling_view(np.asarray(data["labels"]), TRAINER_TREE))
    row_of = {tuple(ids): row for row, ids in enumerate(data["input_ids"])}
    for batch in loader:
        rows = finest[[row_of[tuple(ids)] for ids in batch["input_ids"].tolist()]]
        shared = rows.float() @ rows.float().T - torch.diag((rows.float() ** 2).sum(1))
        assert (shared.max(dim=1).values > 0).all()


def test_bad_sampler_arguments(tmp_path):
    from mlcl_text.training.arguments import MLCLTrainingArguments

    with pytest.raises(ValueError, match="batch_sampler must be one of"):
        MLCLTrainingArguments(output_dir=str(tmp_path), batch_sampler="balanced")
    with pytest.raises(
        ValueError,
        match=r"needs samples_per_label dividing per_device_train_batch_size \(6\), got 4",
    ):
        MLCLTrainingArguments(
            output_dir=str(tmp_path),
            batch_sampler="labels",
            per_device_train_batch_size=6,
            samples_per_label=4,
        )


def test_the_batches_of_one_global_step_share_no_document():
    labels = random_labels(120, seed=4)
    sampler = LabelBatchSampler(sampling_view(labels, TREE), 8, 2, seed=0, num_replicas=3)
    chunks = batches(sampler)
    for step in range(0, len(chunks) - 2, 3):
        together = chunks[step] + chunks[step + 1] + chunks[step + 2]
        assert len(set(together)) == 24
