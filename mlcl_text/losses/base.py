"""Shared machinery of every contrastive loss: inputs, cross-process batch, memory, kernel.

A loss subclasses :class:`ContrastiveLoss` and says only how labels become positive weights
(:meth:`ContrastiveLoss.positive_weights`); normalisation, float32 computation, gathering
across processes, the memory queue and the reduction are done here once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from mlcl_text.losses import distributed
from mlcl_text.losses.citations import Citation
from mlcl_text.losses.kernel import (
    SimilarityLogits,
    WeightedTerms,
    similarity_logits,
    weighted_terms,
)
from mlcl_text.losses.memory import EmbeddingMemory
from mlcl_text.losses.views import LabelView


@dataclass
class ContrastBatch:
    """This process's anchors and the contrast set they are compared with."""

    anchors: torch.Tensor  # [n, d] L2-normalised float32, this process's rows
    contrast: torch.Tensor  # [M, d] every process's rows, then the memory's
    labels: torch.Tensor  # [M, ...] labels of the contrast rows, as given
    self_index: torch.Tensor  # [n] position of each anchor in the contrast set
    current: distributed.GatheredBatch  # the gathered current batch (memory input)

    def similarities(self, temperature: float) -> SimilarityLogits:
        return similarity_logits(self.anchors, self.contrast, temperature, self.self_index)


