"""A tiny MLCL model on the tiny BERT, its training arguments and a separable data set.

The label tree ``TREE`` has two roots with two leaves each; ``separable_dataset`` gives each
leaf a marker token, so a few CPU steps learn it. Used by the Trainer's tests and the
two-process runs.
"""

from __future__ import annotations

import numpy as np
import torch
from datasets import Dataset
from transformers import default_data_collator

from mlcl_text import LabelTree, MLCLModel
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.training.arguments import MLCLTrainingArguments
from mlcl_text.training.trainer import MLCLTrainer

TREE = LabelTree.from_paths(["A/a1", "A/a2", "B/b1", "B/b2"], sep="/")
LEAVES = [TREE.index(name) for name in ("A/a1", "A/a2", "B/b1", "B/b2")]
HEADS = [
    ContrastiveHeadSpec("top", positives="all", level=1, out_dim=16),
    ContrastiveHeadSpec("labels", positives="sd", out_dim=16),
]
LENGTH = 12


def separable_dataset(n: int, seed: int) -> Dataset:
    """Each leaf label has a marker token; a text holds the markers of its labels plus noise."""
    rng = np.random.default_rng(seed)
    rows = {"input_ids": [], "attention_mask": [], "labels": []}
    for _ in range(n):
        chosen = [leaf for leaf in range(4) if rng.random() < 0.4] or [int(rng.integers(4))]
        tokens = (
            [2]
            + [10 + leaf for leaf in chosen]
            + list(rng.integers(20, 90, LENGTH - 1 - len(chosen)))
        )
        rng.shuffle(tokens[1:])
        labels = np.zeros(len(TREE), dtype=np.float32)
        labels[[LEAVES[leaf] for leaf in chosen]] = 1
        labels = TREE.closure(labels[None])[0]
        rows["input_ids"].append([int(t) for t in tokens])
        rows["attention_mask"].append([1] * LENGTH)
        rows["labels"].append(labels.tolist())
    return Dataset.from_dict(rows)


def make_model(encoder_dir: str, heads=HEADS) -> MLCLModel:
    torch.manual_seed(1)
    return MLCLModel.from_encoder(encoder_dir, TREE, heads=heads, classifier_dropout=0.0)


def make_args(output_dir, **overrides) -> MLCLTrainingArguments:
    settings = {
        "output_dir": str(output_dir),
        "per_device_train_batch_size": 16,
        "per_device_eval_batch_size": 32,
        "learning_rate": 1e-3,
        "max_steps": 4,
        "logging_steps": 2,
        "report_to": "none",
        "save_strategy": "no",
        "seed": 0,
        "use_cpu": True,
        "disable_tqdm": True,
        "dataloader_num_workers": 0,
    }
    settings.update(overrides)
    return MLCLTrainingArguments(**settings)


def trainer_for(model, args, train, eval_dataset=None, **kwargs) -> MLCLTrainer:
    return MLCLTrainer(
        model=model,
        args=args,
        train_dataset=train,
        eval_dataset=eval_dataset,
        data_collator=default_data_collator,
        **kwargs,
    )
