"""Positive-weight rules: how two label sets turn into a weight ``W_ij`` for the kernel.

Every rule takes the multi-hot labels of the anchors ``A`` ``[n, L]`` and of the contrast set
``C`` ``[M, L]`` (0/1 float32) and returns ``W`` ``[n, M]``. All are computed from the
intersection sizes ``A Cᵀ`` and the set sizes, so memory stays ``O(nM + (n + M) L)``; no
``[n, M, L]`` tensor is formed. An empty label set is never anyone's positive.

=========  ==========================================================  ====================
rule       W_ij for anchor set S_i and sample set T_j                   source
=========  ==========================================================  ====================
any        1 if S ∩ T ≠ ∅                                              ANY baseline
all        1 if S = T ≠ ∅                                              ALL baseline
jaccard    |S ∩ T| / |S ∪ T|                                           Jaccard weighting
sd         |S ∩ T| / |S| · 1 / (1 + |T ∖ S|)                           Huang et al. 2024
=========  ==========================================================  ====================
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

PositiveRule = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# Below this share of non-zero anchor labels, the intersection product runs on a sparse
# copy of the anchors (cost nnz · M instead of n · L · M).
_SPARSE_DENSITY = 0.05


def intersection_sizes(anchors: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """``|S_i ∩ T_j|`` for all pairs, ``[n, M]`` float32."""
    anchors, contrast = anchors.float(), contrast.float()
    with torch.autocast(device_type=anchors.device.type, enabled=False):
        if anchors.shape[1] >= 64 and anchors.count_nonzero() < _SPARSE_DENSITY * anchors.numel():
            with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
                warnings.filterwarnings(
                    "ignore", message="Sparse CSR tensor support", category=UserWarning
                )
                return torch.sparse.mm(anchors.to_sparse_csr(), contrast.T.contiguous())
        return anchors @ contrast.T


def any_overlap(anchors: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """``W_ij = 1`` when the label sets share at least one label."""
    return (intersection_sizes(anchors, contrast) > 0).float()


def identical_sets(anchors: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """``W_ij = 1`` when the (non-empty) label sets are equal."""
    shared = intersection_sizes(anchors, contrast)
    size_a = anchors.float().sum(dim=1, keepdim=True)
    size_c = contrast.float().sum(dim=1).unsqueeze(0)
    # |S ∩ T| ≤ min(|S|, |T|), so 2|S ∩ T| = |S| + |T| exactly when S = T
    return ((2 * shared == size_a + size_c) & (size_a > 0)).float()


def jaccard(anchors: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """``W_ij = |S ∩ T| / |S ∪ T|`` (0 for two empty sets)."""
    shared = intersection_sizes(anchors, contrast)
    union = anchors.float().sum(dim=1, keepdim=True) + contrast.float().sum(dim=1) - shared
    return shared / union.clamp_min(1.0)


def similarity_dissimilarity(anchors: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """``W_ij = K_s · K_d`` with ``K_s = |S ∩ T| / |S|`` and ``K_d = 1 / (1 + |T ∖ S|)``."""
    shared = intersection_sizes(anchors, contrast)
    size_a = anchors.float().sum(dim=1, keepdim=True)
    extra = contrast.float().sum(dim=1) - shared  # |T ∖ S|
    return shared / size_a.clamp_min(1.0) / (1.0 + extra)


RULES: dict[str, PositiveRule] = {
    "any": any_overlap,
    "all": identical_sets,
    "jaccard": jaccard,
    "sd": similarity_dissimilarity,
}


def get_rule(name: str) -> PositiveRule:
    try:
        return RULES[name]
    except KeyError:
        raise ValueError(
            f"unknown positives rule {name!r}; choose one of {sorted(RULES)}"
        ) from None
