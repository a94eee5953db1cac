"""Shared fixtures: a tiny random BERT encoder saved to a local folder, and a small label tree."""

from __future__ import annotations

import pytest
from transformers import BertConfig, BertModel

from mlcl_text import LabelTree

TINY_BERT = {
    "vocab_size": 99,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "max_position_embeddings": 64,
}


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> str:
    """A randomly initialised 2-layer BERT saved with save_pretrained (no network)."""
    path = tmp_path_factory.mktemp("tiny-bert")
    BertModel(BertConfig(**TINY_BERT)).save_pretrained(path)
    return str(path)


@pytest.fixture
def small_tree() -> LabelTree:
    return LabelTree.from_paths(["CS/ML", "CS/DB", "Bio/Genetics", "Bio/Genetics/CRISPR"], sep="/")
