"""write_sentence_transformers_files: SentenceTransformer(export) reproduces MLCLModel.embed."""

from __future__ import annotations

import json

import pytest
import torch
from transformers import BertConfig, BertModel

from mlcl_text import LabelTree, MLCLModel
from mlcl_text.export.sentence_transformers import write_sentence_transformers_files
from tests.helpers.tiny_bert import TINY_BERT

sentence_transformers = pytest.importorskip("sentence_transformers")

TEXTS = [
    "the cat sat on the mat",
    "genes",
    "a quick brown dog jumps over databases of folded proteins and labelled trees of topics",
    "zebras xylophones",  # letters the tokenizer saw, words it did not
]
MAX_SEQ_LENGTH = 16  # shorter than the long text: truncation must match too


@pytest.fixture
def tokenizer(tiny_tokenizer):
    return tiny_tokenizer


@pytest.fixture
def encoder_dir(tiny_encoder_dir):
    """A random tiny BERT with its pooler (tests/conftest.py)."""
    return tiny_encoder_dir


def _export(model: MLCLModel, tokenizer, directory) -> None:
    model.encoder.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    write_sentence_transformers_files(
        directory, model.encoder, model.config.pooling, max_seq_length=MAX_SEQ_LENGTH
    )


@pytest.mark.parametrize("pooling", ["cls", "mean", "pooler"])
def test_sentence_transformer_reproduces_embed(encoder_dir, tokenizer, tmp_path, pooling):
    tree = LabelTree.from_labels(["news", "sports", "science"])
    model = MLCLModel.from_encoder(encoder_dir, tree, pooling=pooling).eval()
    _export(model, tokenizer, tmp_path)

    modules = json.loads((tmp_path / "modules.json").read_text(encoding="utf-8"))
    expected_paths = ["", "1_Pooling", "2_Dense"] if pooling == "pooler" else ["", "1_Pooling"]
    assert [m["path"] for m in modules] == expected_paths
    assert all(m["type"].startswith("sentence_transformers.models.") for m in modules)
    assert (tmp_path / "2_Dense" / "model.safetensors").is_file() == (pooling == "pooler")

    st = sentence_transformers.SentenceTransformer(str(tmp_path), device="cpu")
    assert st.max_seq_length == MAX_SEQ_LENGTH
    assert st.get_embedding_dimension() == 32
    got = st.encode(TEXTS, convert_to_tensor=True, batch_size=2)

    batch = tokenizer(
        TEXTS, padding=True, truncation=True, max_length=MAX_SEQ_LENGTH, return_tensors="pt"
    )
    assert batch["attention_mask"][2].all()  # the long text was truncated
    with torch.no_grad():
        expected = model.embed(
            batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids")
        )
    torch.testing.assert_close(got.cpu(), expected, atol=1e-5, rtol=0)


def test_refuses_a_folder_with_sentence_transformers_files(encoder_dir, tokenizer, tmp_path):
    model = MLCLModel.from_encoder(encoder_dir, LabelTree.from_labels(["a", "b"])).eval()
    _export(model, tokenizer, tmp_path)
    before = (tmp_path / "1_Pooling" / "config.json").read_bytes()
    with pytest.raises(FileExistsError, match=r"modules\.json"):
        write_sentence_transformers_files(tmp_path, model.encoder, "mean")
    assert (tmp_path / "1_Pooling" / "config.json").read_bytes() == before


def test_refuses_to_overwrite_a_different_module_file(encoder_dir, tokenizer, tmp_path):
    model = MLCLModel.from_encoder(encoder_dir, LabelTree.from_labels(["a", "b"])).eval()
    model.encoder.save_pretrained(tmp_path)
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text("{}\n", encoding="utf-8")
    with pytest.raises(FileExistsError, match="1_Pooling"):
        write_sentence_transformers_files(tmp_path, model.encoder, "cls")
    assert not (tmp_path / "modules.json").exists()
    assert not (tmp_path / "sentence_bert_config.json").exists()


def test_pooler_needs_a_pooler(tokenizer, tmp_path):
    encoder = BertModel(BertConfig(**TINY_BERT), add_pooling_layer=False)
    encoder.save_pretrained(tmp_path)
    with pytest.raises(ValueError, match=r"needs the encoder.s pooler.*has none"):
        write_sentence_transformers_files(tmp_path, encoder, "pooler")
    assert not (tmp_path / "modules.json").exists()
    # without a pooler, cls/mean exports still work
    write_sentence_transformers_files(tmp_path, encoder, "cls")
    assert (tmp_path / "modules.json").is_file()


def test_rejects_bad_arguments(encoder_dir, tmp_path):
    encoder = BertModel.from_pretrained(encoder_dir)
    with pytest.raises(ValueError, match="pooling"):
        write_sentence_transformers_files(encoder_dir, encoder, "max")
    with pytest.raises(ValueError, match="max_seq_length"):
        write_sentence_transformers_files(encoder_dir, encoder, "cls", max_seq_length=65)
    with pytest.raises(FileNotFoundError, match="encoder export"):
        write_sentence_transformers_files(tmp_path, encoder, "cls")
