"""MulSupCon: one anchor per (sample, label) pair."""

from __future__ import annotations

import torch

from mlcl_text.losses.base import ContrastiveLoss
from mlcl_text.losses.citations import Citation
from mlcl_text.losses.positives import intersection_sizes


class MulSupConLoss(ContrastiveLoss):
    """MulSupCon (Zhang & Wu, "Multi-Label Supervised Contrastive Learning", AAAI 2024).

    Each pair of a sample ``i`` and one of its labels ``k`` is an anchor whose positives
    ``P_k(i)`` are the other samples carrying ``k``:

    .. math::

        \\mathcal{L} = \\frac{1}{|A|} \\sum_{(i,k) ∈ A} \\frac{-1}{|P_k(i)|}
        \\sum_{p ∈ P_k(i)} \\log p_{ip}, \\qquad A = \\{(i,k) : y_{ik} = 1, P_k(i) ≠ ∅\\}

    with ``log p_ip`` the SupCon log-probability of anchor ``i`` (the same for all its labels).
    Without an ``[n, M, L]`` tensor: summing over ``k`` first gives the kernel with
    ``W_ip = Σ_k y_ik y_pk / |P_k(i)|`` and anchor weight ``ω_i = |{k : (i,k) ∈ A}|``
    (then ``Σ_p W_ip = ω_i``, so the kernel's weighted mean is the mean over ``A``).

    Args:
        temperature: τ.
        **kwargs: view, num_labels, memory_size, gather_across_processes
            (see :class:`~mlcl_text.losses.base.ContrastiveLoss`).
    """

    citation = Citation(
        short="Zhang & Wu 2024",
        reference="Zhang & Wu, Multi-Label Supervised Contrastive Learning, AAAI 2024",
        bibtex="""@inproceedings{zhang2024multilabel,
  title = {Multi-Label Supervised Contrastive Learning},
  author = {Zhang, Pingyue and Wu, Mengyue},
  booktitle = {Proceedings of the AAAI Conference on Artificial Intelligence},
  year = {2024}
}""",
    )

    def positive_weights(
        self, anchor_labels: torch.Tensor, contrast_labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        # |P_k(i)|: contrast rows with label k, less the anchor itself (always in the set)
        positives_per_label = contrast_labels.sum(dim=0, keepdim=True) - anchor_labels
        valid = (anchor_labels > 0) & (positives_per_label > 0)
        scaled = torch.where(valid, anchor_labels / positives_per_label.clamp_min(1.0), 0.0)
        return intersection_sizes(scaled, contrast_labels), valid.sum(dim=1).float()
