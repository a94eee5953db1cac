"""MLCLTrainer: loss components, schedules, gradient accumulation, resume, learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import f1_score
from transformers import TrainerCallback, default_data_collator

from mlcl_text import MLCLModel
from tests.helpers.tiny_trainer import (
    HEADS,
    TREE,
    make_args,
    make_model,
    separable_dataset,
    trainer_for,
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


def test_contrastive_stage_trains_encoder_and_heads_only(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(64, seed=4)
    model = make_model(deterministic_encoder_dir)
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    trainer = trainer_for(model, make_args(tmp_path, max_steps=2), data, stage="contrastive")
    assert trainer.loss_weights(1) == (0.0, 1.0)
    trainer.train()
    after = model.state_dict()
    # no classification loss and a frozen classifier: not even weight decay moves it
    torch.testing.assert_close(after["classifier.weight"], start["classifier.weight"])
    assert not torch.equal(after["heads.top.out.weight"], start["heads.top.out.weight"])
    query = "encoder.encoder.layer.0.attention.self.query.weight"
    assert not torch.equal(after[query], start[query])


def test_classifier_stage_trains_the_classifier_on_an_encoder_in_eval_mode(
    tmp_path, tiny_encoder_dir
):
    data = separable_dataset(64, seed=4)
    torch.manual_seed(1)
    model = MLCLModel.from_encoder(tiny_encoder_dir, TREE, heads=HEADS)  # with dropout
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    modes = []

    class EncoderMode(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kwargs):
            modes.append(model.encoder.training)

    trainer = trainer_for(
        model, make_args(tmp_path, max_steps=3), data, stage="classifier", callbacks=[EncoderMode()]
    )
    assert trainer.loss_weights(0) == (1.0, 0.0)
    trainer.train()
    assert modes == [False, False, False]
    after = model.state_dict()
    assert not torch.equal(after["classifier.weight"], start["classifier.weight"])
    for name in start:
        if name.startswith(("encoder.", "heads.")):
            torch.testing.assert_close(after[name], start[name], msg=name)


def test_finetune_stage_freezes_the_heads_and_skips_their_loss(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(64, seed=4)
    model = make_model(deterministic_encoder_dir)
    start = {k: v.detach().clone() for k, v in model.state_dict().items()}
    trainer = trainer_for(model, make_args(tmp_path, max_steps=2), data, stage="finetune")
    trainer.train()
    after = model.state_dict()
    assert not torch.equal(after["classifier.weight"], start["classifier.weight"])
    torch.testing.assert_close(after["heads.top.out.weight"], start["heads.top.out.weight"])
    assert all("loss_con/top" not in entry for entry in trainer.state.log_history)


def test_each_component_gets_its_own_learning_rate(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(32, seed=4)
    model = make_model(deterministic_encoder_dir)
    args = make_args(
        tmp_path,
        learning_rate=1e-4,
        classifier_learning_rate=1e-2,
        head_learning_rate=1e-3,
        lr_scheduler_type="constant",
        max_steps=2,
        logging_steps=1,
    )
    trainer = trainer_for(model, args, data)
    trainer.train()
    rates = {group["name"]: group["lr"] for group in trainer.optimizer.param_groups}
    assert rates == {
        "classifier": 1e-2,
        "classifier/no_decay": 1e-2,
        "encoder": 1e-4,
        "encoder/no_decay": 1e-4,
        "heads": 1e-3,
        "heads/no_decay": 1e-3,
    }
    grouped = [p for group in trainer.optimizer.param_groups for p in group["params"]]
    assert len(grouped) == len({id(p) for p in grouped}) == len(list(model.parameters()))
    logged = next(entry for entry in trainer.state.log_history if "loss" in entry)
    assert logged["learning_rate/classifier"] == 1e-2
    assert logged["learning_rate/encoder"] == 1e-4


class RecordingLoss(torch.nn.Module):
    """Wraps a contrastive loss and keeps the labels of its last call."""

    def __init__(self, loss):
        super().__init__()
        self.loss, self.labels = loss, None

    def forward(self, projections, labels):
        self.labels = labels
        return self.loss(projections, labels)


def test_two_views_give_every_labelled_anchor_a_positive(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(16, seed=4)
    model = make_model(deterministic_encoder_dir)
    trainer = trainer_for(model, make_args(tmp_path, contrastive_views=2), data)
    trainer.contrastive = RecordingLoss(trainer.contrastive)
    batch = default_data_collator([data[i] for i in range(8)])
    trainer.compute_loss(model.train(), batch)
    labels = trainer.contrastive.labels
    assert labels.shape[0] == 16
    torch.testing.assert_close(labels[:8], labels[8:])
    # the second view of each document is its positive under the "all" head: every anchor has one
    same = (labels[:, None, :] == labels[None, :, :]).all(dim=-1) & ~torch.eye(16, dtype=torch.bool)
    assert same.any(dim=1).all()
    with torch.no_grad():  # evaluation sees each document once
        trainer.compute_loss(model.eval(), batch)
    assert trainer.contrastive.labels.shape[0] == 8


def test_gradient_balance_scales_the_heads_to_the_classification_gradient(
    tmp_path, deterministic_encoder_dir
):
    data = separable_dataset(16, seed=4)
    batch = default_data_collator([data[i] for i in range(16)])
    model = make_model(deterministic_encoder_dir)
    args = make_args(tmp_path, contrastive_balance="gradient", contrastive_weight=0.5)
    trainer = trainer_for(model, args, data)
    loss = trainer.compute_loss(model.train(), batch)
    sums = trainer._component_sums["train"]
    norm_cls, norm_con = float(sums["grad_norm/cls"]), float(sums["grad_norm/con"])
    assert norm_cls > 0 and norm_con > 0
    assert float(sums["contrastive_scale"]) == pytest.approx(0.5 * norm_cls / norm_con, rel=1e-5)
    assert torch.isfinite(loss)


def test_logged_gradient_norms_without_balancing(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(32, seed=4)
    args = make_args(tmp_path, log_component_gradients=True, max_steps=2, logging_steps=1)
    trainer = trainer_for(make_model(deterministic_encoder_dir), args, data)
    trainer.train()
    logged = [entry for entry in trainer.state.log_history if "loss" in entry]
    assert all(entry["grad_norm/cls"] > 0 and entry["grad_norm/con"] > 0 for entry in logged)
    assert all("contrastive_scale" not in entry for entry in logged)


def test_evaluation_scores_micro_f1_and_its_loss_is_the_classification_loss(
    tmp_path, deterministic_encoder_dir
):
    data = separable_dataset(32, seed=4)
    trainer = trainer_for(make_model(deterministic_encoder_dir), make_args(tmp_path), data, data)
    metrics = trainer.evaluate()
    assert 0 <= metrics["eval_micro_f1"] <= 1 and 0 <= metrics["eval_macro_f1"] <= 1
    assert metrics["eval_loss"] == pytest.approx(metrics["eval_loss_cls"], rel=1e-4)


def test_best_checkpoint_is_chosen_by_micro_f1_by_default(tmp_path):
    args = make_args(
        tmp_path, eval_strategy="steps", save_strategy="steps", load_best_model_at_end=True
    )
    assert args.metric_for_best_model == "micro_f1" and args.greater_is_better


def test_invalid_schedule_settings(tmp_path):
    with pytest.raises(ValueError, match="schedule must be one of"):
        make_args(tmp_path, schedule="alternate")
    with pytest.raises(ValueError, match="contrastive_stage_steps >= 1"):
        make_args(tmp_path, schedule="two_stage")
    with pytest.raises(ValueError, match="contrastive_views must be 1 or 2"):
        make_args(tmp_path, contrastive_views=3)
    with pytest.raises(ValueError, match="classifier_learning_rate must be > 0"):
        make_args(tmp_path, classifier_learning_rate=0.0)
    with pytest.raises(ValueError, match="needs load_best_model_at_end"):
        make_args(tmp_path, early_stopping_patience=2)


def test_unknown_stage(tmp_path, deterministic_encoder_dir):
    with pytest.raises(ValueError, match="stage must be one of"):
        trainer_for(make_model(deterministic_encoder_dir), make_args(tmp_path), None, stage="x")


class StopAfter(TrainerCallback):
    """Interrupts training after a given step, as a crash would."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step >= self.step:
            control.should_training_stop = True
        return control


