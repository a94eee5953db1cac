"""HiMulCon / HiConE / HiMulConE (Zhang et al. CVPR 2022) against the loop references of
``tests/helpers/loss_references.py``; the level penalties and bad arguments.
"""

from __future__ import annotations

import pytest
import torch

from mlcl_text import LabelTree
from mlcl_text.losses import HierarchicalContrastiveLoss
from tests.helpers.loss_batches import (
    DTYPES,
    MODES,
    PENALTIES,
    assert_matches,
    encode,
    hierarchical_names,
    rounded,
)
from tests.helpers.loss_references import (
    DEPTH,
    TREE,
    penalty_value,
    ref_hierarchical,
    ref_level_losses,
)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("positives", ["all", "any"])
def test_hierarchical_matches_loop(mode, penalty, positives):
    loss = HierarchicalContrastiveLoss(
        TREE, mode=mode, penalty=penalty, positives=positives, temperature=0.1
    )
    for seed in range(3):
        names = hierarchical_names(seed)
        g = torch.Generator().manual_seed(100 + seed)
        embeddings = torch.randn(len(names), 5, generator=g, dtype=torch.float64)
        value = loss(embeddings, encode(names))
        assert_matches(value, ref_hierarchical(embeddings, names, 0.1, mode, penalty, positives))


@pytest.mark.parametrize("dtype", DTYPES)
def test_hierarchical_input_dtypes(dtype):
    names = hierarchical_names(11)
    g = torch.Generator().manual_seed(11)
    x = rounded(torch.randn(len(names), 6, generator=g, dtype=torch.float64), dtype)
    value = HierarchicalContrastiveLoss(TREE, mode="himulcone", temperature=0.2)(x, encode(names))
    assert_matches(value, ref_hierarchical(x.double(), names, 0.2, "himulcone", "exp"))


def test_hierarchical_max_constraint_is_exercised():
    """Across these seeds the running max changes some level loss, and the library follows."""
    used_max = False
    for seed in range(6):
        names = hierarchical_names(seed)
        g = torch.Generator().manual_seed(200 + seed)
        embeddings = torch.randn(len(names), 4, generator=g, dtype=torch.float64)
        levels = ref_level_losses(embeddings, names, 0.1, "all")
        used_max |= any(levels[k] < max(levels[: k + 1]) for k in range(1, DEPTH))
        hicone = HierarchicalContrastiveLoss(TREE, mode="hicone", temperature=0.1)
        assert_matches(
            hicone(embeddings, encode(names)),
            ref_hierarchical(embeddings, names, 0.1, "hicone", "none"),
        )
    assert used_max


@pytest.mark.parametrize("mode", MODES)
def test_hierarchical_node_ids_equal_one_hot(mode):
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(0, len(TREE), (15,), generator=g)
    embeddings = torch.randn(15, 6, generator=g)
    loss = HierarchicalContrastiveLoss(TREE, mode=mode)
    one_hot = torch.nn.functional.one_hot(ids, len(TREE))
    torch.testing.assert_close(loss(embeddings, ids), loss(embeddings, one_hot))
    names = [frozenset([TREE.names[i]]) for i in ids.tolist()]
    assert_matches(loss(embeddings, ids), ref_hierarchical(embeddings, names, 0.1, mode, "exp"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_hierarchical_level_penalties(mode, penalty):
    loss = HierarchicalContrastiveLoss(TREE, mode=mode, penalty=penalty)
    expected = (
        [1.0] * DEPTH
        if mode == "hicone"
        else [penalty_value(penalty, level) for level in (1, 2, 3)]
    )
    assert loss.level_penalties() == pytest.approx(expected, rel=1e-12)


def test_hierarchical_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        HierarchicalContrastiveLoss(TREE, mode="himul")
    with pytest.raises(ValueError, match="penalty"):
        HierarchicalContrastiveLoss(TREE, penalty="linear")
    with pytest.raises(ValueError, match="positives"):
        HierarchicalContrastiveLoss(TREE, positives="some")
    with pytest.raises(ValueError, match="empty"):
        HierarchicalContrastiveLoss(LabelTree([], []))
