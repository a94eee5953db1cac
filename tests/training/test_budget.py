"""The training budget in optimizer steps (mlcl_text.training.budget): the plan's arithmetic against
the Trainer's own step count, the recipe key's checks, and a run that follows its plan."""

from __future__ import annotations

import json
import math

import pytest
import yaml

from mlcl_text.cli.main import main
from mlcl_text.training.budget import BUDGET_ARGUMENTS, BudgetError, TrainingBudget
from mlcl_text.training.recipe import RecipeError, recipe_from_dict
from tests.helpers.recipe_files import QUICK_CPU_TRAINING

BUDGET = {"epochs": 20, "min_steps": 300, "max_steps": 2000, "evaluations": 20}


@pytest.mark.parametrize(
    ("documents", "steps", "bound"),
    [
        (100, 300, "min_steps"),  # 7 steps an epoch: 140 wanted, the floor gives 300
        (400, 500, "epochs"),  # 25 steps an epoch × 20
        (5000, 2000, "max_steps"),  # 313 steps an epoch: 6,260 wanted, the ceiling gives 2,000
    ],
)
def test_plan_clamps_epochs_between_the_floor_and_the_ceiling(documents, steps, bound):
    plan = TrainingBudget.from_dict(BUDGET).plan(documents, batch_size=16)
    assert plan.steps_per_epoch == math.ceil(documents / 16)
    assert (plan.steps, plan.bound) == (steps, bound)
    assert plan.eval_steps == math.ceil(steps / 20)
    arguments = plan.training_arguments()
    assert arguments["max_steps"] == steps
    assert arguments["eval_steps"] == arguments["save_steps"] == plan.eval_steps
    assert plan.to_dict()["bound_by"] == bound


def test_plan_counts_steps_as_the_trainer_does_with_processes_and_accumulation():
    budget = TrainingBudget.from_dict({**BUDGET, "min_steps": 1, "epochs": 1})
    # 1,000 documents, 2 processes × 16: 32 batches per process, 4 accumulated → 8 steps
    assert budget.plan(1000, batch_size=16, processes=2, accumulation=4).steps_per_epoch == 8
    # fewer batches than accumulation steps still make one step an epoch
    assert budget.plan(10, batch_size=16, accumulation=4).steps_per_epoch == 1


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ({**BUDGET, "min_step": 3}, "unknown key 'min_step'"),
        ({k: v for k, v in BUDGET.items() if k != "evaluations"}, "missing key 'evaluations'"),
        ({**BUDGET, "min_steps": 0}, "min_steps must be a positive integer"),
        ({**BUDGET, "max_steps": 2.5}, "max_steps must be a positive integer"),
        ({**BUDGET, "epochs": True}, "epochs must be a positive number"),
        ({**BUDGET, "min_steps": 3000}, "min_steps (3000) is above max_steps (2000)"),
        ([20, 300], "budget must be a mapping"),
    ],
)
def test_bad_budgets_are_refused_with_the_key_named(budget, message):
    with pytest.raises(BudgetError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TrainingBudget.from_dict(budget)
    with pytest.raises(RecipeError, match=r"^recipe: budget"):
        recipe_from_dict({"model_name_or_path": "bert-base-uncased", "budget": budget})


def test_a_budget_and_an_epoch_count_in_one_recipe_are_refused():
    with pytest.raises(RecipeError, match="budget sets num_train_epochs"):
        recipe_from_dict(
            {"model_name_or_path": "bert-base-uncased", "budget": BUDGET, "num_train_epochs": 4}
        )
    with pytest.raises(RecipeError, match="budget sets eval_steps"):
        recipe_from_dict(
            {"model_name_or_path": "bert-base-uncased", "budget": BUDGET, "eval_steps": 5}
        )


def test_budget_recipe_arguments_follow_the_plan_of_the_split():
    parsed = recipe_from_dict(
        {
            "model_name_or_path": "bert-base-uncased",
            "budget": BUDGET,
            "per_device_train_batch_size": 16,
            "gradient_accumulation_steps": 2,
            "load_best_model_at_end": True,
            "early_stopping_patience": 3,
        }
    )
    plan = parsed.budget_plan(400)
    assert plan.steps_per_epoch == 12  # 25 batches, 2 accumulated
    arguments = parsed.training_arguments(plan)
    assert arguments.max_steps == 300
    assert arguments.eval_steps == arguments.save_steps == 15
    assert arguments.load_best_model_at_end and arguments.metric_for_best_model == "micro_f1"
    assert recipe_from_dict({"model_name_or_path": "x"}).budget_plan(400) is None


def test_a_run_trains_evaluates_and_records_its_budget(tmp_path, model_dir, data_dir, capsys):
    """24 training documents in batches of 8: 3 steps an epoch, 2 epochs wanted, the floor of
    8 steps decides; 4 evaluations, one every 2 steps; the plan is printed and recorded."""
    budget = {"epochs": 2, "min_steps": 8, "max_steps": 50, "evaluations": 4}
    settings = {
        **{k: v for k, v in QUICK_CPU_TRAINING.items() if k not in BUDGET_ARGUMENTS},
        "model_name_or_path": str(model_dir),
        "max_length": 24,
        "dataset": "files",
        "dataset_path": str(data_dir),
        "dataset_options": {"label_path_sep": "/"},
        "output_dir": str(tmp_path / "run"),
        "learning_rate": 1e-3,
        "budget": budget,
        "load_best_model_at_end": True,
    }
    path = tmp_path / "run.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    assert main(["train", str(path)]) == 0
    printed = capsys.readouterr().out
    assert "-> 8 steps" in printed and "set by min_steps" in printed
    history = json.loads((tmp_path / "run" / "log_history.json").read_text())
    assert [entry["step"] for entry in history if "eval_micro_f1" in entry] == [2, 4, 6, 8]
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["budget"] == {
        **budget,
        "documents": 24,
        "steps_per_epoch": 3,
        "steps": 8,
        "eval_steps": 2,
        "bound_by": "min_steps",
    }
