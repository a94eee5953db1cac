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
        # column[i]: the level column of label i's ancestor at this depth, -1 if too shallow
        column = torch.where(ancestor >= 0, column_of[ancestor.clamp_min(0)], -1)
        self.register_buffer("column", column, persistent=False)
        self.depth = depth
        self.input_width = len(tree)
        self.output_width = len(level_ids)

    def forward(self, multi_hot: torch.Tensor) -> torch.Tensor:
        rows, labels = torch.nonzero(multi_hot, as_tuple=True)
        return self.from_positions(rows, labels, multi_hot.shape[0])

    def positions(
        self, rows: torch.Tensor, labels: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(rows, level columns)`` of the view's non-zeros (a column may repeat in a row)."""
        columns = self.column[labels]
        keep = columns >= 0
        return rows[keep], columns[keep]

    def from_positions(
        self, rows: torch.Tensor, labels: torch.Tensor, num_rows: int
    ) -> torch.Tensor:
        """The view of the multi-hot matrix whose non-zero entries are ``(rows, labels)``.

        Costs O(non-zeros), not O(rows × labels): callers with several views of one matrix
        (one per tree level) find the non-zeros once.
        """
        rows, columns = self.positions(rows, labels)
        out = torch.zeros((num_rows, self.output_width), dtype=torch.float32, device=rows.device)
        out[rows, columns] = 1.0
        return out

    def describe(self) -> str:
        return f"level {self.depth}"


class MostSpecificView(LabelView):
    """Each row's most specific labels: those with no child in the same row.

    On ancestor-closed label sets (a code with its category and chapter) this is the leaf
    label set, the flat code set that the Similarity-Dissimilarity loss weighs (Huang et al.,
    arXiv 2410.13439); on a flat tree it changes nothing. Same result as
    :meth:`LabelTree.most_specific`, computed on the tensor's device.
    """

    def __init__(self, tree: LabelTree):
        super().__init__()
        self.register_buffer(
            "parent", torch.as_tensor(tree.parent_ids, dtype=torch.int64), persistent=False
        )
        self.input_width = self.output_width = len(tree)

    def forward(self, multi_hot: torch.Tensor) -> torch.Tensor:
        present = (multi_hot != 0).float()
        rows, labels = torch.nonzero(present, as_tuple=True)
        parents = self.parent.to(labels.device)[labels]
        inner = parents >= 0
        has_child = torch.zeros_like(present)
        has_child[rows[inner], parents[inner]] = 1.0
        return present * (1.0 - has_child)

    def describe(self) -> str:
        return "most specific labels"


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
