"""The weighted supervised-contrastive kernel shared by every loss of the package.

For L2-normalised anchors ``z_i`` (rows of this process's batch) and a contrast set ``c_j``
(the whole batch, possibly gathered across processes and extended by a memory queue) that
contains every anchor at position ``self_index[i]``:

    s_ij      = z_i · c_j / τ
    log p_ij  = s_ij − log Σ_{a ≠ self(i)} exp(s_ia)
    ℓ_i       = − Σ_j W_ij log p_ij / Σ_j W_ij            (W_i,self(i) is forced to 0)
    loss      = Σ_{i: Σ_j W_ij > 0} ω_i ℓ_i / Σ_{i: Σ_j W_ij > 0} ω_i

``W ≥ 0`` are positive weights built from labels and ``ω`` optional anchor weights. With
binary same-class ``W`` and ``ω = 1`` this is SupCon (Khosla et al., NeurIPS 2020, eq. 2,
"L_out"). Since ``Σ_j W_ij log p_ij = Σ_j W_ij s_ij − (Σ_j W_ij) log Z_i``, each anchor's term
is ``log Z_i − Σ_j W_ij s_ij / Σ_j W_ij``: no ``log p`` matrix is materialised and a masked
self-similarity never meets a zero weight (no ``0 · (−∞)``).

Everything is computed in float32 with autocast disabled, so fp16/bf16 training keeps a
float32 loss. Anchors without a positive contribute nothing; a batch without any positive
gives a zero that is still connected to the graph (zero gradients, never NaN).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class SimilarityLogits:
    """Scaled similarities of this process's anchors against the contrast set."""

    logits: torch.Tensor  # [n, M] float32, s_ij
    log_normalizer: torch.Tensor  # [n] float32, log Σ_{a ≠ self} exp(s_ia)
    self_index: torch.Tensor  # [n] int64, the anchor's own column in the contrast set


@dataclass
class WeightedTerms:
    """Un-normalised sums of one loss over this process's anchors."""

    loss_sum: torch.Tensor  # scalar, Σ_i ω_i ℓ_i over anchors with positives
    weight_sum: torch.Tensor  # scalar (no grad), Σ_i ω_i over the same anchors

    def mean(self) -> torch.Tensor:
        """``loss_sum / weight_sum``; exactly 0 (still on the graph) when nothing had a positive."""
        return self.loss_sum / self.weight_sum.clamp_min(torch.finfo(self.weight_sum.dtype).tiny)


def similarity_logits(
    anchors: torch.Tensor,
    contrast: torch.Tensor,
    temperature: float,
    self_index: torch.Tensor,
) -> SimilarityLogits:
    """``s = z cᵀ / τ`` in float32 and each row's log-normaliser without its own column.

    Both inputs must already be L2-normalised.
    """
    with torch.autocast(device_type=anchors.device.type, enabled=False):
        logits = anchors.float() @ contrast.float().T / temperature
        rows = torch.arange(logits.shape[0], device=logits.device)
        # finfo.min rather than -inf: a contrast set holding only the anchor stays finite
        others = logits.index_put(
            (rows, self_index), logits.new_tensor(torch.finfo(torch.float32).min)
        )
        log_normalizer = torch.logsumexp(others, dim=1)
    return SimilarityLogits(logits, log_normalizer, self_index)


def weighted_terms(
    similarities: SimilarityLogits,
    weights: torch.Tensor,
    anchor_weights: torch.Tensor | None = None,
) -> WeightedTerms:
    """Sum of ``ω_i ℓ_i`` over anchors with positives, and the sum of their ``ω_i``.

    ``weights`` is ``[n, M]`` and non-negative; its self column is ignored. A float32
    ``weights`` is used as scratch space (its self entries are set to 0 in place) to spare an
    ``[n, M]`` copy: pass a tensor you do not need afterwards.
    """
    logits = similarities.logits
    rows = torch.arange(logits.shape[0], device=logits.device)
    weights = weights.float()
    weights[rows, similarities.self_index] = 0.0
    total = weights.sum(dim=1)
    has_positive = total > 0
    omega = (
        torch.ones_like(total)
        if anchor_weights is None
        else anchor_weights.float().to(total.device)
    )
    omega = torch.where(has_positive, omega, torch.zeros_like(omega))
    mean_positive_logit = (weights * logits).sum(dim=1) / total.clamp_min(
        torch.finfo(total.dtype).tiny
    )
    per_anchor = similarities.log_normalizer - mean_positive_logit
    loss_sum = torch.where(has_positive, omega * per_anchor, torch.zeros_like(per_anchor)).sum()
    return WeightedTerms(loss_sum=loss_sum, weight_sum=omega.sum().detach())


def weighted_supcon_loss(
    embeddings: torch.Tensor,
    weights: torch.Tensor,
    temperature: float,
    anchor_weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """The kernel on one batch that is its own contrast set (single process, no queue).

    ``embeddings`` ``[N, d]`` are L2-normalised here; ``weights`` is ``[N, N]``.
    """
    z = torch.nn.functional.normalize(embeddings.float(), dim=1)
    self_index = torch.arange(z.shape[0], device=z.device)
    terms = weighted_terms(
        similarity_logits(z, z, temperature, self_index), weights.float().clone(), anchor_weights
    )
    return terms.mean()
