"""A first-in-first-out memory of past embeddings and labels (MoCo / CrossBatchMemory style).

Small batches hold few positives for rare labels. A loss with a memory contrasts each anchor
against the current batch *and* the last ``size`` embeddings it saw (detached, so they are
constants), as in He et al., "Momentum Contrast", CVPR 2020, and Wang et al., "Cross-Batch
Memory for Embedding Learning", CVPR 2020. Memory rows are candidates for positives and
negatives alike; they are never anchors.
"""

from __future__ import annotations

import torch
from torch import nn


class EmbeddingMemory(nn.Module):
    """Ring buffer of ``size`` (embedding, label) rows, filled lazily from the first batch.

    Labels are stored as given: ``[N]`` class ids or ``[N, L]`` multi-hot (kept as ``bool``).
    The buffers are not part of ``state_dict`` (they are recomputed after a restart).
    """

    def __init__(self, size: int):
        super().__init__()
        if size < 0:
            raise ValueError(f"memory size must be >= 0, got {size}")
        self.size = size
        self.register_buffer("embeddings", None, persistent=False)
        self.register_buffer("labels", None, persistent=False)
        self.filled = 0
        self.position = 0

    def __len__(self) -> int:
        return self.filled

    def contents(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """``(embeddings, labels)`` currently stored, or ``None`` when empty."""
        if self.filled == 0:
            return None
        return self.embeddings[: self.filled], self.labels[: self.filled]

    @torch.no_grad()
    def push(self, embeddings: torch.Tensor, labels: torch.Tensor) -> None:
        """Store a batch (oldest rows are overwritten first)."""
        if self.size == 0:
            return
        embeddings = embeddings.detach().float()
        labels = labels.detach()
        if labels.ndim == 2:
            labels = labels != 0
        if self.embeddings is None:
            self.embeddings = embeddings.new_zeros((self.size, *embeddings.shape[1:]))
            self.labels = labels.new_zeros((self.size, *labels.shape[1:]))
        elif (
            embeddings.shape[1:] != self.embeddings.shape[1:]
            or labels.shape[1:] != self.labels.shape[1:]
        ):
            raise ValueError(
                f"memory holds embeddings {tuple(self.embeddings.shape[1:])} and labels "
                f"{tuple(self.labels.shape[1:])}, got {tuple(embeddings.shape[1:])} and "
                f"{tuple(labels.shape[1:])}"
            )
        rows = embeddings.shape[0]
        if rows >= self.size:  # keep the newest
            embeddings, labels, rows = embeddings[-self.size :], labels[-self.size :], self.size
        slots = (self.position + torch.arange(rows, device=self.embeddings.device)) % self.size
        self.embeddings[slots] = embeddings.to(self.embeddings.device)
        self.labels[slots] = labels.to(self.labels.device, self.labels.dtype)
        self.position = (self.position + rows) % self.size
        self.filled = min(self.filled + rows, self.size)

    def reset(self) -> None:
        self.filled = 0
        self.position = 0
