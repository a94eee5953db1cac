"""How many positives each contrastive head's anchors find in the batches a recipe trains on.

A head learns only from anchors that have a positive in their contrast set (the kernel of
:mod:`mlcl_text.losses.kernel` drops the others), and an anchor whose contrast set holds one
other row has ``log p = 0`` whatever the embeddings. This module replays a recipe's batch
composition on the real training labels, without a model: the batches of every process as
the sampler draws them (uniform shuffling, or :class:`~mlcl_text.training.sampling.LabelBatchSampler`),
the second dropout view of every document (``contrastive_views: 2``), the other processes'
rows (gathered by the losses) and the memory of past rows (``memory_size``). For each head,
and for each level of a hierarchical head, it reports over the sampled steps:

* ``labelled``: the share of anchors with a label in the head's view (a level-3 head has
  nothing to say about a document labelled down to level 2 only; such anchors sit out);
* ``with_positive``: the share of those anchors with at least one positive;
* ``mean_positives``: positives (rows with ``W_ij > 0``) per such anchor;
* ``mean_weight``: ``Σ_j W_ij`` per such anchor;
* ``candidates``: the rows each anchor is compared with, ``B·V·P + memory − 1``.

A head is *zero* when no anchor has both a positive and a second candidate (its loss is
identically 0 and trains nothing) and *starved* when fewer than :data:`STARVED_SHARE` of the
anchors have a positive. ``mlcl-text inspect`` prints the table; ``mlcl-text train`` prints
one line per head when it starts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.hierarchy import LabelTree
from mlcl_text.losses.multi_level import MultiLevelContrastiveLoss
from mlcl_text.training.sampling import LabelBatchSampler, sampling_view

#: below this share of anchors with a positive a head is reported as starved
STARVED_SHARE = 0.5


@dataclass(frozen=True)
class BatchSetup:
    """What decides a contrast set: batch, views, processes, memory and the sampler."""

    batch_size: int
    processes: int = 1
    views: int = 1
    memory_size: int = 0
    sampler: str = "random"
    samples_per_label: int = 4
    sampler_level: int | None = None
    seed: int = 42

    @classmethod
    def from_arguments(cls, args, processes: int = 1) -> BatchSetup:
        """The setup of :class:`~mlcl_text.training.arguments.MLCLTrainingArguments` on ``processes``."""
        return cls(
            batch_size=args.per_device_train_batch_size,
            processes=processes,
            views=args.contrastive_views,
            memory_size=args.memory_size,
            sampler=args.batch_sampler,
            samples_per_label=args.samples_per_label,
            sampler_level=args.sampler_level,
            seed=args.seed,
        )

    @property
    def rows_per_step(self) -> int:
        """Rows of the gathered current batch: ``B · V · P``."""
        return self.batch_size * self.views * self.processes

    @property
    def contrast_size(self) -> int:
        """Rows of the contrast set once the memory is full (the anchor included)."""
        return self.rows_per_step + self.memory_size

    def describe(self) -> str:
        parts = [f"batch {self.batch_size}"]
        if self.views > 1:
            parts.append(f"× {self.views} views")
        if self.processes > 1:
            parts.append(f"× {self.processes} processes")
        if self.memory_size:
            parts.append(f"+ memory {self.memory_size}")
        sampler = (
            f"labels sampler, {self.samples_per_label} per label"
            + ("" if self.sampler_level is None else f" at level {self.sampler_level}")
            if self.sampler == "labels"
            else "random batches"
        )
        return f"contrast set {' '.join(parts)} = {self.contrast_size} rows ({sampler})"


@dataclass(frozen=True)
class HeadCoverage:
    """What one head (or one level of a hierarchical head) saw over the sampled steps."""

    head: str
    anchors: int  # anchors seen (rows of this process, every view)
    labelled: float  # share of them with a label in the head's view (the others sit out)
    with_positive: float  # of the labelled anchors, and so the means below
    mean_positives: float
    mean_weight: float
    candidates: float
    informative: bool  # some anchor had a positive and at least two candidates

    @property
    def status(self) -> str:
        if not self.informative:
            return "zero"
        return "starved" if self.with_positive < STARVED_SHARE else "ok"

    def summary(self) -> str:
        """One line for people, e.g. for the start of a training run."""
        sitting_out = (
            f", {1 - self.labelled:.0%} without a label in its view" if self.labelled < 1 else ""
        )
        line = (
            f"head {self.head}: {self.with_positive:.0%} of anchors have a positive"
            f"{sitting_out} "
            f"(mean {self.mean_positives:.1f} positives, weight {self.mean_weight:.2f}, "
            f"{self.candidates:.0f} candidates)"
        )
        if self.status == "zero":
            return line + " -- WARNING: its loss is identically zero, it trains nothing"
        if self.status == "starved":
            return line + (
                f" -- WARNING: starved (< {STARVED_SHARE:.0%}); try memory_size, a larger "
                "batch, contrastive_views: 2 or batch_sampler: labels"
            )
        return line


def step_batches(
    labels: np.ndarray, setup: BatchSetup, tree: LabelTree | None = None
) -> Iterator[list[np.ndarray]]:
    """Endless row indices of every process's batch, step by step, as training draws them:
    consecutive batches of the sampler's stream go round-robin to the processes (accelerate's
    ``BatchSamplerShard``). Random batches are a seeded shuffle per epoch (the Trainer's own
    generator differs, the composition does not); a last incomplete batch is skipped, unless
    the data cannot fill one step, which is then shared out as it is."""
    size = setup.batch_size
    if setup.sampler == "labels":
        sampler = LabelBatchSampler(
            sampling_view(labels, tree, setup.sampler_level),
            size,
            setup.samples_per_label,
            setup.seed,
            num_replicas=setup.processes,
        )
    epoch = 0
    while True:
        if setup.sampler == "labels":
            sampler.set_epoch(epoch)
            stream = np.fromiter(sampler, dtype=np.int64)
        else:
            stream = np.random.default_rng([setup.seed, epoch]).permutation(len(labels))
        chunks = len(stream) // size
        step = setup.processes
        if chunks < step:  # fewer documents than one step: one short batch per process
            yield [np.asarray(part) for part in np.array_split(stream, step)]
        for first in range(0, chunks - step + 1, step):
            yield [stream[(first + r) * size : (first + r + 1) * size] for r in range(step)]
        epoch += 1


def measure_coverage(
    heads: Sequence[ContrastiveHeadSpec],
    tree: LabelTree,
    labels: np.ndarray,
    setup: BatchSetup,
    steps: int = 50,
) -> list[HeadCoverage]:
    """Coverage of every head (and level) over ``steps`` training steps of ``labels``
    (``[N, len(tree)]`` multi-hot, the encoded training split), after the memory has filled."""
    if not heads:
        return []
    losses = MultiLevelContrastiveLoss(heads, tree=tree, gather_across_processes=False).losses
    matrix = torch.as_tensor(np.asarray(labels) > 0)
    warmup = math.ceil(setup.memory_size / setup.rows_per_step)
    memory: list[torch.Tensor] = []
    totals: dict[str, np.ndarray] = {}
    informative: dict[str, bool] = {}
    batches = step_batches(matrix.numpy(), setup, tree)
    for number in range(warmup + steps):
        per_rank = [matrix[torch.as_tensor(rows)] for rows in next(batches)]
        current = torch.cat([rows.repeat(setup.views, 1) for rows in per_rank])
        if number >= warmup:
            anchors = len(per_rank[0]) * setup.views  # this process's rows come first
            self_index = torch.arange(anchors)
            contrast = torch.cat([current, *memory]) if memory else current
            for name, loss in losses.items():
                parts = loss.positive_weight_views(contrast, self_index)
                for part, (weights, labelled) in parts.items():
                    key = f"{name} {part}".strip()
                    weights = weights.float()[labelled]
                    weights[torch.arange(len(weights)), self_index[labelled]] = 0.0
                    positives = (weights > 0).sum(dim=1)
                    has = positives > 0
                    sums = np.array(
                        [
                            anchors,
                            len(weights),
                            has.sum(),
                            positives.sum(),
                            weights.sum(),
                            contrast.shape[0] - 1,
                        ],
                        dtype=np.float64,
                    )
                    totals[key] = totals.get(key, 0) + sums
                    informative[key] = informative.get(key, False) or (
                        bool(has.any()) and contrast.shape[0] > 2
                    )
        if setup.memory_size:
            memory = _newest([current, *memory], setup.memory_size)
    return [
        HeadCoverage(
            head=key,
            anchors=int(total[0]),
            labelled=total[1] / total[0],
            with_positive=total[2] / max(total[1], 1.0),
            mean_positives=total[3] / max(total[1], 1.0),
            mean_weight=total[4] / max(total[1], 1.0),
            candidates=total[5] / steps,
            informative=informative[key],
        )
        for key, total in totals.items()
    ]


def _newest(blocks: list[torch.Tensor], size: int) -> list[torch.Tensor]:
    """The first ``size`` rows of ``blocks`` (newest first), as blocks."""
    kept, rows = [], 0
    for block in blocks:
        if rows >= size:
            break
        kept.append(block[: size - rows])
        rows += len(kept[-1])
    return kept
