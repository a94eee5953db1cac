"""Label views: what part of the label space a loss (or an MLCL head) looks at.

A view maps a multi-hot matrix ``[M, L]`` over all labels to ``[M, L']`` over the labels the
loss should compare. MLCL gives each projection head its own view (Ghanooni et al., arXiv
2502.02202); the hierarchical losses use one level view per tree level.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mlcl_text.hierarchy import LabelTree


class LabelView(nn.Module):
    """Base class: ``forward(multi_hot [M, input_width]) -> multi_hot [M, output_width]``."""

    input_width: int
    output_width: int

    def describe(self) -> str:
        raise NotImplementedError


class LevelView(LabelView):
    """Each label replaced by its ancestor at ``depth`` (labels shallower than it drop out).

    Same result as :meth:`LabelTree.level_view`, computed on the tensor's device.
    """

    def __init__(self, tree: LabelTree, depth: int):
        super().__init__()
        ancestor = torch.as_tensor(tree.ancestor_at_depth(depth))
        level_ids = torch.as_tensor(tree.level_ids(depth))
        column_of = torch.full((len(tree),), -1, dtype=torch.int64)
        column_of[level_ids] = torch.arange(len(level_ids))
        has_ancestor = ancestor >= 0
        self.register_buffer("sources", torch.nonzero(has_ancestor).flatten(), persistent=False)
        self.register_buffer("targets", column_of[ancestor[has_ancestor]], persistent=False)
        self.depth = depth
        self.input_width = len(tree)
        self.output_width = len(level_ids)

    def forward(self, multi_hot: torch.Tensor) -> torch.Tensor:
        out = multi_hot.new_zeros((multi_hot.shape[0], self.output_width), dtype=torch.float32)
        out.index_add_(1, self.targets, multi_hot[:, self.sources].float())
        return (out > 0).float()

    def describe(self) -> str:
        return f"level {self.depth}"


class LabelSubsetView(LabelView):
    """Only the given label columns (a label group such as one debtags facet)."""

    def __init__(self, columns: Sequence[int], input_width: int):
        super().__init__()
        columns = list(columns)
        if not columns:
            raise ValueError("a label subset view needs at least one label")
        bad = [c for c in columns if not 0 <= c < input_width]
        if bad:
            raise ValueError(f"label ids {bad} are out of range for {input_width} labels")
        self.register_buffer(
            "columns", torch.as_tensor(columns, dtype=torch.int64), persistent=False
        )
        self.input_width = input_width
        self.output_width = len(columns)

    @classmethod
    def from_names(
        cls, tree: LabelTree, names: Sequence[str], descendants: bool = True
    ) -> LabelSubsetView:
        """The named labels, and with ``descendants`` every label below them."""
        chosen = {tree.index(name) for name in names}
        if descendants:
            depths = tree.depths
            for label in range(len(tree)):
                ancestors = (
                    {tree.index(a) for a in tree.ancestors(label)} if depths[label] > 1 else set()
                )
                if ancestors & chosen:
                    chosen.add(label)
        return cls(sorted(chosen), len(tree))

    def forward(self, multi_hot: torch.Tensor) -> torch.Tensor:
        return multi_hot[:, self.columns].float()

    def describe(self) -> str:
        return f"{self.output_width} labels"
