"""The memory queue at the size the MIMIC recipes use, on labels of MIMIC-III-full's shape."""

from __future__ import annotations

from collections import deque

import pytest
import torch

from mlcl_text.losses import SimilarityDissimilarityLoss
from tests.helpers import recipe_shapes
from tests.helpers.loss_references import ref_multilabel

MEMORY = 1024  # recipes/mimic*/sd.yaml and mlcl.yaml
BATCH = 4  # their per-device batch
DIM = 128  # the heads' out_dim


def test_a_full_memory_of_1024_rows_matches_the_loop_formula():
    tree, labels = recipe_shapes.mimic_full(n=1400, seed=0)
    leaves = torch.as_tensor(tree.most_specific(labels)).float()  # the codes, as the SD head
    loss = SimilarityDissimilarityLoss(0.07, memory_size=MEMORY).train()
    generator = torch.Generator().manual_seed(0)
    pushed: deque[tuple[torch.Tensor, torch.Tensor]] = deque(maxlen=MEMORY)
    steps = (MEMORY + 300) // BATCH  # fills the ring and wraps it
    for step in range(steps):
        rows = leaves[step * BATCH : (step + 1) * BATCH]
        z = torch.randn(BATCH, DIM, generator=generator)
        if step == steps - 1:
            stored, stored_labels = (t.clone() for t in loss.memory.contents())
            newest_first = list(reversed(pushed))
            # the ring holds exactly the last 1,024 rows pushed (in ring order)
            key = lambda e: tuple(e.tolist())  # noqa: E731
            assert sorted(map(key, stored)) == sorted(key(e) for e, _ in newest_first)
            value = loss(z, rows)
            expected = ref_multilabel(z, rows, 0.07, "sd", memory=(stored, stored_labels))
            assert float(value) == pytest.approx(expected, rel=1e-4)
            break
        loss(z, rows)
        normalised = torch.nn.functional.normalize(z, dim=1)
        pushed.extend(zip(normalised, rows, strict=True))
        assert len(loss.memory) == min(MEMORY, (step + 1) * BATCH)
    assert stored.shape == (MEMORY, DIM) and stored_labels.shape == (MEMORY, len(tree))
