"""Batched inference: length-sorted batches, dynamic padding; probabilities per label, pooled
embeddings and head projections of texts."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from mlcl_text.data.encoding import MultiLabelCollator, token_count, tokenize_texts
from mlcl_text.modeling.model import MLCLModel, MLCLOutput


def length_sorted_batches(
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    max_length: int,
    max_segments: int = 1,
    batch_size: int = 32,
    progress: bool = False,
) -> Iterator[tuple[np.ndarray, dict[str, torch.Tensor]]]:
    """``(positions in texts, padded batch)`` for batches of ``texts``.

    Texts are tokenised as in training (truncated to ``max_length``, or cut into up to
    ``max_segments`` windows) and sorted by token length, so each batch pads little
    (:class:`~mlcl_text.data.encoding.MultiLabelCollator` pads per batch).
    """
    texts = [str(text) for text in texts]
    if not texts:
        return
    encoded = tokenize_texts(tokenizer, texts, max_length, max_segments)
    rows = [{key: values[i] for key, values in encoded.items()} for i in range(len(texts))]
    lengths = [token_count(row["input_ids"]) for row in rows]
    collate = MultiLabelCollator(tokenizer)
    order = np.argsort(lengths, kind="stable")
    starts = range(0, len(rows), batch_size)
    for start in tqdm(starts, desc="Predicting", disable=not progress):
        chosen = order[start : start + batch_size]
        yield chosen, collate([rows[i] for i in chosen])


@torch.no_grad()
def batched_outputs(
    model: MLCLModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 32,
    max_length: int | None = None,
    progress: bool = False,
) -> Iterator[tuple[np.ndarray, MLCLOutput]]:
    """``(positions in texts, model output)`` for the :func:`length_sorted_batches` of
    ``texts``, in eval mode; ``max_length`` defaults to the model's ``config.max_length``."""
    model.eval()
    device = next(model.parameters()).device
    length = max_length or model.config.max_length
    for chosen, batch in length_sorted_batches(
        tokenizer, texts, length, model.config.max_segments, batch_size, progress
    ):
        yield chosen, model(**{k: v.to(device) for k, v in batch.items()})


def predict_probabilities(
    model: MLCLModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 32,
    max_length: int | None = None,
    progress: bool = False,
) -> np.ndarray:
    """``[len(texts), num_labels]`` sigmoid probabilities, in the order of ``texts``."""
    probabilities = np.zeros((len(texts), model.config.num_labels), dtype=np.float32)
    for chosen, output in batched_outputs(
        model, tokenizer, texts, batch_size, max_length, progress
    ):
        probabilities[chosen] = torch.sigmoid(output.logits.float()).cpu().numpy()
    return probabilities


@torch.no_grad()
def embed_texts(
    model: MLCLModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 32,
    max_length: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Pooled embeddings and projections of ``texts``, in their order:
    ``{"embeddings": [N, hidden], "projections": {head: [N, out_dim]}}`` (``float32``),
    batched as :func:`batched_outputs` batches them. Puts the model in eval mode.
    """
    hidden = model.config.encoder.hidden_size
    embeddings = np.zeros((len(texts), hidden), dtype=np.float32)
    projections = {
        spec.name: np.zeros((len(texts), spec.out_dim), dtype=np.float32)
        for spec in model.config.head_specs
    }
    for chosen, output in batched_outputs(
        model, tokenizer, texts, batch_size, max_length, progress
    ):
        embeddings[chosen] = output.embeddings.float().cpu().numpy()
        for name, values in output.projections.items():
            projections[name][chosen] = values.float().cpu().numpy()
    return {"embeddings": embeddings, "projections": projections}
