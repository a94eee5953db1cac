"""Two-process (gloo) training with ``MLCLTrainer`` equals one process on the combined batch.

Two spawned workers train the same tiny BERT MLCL model (three contrastive heads, no
dropout) for ``STEPS`` SGD steps with ``per_device_train_batch_size=8``; the parent trains the same
model in one process with batch 16. With ``train_sampling_strategy="sequential"`` the
single process's step ``s`` sees rows ``16s … 16s+15``, and accelerate's ``BatchSamplerShard``
(``split_batches=False``) hands the global batches of 8 round-robin to the ranks: rank 0
gets rows ``16s … 16s+7`` and rank 1 rows ``16s+8 … 16s+15``, so the union of the two
ranks' rows at each step is the single process's batch.

The contrastive losses gather every rank's projections and return
``world_size · local_sum / global_count``; DDP averages the gradients, and the BCE is a
per-rank mean over equal-sized shards. The averaged gradient, and so the SGD update, must
then equal the single-process one. Gradient clipping is off, so a wrong gradient scale
(e.g. a loss counted ``world_size`` times) cannot be hidden by the clipping.

Checked by mutation (patching ``mlcl_text.losses.base`` in the workers only): a per-rank
mean of the contrastive terms, a missing ``world_size`` factor, or no cross-rank gather
each move some weight by 2e-2 to 4e-2 from the single-process run; the correct code stays
within 3e-7 (``ATOL`` is 1e-5): float32 round-off of the different reduction orders.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from transformers import BertConfig, BertModel, default_data_collator

from mlcl_text import MLCLModel
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.training.arguments import MLCLTrainingArguments
from mlcl_text.training.trainer import MLCLTrainer
from tests.helpers.spawn import free_port, join_as_rank, spawn_workers
from tests.helpers.tiny_bert import TINY_BERT
from tests.helpers.tiny_trainer import TREE, separable_dataset

pytestmark = pytest.mark.distributed

WORLD_SIZE = 2
GLOBAL_BATCH = 16
STEPS = 3
LEARNING_RATE = 0.1
ATOL = 1e-5
# BERT's default 0.02 leaves the tiny random encoder's [CLS] vectors almost identical, so the
# contrastive losses sit at log(N - 1) and the heads and attention barely move in 3 steps
# (updates ~1e-6, below ATOL); 0.2 (also used for the classifier and heads) gives updates of
# 2e-3 and more on every parameter while the two runs differ by < 3e-7
INIT_RANGE = 0.2
SPAWN_TIMEOUT_S = 120.0

# the two heads of tests/helpers/tiny_trainer.py (level-1 "all", "sd") plus exact-label-set
# positives. With the third, some anchors have no positive and the ranks' anchor counts differ (first
# batch: rows 0, 1, 7 on rank 0 and row 12 on rank 1, see
# test_ranks_have_unequal_anchor_counts), so a per-rank mean of the contrastive terms
# would give other gradients than the global mean; with the first two heads alone every
# anchor has a positive and such a mean would pass unnoticed.
HEADS = [
    ContrastiveHeadSpec("top", positives="all", level=1, out_dim=16),
    ContrastiveHeadSpec("labels", positives="sd", out_dim=16),
    ContrastiveHeadSpec("exact", positives="all", out_dim=16),
]
COMPONENTS = ("loss_cls", *(f"loss_con/{head.name}" for head in HEADS))


def _dataset() -> Dataset:
    return separable_dataset(GLOBAL_BATCH * STEPS, seed=11)


def _model(encoder_dir: str) -> MLCLModel:
    torch.manual_seed(1)
    return MLCLModel.from_encoder(encoder_dir, TREE, heads=HEADS, classifier_dropout=0.0)


def _train(encoder_dir: str, output_dir: str, batch_size: int) -> tuple[dict, list[dict]]:
    """Final weights and log history of ``STEPS`` plain SGD steps over the rows in order."""
    args = MLCLTrainingArguments(
        output_dir=output_dir,
        per_device_train_batch_size=batch_size,
        max_steps=STEPS,
        optim="sgd",
        learning_rate=LEARNING_RATE,
        classifier_learning_rate=10 * LEARNING_RATE,  # one parameter group per component
        head_learning_rate=3 * LEARNING_RATE,
        weight_decay=0.0,
        lr_scheduler_type="constant",
        max_grad_norm=0.0,  # no clipping: it would mask a wrong gradient scale
        train_sampling_strategy="sequential",
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        seed=0,
        use_cpu=True,
        disable_tqdm=True,
        dataloader_num_workers=0,
        ddp_timeout=60,
    )
    model = _model(encoder_dir)
    trainer = MLCLTrainer(
        model=model, args=args, train_dataset=_dataset(), data_collator=default_data_collator
    )
    trainer.train()
    weights = {name: value.detach().clone() for name, value in model.state_dict().items()}
    return weights, trainer.state.log_history


def _worker(rank: int, port: int, workdir: str) -> None:
    join_as_rank(rank, port, WORLD_SIZE)
    workdir_path = Path(workdir)
    weights, history = _train(
        str(workdir_path / "encoder"),
        str(workdir_path / f"out{rank}"),
        batch_size=GLOBAL_BATCH // WORLD_SIZE,
    )
    import torch.distributed as dist

    world = dist.get_world_size() if dist.is_initialized() else 1
    torch.save(
        {"weights": weights, "history": history, "world_size": world},
        workdir_path / f"rank{rank}.pt",
    )
    if dist.is_initialized():
        dist.destroy_process_group()


def _spawn(workdir: Path) -> None:
    spawn_workers(
        _worker, (free_port(), str(workdir)), WORLD_SIZE, SPAWN_TIMEOUT_S, "training workers"
    )


def _step_logs(history: list[dict]) -> list[dict]:
    return [entry for entry in history if "loss" in entry]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[dict, dict, list[dict]]:
    """``(initial weights, single-process run, per-rank runs)``."""
    workdir = tmp_path_factory.mktemp("trainer-distributed")
    torch.manual_seed(0)
    config = BertConfig(
        **TINY_BERT,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        initializer_range=INIT_RANGE,
    )
    BertModel(config).save_pretrained(workdir / "encoder")
    _spawn(workdir)
    per_rank = [torch.load(workdir / f"rank{rank}.pt") for rank in range(WORLD_SIZE)]
    start = _model(str(workdir / "encoder")).state_dict()
    weights, history = _train(str(workdir / "encoder"), str(workdir / "single"), GLOBAL_BATCH)
    return start, {"weights": weights, "history": history}, per_rank


def test_workers_ran_distributed(runs) -> None:
    _, _, per_rank = runs
    assert [run["world_size"] for run in per_rank] == [WORLD_SIZE] * WORLD_SIZE


def test_two_processes_reach_the_single_process_weights(runs) -> None:
    start, single, per_rank = runs
    reference, rank0 = single["weights"], per_rank[0]["weights"]
    assert set(rank0) == set(reference)
    for name, value in reference.items():
        torch.testing.assert_close(
            rank0[name],
            value,
            atol=ATOL,
            rtol=0,
            msg=lambda m, name=name: f"{name}: 2 processes != 1 process\n{m}",
        )
    # DDP keeps the replicas identical
    for name, value in rank0.items():
        torch.testing.assert_close(per_rank[1]["weights"][name], value, atol=0, rtol=0, msg=name)
    # the steps moved every parameter far beyond the tolerance, except the attention key
    # biases, which get no gradient (the softmax over keys is invariant to them)
    moved = [name for name in reference if "attention.self.key.bias" not in name]
    assert len(moved) > len(HEADS) * 4 + 2
    for name in moved:
        assert (reference[name] - start[name]).abs().max() > 100 * ATOL, f"{name} did not move"


def test_logged_components_match_the_single_process(runs) -> None:
    _, single, per_rank = runs
    distributed_logs, single_logs = (
        _step_logs(per_rank[0]["history"]),
        _step_logs(single["history"]),
    )
    assert len(distributed_logs) == len(single_logs) == STEPS
    for step, (got, expected) in enumerate(zip(distributed_logs, single_logs, strict=True)):
        for name in COMPONENTS:
            assert math.isfinite(got[name]), f"step {step}: {name} = {got[name]}"
            # the per-rank shares, averaged over ranks, are the global values (logs keep 6 digits)
            assert got[name] == pytest.approx(expected[name], abs=1e-5), (step, name)
        assert got["loss"] == pytest.approx(expected["loss"], abs=1e-4), step


def test_ranks_have_unequal_anchor_counts() -> None:
    """The "exact" head has anchors without positives, unevenly spread over the ranks."""
    labels = torch.tensor(_dataset()["labels"])
    first = [tuple(row) for row in labels[:GLOBAL_BATCH].tolist()]
    alone = [i for i, row in enumerate(first) if first.count(row) == 1]
    per_rank = GLOBAL_BATCH // WORLD_SIZE
    counts = [sum(i // per_rank == rank for i in alone) for rank in range(WORLD_SIZE)]
    assert counts[0] != counts[1], counts
