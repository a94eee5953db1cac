"""Cross-process contrast sets: gather with gradients, and exact global means.

When ``torch.distributed`` is initialised, each process contrasts its own anchors against the
batch of every process. Embeddings are gathered with
``torch.distributed.nn.functional.all_gather``, whose backward sums the gradients that every
process sends to a shard, so each process's embeddings receive the gradient of all anchors'
losses. Batches of unequal size are padded to the largest for the collective and the padding
is cut away afterwards; nothing is dropped.

The loss a process returns is ``world_size · Σ_{local anchors} ω_i ℓ_i / Σ_{all anchors} ω_i``.
DDP averages gradients over processes, so the objective optimised is the mean of those
values, which is exactly the single-process loss of the concatenated batch, however the
anchors with positives are spread over the processes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.distributed.nn.functional as dist_nn


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


@dataclass
class GatheredBatch:
    embeddings: torch.Tensor  # [M, d] every process's embeddings, rank order
    labels: torch.Tensor  # [M, ...] their labels
    offset: int  # position of this process's first row in the gathered batch


def gather_batch(embeddings: torch.Tensor, labels: torch.Tensor) -> GatheredBatch:
    """Concatenate every process's batch (gradients flow back to each shard's owner)."""
    if not is_distributed():
        return GatheredBatch(embeddings, labels, 0)
    world, rank = dist.get_world_size(), dist.get_rank()
    size = torch.tensor([embeddings.shape[0]], device=embeddings.device, dtype=torch.int64)
    sizes = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size)
    counts = [int(s.item()) for s in sizes]
    largest = max(counts)

    padded = _pad_rows(embeddings, largest)
    if embeddings.requires_grad:
        shards = list(dist_nn.all_gather(padded))
    else:
        shards = [torch.empty_like(padded) for _ in range(world)]
        dist.all_gather(shards, padded.contiguous())
    # bool tensors are not supported by every backend's collectives: send bytes
    label_dtype = labels.dtype
    wire = labels.to(torch.uint8) if label_dtype == torch.bool else labels
    padded_labels = _pad_rows(wire, largest).contiguous()
    label_shards = [torch.empty_like(padded_labels) for _ in range(world)]
    dist.all_gather(label_shards, padded_labels)

    gathered = torch.cat([shard[:n] for shard, n in zip(shards, counts, strict=True)])
    gathered_labels = torch.cat([s[:n] for s, n in zip(label_shards, counts, strict=True)])
    return GatheredBatch(gathered, gathered_labels.to(label_dtype), sum(counts[:rank]))


def global_sum(value: torch.Tensor) -> torch.Tensor:
    """All-reduced sum of a detached tensor (the value itself in a single process)."""
    if not is_distributed():
        return value.detach()
    total = value.detach().clone()
    dist.all_reduce(total)
    return total


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def _pad_rows(tensor: torch.Tensor, rows: int) -> torch.Tensor:
    missing = rows - tensor.shape[0]
    if missing == 0:
        return tensor
    return torch.cat([tensor, tensor.new_zeros((missing, *tensor.shape[1:]))])
