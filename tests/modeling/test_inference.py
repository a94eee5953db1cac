"""Inference: probabilities, embeddings and projections of raw texts, tokenised as in training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from datasets import Dataset

from mlcl_text import MLCLModel
from mlcl_text.data.encoding import MultiLabelCollator, encode_dataset, tokenize_texts
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.modeling.inference import embed_texts, predict_probabilities

TEXTS = [
    "machine learning models classify documents",
    "databases store records in tables",
    "genetics studies genes and heredity and the long history of heredity in families",
    "gene editing with crispr changes dna",
    "neural networks",
    "query optimisation speeds up databases",
    "crispr databases of genes",
    "the patient was admitted with chest pain",
]


@pytest.fixture
def model(two_head_model):
    return two_head_model


@pytest.mark.parametrize("max_segments", [1, 3])
def test_inference_tokenises_as_training_does(tiny_tokenizer, small_tree, max_segments):
    data = Dataset.from_dict({"text": TEXTS, "labels": [[] for _ in TEXTS]})
    encoded = encode_dataset(data, small_tree, tiny_tokenizer, 10, max_segments)
    inputs = tokenize_texts(tiny_tokenizer, TEXTS, 10, max_segments)
    assert set(inputs) == set(encoded.column_names) - {"labels"}
    for key, values in inputs.items():
        assert encoded[key] == values


def test_predict_probabilities_keeps_the_order_of_texts(model, tiny_tokenizer):
    probabilities = predict_probabilities(model, tiny_tokenizer, TEXTS, batch_size=3, max_length=16)
    assert probabilities.shape == (len(TEXTS), model.config.num_labels)
    inputs = tokenize_texts(tiny_tokenizer, TEXTS, 16)
    rows = [{key: values[i] for key, values in inputs.items()} for i in range(len(TEXTS))]
    with torch.no_grad():  # one padded batch in the texts' order
        logits = model(**MultiLabelCollator(tiny_tokenizer)(rows)).logits
    np.testing.assert_allclose(probabilities, torch.sigmoid(logits).numpy(), atol=1e-5)


def test_embed_texts_keeps_the_order_of_texts(model, tiny_tokenizer):
    vectors = embed_texts(model, tiny_tokenizer, TEXTS, batch_size=3, max_length=16)
    assert vectors["embeddings"].shape == (len(TEXTS), 32)
    assert {k: v.shape for k, v in vectors["projections"].items()} == {
        "a": (len(TEXTS), 8),
        "b": (len(TEXTS), 8),
    }
    with torch.no_grad():
        encoded = tiny_tokenizer(TEXTS[3:4], truncation=True, max_length=16, return_tensors="pt")
        single = model(**encoded)
    np.testing.assert_allclose(vectors["embeddings"][3], single.embeddings[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(
        vectors["projections"]["b"][3], single.projections["b"][0].numpy(), atol=1e-5
    )


def test_embed_texts_with_segments(tiny_encoder_dir, small_tree, tiny_tokenizer):
    model = MLCLModel.from_encoder(
        tiny_encoder_dir,
        small_tree,
        heads=[ContrastiveHeadSpec("a", out_dim=4)],
        max_segments=3,
    )
    texts = [" ".join([TEXTS[0]] * 4), TEXTS[1]]
    vectors = embed_texts(model, tiny_tokenizer, texts, max_length=10)
    assert vectors["embeddings"].shape == (2, 32) and np.isfinite(vectors["embeddings"]).all()
    alone = embed_texts(model, tiny_tokenizer, texts[:1], max_length=10)["embeddings"]
    np.testing.assert_allclose(vectors["embeddings"][0], alone[0], atol=1e-5)
