"""SupCon with multi-label positives: any shared label, identical sets, or Jaccard weights."""

from __future__ import annotations

import torch

from mlcl_text.losses.base import ContrastiveLoss
from mlcl_text.losses.positives import get_rule
from mlcl_text.losses.supcon import SupConLoss

_CHOICES = ("any", "all", "jaccard")


class MultiLabelSupConLoss(ContrastiveLoss):
    """The kernel with a multi-label positive rule over label sets ``S_i``, ``T_j``.

    ==========  ==========================  ======================================
    positives   W_ij                        meaning
    ==========  ==========================  ======================================
    ``any``     ``[S_i ∩ T_j ≠ ∅]``         share at least one label (ANY)
    ``all``     ``[S_i = T_j ≠ ∅]``         identical label sets (ALL)
    ``jaccard`` ``|S_i ∩ T_j| / |S_i ∪ T_j|``  graded by label-set overlap
    ==========  ==========================  ======================================

    ``ℓ_i = −Σ_j W_ij log p_ij / Σ_j W_ij`` averaged over anchors with a positive, with
    ``log p_ij`` the SupCon log-probability (Khosla et al., NeurIPS 2020). ANY and ALL are
    the multi-label baselines of Zhang & Wu (AAAI 2024) and Huang et al. (arXiv 2410.13439).

    Args:
        positives: ``"any"``, ``"all"`` or ``"jaccard"``.
        temperature: τ.
        **kwargs: view, num_labels, memory_size, gather_across_processes
            (see :class:`~mlcl_text.losses.base.ContrastiveLoss`).

    Example:
        >>> loss = MultiLabelSupConLoss(positives="jaccard")
        >>> y = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 0, 1], [0, 1, 1]])
        >>> value = loss(torch.randn(4, 16), y)
    """

    # ANY, ALL and Jaccard are baselines (the README's Losses table), not papers of their own:
    # they are SupCon with a multi-label positive rule
    citation = SupConLoss.citation

    def __init__(self, positives: str = "any", temperature: float = 0.1, **kwargs):
        if positives not in _CHOICES:
            raise ValueError(f"positives must be one of {_CHOICES}, got {positives!r}")
        super().__init__(temperature, **kwargs)
        self.positives = positives
        self._rule = get_rule(positives)

    def positive_weights(
        self, anchor_labels: torch.Tensor, contrast_labels: torch.Tensor
    ) -> tuple[torch.Tensor, None]:
        return self._rule(anchor_labels, contrast_labels), None

    def get_config_dict(self) -> dict:
        return {"positives": self.positives, **super().get_config_dict()}
