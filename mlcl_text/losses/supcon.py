"""Supervised contrastive loss for single-label data."""

from __future__ import annotations

import torch

from mlcl_text.losses.base import ContrastiveLoss
from mlcl_text.losses.citations import Citation


class SupConLoss(ContrastiveLoss):
    """SupCon (Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020, eq. 2).

    .. math::

        \\mathcal{L} = \\frac{1}{|I^+|} \\sum_{i \\in I^+} \\frac{-1}{|P(i)|}
        \\sum_{p \\in P(i)} \\log \\frac{\\exp(z_i \\cdot z_p / τ)}{\\sum_{a \\ne i} \\exp(z_i \\cdot z_a / τ)}

    with ``P(i)`` the other samples of anchor ``i``'s class and ``I^+`` the anchors with at
    least one positive: the kernel with ``W_ij = [y_i = y_j]``. Matches
    ``pytorch_metric_learning.losses.SupConLoss`` on the same inputs.

    Args:
        temperature: τ (0.1 in the paper's text experiments, 0.07 in its image ones).

    Example:
        >>> loss = SupConLoss(temperature=0.1)
        >>> value = loss(torch.randn(8, 16), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3]))
    """

    citation = Citation(
        short="Khosla et al. 2020",
        reference="Khosla et al., Supervised Contrastive Learning, NeurIPS 2020",
        arxiv="2004.11362",
        bibtex="""@inproceedings{khosla2020supervised,
  title = {Supervised Contrastive Learning},
  author = {Khosla, Prannay and Teterwak, Piotr and Wang, Chen and Sarna, Aaron and
            Tian, Yonglong and Isola, Phillip and Maschinot, Aaron and Liu, Ce and
            Krishnan, Dilip},
  booktitle = {Advances in Neural Information Processing Systems},
  year = {2020}
}""",
    )

    def prepare_labels(self, labels: torch.Tensor) -> torch.Tensor:
        if labels.ndim != 1:
            raise ValueError(
                "SupConLoss takes [N] class ids; for an [N, L] multi-hot matrix use "
                "MultiLabelSupConLoss, SimilarityDissimilarityLoss or MulSupConLoss"
            )
        return labels

    def positive_weights(
        self, anchor_labels: torch.Tensor, contrast_labels: torch.Tensor
    ) -> tuple[torch.Tensor, None]:
        return (anchor_labels[:, None] == contrast_labels[None, :]).float(), None
