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
