"""The SupCon loss equals pytorch-metric-learning's ``SupConLoss``: values and gradients."""

from __future__ import annotations

import pytest
import torch
from pytorch_metric_learning import losses as pml_losses

from mlcl_text.losses import SupConLoss
from tests.helpers.loss_batches import make_ids


@pytest.mark.parametrize("tau", [0.07, 0.1, 0.3, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_supcon_equals_pytorch_metric_learning(tau, seed):
    embeddings, ids = make_ids(seed, n=16, d=8, classes=5)
    x = embeddings.float()
    ours = SupConLoss(temperature=tau)(x, ids)
    theirs = pml_losses.SupConLoss(temperature=tau)(x, ids)
    torch.testing.assert_close(ours, theirs.float(), atol=1e-5, rtol=1e-5)


def test_supcon_equals_pytorch_metric_learning_gradient():
    embeddings, ids = make_ids(3, n=10, d=5, classes=3)
    ours_x = embeddings.float().requires_grad_()
    theirs_x = embeddings.float().requires_grad_()
    SupConLoss(temperature=0.1)(ours_x, ids).backward()
    pml_losses.SupConLoss(temperature=0.1)(theirs_x, ids).backward()
    torch.testing.assert_close(ours_x.grad, theirs_x.grad, atol=1e-5, rtol=1e-4)
