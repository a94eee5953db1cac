"""Fit a model's classifier by logistic regression on its frozen pooled embeddings.

A randomly initialised linear classifier trained by a few dozen AdamW steps stays near its
starting point; a logistic regression on the frozen embeddings is fitted to convergence in
seconds. This is the classification head of SetFit (Tunstall et al., "Efficient Few-Shot
Learning Without Prompts", arXiv 2209.11055): contrastive training of the encoder, then a
logistic regression on its embeddings. For every label ``j`` (every node of the tree, so the
classifier keeps one output per node)

    minimise_w,b  ½‖w‖² + C Σ_i log(1 + exp(−y_ij (w · x̃_i + b))),   x̃ = (h − μ) / s,

on the centred embeddings ``x̃`` of the training documents, scaled by one number ``s``, their
root-mean-square deviation over all dimensions (s² = mean_d Var(h_d)), so that ``C`` means the
same for every encoder. One scale for all dimensions keeps the classifier's geometry that of
the raw embeddings, as SetFit's regression sees them: a scale per dimension would divide by a
nearly constant dimension's tiny deviation, giving weights of 10⁸ that fine-tuning
(``classifier_init="probe"``) cannot start from. The scaling is folded into the model's
``Linear`` layer (``W' = W / s``, ``b' = b − W' μ``), so the fitted
model is an ordinary :class:`~mlcl_text.modeling.model.MLCLModel` that exports and predicts as any
other. A label that is positive for no training document, or for all of them, cannot be fitted:
it gets a zero weight and the logit of its training frequency, clipped to ``[1e-4, 1 − 1e-4]``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from torch.utils.data import DataLoader

logger = logging.getLogger(__name__)

PRIOR_FLOOR = 1e-4


@torch.no_grad()
def pooled_embeddings(
    model: torch.nn.Module,
    dataset: Any,
    collator: Callable[[list[dict]], dict[str, torch.Tensor]],
    batch_size: int = 64,
) -> tuple[np.ndarray, np.ndarray]:
    """``(embeddings [N, H] float64, labels [N, L])`` of an encoded split, model in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    vectors, labels = [], []
    try:
        for batch in DataLoader(dataset, batch_size=batch_size, collate_fn=collator):
            labels.append(batch.pop("labels").numpy())
            inputs = {k: v.to(device) for k, v in batch.items() if k != "id"}
            vectors.append(model.embed(**inputs).float().cpu().numpy())
    finally:
        model.train(was_training)
    return np.concatenate(vectors).astype(np.float64), np.concatenate(labels)


def fit_logistic_classifier(
    model: torch.nn.Module,
    dataset: Any,
    collator: Callable[[list[dict]], dict[str, torch.Tensor]],
    c: float = 1.0,
    batch_size: int = 64,
    max_iter: int = 2000,
    seed: int = 0,
) -> dict[str, int]:
    """Replace ``model.classifier`` by per-label logistic regressions (module docstring).

    Returns ``{"fitted": labels fitted, "constant": labels given their prior}``.
    """
    embeddings, labels = pooled_embeddings(model, dataset, collator, batch_size)
    mean = embeddings.mean(axis=0)
    scale = float(np.sqrt(embeddings.var(axis=0).mean()))
    scale = scale if scale > 1e-12 else 1.0
    standardised = (embeddings - mean) / scale
    positives = labels > 0.5
    weight = np.zeros((labels.shape[1], embeddings.shape[1]))
    bias = np.zeros(labels.shape[1])
    constant = 0
    for j in range(labels.shape[1]):
        column = positives[:, j]
        if column.all() or not column.any():
            prior = np.clip(column.mean(), PRIOR_FLOOR, 1 - PRIOR_FLOOR)
            bias[j] = np.log(prior / (1 - prior))
            constant += 1
            continue
        regression = LogisticRegression(C=c, max_iter=max_iter, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            regression.fit(standardised, column)
        weight[j] = regression.coef_[0]
        bias[j] = regression.intercept_[0]
    folded = weight / scale
    classifier = model.classifier
    with torch.no_grad():
        classifier.weight.copy_(torch.as_tensor(folded, dtype=classifier.weight.dtype))
        classifier.bias.copy_(torch.as_tensor(bias - folded @ mean, dtype=classifier.bias.dtype))
    logger.info(
        "classifier fitted by logistic regression (C=%g): %d labels fitted, %d constant",
        c,
        labels.shape[1] - constant,
        constant,
    )
    return {"fitted": labels.shape[1] - constant, "constant": constant}
