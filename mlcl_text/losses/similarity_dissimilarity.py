"""Similarity-Dissimilarity loss for multi-label supervised contrastive learning."""

from __future__ import annotations

import torch

from mlcl_text.losses.base import ContrastiveLoss
from mlcl_text.losses.citations import Citation
from mlcl_text.losses.positives import similarity_dissimilarity


class SimilarityDissimilarityLoss(ContrastiveLoss):
    """Similarity-Dissimilarity loss (Huang, Long & Luo, arXiv 2410.13439).

    Every sample sharing a label with the anchor is a positive, re-weighted by how similar
    and how dissimilar its label set ``T`` is to the anchor's set ``S``:

    .. math::

        K_s = \\frac{|S ∩ T|}{|S|}, \\qquad K_d = \\frac{1}{1 + |T ∖ S|}, \\qquad
        W_{ij} = K_s K_d, \\qquad
        \\mathcal{L} = \\frac{1}{|I^+|} \\sum_{i ∈ I^+}
        \\frac{-\\sum_j W_{ij} \\log p_{ij}}{\\sum_j W_{ij}}

    with ``log p_ij`` the SupCon log-probability. The five relations of the paper:

    ===========================  ====================  =============================
    relation of T to S           example S / T         W = K_s · K_d
    ===========================  ====================  =============================
    disjoint (S ∩ T = ∅)         {a,b} / {c}           0 (a negative)
    identical (S = T)            {a,b} / {a,b}         1
    subset (T ⊂ S)               {a,b} / {a}           |T|/|S| = 1/2
    superset (T ⊃ S)             {a} / {a,b,c}         1/(1 + |T∖S|) = 1/3
    partial overlap              {a,b} / {b,c}         |S∩T|/|S| · 1/(1+|T∖S|) = 1/4
    ===========================  ====================  =============================

    The factors are the form given by the paper's public reviews and text; the paper's
    experiments use τ = 0.07, the default here. Single-label data (one label per sample)
    reduces to SupCon.

    Args:
        temperature: τ.
        **kwargs: view, num_labels, memory_size, gather_across_processes
            (see :class:`~mlcl_text.losses.base.ContrastiveLoss`).
    """

    citation = Citation(
        short="Huang et al. 2024",
        reference="Huang, Long & Luo, Similarity-Dissimilarity Loss for Multi-label Supervised "
        "Contrastive Learning, arXiv 2410.13439",
        arxiv="2410.13439",
        bibtex="""@article{huang2024similarity,
  title = {Similarity-Dissimilarity Loss for Multi-label Supervised Contrastive Learning},
  author = {Huang, Guangming and Long, Yunfei and Luo, Cunjin},
  journal = {arXiv preprint arXiv:2410.13439},
  year = {2024}
}""",
    )

    def __init__(self, temperature: float = 0.07, **kwargs):
        super().__init__(temperature, **kwargs)

    def positive_weights(
        self, anchor_labels: torch.Tensor, contrast_labels: torch.Tensor
    ) -> tuple[torch.Tensor, None]:
        return similarity_dissimilarity(anchor_labels, contrast_labels), None
