"""The multi-head MLCL loss: the weighted sum of its heads' single losses, their label views
against the loop references of ``tests/helpers/loss_references.py``, and its errors.
"""

from __future__ import annotations

import pytest
import torch

from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.losses import (
    HierarchicalContrastiveLoss,
    LabelSubsetView,
    LevelView,
    MulSupConLoss,
    MultiLabelSupConLoss,
    MultiLevelContrastiveLoss,
    SimilarityDissimilarityLoss,
    SupConLoss,
)
from tests.helpers.loss_batches import assert_matches, encode, hierarchical_names, make_ids
from tests.helpers.loss_references import (
    TREE,
    level_set,
    log_probabilities,
    ref_hierarchical,
    ref_mulsupcon,
    rule_weight,
    unit_rows,
    weighted_mean_loss,
)


def mlcl_heads() -> list[ContrastiveHeadSpec]:
    return [
        ContrastiveHeadSpec("roots", "all", level=1, temperature=0.2, weight=0.7),
        ContrastiveHeadSpec("groupA", "jaccard", labels=["A"], temperature=0.1, weight=0.3),
        ContrastiveHeadSpec("sd", "sd", temperature=0.07, weight=0.5),
        ContrastiveHeadSpec("mul", "mulsupcon", temperature=0.1, weight=1.5),
        ContrastiveHeadSpec(
            "hier", "himulcone", temperature=0.15, weight=0.25, options={"penalty": "pow2"}
        ),
    ]


def mlcl_inputs(seed: int):
    names = hierarchical_names(seed, n=12)
    g = torch.Generator().manual_seed(300 + seed)
    embeddings = {
        spec.name: torch.randn(len(names), 3 + k, generator=g, dtype=torch.float64)
        for k, spec in enumerate(mlcl_heads())
    }
    return names, embeddings


@pytest.mark.parametrize("seed", [0, 1])
def test_mlcl_total_is_weighted_sum_of_single_losses(seed):
    names, embeddings = mlcl_inputs(seed)
    embeddings = {k: v.requires_grad_() for k, v in embeddings.items()}
    labels = encode(names)
    loss = MultiLevelContrastiveLoss(mlcl_heads(), tree=TREE)
    out = loss(embeddings, labels)
    singles = {
        "roots": MultiLabelSupConLoss("all", 0.2, view=LevelView(TREE, 1), num_labels=len(TREE)),
        "groupA": MultiLabelSupConLoss(
            "jaccard", 0.1, view=LabelSubsetView.from_names(TREE, ["A"])
        ),
        "sd": SimilarityDissimilarityLoss(0.07),
        "mul": MulSupConLoss(0.1),
        "hier": HierarchicalContrastiveLoss(
            TREE, mode="himulcone", penalty="pow2", temperature=0.15
        ),
    }
    weights = {spec.name: spec.weight for spec in mlcl_heads()}
    values = {name: single(embeddings[name], labels) for name, single in singles.items()}
    assert set(out.components) == set(singles)
    for name, value in values.items():
        torch.testing.assert_close(out.components[name], value)
        assert not out.components[name].requires_grad
    expected_total = sum(weights[name] * values[name] for name in values)
    torch.testing.assert_close(out.loss, expected_total)
    assert out.loss.requires_grad
    out.loss.backward()
    assert all(torch.isfinite(z.grad).all() for z in embeddings.values())


@pytest.mark.parametrize("seed", [0, 1])
def test_mlcl_heads_match_loops_with_their_views(seed):
    names, embeddings = mlcl_inputs(seed)
    out = MultiLevelContrastiveLoss(mlcl_heads(), tree=TREE)(embeddings, encode(names))
    roots = [level_set(n, 1) for n in names]
    group_a = [frozenset(x for x in n if x == "A" or x.startswith("A/")) for n in names]

    def view_loss(z, sets, tau, rule):
        rows = unit_rows(z)
        logp = log_probabilities(rows, rows, tau)
        return weighted_mean_loss(logp, lambda i, j: rule_weight(rule, sets[i], sets[j]))

    expected = {
        "roots": view_loss(embeddings["roots"], roots, 0.2, "all"),
        "groupA": view_loss(embeddings["groupA"], group_a, 0.1, "jaccard"),
        "sd": view_loss(embeddings["sd"], names, 0.07, "sd"),
        "mul": ref_mulsupcon(embeddings["mul"], encode(names), 0.1),
        "hier": ref_hierarchical(embeddings["hier"], names, 0.15, "himulcone", "pow2"),
    }
    for name, value in expected.items():
        assert_matches(out.components[name], value)
    weights = {spec.name: spec.weight for spec in mlcl_heads()}
    assert_matches(out.loss, sum(weights[n] * v for n, v in expected.items()))


def test_mlcl_accepts_embeddings_in_head_order():
    names, embeddings = mlcl_inputs(2)
    loss = MultiLevelContrastiveLoss(mlcl_heads(), tree=TREE)
    by_name = loss(embeddings, encode(names))
    in_order = loss([embeddings[s.name] for s in mlcl_heads()], encode(names))
    torch.testing.assert_close(by_name.loss, in_order.loss)


def test_mlcl_class_head_is_supcon():
    embeddings, ids = make_ids(8)
    loss = MultiLevelContrastiveLoss([ContrastiveHeadSpec("c", "class", weight=2.0)])
    out = loss({"c": embeddings}, ids)
    torch.testing.assert_close(out.components["c"], SupConLoss(0.1)(embeddings, ids))
    torch.testing.assert_close(out.loss, 2.0 * SupConLoss(0.1)(embeddings, ids))


def test_mlcl_errors():
    with pytest.raises(ValueError, match="unique"):
        MultiLevelContrastiveLoss(
            [ContrastiveHeadSpec("h", "any"), ContrastiveHeadSpec("h", "sd")], tree=TREE
        )
    with pytest.raises(ValueError, match="tree"):
        MultiLevelContrastiveLoss([ContrastiveHeadSpec("h", "all", level=1)])
    with pytest.raises(ValueError, match="tree"):
        MultiLevelContrastiveLoss([ContrastiveHeadSpec("h", "any", labels=["A"])])
    with pytest.raises(ValueError, match="tree"):
        MultiLevelContrastiveLoss([ContrastiveHeadSpec("h", "hicone")])
    with pytest.raises(ValueError, match="positives"):
        ContrastiveHeadSpec("h", "cosine")
    with pytest.raises(ValueError, match="positives"):
        MultiLevelContrastiveLoss([{"name": "h", "positives": "cosine"}], tree=TREE)
    with pytest.raises(ValueError, match="unknown contrastive-head keys"):
        MultiLevelContrastiveLoss([{"name": "h", "rule": "any"}], tree=TREE)
    with pytest.raises(ValueError, match="at least one head"):
        MultiLevelContrastiveLoss([], tree=TREE)
    names, embeddings = mlcl_inputs(0)
    loss = MultiLevelContrastiveLoss(mlcl_heads(), tree=TREE)
    with pytest.raises(ValueError, match="no embeddings"):
        loss({"roots": embeddings["roots"]}, encode(names))
    with pytest.raises(ValueError, match="embedding tensors"):
        loss([embeddings["roots"]], encode(names))
