"""Batches for the loss tests: embeddings with class ids, multi-hot rows or label sets of
``TREE``, the parameter grids, and the check of a loss value against a reference."""

from __future__ import annotations

import math
import random

import pytest
import torch

from tests.helpers.loss_references import TREE

DTYPES = [torch.float16, torch.float32, torch.float64]
MULTI_LABEL_RULES = ["any", "all", "jaccard"]
MODES = ["himulcon", "hicone", "himulcone"]
PENALTIES = ["exp", "pow2", "none"]


def make_batch(seed: int, n: int = 12, d: int = 6, num_labels: int = 5, p: float = 0.35):
    """float64 embeddings and an int64 multi-hot matrix (rows may be empty)."""
    g = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(n, d, generator=g, dtype=torch.float64)
    labels = (torch.rand(n, num_labels, generator=g) < p).long()
    return embeddings, labels


def make_ids(seed: int, n: int = 12, d: int = 6, classes: int = 4):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64), torch.randint(
        0, classes, (n,), generator=g
    )


def hierarchical_names(seed: int, n: int = 14) -> list[frozenset[str]]:
    """Label-name sets over TREE: mostly one label, sometimes two, some shallow, one empty."""
    rng = random.Random(seed)
    pool = ["A/A1/a", "A/A1/a", "A/A1/b", "A/A2/c", "B/B1/d", "B/B1/e", "B/B2", "C", "A/A1", "B"]
    out = []
    for row in range(n):
        if row == n - 1:
            out.append(frozenset())
            continue
        out.append(frozenset(rng.sample(pool, rng.choice([1, 1, 1, 2]))))
    return out


def encode(names: list[frozenset[str]]) -> torch.Tensor:
    labels = torch.zeros(len(names), len(TREE), dtype=torch.long)
    for row, row_names in enumerate(names):
        for name in row_names:
            labels[row, TREE.names.index(name)] = 1
    return labels


def rounded(embeddings: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The input as the loss sees it; references use ``rounded(...).double()``."""
    return embeddings.to(dtype)


def assert_matches(value: torch.Tensor, expected: float, tol: float = 2e-5) -> None:
    assert value.dtype == torch.float32
    assert value.ndim == 0
    assert math.isfinite(value.item())
    assert value.item() == pytest.approx(expected, rel=tol, abs=tol)
