"""The tiny random BERT of the tests: its configuration (the conftest fixtures build it)."""

from __future__ import annotations

#: a 2-layer BERT small enough to train on a CPU in a test (vocabulary fits the tiny tokenizer)
TINY_BERT = {
    "vocab_size": 99,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 37,
    "max_position_embeddings": 64,
}
