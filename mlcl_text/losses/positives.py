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

import math
from collections.abc import Callable

import torch
from torch import nn

PositiveRule = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# Below this share of non-zero anchor labels, the intersection product sums label columns
# per anchor (cost nnz · M instead of n · L · M).
_SPARSE_DENSITY = 0.05


def intersection_sizes(anchors: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """``|S_i ∩ T_j|`` for all pairs, ``[n, M]`` float32.

    Sparse anchor rows (few labels of many) sum the contrast set's label columns they hold,
    one bag per anchor (``embedding_bag``: cost ``nnz · M``); dense ones take ``A Cᵀ``.
    """
    anchors, contrast = anchors.float(), contrast.float()
    with torch.autocast(device_type=anchors.device.type, enabled=False):
        if anchors.shape[1] >= 64 and anchors.count_nonzero() < _SPARSE_DENSITY * anchors.numel():
            rows, columns = torch.nonzero(anchors, as_tuple=True)
            counts = torch.bincount(rows, minlength=anchors.shape[0])
            return nn.functional.embedding_bag(
                columns,
                contrast.T.contiguous(),
                torch.cumsum(counts, 0) - counts,
                mode="sum",
                per_sample_weights=anchors[rows, columns],
            )
        return anchors @ contrast.T


def any_overlap(anchors: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """``W_ij = 1`` when the label sets share at least one label."""
    return (intersection_sizes(anchors, contrast) > 0).float()


def identical_sets(anchors: torch.Tensor, contrast: torch.Tensor) -> torch.Tensor:
    """``W_ij = 1`` when the (non-empty) label sets are equal.

    Compares one exact integer key per row (:func:`set_keys`) where the sets are small enough
    for one, which costs ``O(nnz)`` and one ``[n, M]`` comparison instead of ``|S ∩ T|``.
    """
    keys = set_keys(torch.cat([anchors, contrast]))
    if keys is not None:
        return same_keys(keys[: anchors.shape[0]], keys[anchors.shape[0] :])
    shared = intersection_sizes(anchors, contrast)
    size_a = anchors.float().sum(dim=1, keepdim=True)
    size_c = contrast.float().sum(dim=1).unsqueeze(0)
    # |S ∩ T| ≤ min(|S|, |T|), so 2|S ∩ T| = |S| + |T| exactly when S = T
    return ((2 * shared == size_a + size_c) & (size_a > 0)).float()


def same_keys(anchor_keys: torch.Tensor, contrast_keys: torch.Tensor) -> torch.Tensor:
    """``W_ij = 1`` where two :func:`set_keys` are equal and not the empty set's."""
    return ((anchor_keys[:, None] == contrast_keys[None, :]) & (anchor_keys[:, None] > 0)).float()


def set_keys(labels: torch.Tensor) -> torch.Tensor | None:
    """``[R]`` int64 keys, equal exactly when the rows' label sets are equal (0: empty set);
    see :func:`keys_from_positions`."""
    rows, columns = torch.nonzero(labels, as_tuple=True)
    return keys_from_positions(rows, columns, labels.shape[0], labels.shape[1])


def keys_from_positions(
    rows: torch.Tensor, columns: torch.Tensor, num_rows: int, num_columns: int
) -> torch.Tensor | None:
    """Set keys of the rows whose labels are the ``(rows, columns)`` pairs (repeats allowed):
    a row's sorted label ids ``c_1 < … < c_K`` read as the digits ``c_k + 1`` in base
    ``num_columns + 1``. ``None`` when that would overflow int64 (too many labels per row)."""
    base = num_columns + 1
    flat = torch.unique(rows * base + columns)  # sorted row-major, repeats dropped
    rows, columns = flat // base, flat % base
    counts = torch.bincount(rows, minlength=num_rows)
    width = int(counts.max()) if rows.numel() else 0
    if width * math.log2(base) >= 62:
        return None
    starts = torch.cumsum(counts, 0) - counts
    position = torch.arange(rows.numel(), device=rows.device) - starts[rows]
    powers = torch.tensor([base**k for k in range(max(width, 1))], device=rows.device)
    keys = torch.zeros(num_rows, dtype=torch.int64, device=rows.device)
    return keys.index_add_(0, rows, (columns + 1) * powers[position])


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
