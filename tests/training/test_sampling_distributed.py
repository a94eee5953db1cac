"""Two-process (gloo) runs of the label sampler: each rank trains its own label-grouped batches.

accelerate's ``BatchSamplerShard`` hands the sampler's consecutive batches round-robin to the
ranks, so at step ``s`` rank ``r`` holds batch ``2s + r`` of the single-process stream: the
two ranks together see every batch once, each batch keeps its label groups, and both follow
the same ``(seed, epoch)`` order; the batches of one step share no document.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mlcl_text.training.sampling import LabelBatchSampler, sampling_view
from tests.helpers.spawn import free_port, join_as_rank, spawn_workers
from tests.helpers.tiny_bert import TINY_BERT
from tests.helpers.tiny_trainer import TREE, make_args, make_model, separable_dataset, trainer_for

pytestmark = pytest.mark.distributed

WORLD_SIZE = 2
BATCH = 8
ROWS = 96


def _rows_per_batch(trainer, data) -> list[list[int]]:
    row_of = {tuple(ids): row for row, ids in enumerate(data["input_ids"])}
    return [
        [row_of[tuple(ids)] for ids in batch["input_ids"].tolist()]
        for batch in trainer.get_train_dataloader()
    ]


def _worker(rank: int, port: int, workdir: str) -> None:
    join_as_rank(rank, port, WORLD_SIZE)
    data = separable_dataset(ROWS, seed=3)
    args = make_args(
        Path(workdir) / f"out{rank}",
        batch_sampler="labels",
        samples_per_label=2,
        per_device_train_batch_size=BATCH,
        ddp_timeout=60,
    )
    trainer = trainer_for(make_model(str(Path(workdir) / "encoder")), args, data)
    torch.save(_rows_per_batch(trainer, data), Path(workdir) / f"rank{rank}.pt")
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def test_each_rank_takes_its_own_share_of_the_label_batches(tmp_path):
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    BertModel(BertConfig(**TINY_BERT)).save_pretrained(tmp_path / "encoder")
    spawn_workers(_worker, (free_port(), str(tmp_path)), WORLD_SIZE, 120.0, "sampler workers")
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD_SIZE)]

    data = separable_dataset(ROWS, seed=3)
    view = sampling_view(np.asarray(data["labels"]), TREE)
    stream = list(LabelBatchSampler(view, BATCH, 2, seed=0, num_replicas=WORLD_SIZE))
    expected = [stream[i : i + BATCH] for i in range(0, len(stream), BATCH)]
    assert len(ranks[0]) == len(ranks[1]) == len(expected) // WORLD_SIZE
    for step in range(len(ranks[0])):
        for rank in range(WORLD_SIZE):
            assert ranks[rank][step] == expected[WORLD_SIZE * step + rank]
        assert not set(ranks[0][step]) & set(ranks[1][step])
