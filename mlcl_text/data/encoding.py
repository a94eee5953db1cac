"""Tokenise ``(text, labels)`` data for :class:`~mlcl_text.modeling.model.MLCLModel`, and collate batches.

``encode_dataset`` turns label names into float32 multi-hot vectors over the tree's nodes and
texts into token ids: truncated to ``max_length``, or, for long documents
(``max_segments > 1``), cut into up to ``max_segments`` consecutive windows of
``max_length`` tokens, each with its own special tokens. :class:`MultiLabelCollator` pads a
batch to its longest text (and, with segments, to its largest segment count), so padding
is dynamic.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from datasets import Dataset, DatasetDict
from transformers import PreTrainedTokenizerBase

from mlcl_text.hierarchy import LabelTree

MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def encode_dataset(
    data: DatasetDict | Dataset,
    tree: LabelTree,
    tokenizer: PreTrainedTokenizerBase,
    max_length: int,
    max_segments: int = 1,
    num_proc: int | None = None,
) -> DatasetDict | Dataset:
    """Add ``input_ids``/``attention_mask`` (and ``token_type_ids``) and multi-hot ``labels``.

    The text column is dropped; ``id`` is kept. Label names not in ``tree`` raise a
    ``ValueError`` naming the row and the label.
    """
    if max_length < 8:
        raise ValueError(f"max_length must be at least 8 tokens, got {max_length}")
    index = {name: i for i, name in enumerate(tree.names)}

    def encode(batch: dict[str, list], indices: list[int]) -> dict[str, Any]:
        encoded = tokenize_texts(tokenizer, batch["text"], max_length, max_segments)
        multi_hot = np.zeros((len(indices), len(tree)), dtype=np.float32)
        for row, (position, labels) in enumerate(zip(indices, batch["labels"], strict=True)):
            for name in labels:
                if name not in index:
                    raise ValueError(f"row {position}: unknown label {name!r}")
                multi_hot[row, index[name]] = 1.0
        return {**encoded, "labels": multi_hot.tolist()}

    def apply(split: Dataset) -> Dataset:
        removed = [c for c in split.column_names if c not in ("id",)]
        return split.map(
            encode,
            batched=True,
            with_indices=True,
            remove_columns=removed,
            num_proc=num_proc,
            desc="Tokenising",
        )

    if isinstance(data, DatasetDict):
        return DatasetDict({name: apply(split) for name, split in data.items()})
    return apply(data)


def tokenize_texts(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int, max_segments: int = 1
) -> dict[str, list]:
    """The model inputs of ``texts`` (:data:`MODEL_INPUTS` the tokenizer gives), as training
    and inference both tokenise them: each text truncated to ``max_length`` tokens, or, with
    ``max_segments > 1``, cut into up to ``max_segments`` windows (:func:`segment_windows`)."""
    if max_segments > 1:
        encoded = segment_windows(tokenizer, texts, max_length, max_segments)
    else:
        encoded = tokenizer(texts, truncation=True, max_length=max_length)
    return {key: encoded[key] for key in MODEL_INPUTS if key in encoded}


def token_count(input_ids: list) -> int:
    """Tokens in one row's ``input_ids``: a ``[T]`` list, or ``[K][T]`` segment lists."""
    if input_ids and isinstance(input_ids[0], list):
        return sum(len(segment) for segment in input_ids)
    return len(input_ids)


def segment_windows(
    tokenizer: PreTrainedTokenizerBase, texts: list[str], max_length: int, max_segments: int
) -> dict:
    """Consecutive windows of ``max_length`` tokens (special tokens included) over each text,
    at most ``max_segments`` per text (the tokenizer's overflowing tokens)."""
    encoded = tokenizer(
        texts, truncation=True, max_length=max_length, return_overflowing_tokens=True
    )
    owners = encoded["overflow_to_sample_mapping"]
    out: dict[str, list] = {key: [[] for _ in texts] for key in MODEL_INPUTS if key in encoded}
    for window, owner in enumerate(owners):
        if len(out["input_ids"][owner]) < max_segments:
            for key in out:
                out[key][owner].append(encoded[key][window])
    return out


class MultiLabelCollator:
    """Pads token ids dynamically and stacks multi-hot float32 labels.

    Rows are ``[T]`` token lists, or ``[K][T]`` segment lists (padded to ``[B, K, T]``;
    missing segments are all padding, which the model ignores).
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase, pad_to_multiple_of: int | None = None):
        if tokenizer.pad_token_id is None:
            raise ValueError("the tokenizer has no pad token; set tokenizer.pad_token first")
        self.pad_id = tokenizer.pad_token_id
        self.multiple = pad_to_multiple_of

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        segmented = isinstance(rows[0]["input_ids"][0], list)
        batch: dict[str, torch.Tensor] = {}
        for key in MODEL_INPUTS:
            if key not in rows[0]:
                continue
            pad = self.pad_id if key == "input_ids" else 0
            values = [row[key] if segmented else [row[key]] for row in rows]
            segments = max(len(v) for v in values)
            length = self._length(max(len(s) for v in values for s in v))
            tensor = torch.full((len(rows), segments, length), pad, dtype=torch.long)
            for i, value in enumerate(values):
                for k, sequence in enumerate(value):
                    tensor[i, k, : len(sequence)] = torch.as_tensor(sequence, dtype=torch.long)
            batch[key] = tensor if segmented else tensor[:, 0]
        if "labels" in rows[0]:
            batch["labels"] = torch.tensor([row["labels"] for row in rows], dtype=torch.float32)
        return batch

    def _length(self, longest: int) -> int:
        if self.multiple:
            return -(-longest // self.multiple) * self.multiple
        return longest
