"""``mlcl_text.training.arguments``: the run settings, readable without importing the trainer."""

from __future__ import annotations

import pytest

from mlcl_text.training.arguments import COMPONENTS, MLCLTrainingArguments


def test_component_learning_rates_fall_back_to_the_learning_rate(tmp_path):
    args = MLCLTrainingArguments(
        output_dir=str(tmp_path), learning_rate=1e-4, classifier_learning_rate=1e-2, use_cpu=True
    )
    rates = {component: args.component_learning_rate(component) for component in COMPONENTS}
    assert rates == {"encoder": 1e-4, "classifier": 1e-2, "heads": 1e-4}
    with pytest.raises(ValueError, match="schedule must be one of"):
        MLCLTrainingArguments(output_dir=str(tmp_path), schedule="sometimes", use_cpu=True)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"memory_size": -1}, "memory_size must be >= 0, got -1"),
        ({"contrastive_weight": -0.5}, "contrastive_weight must be >= 0, got -0.5"),
        ({"classifier_learning_rate": 0.0}, "classifier_learning_rate must be > 0, got 0.0"),
        ({"classifier_fit_c": 0.0}, "classifier_fit_c must be > 0, got 0.0"),
        ({"early_stopping_patience": -1}, "early_stopping_patience must be >= 0, got -1"),
    ],
)
def test_the_arguments_check_their_bounds(tmp_path, settings, message):
    """The bounds a recipe checks with its file and key (arguments.LOWER_BOUNDS) hold for
    arguments built in Python too."""
    with pytest.raises(ValueError, match=message):
        MLCLTrainingArguments(output_dir=str(tmp_path), use_cpu=True, **settings)
