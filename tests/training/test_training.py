"""Running a recipe: seeded runs, training protocols and timing, through the CLI."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from mlcl_text.cli.main import main
from tests.helpers.recipe_files import recipe


def test_same_recipe_and_seed_give_bit_identical_weights(tmp_path, model_dir, data_dir, capsys):
    weights = []
    for name in ("first", "second"):
        assert main(["train", str(recipe(tmp_path, model_dir, data_dir, name))]) == 0
        weights.append(load_file(tmp_path / name / "model.safetensors"))
    assert weights[0].keys() == weights[1].keys()
    for key in weights[0]:
        assert weights[0][key].equal(weights[1][key]), key
    # another seed gives other weights (the test can fail)
    main(["train", str(recipe(tmp_path, model_dir, data_dir, "third", seed=8))])
    other = load_file(tmp_path / "third" / "model.safetensors")
    assert not other["classifier.weight"].equal(weights[0]["classifier.weight"])


@pytest.mark.parametrize(
    ("settings", "stages"),
    [
        ({}, {"joint"}),
        (
            {"schedule": "two_stage", "contrastive_stage_steps": 2, "contrastive_views": 2},
            {"contrastive", "classifier"},
        ),
        (
            {"schedule": "pretrain_finetune", "contrastive_stage_epochs": 1.0},
            {"contrastive", "finetune"},
        ),
        (
            {"schedule": "two_stage", "contrastive_stage_steps": 2, "classifier_fit": "logistic"},
            {"contrastive", "logistic_fit"},
        ),
        (
            {
                "contrastive_balance": "gradient",
                "classifier_learning_rate": 1e-2,
                "head_learning_rate": 1e-3,
                "classifier_fit": "logistic",
            },
            {"joint", "logistic_fit"},
        ),
    ],
)
def test_protocols_run_from_a_recipe_and_report_their_time(
    tmp_path, model_dir, data_dir, capsys, settings, stages
):
    assert main(["train", str(recipe(tmp_path, model_dir, data_dir, **settings))]) == 0
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    timing = metrics["timing"]
    assert {key.removesuffix("_seconds") for key in timing} - {"train"} == stages
    assert timing["train_seconds"] == pytest.approx(
        sum(v for k, v in timing.items() if k != "train_seconds"), abs=0.01
    )
    history = json.loads((tmp_path / "run" / "log_history.json").read_text())
    assert {entry["stage"] for entry in history} == stages - {"logistic_fit"}


def test_best_checkpoint_selection_by_validation_micro_f1(tmp_path, model_dir, data_dir, capsys):
    path = recipe(
        tmp_path,
        model_dir,
        data_dir,
        max_steps=4,
        eval_strategy="steps",
        eval_steps=2,
        save_strategy="steps",
        save_steps=2,
        load_best_model_at_end=True,
        early_stopping_patience=1,
    )
    assert main(["train", str(path)]) == 0
    history = json.loads((tmp_path / "run" / "log_history.json").read_text())
    evaluations = [entry for entry in history if "eval_micro_f1" in entry]
    assert len(evaluations) >= 1
    assert all(0 <= entry["eval_micro_f1"] <= 1 for entry in evaluations)


@pytest.mark.parametrize("name", ["bce", "contrastive"])
def test_fewshot_recipes_train_on_user_files(tmp_path, model_dir, data_dir, capsys, name):
    """recipes/fewshot/ as a user runs them (README, "Few-shot on your own data"), shortened."""
    from mlcl_text.resources import recipes_dir

    overrides = {
        "model_name_or_path": str(model_dir),
        "dataset_path": str(data_dir),
        "dataset_options": "{label_path_sep: /}",
        "output_dir": str(tmp_path / name),
        "budget": "{epochs: 2, min_steps: 4, max_steps: 100, evaluations: 2}",
        "logging_steps": 1,
        "max_length": 24,
        "use_cpu": True,
        "disable_tqdm": True,
    }
    arguments = [a for key, value in overrides.items() for a in ("--set", f"{key}={value}")]
    assert main(["train", str(recipes_dir() / "fewshot" / f"{name}.yaml"), *arguments]) == 0
    history = json.loads((tmp_path / name / "log_history.json").read_text())
    assert sum("eval_micro_f1" in entry for entry in history) == 2  # the budget's evaluations
    metrics = json.loads((tmp_path / name / "metrics.json").read_text())
    assert metrics["budget"]["steps"] == history[-1]["step"] >= 4
    assert "hier_f1" in metrics["test"]
    if name == "contrastive":
        assert any("grad_norm/con" in entry for entry in history)
