"""MLCLTrainer: loss components, schedules, gradient accumulation, resume, learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from datasets import Dataset
from sklearn.metrics import f1_score
from transformers import BertConfig, BertModel, TrainerCallback, default_data_collator

from mlcl_text import LabelTree, MLCLModel
from mlcl_text.losses import ContrastiveHeadSpec
from mlcl_text.trainer import MLCLTrainer, MLCLTrainingArguments
from tests.conftest import TINY_BERT

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


@pytest.fixture(scope="module")
def deterministic_encoder_dir(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("tiny-bert-nodropout")
    torch.manual_seed(0)
    config = BertConfig(**TINY_BERT, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    BertModel(config).save_pretrained(path)
    return str(path)


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


class RecordingReporter(TrainerCallback):
    """Receives what the configured reporters (tensorboard, trackio, ...) receive."""

    def __init__(self):
        self.logs = []

    def on_log(self, args, state, control, logs=None, **kwargs):
        self.logs.append(dict(logs or {}))


def test_components_are_logged_in_training_and_evaluation(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(64, seed=0)
    reporter = RecordingReporter()
    model = make_model(deterministic_encoder_dir)
    trainer = trainer_for(
        model, make_args(tmp_path), data, data.select(range(32)), callbacks=[reporter]
    )
    trainer.train()
    assert sum("loss_con/labels" in logs for logs in reporter.logs) == 2
    train_logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert len(train_logs) == 2
    for entry in train_logs:
        assert {"loss_cls", "loss_con/top", "loss_con/labels"} <= set(entry)
        # the logged total is the weighted sum of the logged means (weights 1)
        total = entry["loss_cls"] + entry["loss_con/top"] + entry["loss_con/labels"]
        assert entry["loss"] == pytest.approx(total, rel=1e-3)
    metrics = trainer.evaluate()
    assert {"eval_loss", "eval_loss_cls", "eval_loss_con/top", "eval_loss_con/labels"} <= set(
        metrics
    )
    assert metrics["eval_loss"] == pytest.approx(
        metrics["eval_loss_cls"] + metrics["eval_loss_con/top"] + metrics["eval_loss_con/labels"],
        rel=1e-3,
    )


def test_pos_weight_enters_the_classification_loss(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(16, seed=1)
    batch = default_data_collator([data[i] for i in range(16)])
    model = make_model(deterministic_encoder_dir, heads=[]).eval()
    pos_weight = torch.linspace(0.5, 3.0, len(TREE))
    trainer = trainer_for(model, make_args(tmp_path), data, pos_weight=pos_weight)
    with torch.no_grad():
        loss = trainer.compute_loss(model, batch)
        logits = model(batch["input_ids"], batch["attention_mask"]).logits
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, batch["labels"], pos_weight=pos_weight
    )
    torch.testing.assert_close(loss, expected)


def test_gradient_accumulation_matches_one_large_batch(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(32, seed=2)
    final = []
    for batch_size, accumulation in ((32, 1), (16, 2)):
        model = make_model(deterministic_encoder_dir, heads=[])
        args = make_args(
            tmp_path / f"ga{accumulation}",
            per_device_train_batch_size=batch_size,
            gradient_accumulation_steps=accumulation,
            max_steps=1,
            optim="sgd",
            learning_rate=0.5,
            weight_decay=0.0,
            lr_scheduler_type="constant",
        )
        trainer_for(model, args, data).train()
        final.append({k: v.detach().clone() for k, v in model.state_dict().items()})
    for name in final[0]:
        torch.testing.assert_close(final[0][name], final[1][name], atol=1e-6, rtol=1e-5, msg=name)
    # the step did change the weights
    start = make_model(deterministic_encoder_dir, heads=[]).state_dict()
    assert not torch.allclose(start["classifier.weight"], final[0]["classifier.weight"])


def test_contrastive_warmup_ramps_the_weight(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(16, seed=3)
    args = make_args(tmp_path, contrastive_weight=2.0, contrastive_warmup_steps=4)
    trainer = trainer_for(make_model(deterministic_encoder_dir), args, data)
    assert [trainer.loss_weights(step) for step in (0, 2, 4, 9)] == [
        (1.0, 0.0),
        (1.0, 1.0),
        (1.0, 2.0),
        (1.0, 2.0),
    ]


class Snapshot(TrainerCallback):
    """Copies the model's weights at the end of a given step."""

    def __init__(self, step: int):
        self.step, self.weights = step, None

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if state.global_step == self.step:
            self.weights = {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_two_stage_trains_contrastive_then_classifier_with_frozen_encoder(
    tmp_path, deterministic_encoder_dir
):
    data = separable_dataset(64, seed=4)
    model = make_model(deterministic_encoder_dir)
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    args = make_args(tmp_path, schedule="two_stage", contrastive_stage_steps=2, max_steps=5)
    snapshot = Snapshot(step=2)
    trainer = trainer_for(model, args, data, callbacks=[snapshot])
    assert trainer.loss_weights(1) == (0.0, 1.0)
    assert trainer.loss_weights(2) == (1.0, 0.0)
    trainer.train()
    stage1, stage2 = snapshot.weights, model.state_dict()
    # stage 1: no classification loss, so the classifier does not move; encoder and heads do
    torch.testing.assert_close(stage1["classifier.weight"], start["classifier.weight"])
    assert not torch.equal(stage1["heads.top.out.weight"], start["heads.top.out.weight"])
    query = "encoder.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(stage1[query], start[query])
    # stage 2: only the classifier moves
    assert not torch.equal(stage2["classifier.weight"], stage1["classifier.weight"])
    for name in stage1:
        if name.startswith(("encoder.", "heads.")):
            torch.testing.assert_close(stage2[name], stage1[name], msg=name)


def test_invalid_schedule_settings(tmp_path):
    with pytest.raises(ValueError, match="schedule must be one of"):
        make_args(tmp_path, schedule="alternate")
    with pytest.raises(ValueError, match="contrastive_stage_steps >= 1"):
        make_args(tmp_path, schedule="two_stage")


class StopAfter(TrainerCallback):
    """Interrupts training after a given step, as a crash would."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            control.should_training_stop = True
        return control


def test_resume_from_checkpoint_reaches_the_same_weights(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(64, seed=5)
    settings = {"max_steps": 6, "save_strategy": "steps", "save_steps": 3, "save_only_model": False}
    full = make_model(deterministic_encoder_dir)
    trainer_for(full, make_args(tmp_path / "full", **settings), data).train()

    interrupted = make_model(deterministic_encoder_dir)
    trainer_for(
        interrupted, make_args(tmp_path / "part", **settings), data, callbacks=[StopAfter(3)]
    ).train()
    assert not torch.equal(interrupted.classifier.weight, full.classifier.weight)
    resumed = make_model(deterministic_encoder_dir)
    trainer = trainer_for(resumed, make_args(tmp_path / "part", **settings), data)
    trainer.train(resume_from_checkpoint=str(tmp_path / "part" / "checkpoint-3"))
    for name, value in full.state_dict().items():
        torch.testing.assert_close(
            resumed.state_dict()[name], value, atol=1e-6, rtol=1e-5, msg=name
        )


def test_short_training_lowers_the_loss_and_beats_chance(tmp_path, deterministic_encoder_dir):
    train, test = separable_dataset(192, seed=6), separable_dataset(64, seed=7)
    model = make_model(deterministic_encoder_dir)
    args = make_args(tmp_path, max_steps=150, learning_rate=5e-3, logging_steps=25)
    trainer = trainer_for(model, args, train)
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert logs[-1]["loss"] < logs[0]["loss"]
    assert logs[-1]["loss_cls"] < 0.7 * logs[0]["loss_cls"]

    batch = default_data_collator([test[i] for i in range(len(test))])
    predicted = model.eval().predict(batch["input_ids"], batch["attention_mask"]).numpy()
    truth = batch["labels"].numpy()
    f1 = f1_score(truth, predicted, average="micro")
    # chance: predict every label with its training frequency (expected micro-F1 of a random guess)
    prior = np.asarray(train["labels"]).mean(axis=0)
    rng = np.random.default_rng(0)
    chance = f1_score(truth, (rng.random(truth.shape) < prior).astype(float), average="micro")
    assert f1 > chance + 0.2, (f1, chance)


def test_bf16_mixed_precision_keeps_the_loss_in_float32(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(32, seed=8)
    model = make_model(deterministic_encoder_dir)
    trainer = trainer_for(model, make_args(tmp_path, bf16=True, max_steps=2, logging_steps=1), data)
    batch = {k: v for k, v in default_data_collator([data[i] for i in range(8)]).items()}
    # what accelerate does around the forward pass when bf16=True
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss, outputs = trainer.compute_loss(model.train(), batch, return_outputs=True)
    assert outputs.logits.dtype == torch.bfloat16
    assert loss.dtype == torch.float32
    trainer.train()
    logs = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert all(
        np.isfinite(entry[key]) for entry in logs for key in ("loss", "loss_cls", "loss_con/top")
    )
