"""Hierarchical multi-label contrastive losses: HiMulCon, HiConE and HiMulConE."""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from mlcl_text.hierarchy import LabelTree
from mlcl_text.losses import distributed
from mlcl_text.losses.base import ContrastBatch, ContrastiveLoss, to_multi_hot
from mlcl_text.losses.citations import Citation
from mlcl_text.losses.positives import get_rule, identical_sets, keys_from_positions, same_keys
from mlcl_text.losses.views import LevelView

_MODES = ("himulcon", "hicone", "himulcone")
_PENALTIES = {
    "exp": lambda level: math.exp(1.0 / level),
    "pow2": lambda level: 2.0 ** (1.0 / level),
    "none": lambda level: 1.0,
}


class HierarchicalContrastiveLoss(ContrastiveLoss):
    """Level-wise contrastive losses over a label tree (Zhang, Xu, Xiong & Ramaiah, "Use All
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

    citation = Citation(
        short="Zhang et al. 2022",
        reference="Zhang et al., Use All The Labels: A Hierarchical Multi-Label Contrastive "
        "Learning Framework, CVPR 2022",
        arxiv="2204.13207",
        bibtex="""@inproceedings{zhang2022use,
  title = {Use All the Labels: A Hierarchical Multi-Label Contrastive Learning Framework},
  author = {Zhang, Shu and Xu, Ran and Xiong, Caiming and Ramaiah, Chetan},
  booktitle = {Proceedings of the IEEE/CVF Conference on Computer Vision and Pattern
               Recognition (CVPR)},
  pages = {16660--16669},
  year = {2022}
}""",
    )

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
        """``(depth, W [n, M], anchors with a label at that level [n])`` per level, finest
        level first."""
        if labels.ndim == 2 and labels.shape[1] != self.num_labels:
            raise ValueError(f"expected {self.num_labels} label columns, got {labels.shape[1]}")
        multi_hot = labels if labels.ndim == 2 else to_multi_hot(labels, self.num_labels)
        rows, columns = torch.nonzero(multi_hot, as_tuple=True)  # once for every level
        for view in self.level_views:
            if self._rule is identical_sets:  # the paper's path match, by exact set keys
                keys = keys_from_positions(
                    *view.positions(rows, columns), multi_hot.shape[0], view.output_width
                )
                if keys is not None:
                    yield view.depth, same_keys(keys[self_index], keys), keys[self_index] > 0
                    continue
            level_labels = view.from_positions(rows, columns, multi_hot.shape[0])
            anchors = level_labels[self_index]
            yield view.depth, self._rule(anchors, level_labels), anchors.any(dim=1)

    def positive_weight_views(
        self, labels: torch.Tensor, self_index: torch.Tensor
    ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        return {
            f"level {depth}": (weights, labelled)
            for depth, weights, labelled in self.level_weights(labels, self_index)
        }

    def loss_from_batch(self, batch: ContrastBatch) -> torch.Tensor:
        """The mode's combination of the level losses, differentiated in one pass.

        Each level's loss is a weighted mean over its anchors ``A_l`` of
        ``ℓ_il = log Z_i − Σ_j W^l_ij s_ij / T^l_i`` (``T^l_i = Σ_j W^l_ij``), and the total is
        ``Σ_l k_l 𝓛_l`` with ``k_l`` the summed penalties of the slots whose running maximum
        chose level ``l`` (divided by the number of levels). The level values, needed only to
        choose, are computed without autograd; the total is then linear in ``log Z`` and ``s``:
        ``Σ_i a_i log Z_i − Σ_ij V_ij s_ij`` with ``a_i = Σ_l c_l [i ∈ A_l]`` and
        ``V = Σ_l c_l W^l / T^l`` (``c_l = k_l / |A_l|``, global counts under DDP), so one
        ``[n, M]`` product carries every level's gradient instead of one per level.
        """
        similarities = batch.similarities(self.temperature)
        logits, log_z = similarities.logits, similarities.log_normalizer
        rows = torch.arange(logits.shape[0], device=logits.device)
        levels = []  # (W / T per anchor row, anchors with a positive)
        sums = []  # per level: Σ_{i ∈ A_l} ℓ_il (detached) and |A_l|
        for _, weights, _ in self.level_weights(batch.labels, batch.self_index):
            weights = weights.float()
            weights[rows, similarities.self_index] = 0.0
            total = weights.sum(dim=1)
            has_positive = total > 0
            weights.div_(total.clamp_min(torch.finfo(total.dtype).tiny).unsqueeze(1))
            with torch.no_grad():
                mean_positive = (weights * logits).sum(dim=1)
                loss_sum = torch.where(has_positive, log_z - mean_positive, 0.0).sum()
            levels.append((weights, has_positive))
            sums.append(torch.stack([loss_sum, has_positive.sum().float()]))
        sums = torch.stack(sums)  # [levels, 2]
        scale = 1.0
        if self.gather_across_processes and distributed.is_distributed():
            sums = distributed.global_sum(sums)
            scale = float(distributed.world_size())
        counts = sums[:, 1].clamp_min(torch.finfo(sums.dtype).tiny)
        values = (sums[:, 0] / counts).tolist()

        chosen = list(range(len(levels)))
        if self.mode in ("hicone", "himulcone"):
            for level in range(1, len(chosen)):
                if values[chosen[level - 1]] > values[level]:
                    chosen[level] = chosen[level - 1]
        coefficients = [0.0] * len(levels)
        for penalty, level in zip(self.level_penalties(), chosen, strict=True):
            coefficients[level] += penalty / len(levels)

        anchor_weight = torch.zeros_like(log_z)
        combined = None
        for (weights, has_positive), k, count in zip(
            levels, coefficients, counts.tolist(), strict=True
        ):
            if k == 0.0:
                continue
            c = k * scale / count
            anchor_weight = anchor_weight + c * has_positive
            combined = weights.mul_(c) if combined is None else combined.add_(weights, alpha=c)
        if combined is None:  # no level chosen (cannot happen) or no level at all
            return (log_z * 0.0).sum()
        return (anchor_weight * log_z).sum() - (combined * logits).sum()

    def get_config_dict(self) -> dict:
        return {
            "mode": self.mode,
            "penalty": self.penalty,
            "positives": self.positives,
            "levels": self.tree_levels,
            **super().get_config_dict(),
        }
