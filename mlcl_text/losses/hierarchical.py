"""Hierarchical multi-label contrastive losses: HiMulCon, HiConE and HiMulConE."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from mlcl_text.hierarchy import LabelTree
from mlcl_text.losses.base import ContrastBatch, ContrastiveLoss, to_multi_hot
from mlcl_text.losses.kernel import weighted_terms
from mlcl_text.losses.positives import get_rule
from mlcl_text.losses.views import LevelView

_MODES = ("himulcon", "hicone", "himulcone")
_PENALTIES = {
    "exp": lambda level: math.exp(1.0 / level),
    "pow2": lambda level: 2.0 ** (1.0 / level),
    "none": lambda level: 1.0,
}


class HierarchicalContrastiveLoss(ContrastiveLoss):
    """Level-wise contrastive losses over a label tree (Zhang, Xu, Lin, Liu, Li & Li, "Use All
    The Labels: A Hierarchical Multi-Label Contrastive Learning Framework", CVPR 2022).

    Levels are numbered from the finest upwards, ``l = 1`` being the deepest level of the
    tree. At level ``l`` every sample is an anchor whose positives ``P_l(i)`` share its
    ancestor path down to that level, and

    .. math::

        \\mathcal{L}_l = \\frac{1}{|I^+_l|} \\sum_{i ∈ I^+_l} \\frac{-1}{|P_l(i)|}
        \\sum_{p ∈ P_l(i)} \\log \\frac{\\exp(z_i · z_p / τ)}{\\sum_{a ≠ i} \\exp(z_i · z_a / τ)}

    ==============  =====================================================================
    mode            loss (``|L|`` levels)
    ==============  =====================================================================
    ``himulcon``    ``1/|L| Σ_l λ_l 𝓛_l``
    ``hicone``      ``1/|L| Σ_l 𝓛^max_l`` with ``𝓛^max_l = max(𝓛_l, 𝓛^max_{l-1})``
    ``himulcone``   ``1/|L| Σ_l λ_l 𝓛^max_l``
    ==============  =====================================================================

    ``λ_l = F(1/l)``: ``exp`` gives e, e^(1/2), e^(1/3)… from the finest level up, ``pow2``
    gives 2, 2^(1/2)…, ``none`` gives 1, so the finest level weighs most. The HiConE
    constraint makes a coarser level's loss never smaller than any finer level's. Unlike the
    reference code, which de-duplicates samples per level, every sample is an anchor at
    every level, as in the paper; and the sum is divided by the number of levels, as there is
    no instance-level column here.

    Multi-path samples (several labels per level, as in RCV1 or debtags): a sample's level-
    ``l`` label set is the set of its ancestors at that depth, and ``positives`` chooses the
    level's rule: ``"all"`` (identical sets: the paper's exact-path match, default), ``"any"``,
    ``"jaccard"`` or ``"sd"`` (see :mod:`mlcl_text.losses.positives`). Samples with no label
    deep enough for a level take no part in that level.

    Under ``torch.distributed`` the max of HiConE is decided on the global level losses,
    so every process picks the same level and the optimised objective equals the
    single-process one.

    Args:
        tree: the label tree; labels are ``[N, len(tree)]`` multi-hot over its nodes (they
            need not be ancestor-closed) or ``[N]`` node ids.
        mode: ``"himulcon"``, ``"hicone"`` or ``"himulcone"``.
        penalty: ``"exp"``, ``"pow2"`` or ``"none"`` (ignored by ``hicone``).
        positives: the per-level positive rule.
        temperature: τ.
        **kwargs: memory_size, gather_across_processes.
    """

    def __init__(
        self,
        tree: LabelTree,
        mode: str = "himulcone",
        penalty: str = "exp",
        positives: str = "all",
        temperature: float = 0.1,
        **kwargs,
    ):
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        if penalty not in _PENALTIES:
            raise ValueError(f"penalty must be one of {tuple(_PENALTIES)}, got {penalty!r}")
        if tree.num_levels == 0:
            raise ValueError("the label tree is empty")
        super().__init__(temperature, num_labels=len(tree), **kwargs)
        self.tree_levels = tree.num_levels
        self.mode, self.penalty, self.positives = mode, penalty, positives
        self._rule = get_rule(positives)
        # finest level first: level_views[0] is depth num_levels (l = 1)
        self.level_views = torch.nn.ModuleList(
            LevelView(tree, depth) for depth in range(tree.num_levels, 0, -1)
        )

    def level_penalties(self) -> list[float]:
        """``λ_l`` for l = 1 (finest) … |L| (roots); all 1 for ``hicone``."""
        if self.mode == "hicone":
            return [1.0] * self.tree_levels
        return [_PENALTIES[self.penalty](level) for level in range(1, self.tree_levels + 1)]

    def level_weights(
        self, labels: torch.Tensor, self_index: torch.Tensor
    ) -> Iterator[tuple[int, torch.Tensor, torch.Tensor]]:
        """``(depth, W [n, M], anchors' level labels)`` per level, finest level first."""
        multi_hot = to_multi_hot(labels, self.num_labels)
        rows, columns = torch.nonzero(multi_hot, as_tuple=True)  # once for every level
        for view in self.level_views:
            level_labels = view.from_positions(rows, columns, multi_hot.shape[0])
            anchors = level_labels[self_index]
            yield view.depth, self._rule(anchors, level_labels), anchors

    def positive_weight_views(
        self, labels: torch.Tensor, self_index: torch.Tensor
    ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        return {
            f"level {depth}": (weights, anchors.any(dim=1))
            for depth, weights, anchors in self.level_weights(labels, self_index)
        }

    def loss_from_batch(self, batch: ContrastBatch) -> torch.Tensor:
        similarities = batch.similarities(self.temperature)
        rank_losses, global_values = [], []
        for _, weights, _ in self.level_weights(batch.labels, batch.self_index):
            terms = weighted_terms(similarities, weights)
            rank_loss, global_value = self.reduce_with_value(terms)
            rank_losses.append(rank_loss)
            global_values.append(global_value)

        chosen = list(range(len(rank_losses)))
        if self.mode in ("hicone", "himulcone"):
            for level in range(1, len(chosen)):
                if global_values[chosen[level - 1]] > global_values[level]:
                    chosen[level] = chosen[level - 1]
        penalties = self.level_penalties()
        total = sum(p * rank_losses[c] for p, c in zip(penalties, chosen, strict=True))
        return total / len(rank_losses)

    def get_config_dict(self) -> dict:
        return {
            "mode": self.mode,
            "penalty": self.penalty,
            "positives": self.positives,
            "levels": self.tree_levels,
            **super().get_config_dict(),
        }
