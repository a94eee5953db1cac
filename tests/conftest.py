"""Shared fixtures: a tiny random BERT encoder saved to a local folder, and a small label tree.

The fixtures' building blocks that test modules import live in ``tests/helpers/``."""

from __future__ import annotations

import json
import shutil

import pytest
import torch
from transformers import BertConfig, BertModel

from mlcl_text import LabelTree
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.modeling.model import MLCLModel
from tests.helpers.tiny_bert import TINY_BERT


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> str:
    """A randomly initialised 2-layer BERT saved with save_pretrained (no network)."""
    path = tmp_path_factory.mktemp("tiny-bert")
    BertModel(BertConfig(**TINY_BERT)).save_pretrained(path)
    return str(path)


@pytest.fixture
def small_tree() -> LabelTree:
    return LabelTree.from_paths(["CS/ML", "CS/DB", "Bio/Genetics", "Bio/Genetics/CRISPR"], sep="/")


CORPUS = [
    "machine learning models classify documents into topics",
    "databases store records in tables with indexes",
    "genetics studies genes and heredity in organisms",
    "gene editing with crispr changes dna sequences",
    "neural networks learn representations from data",
    "query optimisation speeds up database systems",
    "the patient was admitted with chest pain and discharged home",
    "hierarchical labels form a tree of topics and subtopics",
]


@pytest.fixture
def two_head_model(tiny_encoder_dir, small_tree):
    """A tiny MLCL model on ``small_tree`` with an SD head and a level-1 ALL head (seeded)."""
    torch.manual_seed(0)
    return MLCLModel.from_encoder(
        tiny_encoder_dir,
        small_tree,
        heads=[
            ContrastiveHeadSpec("a", positives="sd", out_dim=8),
            ContrastiveHeadSpec("b", positives="all", level=1, out_dim=8),
        ],
    )


@pytest.fixture(scope="session")
def tiny_tokenizer():
    """A WordPiece tokenizer trained here on a small corpus (vocabulary fits TINY_BERT)."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import BertTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokenizer = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=TINY_BERT["vocab_size"], special_tokens=specials)
    tokenizer.train_from_iterator(CORPUS * 4, trainer=trainer)
    cls, sep = tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)],
    )
    fast = BertTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=TINY_BERT["max_position_embeddings"],
    )
    assert len(fast) <= TINY_BERT["vocab_size"]
    return fast


@pytest.fixture(scope="session")
def deterministic_encoder_dir(tmp_path_factory) -> str:
    """The tiny encoder without dropout: training steps are deterministic functions of the data."""
    path = tmp_path_factory.mktemp("tiny-bert-nodropout")
    torch.manual_seed(0)
    config = BertConfig(**TINY_BERT, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    BertModel(config).save_pretrained(path)
    return str(path)


#: three labels of a two-level tree, one text each (a CLI run's data)
TOPICS = {
    "CS/ML": "neural networks learn representations from data",
    "CS/DB": "query optimisation speeds up database systems",
    "Bio/Genetics": "gene editing with crispr changes dna sequences",
}


@pytest.fixture
def model_dir(tmp_path, tiny_encoder_dir, tiny_tokenizer):
    """The tiny encoder with its tokenizer in one folder, as a Hub model folder is."""
    folder = tmp_path / "tiny-model"
    shutil.copytree(tiny_encoder_dir, folder)
    tiny_tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture
def data_dir(tmp_path):
    """JSONL train / validation / test files of TOPICS (8 / 2 / 2 copies of each text)."""
    folder = tmp_path / "data"
    folder.mkdir()
    for split, copies in (("train", 8), ("validation", 2), ("test", 2)):
        rows = [
            {"text": f"{text} {i}", "labels": [label]}
            for i in range(copies)
            for label, text in TOPICS.items()
        ]
        (folder / f"{split}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
        )
    return folder
