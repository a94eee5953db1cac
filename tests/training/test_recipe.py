"""Recipe parsing: keys, YAML scalars, overrides and errors that name the key."""

from __future__ import annotations

import pytest

from mlcl_text.training.recipe import RecipeError, apply_override, load_recipe, recipe_from_dict
from mlcl_text.yaml_loader import parse_yaml

RECIPE = """# model
model_name_or_path: bert-base-uncased
pooling: pooler
# data
dataset: wos
dataset_options: {variant: WOS11967}
# losses
heads:
  - {name: domain, positives: all, level: 1}
# training
output_dir: outputs/x
learning_rate: 3e-5
warmup_steps: 0.1
save_strategy: no
"""


def test_recipe_keys_are_split_into_fields_and_training_arguments(tmp_path):
    path = tmp_path / "mlcl.yaml"
    path.write_text(RECIPE, encoding="utf-8")
    recipe = load_recipe(path)
    assert recipe.pooling == "pooler" and recipe.dataset_options == {"variant": "WOS11967"}
    assert [h.name for h in recipe.head_specs()] == ["domain"]
    assert recipe.training == {
        "output_dir": "outputs/x",
        "learning_rate": 3e-5,
        "warmup_steps": 0.1,
        "save_strategy": "no",
    }
    args = recipe.training_arguments()
    assert args.learning_rate == 3e-5 and args.warmup_steps == 0.1
    assert recipe.source == str(path)


def test_yaml_1_2_scalars():
    assert parse_yaml("a: 1e-3\nb: no\nc: off\nd: true\ne: 2") == {
        "a": 1e-3,
        "b": "no",
        "c": "off",
        "d": True,
        "e": 2,
    }


def test_overrides_reach_into_mappings(tmp_path):
    path = tmp_path / "mlcl.yaml"
    path.write_text(RECIPE, encoding="utf-8")
    recipe = load_recipe(
        path, ["learning_rate=5e-5", "dataset_options.max_train=200", "heads=[]", "seed=7"]
    )
    assert recipe.training["learning_rate"] == 5e-5 and recipe.training["seed"] == 7
    assert recipe.dataset_options == {"variant": "WOS11967", "max_train": 200}
    assert recipe.heads == []
    content = {"a": 1}
    with pytest.raises(RecipeError, match="'a' in command line is not a mapping"):
        apply_override(content, "a.b=2")
    with pytest.raises(RecipeError, match="not of the form key=value"):
        apply_override(content, "learning_rate")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            {"model_name_or_path": "x", "learnin_rate": 1},
            r"unknown key 'learnin_rate' \(did you mean 'learning_rate'\?\)",
        ),
        (
            {"model_name_or_path": "x", "warmup_ratio": 0.1},
            r"'warmup_ratio' \(transformers 5: use a float warmup_steps\)",
        ),
        ({"learning_rate": 1e-5}, "model_name_or_path is required"),
        ({"model_name_or_path": "x", "pos_weight": "auto"}, "pos_weight must be one of"),
        ({"model_name_or_path": "x", "metric_labels": "codes"}, "metric_labels must be one of"),
        (
            {"model_name_or_path": "x", "heads": [{"name": "a", "positives": "most"}]},
            "positives must be one of",
        ),
        ({"model_name_or_path": "x", "schedule": "alternate"}, "schedule must be one of"),
        (
            {"model_name_or_path": "x", "learning_rate": "fast"},
            "learning_rate must be a number, got 'fast'",
        ),
        ({"model_name_or_path": "x", "bf16": "yes"}, "bf16 must be true or false, got 'yes'"),
        ({"model_name_or_path": "x", "seed": 1.5}, "seed must be an integer, got 1.5"),
        ({"model_name_or_path": "x", "max_length": "long"}, "max_length must be an integer"),
        ({"model_name_or_path": "x", "learning_rate": 0}, "learning_rate must be > 0, got 0"),
        (
            {"model_name_or_path": "x", "per_device_train_batch_size": 0},
            "per_device_train_batch_size must be >= 1, got 0",
        ),
        ({"model_name_or_path": "x", "max_length": 4}, "max_length must be >= 8"),
        ({"model_name_or_path": "x", "warmup_steps": -1}, "warmup_steps must be >= 0"),
        ({"model_name_or_path": "x", "heads": "sd"}, "heads must be a list, got 'sd'"),
        ({"model_name_or_path": "x", "adam_beta2": 1.0}, "adam_beta2 must be < 1, got 1.0"),
        ({"model_name_or_path": "x", "max_steps": -2}, "max_steps must be >= -1"),
        ({"model_name_or_path": "x", "dataset_options": [1]}, "dataset_options must be a mapping"),
        ({"model_name_or_path": "x", "subset": 5}, "subset must be a mapping, got 5"),
        ({"model_name_or_path": "x", "logging_steps": 0}, "logging_steps must be > 0"),
        ({"model_name_or_path": "x", "samples_per_label": 1}, "samples_per_label must be >= 2"),
        ({"model_name_or_path": "x", "classifier_dropout": 1.0}, "classifier_dropout must be < 1"),
        (
            {"model_name_or_path": "x", "heads": [{"name": "a", "temperature": 0}]},
            "head 'a': temperature must be > 0, got 0",
        ),
        (
            {"model_name_or_path": "x", "heads": [{"name": "a", "temperature": "hot"}]},
            "head 'a': temperature must be a number",
        ),
        ({"model_name_or_path": "./no-such-model"}, "'./no-such-model': no such folder"),
        ({"model_name_or_path": "not a hub id!"}, "neither a folder here nor a Hub id"),
        ({"model_name_or_path": None}, "model_name_or_path needs a value"),
    ],
)
def test_bad_recipes_name_the_key(content, message):
    with pytest.raises(RecipeError, match=message):
        recipe_from_dict(content, source="r.yaml")


def test_bad_files(tmp_path):
    with pytest.raises(RecipeError, match="does not exist"):
        load_recipe(tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(RecipeError, match="a recipe is a mapping"):
        load_recipe(tmp_path / "list.yaml")
    (tmp_path / "broken.yaml").write_text("a: 1\nheads: [x, y\nlr: 2\n")
    with pytest.raises(RecipeError) as error:
        load_recipe(tmp_path / "broken.yaml")
    assert str(error.value) == (
        f"{tmp_path / 'broken.yaml'}:3:3: not valid YAML: expected ',' or ']', but got "
        "':' (while parsing a flow sequence that began at line 2, column 8)"
    )


def test_a_model_folder_needs_a_config(tmp_path):
    with pytest.raises(RecipeError, match=r"a folder without config\.json"):
        recipe_from_dict({"model_name_or_path": str(tmp_path)}, source="r.yaml")
    (tmp_path / "config.json").write_text("{}")
    assert recipe_from_dict({"model_name_or_path": str(tmp_path)}).model_name_or_path
    hub = recipe_from_dict({"model_name_or_path": "sentence-transformers/all-MiniLM-L6-v2"})
    assert hub.model_name_or_path.startswith("sentence-transformers/")
