"""Tokenising data sets and collating batches (truncation, segments, multi-hot labels)."""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset, DatasetDict

from mlcl_text import LabelTree, MLCLModel
from mlcl_text.data.encoding import MultiLabelCollator, encode_dataset

TREE = LabelTree.from_paths(["CS/ML", "CS/DB", "Bio"], sep="/")
LONG = " ".join(["neural networks learn representations from data"] * 12)


def _data():
    rows = [
        {
            "id": "a",
            "text": "machine learning models classify documents",
            "labels": ["CS", "CS/ML"],
        },
        {"id": "b", "text": LONG, "labels": ["CS", "CS/DB", "Bio"]},
        {"id": "c", "text": "genes", "labels": ["Bio"]},
    ]
    return DatasetDict({"train": Dataset.from_list(rows)})


def test_truncated_encoding_and_labels(tiny_tokenizer):
    encoded = encode_dataset(_data(), TREE, tiny_tokenizer, max_length=16)["train"]
    assert set(encoded.column_names) == {
        "id",
        "input_ids",
        "attention_mask",
        "token_type_ids",
        "labels",
    }
    assert max(len(ids) for ids in encoded["input_ids"]) == 16
    assert encoded[0]["labels"] == [1.0, 1.0, 0.0, 0.0]
    assert TREE.decode(torch.tensor([encoded[1]["labels"]])) == [["CS", "CS/DB", "Bio"]]


def test_segments_cover_the_long_text(tiny_tokenizer):
    encoded = encode_dataset(_data(), TREE, tiny_tokenizer, max_length=16, max_segments=4)["train"]
    long_segments = encoded[1]["input_ids"]
    assert len(long_segments) == 4 and all(len(s) <= 16 for s in long_segments)
    cls, sep = tiny_tokenizer.cls_token_id, tiny_tokenizer.sep_token_id
    assert all(s[0] == cls and s[-1] == sep for s in long_segments)
    body = [t for s in long_segments for t in s[1:-1]]
    expected = tiny_tokenizer(LONG, add_special_tokens=False)["input_ids"][: len(body)]
    assert body == expected
    assert len(encoded[2]["input_ids"]) == 1


def test_collator_pads_dynamically_and_runs_through_the_model(tiny_tokenizer, tiny_encoder_dir):
    encoded = encode_dataset(_data(), TREE, tiny_tokenizer, max_length=16, max_segments=4)["train"]
    collate = MultiLabelCollator(tiny_tokenizer)
    batch = collate([encoded[0], encoded[2]])
    assert batch["input_ids"].ndim == 3 and batch["input_ids"].shape[0] == 2
    assert batch["labels"].dtype == torch.float32
    batch = collate([encoded[i] for i in range(3)])
    assert batch["input_ids"].shape == (3, 4, 16)
    assert batch["attention_mask"][2, 1:].sum() == 0  # missing segments are padding
    model = MLCLModel.from_encoder(tiny_encoder_dir, TREE, max_segments=4).eval()
    out = model(
        batch["input_ids"], batch["attention_mask"], batch["token_type_ids"], labels=batch["labels"]
    )
    assert out.logits.shape == (3, len(TREE)) and torch.isfinite(out.loss)

    flat = encode_dataset(_data(), TREE, tiny_tokenizer, max_length=32)["train"]
    batch = MultiLabelCollator(tiny_tokenizer, pad_to_multiple_of=8)([flat[0], flat[2]])
    assert batch["input_ids"].shape[1] % 8 == 0
    assert batch["input_ids"][1, -1] == tiny_tokenizer.pad_token_id


def test_unknown_label_names_the_row(tiny_tokenizer):
    data = Dataset.from_list(
        [{"text": "x", "labels": ["CS"]}, {"text": "y", "labels": ["Physics"]}]
    )
    with pytest.raises(ValueError, match="row 1: unknown label 'Physics'"):
        encode_dataset(data, TREE, tiny_tokenizer, max_length=16)
