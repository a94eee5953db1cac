"""Property tests of every contrastive loss: symmetries, sign and mixed-precision gradients.

Batches have N in [2, 24] samples, d in [2, 16] dimensions and L in [1, 8] labels (random
multi-hot rows, empty rows allowed); hierarchical losses use a random forest over the L labels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from mlcl_text import LabelTree
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.losses import (
    HierarchicalContrastiveLoss,
    MulSupConLoss,
    MultiLabelSupConLoss,
    MultiLevelContrastiveLoss,
    SimilarityDissimilarityLoss,
    SupConLoss,
)

PROPERTY_SETTINGS = settings(max_examples=30, deadline=None, database=None)
TEMPERATURES = [0.01, 0.05, 0.1, 0.5, 1.0]


@dataclass
class Batch:
    n: int
    d: int
    num_labels: int
    multi_hot: torch.Tensor  # [n, L] int64, rows may be empty
    ids: torch.Tensor  # [n] int64 class ids in [0, L)
    tree: LabelTree  # a random forest over the L labels
    seed: int
    permutation: list[int]
    scales: torch.Tensor  # [n] positive row scales
    temperature: float

    def embeddings(self, dtype: torch.dtype = torch.float32) -> torch.Tensor:
        g = torch.Generator().manual_seed(self.seed)
        return torch.randn(self.n, self.d, generator=g).to(dtype)


@st.composite
def batches(draw) -> Batch:
    n = draw(st.integers(2, 24))
    d = draw(st.integers(2, 16))
    num_labels = draw(st.integers(1, 8))
    rows = draw(
        st.lists(
            st.lists(st.booleans(), min_size=num_labels, max_size=num_labels),
            min_size=n,
            max_size=n,
        )
    )
    ids = draw(st.lists(st.integers(0, num_labels - 1), min_size=n, max_size=n))
    parents = [draw(st.integers(-1, k - 1)) for k in range(num_labels)]
    names = [f"n{k}" for k in range(num_labels)]
    tree = LabelTree(names, [names[p] if p >= 0 else None for p in parents])
    scales = draw(
        st.lists(
            st.floats(0.01, 100.0, allow_nan=False, allow_infinity=False), min_size=n, max_size=n
        )
    )
    return Batch(
        n=n,
        d=d,
        num_labels=num_labels,
        multi_hot=torch.tensor(rows, dtype=torch.long),
        ids=torch.tensor(ids, dtype=torch.long),
        tree=tree,
        seed=draw(st.integers(0, 2**31 - 1)),
        permutation=draw(st.permutations(range(n))),
        scales=torch.tensor(scales, dtype=torch.float32),
        temperature=draw(st.sampled_from(TEMPERATURES)),
    )


def _mlcl(batch: Batch, tau: float) -> torch.nn.Module:
    heads = [
        ContrastiveHeadSpec("top", "all", level=1, temperature=tau, weight=0.5),
        ContrastiveHeadSpec("group", "sd", labels=["n0"], temperature=2 * tau, weight=1.0),
        ContrastiveHeadSpec("mul", "mulsupcon", temperature=tau, weight=0.25),
        ContrastiveHeadSpec("hier", "himulcone", temperature=tau, weight=0.75),
    ]
    return MultiLevelContrastiveLoss(heads, tree=batch.tree)


LOSSES = {
    "supcon": lambda b, t: SupConLoss(t),
    "any": lambda b, t: MultiLabelSupConLoss("any", t),
    "all": lambda b, t: MultiLabelSupConLoss("all", t),
    "jaccard": lambda b, t: MultiLabelSupConLoss("jaccard", t),
    "sd": lambda b, t: SimilarityDissimilarityLoss(t),
    "mulsupcon": lambda b, t: MulSupConLoss(t),
    "himulcon": lambda b, t: HierarchicalContrastiveLoss(b.tree, mode="himulcon", temperature=t),
    "hicone": lambda b, t: HierarchicalContrastiveLoss(b.tree, mode="hicone", temperature=t),
    "himulcone": lambda b, t: HierarchicalContrastiveLoss(
        b.tree, mode="himulcone", penalty="pow2", temperature=t
    ),
    "mlcl": _mlcl,
}
NAMES = list(LOSSES)


def evaluate(name: str, batch: Batch, embeddings: torch.Tensor, labels: torch.Tensor, tau=None):
    """The loss value (a scalar tensor); MLCL heads see four views of the same rows."""
    loss = LOSSES[name](batch, batch.temperature if tau is None else tau)
    if name == "mlcl":
        per_head = [embeddings, embeddings.flip(1), embeddings.roll(1, dims=1), -embeddings]
        return loss(per_head, labels).loss
    return loss(embeddings, labels)


def labels_for(name: str, batch: Batch) -> torch.Tensor:
    return batch.ids if name == "supcon" else batch.multi_hot


def assert_same(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", NAMES)
@PROPERTY_SETTINGS
@given(batch=batches())
def test_permutation_invariance(name, batch):
    x, y = batch.embeddings(), labels_for(name, batch)
    perm = torch.tensor(batch.permutation)
    assert_same(evaluate(name, batch, x[perm], y[perm]), evaluate(name, batch, x, y))


@pytest.mark.parametrize("name", NAMES)
@PROPERTY_SETTINGS
@given(batch=batches())
def test_row_rescaling_invariance(name, batch):
    x, y = batch.embeddings(), labels_for(name, batch)
    assert_same(evaluate(name, batch, x * batch.scales[:, None], y), evaluate(name, batch, x, y))


@pytest.mark.parametrize("name", NAMES)
@PROPERTY_SETTINGS
@given(batch=batches())
def test_loss_is_non_negative(name, batch):
    value = evaluate(name, batch, batch.embeddings(), labels_for(name, batch))
    assert math.isfinite(value.item())
    assert value.item() >= -1e-6


@pytest.mark.parametrize("name", NAMES)
@PROPERTY_SETTINGS
@given(batch=batches(), tau=st.sampled_from([0.01, 0.02, 0.1, 1.0]))
def test_finite_gradients_under_bfloat16_autocast(name, batch, tau):
    g = torch.Generator().manual_seed(batch.seed)
    inputs = torch.randn(batch.n, 5, generator=g)
    layer = torch.nn.Linear(5, batch.d)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(batch.d, 5, generator=g))
        layer.bias.copy_(torch.randn(batch.d, generator=g))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        embeddings = layer(inputs)
        assert embeddings.dtype == torch.bfloat16
        value = evaluate(name, batch, embeddings, labels_for(name, batch), tau)
    assert value.dtype == torch.float32
    assert math.isfinite(value.item())
    value.backward()
    for parameter in layer.parameters():
        assert parameter.grad is not None
        assert torch.isfinite(parameter.grad).all()


@pytest.mark.parametrize("name", NAMES)
@PROPERTY_SETTINGS
@given(batch=batches(), tau=st.sampled_from([0.01, 0.02, 0.1, 1.0]))
def test_finite_gradients_with_float16_embeddings(name, batch, tau):
    embeddings = batch.embeddings(torch.float16).requires_grad_()
    value = evaluate(name, batch, embeddings, labels_for(name, batch), tau)
    assert value.dtype == torch.float32
    assert math.isfinite(value.item())
    value.backward()
    assert embeddings.grad is not None
    assert embeddings.grad.dtype == torch.float16
    assert torch.isfinite(embeddings.grad).all()
