"""SupCon, the multi-label SupCon positive rules (ANY / ALL / Jaccard) and MulSupCon,
against the loop references of ``tests/helpers/loss_references.py``.
"""

from __future__ import annotations

import pytest
import torch

from mlcl_text.losses import (
    MulSupConLoss,
    MultiLabelSupConLoss,
    SimilarityDissimilarityLoss,
    SupConLoss,
)
from tests.helpers.loss_batches import (
    DTYPES,
    MULTI_LABEL_RULES,
    assert_matches,
    make_batch,
    make_ids,
    rounded,
)
from tests.helpers.loss_references import ref_mulsupcon, ref_multilabel, ref_supcon


# -------------------------------------------------------------------------------------- SupCon
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tau", [0.05, 0.1, 0.5])
@pytest.mark.parametrize("seed", [0, 1])
def test_supcon_matches_khosla_loop(dtype, tau, seed):
    embeddings, ids = make_ids(seed)
    x = rounded(embeddings, dtype)
    value = SupConLoss(temperature=tau)(x, ids)
    assert_matches(value, ref_supcon(x.double(), ids, tau))


def test_supcon_rejects_multi_hot_matrix():
    embeddings, labels = make_batch(0)
    with pytest.raises(ValueError, match="MultiLabelSupConLoss"):
        SupConLoss()(embeddings, labels)


# -------------------------------------------------------------------------- multi-label SupCon
@pytest.mark.parametrize("rule", MULTI_LABEL_RULES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multilabel_supcon_matches_loop(rule, dtype, seed):
    embeddings, labels = make_batch(seed)
    x = rounded(embeddings, dtype)
    value = MultiLabelSupConLoss(positives=rule, temperature=0.1)(x, labels)
    assert_matches(value, ref_multilabel(x.double(), labels, 0.1, rule))


@pytest.mark.parametrize("rule", MULTI_LABEL_RULES)
def test_multilabel_supcon_accepts_bool_and_float_matrices(rule):
    embeddings, labels = make_batch(4)
    loss = MultiLabelSupConLoss(positives=rule)
    expected = loss(embeddings, labels)
    torch.testing.assert_close(loss(embeddings, labels.bool()), expected)
    torch.testing.assert_close(loss(embeddings, labels.float()), expected)


def test_multilabel_supcon_rejects_unknown_rule():
    with pytest.raises(ValueError, match="positives"):
        MultiLabelSupConLoss(positives="sd")


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support")
@pytest.mark.parametrize("loss_name", ["any", "all", "jaccard", "sd", "mulsupcon"])
def test_wide_sparse_labels_match_loop(loss_name):
    """≥ 64 label columns with < 5 % non-zeros: the sparse intersection path."""
    g = torch.Generator().manual_seed(7)
    n, width = 16, 80
    embeddings = torch.randn(n, 6, generator=g, dtype=torch.float64)
    labels = torch.zeros(n, width, dtype=torch.long)
    pool = [3, 17, 41, 64, 79]
    for row in range(n):
        for col in torch.randperm(len(pool), generator=g)[: 1 + row % 3].tolist():
            labels[row, pool[col]] = 1
    assert labels.count_nonzero() < 0.05 * labels.numel()
    if loss_name == "sd":
        value = SimilarityDissimilarityLoss(0.1)(embeddings, labels)
        expected = ref_multilabel(embeddings, labels, 0.1, "sd")
    elif loss_name == "mulsupcon":
        value = MulSupConLoss(0.1)(embeddings, labels)
        expected = ref_mulsupcon(embeddings, labels, 0.1)
    else:
        value = MultiLabelSupConLoss(loss_name, 0.1)(embeddings, labels)
        expected = ref_multilabel(embeddings, labels, 0.1, loss_name)
    assert_matches(value, expected)


# ----------------------------------------------------------------------------------- MulSupCon
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_mulsupcon_matches_loop(dtype, seed):
    embeddings, labels = make_batch(seed)
    x = rounded(embeddings, dtype)
    value = MulSupConLoss(temperature=0.1)(x, labels)
    assert_matches(value, ref_mulsupcon(x.double(), labels, 0.1))


def test_mulsupcon_single_label_is_supcon():
    embeddings, ids = make_ids(6)
    one_hot = torch.nn.functional.one_hot(ids, 4)
    torch.testing.assert_close(
        MulSupConLoss(0.2)(embeddings, one_hot), SupConLoss(0.2)(embeddings, ids)
    )


def test_mulsupcon_differs_from_sample_mean():
    """Anchors are (sample, label) pairs: a sample with two labels counts twice."""
    embeddings, labels = make_batch(2)
    assert ref_mulsupcon(embeddings, labels, 0.1) != pytest.approx(
        ref_multilabel(embeddings, labels, 0.1, "any"), abs=1e-3
    )
