"""The length a model was trained with travels in its config: every export and every predict
truncates there (``MLCLConfig.max_length``), not at 128 or at the tokenizer's limit."""

from __future__ import annotations

import json

import numpy as np
import pytest
from transformers import AutoTokenizer, BertConfig, BertModel

from mlcl_text import MLCLModel
from mlcl_text.cli.main import main
from mlcl_text.modeling.inference import predict_probabilities
from tests.helpers.recipe_files import recipe
from tests.helpers.tiny_bert import TINY_BERT

LENGTHS = (64, 256)


@pytest.fixture
def long_model_dir(tmp_path, tiny_tokenizer):
    """The tiny encoder with 256 positions, and its tokenizer, in one folder."""
    folder = tmp_path / "tiny-long"
    BertModel(BertConfig(**{**TINY_BERT, "max_position_embeddings": 256})).save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def long_text(tiny_tokenizer) -> str:
    """A text of about 400 tokens, whose parts differ (so that each length sees other words)."""
    words = ["genes", "databases", "machine", "tables", "heredity", "learning", "indexes"]
    text = " ".join(words[(i * i) % len(words)] for i in range(400))
    assert len(tiny_tokenizer(text)["input_ids"]) > 300
    return text


def _cut(tokenizer, text: str, length: int) -> str:
    """The words of ``text`` that fit ``length`` tokens with the special tokens."""
    ids = tokenizer(text, truncation=True, max_length=length, add_special_tokens=True)["input_ids"]
    return tokenizer.decode(ids, skip_special_tokens=True)


def test_each_model_truncates_at_its_training_length(
    tmp_path, long_model_dir, data_dir, long_text, capsys
):
    source = tmp_path / "texts.jsonl"
    source.write_text(json.dumps({"text": long_text}) + "\n")
    for length in LENGTHS:
        path = recipe(
            tmp_path, long_model_dir, data_dir, name=f"run{length}", max_length=length, heads=[]
        )
        assert main(["train", str(path)]) == 0
        export = tmp_path / f"full{length}"
        assert main(["export", str(tmp_path / f"run{length}"), "--output", str(export)]) == 0
        model = MLCLModel.from_pretrained(export)
        tokenizer = AutoTokenizer.from_pretrained(export)
        assert model.config.max_length == length
        assert tokenizer.model_max_length == length

        output = tmp_path / f"predictions{length}.jsonl"
        assert main(["predict", str(export), str(source), "--output", str(output)]) == 0
        predicted = json.loads(output.read_text())["probabilities"]
        names = model.config.tree.names
        cli = np.array([predicted[name] for name in names])

        truncated = predict_probabilities(model, tokenizer, [_cut(tokenizer, long_text, length)])
        np.testing.assert_allclose(cli, truncated[0], atol=2e-6)  # rounded to 6 digits
        assert np.array_equal(predict_probabilities(model, tokenizer, [long_text]), truncated)
        other = LENGTHS[1 - LENGTHS.index(length)]
        longer_or_shorter = predict_probabilities(model, tokenizer, [long_text], max_length=other)
        assert not np.allclose(longer_or_shorter, truncated, rtol=0, atol=1e-6)  # other tokens


def test_the_encoder_export_truncates_sentence_transformers_at_the_training_length(
    tmp_path, long_model_dir, data_dir
):
    path = recipe(tmp_path, long_model_dir, data_dir, max_length=64, heads=[])
    assert main(["train", str(path)]) == 0
    export = tmp_path / "encoder"
    run = str(tmp_path / "run")
    assert main(["export", run, "--form", "encoder", "--output", str(export)]) == 0
    settings = json.loads((export / "sentence_bert_config.json").read_text())
    assert settings["max_seq_length"] == 64
    assert AutoTokenizer.from_pretrained(export).model_max_length == 64


def test_a_config_refuses_a_length_below_eight_tokens():
    from mlcl_text.modeling.configuration import MLCLConfig

    with pytest.raises(ValueError, match="max_length must be at least 8 tokens, got 4"):
        MLCLConfig(max_length=4)
