"""MLCL: several projection heads, each with its own notion of similarity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

import torch
from torch import nn

from mlcl_text.head_spec import HIERARCHICAL_POSITIVES, ContrastiveHeadSpec, head_specs
from mlcl_text.hierarchy import LabelTree
from mlcl_text.losses.base import ContrastiveLoss
from mlcl_text.losses.citations import Citation
from mlcl_text.losses.hierarchical import HierarchicalContrastiveLoss
from mlcl_text.losses.mulsupcon import MulSupConLoss
from mlcl_text.losses.multilabel_supcon import MultiLabelSupConLoss
from mlcl_text.losses.similarity_dissimilarity import SimilarityDissimilarityLoss
from mlcl_text.losses.supcon import SupConLoss
from mlcl_text.losses.views import LabelSubsetView, LabelView, LevelView, MostSpecificView

__all__ = [
    "MultiLevelContrastiveLoss",
    "MultiLevelLossOutput",
    "head_loss_class",
]


class MultiLevelLossOutput(NamedTuple):
    loss: torch.Tensor  # Σ_h α_h 𝓛_h
    components: dict[str, torch.Tensor]  # unweighted 𝓛_h per head name, detached


class MultiLevelContrastiveLoss(nn.Module):
    """Multi-level contrastive loss of MLCL (Ghanooni et al., arXiv 2502.02202).

    Each head ``h`` has its own projection ``z^h`` of the encoder output, a label view
    ``V_h`` (all labels, one tree level, or a label group), a positive rule, a temperature
    ``τ_h`` and a weight ``α_h``:

    .. math::

        \\mathcal{L}_{con} = \\sum_h α_h \\, \\mathcal{L}_h\\big(z^h, V_h(Y); τ_h\\big)

    where ``𝓛_h`` is the kernel loss of the head's rule (see
    :mod:`mlcl_text.losses.positives`). The paper does not publish its head definitions per
    data set; here they are explicit, configurable :class:`ContrastiveHeadSpec` entries.

    Args:
        heads: head specifications (or their dicts).
        tree: label tree, needed for ``level``/``labels`` views and hierarchical heads.
        num_labels: label-matrix width when there is no tree.
        memory_size: per-head memory of past embeddings (each head has its own space).
        gather_across_processes: see :class:`~mlcl_text.losses.base.ContrastiveLoss`.

    Example:
        >>> tree = LabelTree.from_paths(["CS/ML", "CS/DB", "Bio/Gen"])
        >>> loss = MultiLevelContrastiveLoss(
        ...     [ContrastiveHeadSpec("domain", "all", level=1, temperature=0.2),
        ...      ContrastiveHeadSpec("labels", "sd", temperature=0.07, weight=0.5)], tree=tree)
        >>> out = loss({"domain": torch.randn(4, 8), "labels": torch.randn(4, 8)},
        ...            torch.tensor([[1, 1, 0, 0, 0, 0], [1, 0, 1, 0, 0, 0],
        ...                          [0, 0, 0, 1, 1, 0], [1, 1, 0, 0, 0, 0]]))
        >>> sorted(out.components)
        ['domain', 'labels']
    """

    citation: ClassVar[Citation] = Citation(
        short="Ghanooni et al. 2025",
        reference="Ghanooni et al., multi-level contrastive learning with several projection "
        "heads, arXiv 2502.02202",
        arxiv="2502.02202",
    )

    def __init__(
        self,
        heads: Sequence[ContrastiveHeadSpec | Mapping[str, Any]],
        tree: LabelTree | None = None,
        num_labels: int | None = None,
        memory_size: int = 0,
        gather_across_processes: bool = True,
    ):
        super().__init__()
        self.specs = head_specs(heads)
        if not self.specs:
            raise ValueError("MultiLevelContrastiveLoss needs at least one head")
        if tree is not None:
            num_labels = len(tree)
        common = {"memory_size": memory_size, "gather_across_processes": gather_across_processes}
        self.losses = nn.ModuleDict(
            {spec.name: _build_head_loss(spec, tree, num_labels, common) for spec in self.specs}
        )

    def forward(
        self,
        embeddings: Mapping[str, torch.Tensor] | Sequence[torch.Tensor],
        labels: torch.Tensor,
    ) -> MultiLevelLossOutput:
        """``embeddings``: one ``[N, d_h]`` tensor per head, by name or in head order."""
        if isinstance(embeddings, Mapping):
            missing = [s.name for s in self.specs if s.name not in embeddings]
            if missing:
                raise ValueError(f"no embeddings given for heads {missing}")
            per_head = [embeddings[s.name] for s in self.specs]
        else:
            per_head = list(embeddings)
            if len(per_head) != len(self.specs):
                raise ValueError(
                    f"got {len(per_head)} embedding tensors for {len(self.specs)} heads"
                )
        total = None
        components: dict[str, torch.Tensor] = {}
        for spec, z in zip(self.specs, per_head, strict=True):
            value = self.losses[spec.name](z, labels)
            components[spec.name] = value.detach()
            total = spec.weight * value if total is None else total + spec.weight * value
        return MultiLevelLossOutput(total, components)

    def get_config_dict(self) -> dict[str, Any]:
        return {
            spec.name: {"weight": spec.weight, **self.losses[spec.name].get_config_dict()}
            for spec in self.specs
        }


#: the loss class of each non-hierarchical rule other than ANY / ALL / Jaccard
_RULE_LOSSES: dict[str, type[ContrastiveLoss]] = {
    "class": SupConLoss,
    "sd": SimilarityDissimilarityLoss,
    "mulsupcon": MulSupConLoss,
}


def head_loss_class(spec: ContrastiveHeadSpec) -> type[ContrastiveLoss]:
    """The loss class that trains a head of ``spec``'s positive rule."""
    if spec.positives in HIERARCHICAL_POSITIVES:
        return HierarchicalContrastiveLoss
    return _RULE_LOSSES.get(spec.positives, MultiLabelSupConLoss)


def _build_head_loss(
    spec: ContrastiveHeadSpec, tree: LabelTree | None, num_labels: int | None, common: dict
) -> ContrastiveLoss:
    if (
        spec.level is not None
        or spec.labels is not None
        or spec.positives in HIERARCHICAL_POSITIVES
    ) and tree is None:
        raise ValueError(
            f"head {spec.name!r} needs a label tree (level, labels or a hierarchical loss)"
        )
    loss_class = head_loss_class(spec)
    if loss_class is HierarchicalContrastiveLoss:
        return HierarchicalContrastiveLoss(
            tree, mode=spec.positives, temperature=spec.temperature, **spec.options, **common
        )
    if loss_class is SupConLoss:
        return SupConLoss(spec.temperature, **spec.options, **common)
    view: LabelView | None = None
    if spec.level is not None:
        view = LevelView(tree, spec.level)
    elif spec.labels is not None:
        view = LabelSubsetView.from_names(tree, spec.labels)
    elif tree is not None and spec.label_view == "leaves" and tree.num_levels > 1:
        view = MostSpecificView(tree)
    kwargs = {"view": view, "num_labels": num_labels, **spec.options, **common}
    if loss_class is MultiLabelSupConLoss:
        return MultiLabelSupConLoss(spec.positives, spec.temperature, **kwargs)
    return loss_class(spec.temperature, **kwargs)
