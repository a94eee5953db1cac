"""The memory queue of the losses: the contrast set is the batch then earlier batches' rows,
a ring buffer of the newest rows, pushed in training mode only; against the loop references of
``tests/helpers/loss_references.py``.
"""

from __future__ import annotations

import pytest
import torch

from mlcl_text.losses import (
    HierarchicalContrastiveLoss,
    MulSupConLoss,
    MultiLabelSupConLoss,
    SimilarityDissimilarityLoss,
    SupConLoss,
)
from tests.helpers.loss_batches import assert_matches, encode, hierarchical_names
from tests.helpers.loss_references import (
    TREE,
    label_sets,
    ref_hierarchical,
    ref_mulsupcon,
    ref_multilabel,
    ref_supcon,
)

MEMORY_CASES = {
    "supcon": (lambda k: SupConLoss(0.1, memory_size=k), "ids"),
    "any": (lambda k: MultiLabelSupConLoss("any", 0.1, memory_size=k), "multi"),
    "jaccard": (lambda k: MultiLabelSupConLoss("jaccard", 0.1, memory_size=k), "multi"),
    "sd": (lambda k: SimilarityDissimilarityLoss(0.1, memory_size=k), "multi"),
    "mulsupcon": (lambda k: MulSupConLoss(0.1, memory_size=k), "multi"),
    "himulcone": (
        lambda k: HierarchicalContrastiveLoss(TREE, temperature=0.1, memory_size=k),
        "tree",
    ),
}


def memory_batch(kind: str, seed: int, n: int):
    g = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(n, 5, generator=g, dtype=torch.float64)
    if kind == "ids":
        return embeddings, torch.randint(0, 3, (n,), generator=g)
    if kind == "multi":
        return embeddings, (torch.rand(n, 4, generator=g) < 0.4).long()
    return embeddings, encode(hierarchical_names(seed, n))


def memory_reference(name: str, embeddings, labels, memory):
    if name == "supcon":
        return ref_supcon(embeddings, labels, 0.1, memory)
    if name == "mulsupcon":
        return ref_mulsupcon(embeddings, labels, 0.1, memory)
    if name == "himulcone":
        memory_names = None
        if memory is not None:
            memory_names = [frozenset(TREE.names[j] for j in s) for s in label_sets(memory[1])]
            memory = (memory[0], memory_names)
        names = [frozenset(TREE.names[j] for j in s) for s in label_sets(labels)]
        return ref_hierarchical(embeddings, names, 0.1, "himulcone", "exp", memory=memory)
    return ref_multilabel(embeddings, labels, 0.1, name, memory)


@pytest.mark.parametrize("name", list(MEMORY_CASES))
def test_memory_contrast_set_is_batch_then_previous_batch(name):
    factory, kind = MEMORY_CASES[name]
    loss = factory(32).train()
    first = memory_batch(kind, 1, 7)
    second = memory_batch(kind, 2, 9)
    first_x = first[0].clone().requires_grad_()
    value_1 = loss(first_x, first[1])
    assert_matches(value_1, memory_reference(name, *first, None))
    assert len(loss.memory) == 7
    second_x = second[0].clone().requires_grad_()
    value_2 = loss(second_x, second[1])
    assert_matches(value_2, memory_reference(name, *second, first))
    assert len(loss.memory) == 16
    # memory rows are constants: no gradient reaches the previous batch through them
    value_2.backward()
    assert first_x.grad is None
    assert second_x.grad is not None and torch.isfinite(second_x.grad).all()


def test_memory_ring_buffer_keeps_newest_rows():
    loss = MultiLabelSupConLoss("any", 0.1, memory_size=5).train()
    b1, b2, b3, b4 = (memory_batch("multi", s, 3) for s in (11, 12, 13, 14))
    loss(*b1)
    loss(*b2)  # 6 rows pushed into 5 slots: b1[0] is overwritten
    assert len(loss.memory) == 5
    stored = loss.memory.contents()
    kept_x = torch.cat([b1[0][1:], b2[0]])
    kept_y = torch.cat([b1[1][1:], b2[1]])
    assert sorted(map(tuple, stored[0].double().round(decimals=5).tolist())) == sorted(
        map(tuple, (kept_x / kept_x.norm(dim=1, keepdim=True)).round(decimals=5).tolist())
    )
    assert stored[1].dtype == torch.bool
    assert sorted(map(tuple, stored[1].long().tolist())) == sorted(map(tuple, kept_y.tolist()))
    value = loss(*b3)
    assert_matches(value, ref_multilabel(*b3, 0.1, "any", memory=(kept_x, kept_y)))
    # newest 5 are now b2[1:], b3
    value = loss(*b4)
    memory = (torch.cat([b2[0][1:], b3[0]]), torch.cat([b2[1][1:], b3[1]]))
    assert_matches(value, ref_multilabel(*b4, 0.1, "any", memory=memory))


def test_memory_batch_larger_than_memory_keeps_its_last_rows():
    loss = MultiLabelSupConLoss("any", 0.1, memory_size=4).train()
    big = memory_batch("multi", 21, 7)
    nxt = memory_batch("multi", 22, 5)
    loss(*big)
    assert len(loss.memory) == 4
    value = loss(*nxt)
    assert_matches(value, ref_multilabel(*nxt, 0.1, "any", memory=(big[0][-4:], big[1][-4:])))


def test_memory_eval_mode_does_not_push():
    loss = MultiLabelSupConLoss("any", 0.1, memory_size=16)
    b1, b2, b3 = (memory_batch("multi", s, 4) for s in (31, 32, 33))
    loss.eval()
    assert_matches(loss(*b1), ref_multilabel(*b1, 0.1, "any"))
    assert len(loss.memory) == 0
    loss.train()
    loss(*b1)
    assert len(loss.memory) == 4
    loss.eval()
    before = [t.clone() for t in loss.memory.contents()]
    # in eval mode the stored rows are still contrasted, but nothing new is stored
    assert_matches(loss(*b2), ref_multilabel(*b2, 0.1, "any", memory=b1))
    assert_matches(loss(*b3), ref_multilabel(*b3, 0.1, "any", memory=b1))
    assert len(loss.memory) == 4
    after = loss.memory.contents()
    assert torch.equal(before[0], after[0]) and torch.equal(before[1], after[1])