class ContrastiveLoss(nn.Module):
    """Weighted supervised contrastive loss; subclasses define the positive weights.

    Args:
        temperature: τ of the kernel, ``> 0``.
        view: optional :class:`~mlcl_text.losses.views.LabelView` applied to multi-hot labels.
        num_labels: width of the multi-hot matrix that ``[N]`` class ids are expanded to
            (default: the view's input width, else the largest id + 1 of the contrast set).
        memory_size: rows of past (detached) embeddings and labels added to the contrast set.
        gather_across_processes: under ``torch.distributed``, contrast against every
            process's batch (see :mod:`mlcl_text.losses.distributed`).
    """

    #: the paper the loss implements (every concrete loss names one; model cards cite it)
    citation: ClassVar[Citation | None] = None

    def __init__(
        self,
        temperature: float = 0.1,
        *,
        view: LabelView | None = None,
        num_labels: int | None = None,
        memory_size: int = 0,
        gather_across_processes: bool = True,
    ):
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)
        self.view = view
        self.num_labels = (
            num_labels if num_labels is not None else getattr(view, "input_width", None)
        )
        self.memory = EmbeddingMemory(memory_size) if memory_size else None
        self.gather_across_processes = gather_across_processes

    # ------------------------------------------------------------------ subclass hooks
    def positive_weights(
        self, anchor_labels: torch.Tensor, contrast_labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(W [n, M], anchor weights [n] or None)`` from prepared labels."""
        raise NotImplementedError

    def prepare_labels(self, labels: torch.Tensor) -> torch.Tensor:
        """Labels of the whole contrast set in the form :meth:`positive_weights` takes.

        Default: a float32 multi-hot matrix (class ids expanded), passed through the view.
        """
        multi_hot = to_multi_hot(labels, self.num_labels)
        return self.view(multi_hot) if self.view is not None else multi_hot

    def positive_weight_views(
        self, labels: torch.Tensor, self_index: torch.Tensor
    ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Every ``W`` this loss trains on, by the name of its part (``""`` for a loss with
        one; a hierarchical loss has one per level), with the ``[n]`` mask of anchors that
        have a label in that part's view: what a batch offers each anchor, for diagnostics
        (:mod:`mlcl_text.training.coverage`). ``labels`` are the contrast set's, as given."""
        prepared = self.prepare_labels(labels)
        anchor_labels = prepared[self_index]
        labelled = (
            (anchor_labels != 0).any(dim=1)
            if anchor_labels.ndim == 2
            else torch.ones(len(self_index), dtype=torch.bool, device=anchor_labels.device)
        )
        return {"": (self.positive_weights(anchor_labels, prepared)[0], labelled)}

    def loss_from_batch(self, batch: ContrastBatch) -> torch.Tensor:
        labels = self.prepare_labels(batch.labels)
        weights, anchor_weights = self.positive_weights(labels[batch.self_index], labels)
        return self.reduce(
            weighted_terms(batch.similarities(self.temperature), weights, anchor_weights)
        )

    # ------------------------------------------------------------------ the pipeline
    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Loss of ``embeddings`` ``[N, d]`` with ``labels`` ``[N]`` (ids) or ``[N, L]``."""
        batch = self.contrast_batch(embeddings, labels)
        loss = self.loss_from_batch(batch)
        if self.memory is not None and self.training:
            self.memory.push(batch.current.embeddings, batch.current.labels)
        return loss

    def contrast_batch(self, embeddings: torch.Tensor, labels: torch.Tensor) -> ContrastBatch:
        check_inputs(embeddings, labels)
        labels = labels.to(embeddings.device)
        z = nn.functional.normalize(embeddings.float(), dim=1)
        current = (
            distributed.gather_batch(z, labels)
            if self.gather_across_processes
            else distributed.GatheredBatch(z, labels, 0)
        )
        contrast, contrast_labels = current.embeddings, current.labels
        stored = self.memory.contents() if self.memory is not None else None
        if stored is not None:
            contrast = torch.cat([contrast, stored[0].to(contrast.device)])
            contrast_labels = _concat_labels(contrast_labels, stored[1].to(contrast.device))
        self_index = current.offset + torch.arange(z.shape[0], device=z.device)
        return ContrastBatch(z, contrast, contrast_labels, self_index, current)

    def reduce(self, terms: WeightedTerms) -> torch.Tensor:
        """This process's share of the global mean (see :mod:`~mlcl_text.losses.distributed`)."""
        return self.reduce_with_value(terms)[0]

    def reduce_with_value(self, terms: WeightedTerms) -> tuple[torch.Tensor, torch.Tensor]:
        """``(this process's share, detached loss of the whole cross-process batch)``.

        One all-reduce of ``(Σ ω ℓ, Σ ω)`` gives both; a single process returns the mean twice.
        """
        if not (self.gather_across_processes and distributed.is_distributed()):
            mean = terms.mean()
            return mean, mean.detach()
        total_loss, total_weight = distributed.global_sum(
            torch.stack([terms.loss_sum.detach(), terms.weight_sum])
        ).unbind()
        total_weight = total_weight.clamp_min(torch.finfo(total_weight.dtype).tiny)
        return terms.loss_sum * (distributed.world_size() / total_weight), total_loss / total_weight

    def get_config_dict(self) -> dict[str, Any]:
        """Hyper-parameters, for model cards and logs."""
        config: dict[str, Any] = {"temperature": self.temperature}
        if self.view is not None:
            config["view"] = self.view.describe()
        if self.memory is not None:
            config["memory_size"] = self.memory.size
        return config


def check_inputs(embeddings: torch.Tensor, labels: torch.Tensor) -> None:
    """``ValueError`` describing the first problem with a loss's inputs."""
    if not isinstance(embeddings, torch.Tensor) or embeddings.ndim != 2:
        shape = (
            tuple(embeddings.shape) if isinstance(embeddings, torch.Tensor) else type(embeddings)
        )
        raise ValueError(f"embeddings must be a [N, d] tensor, got {shape}")
    finite = torch.isfinite(embeddings).all(dim=1)
    if not bool(finite.all()):
        rows = torch.nonzero(~finite).flatten().tolist()
        raise ValueError(
            f"embeddings hold NaN or infinite values in {len(rows)} of {embeddings.shape[0]} rows "
            f"(first: {rows[:5]}); under fp16 this is an overflow: train in bf16 or float32, "
            "or lower the learning rate"
        )
    if not isinstance(labels, torch.Tensor):
        raise ValueError(f"labels must be a tensor, got {type(labels).__name__}")
    if labels.ndim not in (1, 2) or labels.shape[0] != embeddings.shape[0]:
        raise ValueError(
            f"labels must be [N] class ids or an [N, L] multi-hot matrix with N = "
            f"{embeddings.shape[0]} (the embeddings' rows), got {tuple(labels.shape)}"
        )
    if labels.ndim == 1 and (labels.is_floating_point() or labels.dtype == torch.bool):
        raise ValueError(f"[N] labels must be integer class ids, got dtype {labels.dtype}")
    if labels.ndim == 1 and labels.numel() and int(labels.min()) < 0:
        raise ValueError(f"class ids must be >= 0, got {int(labels.min())}")


def to_multi_hot(labels: torch.Tensor, num_labels: int | None = None) -> torch.Tensor:
    """Float32 0/1 ``[M, L]`` from ``[M]`` class ids or any ``[M, L]`` label matrix."""
    if labels.ndim == 2:
        if num_labels is not None and labels.shape[1] != num_labels:
            raise ValueError(f"expected {num_labels} label columns, got {labels.shape[1]}")
        return (labels != 0).float()
    width = num_labels if num_labels is not None else int(labels.max()) + 1 if labels.numel() else 0
    if labels.numel() and int(labels.max()) >= width:
        raise ValueError(f"class id {int(labels.max())} is out of range for {width} labels")
    return nn.functional.one_hot(labels.long(), width).float()


def _concat_labels(current: torch.Tensor, stored: torch.Tensor) -> torch.Tensor:
    if current.ndim == 2:
        return torch.cat([current != 0, stored != 0])
    return torch.cat([current, stored.to(current.dtype)])
