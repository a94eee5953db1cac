"""The Similarity-Dissimilarity loss (Huang et al. 2024): its weights, by hand and against the
loop references of ``tests/helpers/loss_references.py``.
"""

from __future__ import annotations

import math

import pytest
import torch

from mlcl_text.losses import SimilarityDissimilarityLoss, SupConLoss
from mlcl_text.losses.positives import similarity_dissimilarity
from tests.helpers.loss_batches import DTYPES, assert_matches, make_batch, make_ids, rounded
from tests.helpers.loss_references import ref_multilabel


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_similarity_dissimilarity_matches_loop(dtype, seed):
    embeddings, labels = make_batch(seed)
    x = rounded(embeddings, dtype)
    value = SimilarityDissimilarityLoss(temperature=0.07)(x, labels)
    assert_matches(value, ref_multilabel(x.double(), labels, 0.07, "sd"))


def test_similarity_dissimilarity_five_relations():
    # columns: a, b, c
    def hot(*cols):
        row = [0.0, 0.0, 0.0]
        for c in cols:
            row["abc".index(c)] = 1.0
        return row

    anchors = torch.tensor([hot("a", "b"), hot("a")])
    contrast = torch.tensor([hot("c"), hot("a", "b"), hot("a"), hot("b", "c"), hot("a", "b", "c")])
    w = similarity_dissimilarity(anchors, contrast)
    assert w.shape == (2, 5)
    # anchor S = {a, b}
    assert w[0, 0].item() == 0.0  # disjoint T = {c}
    assert w[0, 1].item() == 1.0  # identical T = {a, b}
    assert w[0, 2].item() == pytest.approx(1 / 2)  # subset T = {a}
    assert w[0, 3].item() == pytest.approx(1 / 2 * 1 / 2)  # partial T = {b, c}
    assert w[0, 4].item() == pytest.approx(1.0 * 1 / 2)  # superset T = {a, b, c}
    # anchor S = {a}
    assert w[1, 0].item() == 0.0  # disjoint
    assert w[1, 4].item() == pytest.approx(1 / 3)  # superset T = {a, b, c}
    assert w[1, 1].item() == pytest.approx(1 / 2)  # superset T = {a, b}
    assert w[1, 2].item() == 1.0  # identical
    # an empty anchor set has no positive
    assert similarity_dissimilarity(torch.zeros(1, 3), contrast).abs().sum().item() == 0.0


@pytest.mark.parametrize("tau", [1.0, 0.5, 0.1])
def test_similarity_dissimilarity_loss_by_hand(tau):
    """4 samples, 2-D unit embeddings at 0°, 0°, 90°, 180°; labels {a,b}, {a}, {b,c}, {c}.

    Dot products: z0·z1 = 1, z0·z3 = z1·z3 = −1, every other pair 0. With t = 1/τ:
      W row 0 ({a,b}): {a} subset 1/2, {b,c} partial 1/4, {c} disjoint 0
      W row 1 ({a}):   {a,b} superset 1/2, others disjoint
      W row 2 ({b,c}): {a,b} partial 1/4, {a} disjoint, {c} subset 1/2
      W row 3 ({c}):   {b,c} superset 1/2, others disjoint
      Z0 = Z1 = e^t + 1 + e^−t,  Z2 = 3,  Z3 = 2e^−t + 1
      ℓ0 = log Z0 − (1/2 · t + 1/4 · 0) / (3/4)
      ℓ1 = log Z1 − t
      ℓ2 = log 3 − 0
      ℓ3 = log Z3 − 0
    """
    embeddings = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    labels = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]])
    t = 1.0 / tau
    log_z0 = math.log(math.exp(t) + 1.0 + math.exp(-t))
    losses = [
        log_z0 - (0.5 * t) / 0.75,
        log_z0 - t,
        math.log(3.0),
        math.log(2.0 * math.exp(-t) + 1.0),
    ]
    expected = sum(losses) / 4
    value = SimilarityDissimilarityLoss(temperature=tau)(embeddings, labels)
    assert_matches(value, expected, tol=1e-5)
    # the loops agree with the hand computation
    assert ref_multilabel(embeddings, labels, tau, "sd") == pytest.approx(expected, rel=1e-12)


def test_similarity_dissimilarity_single_label_is_supcon():
    embeddings, ids = make_ids(5)
    one_hot = torch.nn.functional.one_hot(ids, 4)
    torch.testing.assert_close(
        SimilarityDissimilarityLoss(0.1)(embeddings, one_hot), SupConLoss(0.1)(embeddings, ids)
    )
