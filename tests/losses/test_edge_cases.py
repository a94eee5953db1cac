"""Every contrastive loss at its edges: no positives, one sample, anchors without positives,
bad shapes, bad temperatures and non-finite embeddings.
"""

from __future__ import annotations

import pytest
import torch

from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.losses import (
    HierarchicalContrastiveLoss,
    MulSupConLoss,
    MultiLabelSupConLoss,
    MultiLevelContrastiveLoss,
    SimilarityDissimilarityLoss,
    SupConLoss,
)
from tests.helpers.loss_batches import assert_matches, encode
from tests.helpers.loss_references import (
    TREE,
    log_probabilities,
    ref_mulsupcon,
    ref_multilabel,
    ref_supcon,
    unit_rows,
)


def _all_losses():
    return {
        "supcon": SupConLoss(0.1),
        "any": MultiLabelSupConLoss("any"),
        "all": MultiLabelSupConLoss("all"),
        "jaccard": MultiLabelSupConLoss("jaccard"),
        "sd": SimilarityDissimilarityLoss(),
        "mulsupcon": MulSupConLoss(),
        "himulcon": HierarchicalContrastiveLoss(TREE, mode="himulcon"),
        "hicone": HierarchicalContrastiveLoss(TREE, mode="hicone"),
        "himulcone": HierarchicalContrastiveLoss(TREE, mode="himulcone"),
    }


LOSS_NAMES = list(_all_losses())


def no_positive_labels(name: str, n: int) -> torch.Tensor:
    """Labels of ``n ≤ 4`` samples among which no pair is positive for ``name``."""
    if name == "supcon":
        return torch.arange(n)
    if name in ("himulcon", "hicone", "himulcone"):
        names = [frozenset({"A/A1/a"}), frozenset({"B/B2"}), frozenset({"C"}), frozenset()]
        return encode(names[:n])
    labels = torch.eye(4, dtype=torch.long)[:n]
    if n == 4:
        labels[3] = 0  # an empty row
    return labels


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_no_positives_gives_exact_zero_and_zero_gradients(name):
    embeddings = torch.randn(4, 6, generator=torch.Generator().manual_seed(0))
    embeddings.requires_grad_()
    value = _all_losses()[name](embeddings, no_positive_labels(name, 4))
    assert value.item() == 0.0
    assert value.dtype == torch.float32
    assert value.requires_grad
    value.backward()
    assert embeddings.grad is not None
    assert torch.equal(embeddings.grad, torch.zeros_like(embeddings))


def test_mlcl_without_positives_is_zero():
    heads = [ContrastiveHeadSpec("a", "any"), ContrastiveHeadSpec("h", "hicone")]
    loss = MultiLevelContrastiveLoss(heads, tree=TREE)
    embeddings = {k: torch.randn(3, 4).requires_grad_() for k in ("a", "h")}
    labels = no_positive_labels("himulcon", 3)
    out = loss(embeddings, labels)
    assert out.loss.item() == 0.0
    out.loss.backward()
    for z in embeddings.values():
        assert z.grad is not None and not z.grad.any()


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_single_sample_is_zero_without_nan(name):
    embeddings = torch.randn(1, 5).requires_grad_()
    value = _all_losses()[name](embeddings, no_positive_labels(name, 1))
    assert value.item() == 0.0
    value.backward()
    assert embeddings.grad is not None
    assert torch.isfinite(embeddings.grad).all() and not embeddings.grad.any()


@pytest.mark.parametrize("rule", ["any", "all", "jaccard", "sd", "mulsupcon"])
def test_anchors_without_positives_contribute_nothing(rule):
    """Samples 0-1 share label 0, samples 2-3 share label 1; 4 has a label of its own, 5 none."""
    embeddings = torch.randn(6, 4, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    labels = torch.tensor(
        [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=torch.long
    )
    if rule == "sd":
        loss, expected = (
            SimilarityDissimilarityLoss(0.1),
            ref_multilabel(embeddings, labels, 0.1, "sd"),
        )
    elif rule == "mulsupcon":
        loss, expected = MulSupConLoss(0.1), ref_mulsupcon(embeddings, labels, 0.1)
    else:
        loss, expected = (
            MultiLabelSupConLoss(rule, 0.1),
            ref_multilabel(embeddings, labels, 0.1, rule),
        )
    value = loss(embeddings, labels)
    assert_matches(value, expected)
    # by hand: the mean over anchors 0-3 only; 4 and 5 are negatives but never anchors
    z = unit_rows(embeddings)
    logp = log_probabilities(z, z, 0.1)
    partner = {0: 1, 1: 0, 2: 3, 3: 2}
    by_hand = sum(-logp[i][partner[i]] for i in range(4)) / 4
    assert_matches(value, by_hand)


def test_supcon_anchors_without_positives_contribute_nothing():
    embeddings = torch.randn(5, 4, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    ids = torch.tensor([0, 0, 1, 2, 3])
    z = unit_rows(embeddings)
    logp = log_probabilities(z, z, 0.1)
    by_hand = (-logp[0][1] - logp[1][0]) / 2
    value = SupConLoss(0.1)(embeddings, ids)
    assert_matches(value, by_hand)
    assert_matches(value, ref_supcon(embeddings, ids, 0.1))


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_invalid_shapes_raise(name):
    loss = _all_losses()[name]
    width = len(TREE)
    with pytest.raises(ValueError, match="N = 4"):
        loss(torch.randn(4, 3), torch.zeros(5, width))
    with pytest.raises(ValueError, match="N = 4"):
        loss(torch.randn(4, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="integer class ids"):
        loss(torch.randn(4, 3), torch.tensor([0.0, 1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="integer class ids"):
        loss(torch.randn(4, 3), torch.tensor([True, False, True, False]))
    with pytest.raises(ValueError, match=">= 0"):
        loss(torch.randn(4, 3), torch.tensor([0, -1, 1, 0]))
    with pytest.raises(ValueError, match=r"\[N, d\]"):
        loss(torch.randn(4, 3, 2), torch.tensor([0, 1, 1, 0]))
    with pytest.raises(ValueError, match=r"\[N, d\]"):
        loss(torch.randn(4), torch.tensor([0, 1, 1, 0]))
    with pytest.raises(ValueError, match="labels"):
        loss(torch.randn(4, 3), torch.zeros(4, width, 2))


@pytest.mark.parametrize(
    "factory",
    [
        SupConLoss,
        lambda t: MultiLabelSupConLoss("any", t),
        SimilarityDissimilarityLoss,
        MulSupConLoss,
        lambda t: HierarchicalContrastiveLoss(TREE, temperature=t),
        lambda t: MultiLevelContrastiveLoss([ContrastiveHeadSpec("h", "any", temperature=t)]),
    ],
)
@pytest.mark.parametrize("tau", [0.0, -0.1, float("nan")])
def test_temperature_must_be_positive(factory, tau):
    with pytest.raises(ValueError, match="temperature"):
        factory(tau)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_embeddings_are_a_clear_error(bad):
    z = torch.randn(6, 4)
    z[3, 1] = bad
    labels = torch.tensor([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1], [1, 0]])
    for loss in (MultiLabelSupConLoss("any"), SimilarityDissimilarityLoss(), SupConLoss()):
        target = labels if not isinstance(loss, SupConLoss) else labels[:, 0].long()
        with pytest.raises(
            ValueError, match=r"NaN or infinite values in 1 of 6 rows \(first: \[3\]\)"
        ):
            loss(z, target)
