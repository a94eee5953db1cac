"""Batched prediction: length-sorted batches, dynamic padding, probabilities per label."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerBase

from mlcl_text.data.encoding import MultiLabelCollator
from mlcl_text.modeling import MLCLModel


@torch.no_grad()
def predict_probabilities(
    model: MLCLModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    batch_size: int = 32,
    max_length: int = 128,
    progress: bool = False,
) -> np.ndarray:
    """``[len(texts), num_labels]`` sigmoid probabilities, in the order of ``texts``.

    Texts are sorted by token length so each batch pads little; with
    ``model.config.max_segments > 1`` long texts are split into segment windows as in training.
    """
    model.eval()
    device = next(model.parameters()).device
    segments = model.config.max_segments
    if segments > 1:
        encoded = tokenizer(
            list(texts), truncation=True, max_length=max_length, return_overflowing_tokens=True
        )
        rows: list[dict] = [{"input_ids": [], "attention_mask": []} for _ in texts]
        for window, owner in enumerate(encoded["overflow_to_sample_mapping"]):
            if len(rows[owner]["input_ids"]) < segments:
                for key in rows[owner]:
                    rows[owner][key].append(encoded[key][window])
        lengths = [sum(len(s) for s in row["input_ids"]) for row in rows]
    else:
        encoded = tokenizer(list(texts), truncation=True, max_length=max_length)
        rows = [
            {"input_ids": ids, "attention_mask": mask}
            for ids, mask in zip(encoded["input_ids"], encoded["attention_mask"], strict=True)
        ]
        lengths = [len(row["input_ids"]) for row in rows]
    collate = MultiLabelCollator(tokenizer)
    order = np.argsort(lengths, kind="stable")
    probabilities = np.zeros((len(rows), model.config.num_labels), dtype=np.float32)
    starts = range(0, len(rows), batch_size)
    for start in tqdm(starts, desc="Predicting", disable=not progress):
        chosen = order[start : start + batch_size]
        batch = {k: v.to(device) for k, v in collate([rows[i] for i in chosen]).items()}
        logits = model(**batch).logits
        probabilities[chosen] = torch.sigmoid(logits.float()).cpu().numpy()
    return probabilities


def label_predictions(
    model: MLCLModel, probabilities: np.ndarray, threshold: float = 0.5, consistent: bool = False
) -> list[list[str]]:
    """Label names with probability ≥ ``threshold`` (only full ancestor paths with ``consistent``)."""
    tree = model.config.tree
    predicted = probabilities >= threshold
    if consistent:
        predicted = tree.consistent_decoding(predicted)
    return tree.decode(predicted)