@pytest.mark.parametrize("sampler", ["random", "labels"])
def test_resume_from_checkpoint_reaches_the_same_weights(
    tmp_path, deterministic_encoder_dir, sampler
):
    data = separable_dataset(64, seed=5)
    settings = {
        "batch_sampler": sampler,  # the label sampler replays its batches after a restart
        "max_steps": 6,
        "save_strategy": "steps",
        "save_steps": 3,
        "save_only_model": False,
        "classifier_learning_rate": 1e-2,  # the optimiser's parameter groups resume too
        "head_learning_rate": 3e-3,
    }
    full = make_model(deterministic_encoder_dir)
    trainer_for(full, make_args(tmp_path / "full", **settings), data).train()

    interrupted = make_model(deterministic_encoder_dir)
    trainer_for(
        interrupted, make_args(tmp_path / "part", **settings), data, callbacks=[StopAfter(3)]
    ).train()
    assert not torch.equal(interrupted.classifier.weight, full.classifier.weight)
    checkpoint = tmp_path / "part" / "checkpoint-3"
    assert (checkpoint / "training_args.json").is_file()
    assert not (checkpoint / "training_args.bin").exists()  # no pickle in a checkpoint
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


def test_activation_checkpointing_gives_the_same_updates(tmp_path, deterministic_encoder_dir):
    """A recipe key (TrainingArguments'), so a GPU fits larger contrastive batches."""
    data = separable_dataset(48, seed=8)
    weights = {}
    for checkpointing in (False, True):
        model = make_model(deterministic_encoder_dir)
        args = make_args(tmp_path / str(checkpointing), activation_checkpointing=checkpointing)
        trainer_for(model, args, data).train()
        assert model.is_activation_checkpointing is checkpointing
        weights[checkpointing] = {k: v.clone() for k, v in model.state_dict().items()}
    for name, value in weights[False].items():
        torch.testing.assert_close(weights[True][name], value, atol=1e-6, rtol=1e-5, msg=name)


def test_no_pin_memory_warning_on_a_cpu(tmp_path, deterministic_encoder_dir, recwarn):
    args = make_args(tmp_path)
    assert args.dataloader_pin_memory is False
    trainer = trainer_for(make_model(deterministic_encoder_dir), args, separable_dataset(16, 0))
    next(iter(trainer.get_train_dataloader()))
    assert not [w for w in recwarn if "pin_memory" in str(w.message)]
