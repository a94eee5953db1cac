"""Label views of the heads: the most specific labels (the SD heads' default) and bad views."""

from __future__ import annotations

import pytest
import torch

from mlcl_text import LabelTree
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.losses import (
    MultiLabelSupConLoss,
    MultiLevelContrastiveLoss,
    SimilarityDissimilarityLoss,
)


def _closed_batch(tree: LabelTree, n: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    leaves = [tree.index(name) for name in tree.leaves]
    rows = torch.zeros(n, len(tree))
    for row in rows:
        count = 1 + int(torch.randint(2, (1,), generator=generator))
        chosen = torch.randperm(len(leaves), generator=generator)[:count]
        row[[leaves[i] for i in chosen]] = 1
    return torch.as_tensor(tree.closure(rows.numpy()))


def test_most_specific_view_matches_the_tree():
    from mlcl_text.losses.views import MostSpecificView

    tree = LabelTree.from_paths(["A/a/1", "A/a/2", "A/b", "B/c/3"], sep="/")
    labels = _closed_batch(tree, 12, seed=0)
    labels[0, tree.index("B")] = 1  # a row that is not ancestor-closed keeps B
    view = MostSpecificView(tree)
    assert torch.equal(view(labels), torch.as_tensor(tree.most_specific(labels.numpy())).float())


def test_sd_heads_compare_leaf_label_sets_by_default():
    tree = LabelTree.from_paths(["C1/c1/x", "C1/c1/y", "C1/c2/z", "C2/c3/w", "C2/c3/v"], sep="/")
    labels = _closed_batch(tree, 16, seed=1)
    z = torch.randn(16, 8, generator=torch.Generator().manual_seed(2))
    leaves = torch.as_tensor(tree.most_specific(labels.numpy())).float()
    plain = SimilarityDissimilarityLoss(temperature=0.1)
    default = MultiLevelContrastiveLoss([ContrastiveHeadSpec("codes", "sd")], tree=tree)
    whole = MultiLevelContrastiveLoss([ContrastiveHeadSpec("codes", "sd", view="all")], tree=tree)
    torch.testing.assert_close(default({"codes": z}, labels).loss, plain(z, leaves))
    torch.testing.assert_close(whole({"codes": z}, labels).loss, plain(z, labels))
    assert not torch.allclose(plain(z, leaves), plain(z, labels))
    jaccard = MultiLevelContrastiveLoss([ContrastiveHeadSpec("j", "jaccard")], tree=tree)
    torch.testing.assert_close(
        jaccard({"j": z}, labels).loss, MultiLabelSupConLoss("jaccard", 0.1)(z, labels)
    )


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"positives": "sd", "view": "codes"}, "view must be one of"),
        ({"positives": "sd", "view": "leaves", "level": 1}, "without level or labels"),
        ({"positives": "himulcone", "view": "all"}, "takes no view"),
    ],
)
def test_bad_head_views(keys, message):
    with pytest.raises(ValueError, match=message):
        ContrastiveHeadSpec("h", **keys)
