"""Training protocols (stages chained by ``schedule``) and the logistic-regression classifier."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from transformers import default_data_collator

from mlcl_text import MLCLModel
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.training.probe import fit_logistic_classifier, pooled_embeddings
from mlcl_text.training.protocols import contrastive_stage_arguments, run_protocol, stage_plan
from tests.helpers.tiny_trainer import (
    HEADS,
    TREE,
    make_args,
    make_model,
    separable_dataset,
)

QUERY = "encoder.encoder.layer.0.attention.self.query.weight"


def snapshot(model) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_stage_plans(tmp_path):
    two = make_args(tmp_path, schedule="two_stage", contrastive_stage_steps=2)
    assert stage_plan(two, has_heads=True) == ["contrastive", "classifier"]
    fitted = make_args(
        tmp_path, schedule="two_stage", contrastive_stage_epochs=1.0, classifier_fit="logistic"
    )
    assert stage_plan(fitted, has_heads=True) == ["contrastive"]
    finetune = make_args(tmp_path, schedule="pretrain_finetune", contrastive_stage_steps=2)
    assert stage_plan(finetune, has_heads=True) == ["contrastive", "finetune"]
    assert stage_plan(make_args(tmp_path), has_heads=False) == ["joint"]
    with pytest.raises(ValueError, match="needs contrastive heads"):
        stage_plan(two, has_heads=False)


def test_contrastive_stage_has_its_own_budget_and_learning_rate(tmp_path):
    args = make_args(
        tmp_path,
        schedule="pretrain_finetune",
        contrastive_stage_epochs=3.0,
        contrastive_stage_learning_rate=5e-5,
        eval_strategy="epoch",
        save_strategy="epoch",
        load_best_model_at_end=True,
        early_stopping_patience=2,
        max_steps=-1,
        num_train_epochs=7,
    )
    stage = contrastive_stage_arguments(args)
    assert (stage.num_train_epochs, stage.max_steps, stage.learning_rate) == (3.0, -1, 5e-5)
    assert stage.eval_strategy == "no" and not stage.load_best_model_at_end
    assert stage.output_dir.endswith("contrastive-stage")
    assert (args.num_train_epochs, args.learning_rate) == (7, 1e-3)  # the run's own budget


def test_two_stage_freezes_the_encoder_for_the_classifier_stage(
    tmp_path, deterministic_encoder_dir
):
    data = separable_dataset(64, seed=4)
    model = make_model(deterministic_encoder_dir)
    start = snapshot(model)
    args = make_args(
        tmp_path, schedule="two_stage", contrastive_stage_steps=2, max_steps=3, logging_steps=1
    )
    result = run_protocol(model, args, data, default_data_collator)
    after = model.state_dict()
    assert not torch.equal(after[QUERY], start[QUERY])
    assert not torch.equal(after["classifier.weight"], start["classifier.weight"])
    stages = [entry["stage"] for entry in result.log_history if "loss" in entry]
    assert stages == ["contrastive", "contrastive", "classifier", "classifier", "classifier"]
    steps = [entry["step"] for entry in result.log_history if "loss" in entry]
    assert steps == [1, 2, 3, 4, 5]
    assert result.trainer.stage == "classifier" and set(result.stage_seconds) == {
        "contrastive",
        "classifier",
    }
    # the encoder after the contrastive stage is the encoder at the end
    encoder_after_stage1 = make_model(deterministic_encoder_dir)
    run_protocol(
        encoder_after_stage1,
        make_args(tmp_path / "again", schedule="two_stage", contrastive_stage_steps=2, max_steps=0),
        data,
        default_data_collator,
    )
    torch.testing.assert_close(encoder_after_stage1.state_dict()[QUERY], after[QUERY])


def test_pretrain_finetune_trains_everything_but_the_heads_in_stage_two(
    tmp_path, deterministic_encoder_dir
):
    data = separable_dataset(64, seed=4)
    stage1 = make_model(deterministic_encoder_dir)
    run_protocol(
        stage1,
        make_args(tmp_path / "a", schedule="two_stage", contrastive_stage_steps=2, max_steps=0),
        data,
        default_data_collator,
    )
    model = make_model(deterministic_encoder_dir)
    args = make_args(tmp_path / "b", schedule="pretrain_finetune", contrastive_stage_steps=2)
    run_protocol(model, args, data, default_data_collator)
    before, after = stage1.state_dict(), model.state_dict()
    assert not torch.equal(after[QUERY], before[QUERY])  # fine-tuned on BCE
    torch.testing.assert_close(after["heads.top.out.weight"], before["heads.top.out.weight"])


def test_logistic_fit_reproduces_scikit_learn_on_the_pooled_embeddings(
    tmp_path, deterministic_encoder_dir
):
    data = separable_dataset(96, seed=5)
    model = make_model(deterministic_encoder_dir, heads=[])
    counts = fit_logistic_classifier(model, data, default_data_collator, c=0.5)
    embeddings, labels = pooled_embeddings(model, data, default_data_collator)
    batch = default_data_collator([data[i] for i in range(len(data))])
    with torch.no_grad():
        probabilities = torch.sigmoid(model.eval()(**batch).logits).numpy()
    scaled = (embeddings - embeddings.mean(0)) / np.sqrt(embeddings.var(0).mean())
    for j in range(len(TREE)):
        column = labels[:, j] > 0.5
        if column.all() or not column.any():
            continue
        expected = LogisticRegression(C=0.5, max_iter=2000).fit(scaled, column)
        np.testing.assert_allclose(
            probabilities[:, j], expected.predict_proba(scaled)[:, 1], atol=1e-4
        )
    assert counts["fitted"] + counts["constant"] == len(TREE)


def test_a_nearly_constant_dimension_does_not_blow_up_the_fitted_weights(
    deterministic_encoder_dir, monkeypatch
):
    """One scale for all dimensions: a dimension that barely varies (as mean-pooled MiniLM
    has) must not be divided by its own tiny deviation, which gave weights of 1e8 that
    fine-tuning could not start from."""
    from mlcl_text.training import probe

    data = separable_dataset(64, seed=8)
    model = make_model(deterministic_encoder_dir, heads=[])
    embeddings, labels = pooled_embeddings(model, data, default_data_collator)
    embeddings[:, 0] = 0.25 + 1e-9 * np.arange(len(embeddings))  # nearly constant
    monkeypatch.setattr(probe, "pooled_embeddings", lambda *a, **k: (embeddings, labels))
    fit_logistic_classifier(model, data, default_data_collator)
    weight = model.classifier.weight.detach()
    assert float(weight.abs().max()) < 1e3
    scale = np.sqrt(embeddings.var(0).mean())
    scaled = (embeddings - embeddings.mean(0)) / scale
    column = labels[:, 1] > 0.5
    expected = LogisticRegression(C=1.0, max_iter=2000).fit(scaled, column)
    logits = (
        embeddings @ weight.double().numpy().T + model.classifier.bias.detach().double().numpy()
    )
    np.testing.assert_allclose(
        1 / (1 + np.exp(-logits[:, 1])), expected.predict_proba(scaled)[:, 1], atol=1e-4
    )


def test_logistic_fit_gives_single_class_labels_their_prior(deterministic_encoder_dir):
    data = separable_dataset(32, seed=6)
    labels = np.asarray(data["labels"])
    labels[:, 0] = 0.0  # never positive
    data = data.remove_columns("labels").add_column("labels", labels.tolist())
    model = make_model(deterministic_encoder_dir, heads=[])
    counts = fit_logistic_classifier(model, data, default_data_collator)
    assert counts["constant"] >= 1
    assert torch.all(model.classifier.weight[0] == 0)
    assert float(model.classifier.bias[0].detach()) == pytest.approx(
        np.log(1e-4 / (1 - 1e-4)), rel=1e-5
    )


def test_two_stage_with_a_logistic_fit_separates_the_training_labels(
    tmp_path, deterministic_encoder_dir
):
    train = separable_dataset(128, seed=7)
    # SD over whole ancestor-closed sets, as this check was tuned for (20 steps of a tiny model)
    heads = [
        ContrastiveHeadSpec("top", positives="all", level=1, out_dim=16),
        ContrastiveHeadSpec("labels", positives="sd", view="all", out_dim=16),
    ]
    model = make_model(deterministic_encoder_dir, heads=heads)
    args = make_args(
        tmp_path,
        schedule="two_stage",
        contrastive_stage_steps=20,
        classifier_fit="logistic",
        classifier_fit_c=10.0,  # the embeddings of 20 steps of a tiny model: a weak penalty
        learning_rate=5e-3,
    )
    result = run_protocol(model, args, train, default_data_collator)
    assert set(result.stage_seconds) == {"contrastive", "logistic_fit"}
    batch = default_data_collator([train[i] for i in range(len(train))])
    with torch.no_grad():
        predicted = torch.sigmoid(model.eval()(**batch).logits) > 0.5
    accuracy = (predicted == (batch["labels"] > 0.5)).float().mean()
    assert accuracy > 0.9, accuracy


def test_stages_keep_lora_base_weights_frozen(tmp_path, deterministic_encoder_dir):
    data = separable_dataset(32, seed=8)
    torch.manual_seed(1)
    model = MLCLModel.from_encoder(deterministic_encoder_dir, TREE, heads=HEADS, lora={"r": 2})
    base = {n for n, p in model.named_parameters() if not p.requires_grad}
    start = snapshot(model)
    args = make_args(tmp_path, schedule="pretrain_finetune", contrastive_stage_steps=2)
    run_protocol(model, args, data, default_data_collator)
    frozen_now = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert base <= frozen_now
    for name, value in model.state_dict().items():
        if "base_layer" in name:
            torch.testing.assert_close(value, start[name], msg=name)


@pytest.mark.parametrize("schedule", ["joint", "pretrain_finetune"])
def test_probe_init_starts_the_trained_stage_from_the_logistic_fit(
    tmp_path, deterministic_encoder_dir, schedule
):
    """``classifier_init="probe"``: the classifier the first classifier-training stage starts
    from is the logistic fit on the encoder as that stage receives it (learning rates ~0 here,
    so the classifier after one step is the one training started from)."""
    train = separable_dataset(64, seed=3)
    model = make_model(deterministic_encoder_dir)
    extra = {"contrastive_stage_steps": 2} if schedule != "joint" else {}
    args = make_args(
        tmp_path,
        schedule=schedule,
        classifier_init="probe",
        max_steps=1,
        learning_rate=1e-12,
        classifier_learning_rate=1e-12,
        **extra,
    )
    run = run_protocol(model, args, train, default_data_collator)
    assert "probe_init" in run.stage_seconds
    expected = make_model(deterministic_encoder_dir)
    if schedule != "joint":  # the contrastive stage moved the encoder: fit on that encoder
        expected.load_state_dict(model.state_dict())
    fit_logistic_classifier(expected, train, default_data_collator, batch_size=32, seed=0)
    for name, value in expected.classifier.state_dict().items():
        torch.testing.assert_close(model.classifier.state_dict()[name], value, atol=1e-6, rtol=0)
    random = make_model(deterministic_encoder_dir).classifier.weight
    assert not torch.allclose(model.classifier.weight, random, atol=1e-3)


def test_probe_init_needs_a_stage_that_trains_the_classifier(tmp_path):
    with pytest.raises(ValueError, match="classifier_init='probe' has no stage to start"):
        make_args(
            tmp_path,
            schedule="two_stage",
            contrastive_stage_steps=2,
            classifier_fit="logistic",
            classifier_init="probe",
        )
