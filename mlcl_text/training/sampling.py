"""Label-aware training batches: every batch holds groups of documents that share a label.

A contrastive head learns only from anchors that have a positive in their contrast set. With
uniform random batches, a label seen by a few percent of the documents rarely appears twice
in a batch of 16. :class:`LabelBatchSampler` builds each batch as pytorch-metric-learning's
``MPerClassSampler`` does for single-label data: draw labels, then ``m`` documents of each,
until the batch is full. For multi-label and hierarchical data the labels are drawn from one
*sampling view* of each document's label set:

* ``level=None``: the document's most specific labels (those with no descendant in its own
  set), so a group shares its finest labels and therefore every coarser level too;
* ``level=d``: the document's ancestors at tree depth ``d`` (1 = roots), as the per-level
  batches of the HiMulCon reference code (Zhang et al., CVPR 2022).

Labels are drawn uniformly among those with at least two documents (a label with one document
cannot give a positive). A document appears at most once per global step (the
``num_replicas`` batches that the processes train on together, whose projections the losses
gather); slots that no label can fill take random documents. An epoch has ``ceil(N / batch_size)`` batches, as a random
epoch of the same data, so budgets in epochs keep their meaning.

The order depends only on ``seed`` and the epoch (:meth:`LabelBatchSampler.set_epoch`, which
the Trainer calls every epoch), so a resumed run replays the same batches and skips the ones
it has already trained on. The sampler yields a flat index stream whose consecutive
``batch_size`` chunks are the batches; under ``accelerate``/DDP each process takes every
``P``-th chunk (accelerate's ``BatchSamplerShard``), so every rank's batch is a complete
label-grouped batch of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch

from mlcl_text.hierarchy import LabelTree

SAMPLERS = ("random", "labels")


def sampling_view(
    multi_hot: np.ndarray, tree: LabelTree | None = None, level: int | None = None
) -> np.ndarray:
    """The ``[N, L']`` 0/1 matrix whose columns the sampler draws: most specific labels
    (``level=None``) or the ancestors at depth ``level`` (see the module docstring)."""
    labels = np.asarray(multi_hot) > 0
    if tree is None:
        if level is not None:
            raise ValueError("sampler_level needs a label tree")
        return labels
    if level is not None:
        if not 1 <= level <= tree.num_levels:
            raise ValueError(f"sampler_level must be in 1..{tree.num_levels}, got {level}")
        return np.asarray(tree.level_view(labels.astype(np.float32), level)) > 0
    return tree.most_specific(labels)


class LabelBatchSampler(torch.utils.data.Sampler[int]):
    """Batches of ``batch_size // per_label`` label groups of ``per_label`` documents each.

    Args:
        label_matrix: ``[N, L]`` 0/1 matrix of the labels to draw (:func:`sampling_view`).
        batch_size: documents per batch (the per-device batch size), a multiple of
            ``per_label``.
        per_label: documents per drawn label (``m``), ``>= 2``.
        seed: the run's seed; the order is a function of ``(seed, epoch)``.
        num_replicas: processes training together (the world size); consecutive runs of this
            many batches share no document.
    """

    def __init__(
        self,
        label_matrix: np.ndarray,
        batch_size: int,
        per_label: int,
        seed: int,
        num_replicas: int = 1,
    ):
        matrix = np.asarray(label_matrix) > 0
        if matrix.ndim != 2 or matrix.shape[0] == 0:
            raise ValueError(
                f"the sampler needs a non-empty [N, L] label matrix, got {matrix.shape}"
            )
        if per_label < 2:
            raise ValueError(f"samples_per_label must be >= 2 (a positive each), got {per_label}")
        if batch_size < per_label or batch_size % per_label:
            raise ValueError(
                f"per_device_train_batch_size ({batch_size}) must be a multiple of "
                f"samples_per_label ({per_label})"
            )
        if num_replicas < 1:
            raise ValueError(f"num_replicas must be >= 1, got {num_replicas}")
        self.num_documents = matrix.shape[0]
        self.num_replicas = num_replicas
        self.batch_size = batch_size
        self.per_label = per_label
        self.seed = int(seed)
        self.epoch = 0
        documents = [np.flatnonzero(column) for column in matrix.T]
        self.label_documents = [d for d in documents if len(d) >= 2]
        self.num_batches = math.ceil(self.num_documents / batch_size)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return self.num_batches * self.batch_size

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        taken = np.zeros(self.num_documents, dtype=bool)
        for number in range(self.num_batches):
            if number % self.num_replicas == 0:
                taken[:] = False  # a new global step
            yield from self._batch(rng, taken)

    def _batch(self, rng: np.random.Generator, taken: np.ndarray) -> list[int]:
        """One batch of documents not yet ``taken`` in this global step (marks them)."""
        chosen: list[int] = []
        for label in rng.permutation(len(self.label_documents)):
            if len(chosen) + 2 > self.batch_size:
                break
            free = self.label_documents[label][~taken[self.label_documents[label]]]
            if len(free) < 2:
                continue
            room = min(self.per_label, self.batch_size - len(chosen), len(free))
            picked = rng.choice(free, size=room, replace=False)
            taken[picked] = True
            chosen.extend(int(i) for i in picked)
        missing = self.batch_size - len(chosen)
        if missing > 0:  # too few labels to fill the batch: random documents
            rest = np.flatnonzero(~taken)
            fill = rng.choice(rest, size=min(missing, len(rest)), replace=False)
            taken[fill] = True
            chosen.extend(int(i) for i in fill)
            missing = self.batch_size - len(chosen)
        if missing > 0:  # fewer documents than the batch size: repeat some
            chosen.extend(int(i) for i in rng.choice(self.num_documents, size=missing))
        return chosen
