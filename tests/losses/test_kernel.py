"""The weighted-SupCon kernel ``weighted_supcon_loss`` against the loop references of
``tests/helpers/loss_references.py``.
"""

from __future__ import annotations

import pytest
import torch

from mlcl_text.losses import weighted_supcon_loss
from tests.helpers.loss_batches import DTYPES, assert_matches, rounded
from tests.helpers.loss_references import ref_weighted_kernel


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("with_omega", [False, True])
def test_weighted_supcon_loss_matches_loop(dtype, seed, with_omega):
    g = torch.Generator().manual_seed(seed)
    n = 10
    x = rounded(torch.randn(n, 7, generator=g, dtype=torch.float64), dtype)
    weights = torch.rand(n, n, generator=g, dtype=torch.float64) * 3
    weights[torch.rand(n, n, generator=g) < 0.5] = 0  # sparse, arbitrary, self column non-zero
    weights[2] = 0  # an anchor without positives
    weights[5] = 0
    weights[5, 5] = 4.0  # only a self weight: still no positive
    omega = (torch.rand(n, generator=g, dtype=torch.float64) * 2) if with_omega else None
    if omega is not None:
        omega[7] = 0.0
    tau = 0.1 + 0.2 * seed
    value = weighted_supcon_loss(x, weights, tau, omega)
    assert_matches(value, ref_weighted_kernel(x.double(), weights, tau, omega))


def test_weighted_supcon_loss_zero_weights_is_zero():
    x = torch.randn(5, 3).requires_grad_()
    weights = torch.eye(5) * 2.0  # only self weights, which are ignored
    value = weighted_supcon_loss(x, weights, 0.1)
    assert value.item() == 0.0
    value.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))
