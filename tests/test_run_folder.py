"""mlcl_text.run_folder: the run files' names, the strict JSON writer and the readers."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

import mlcl_text
from mlcl_text import run_folder
from mlcl_text.evaluation.thresholds import Thresholds, read_thresholds
from mlcl_text.run_folder import (
    RunFolderError,
    is_finished,
    json_ready,
    read_json,
    read_log_history,
    read_metrics,
    read_recipe,
    write_json,
    write_metrics,
)
from tests.helpers.strict_json import strict_loads

#: a metrics dict as scoring code makes them: NumPy scalars, undefined and infinite scores
AWKWARD = {
    "test": {
        "micro_f1": np.float32(0.25),
        "macro_auc": float("nan"),
        "p@5": np.float64("inf"),
        "support": np.int64(7),
    },
    "thresholds": {"global": np.float64(0.4), "per_label": np.bool_(False), "tuned_on": None},
    "per_label": {"a": {"f1": np.array([np.nan, 0.5])}, "b": (1, -math.inf)},
    "where": Path("runs/x"),
}


def test_write_json_is_strict_json_with_null_for_undefined_scores(tmp_path):
    path = write_metrics(tmp_path, AWKWARD)
    assert path == tmp_path / "metrics.json"
    document = strict_loads(path.read_text(encoding="utf-8"))
    assert document["test"] == {"micro_f1": 0.25, "macro_auc": None, "p@5": None, "support": 7}
    assert document["thresholds"] == {"global": 0.4, "per_label": False, "tuned_on": None}
    assert document["per_label"] == {"a": {"f1": [None, 0.5]}, "b": [1, None]}
    assert document["where"] == str(Path("runs/x"))
    assert path.read_text(encoding="utf-8").endswith("}\n")


def test_write_json_refuses_what_json_cannot_hold(tmp_path):
    with pytest.raises(TypeError):
        write_json(tmp_path / "x.json", {"model": object()})


def test_read_metrics_names_the_missing_or_unreadable_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere does not exist"):
        read_metrics(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match=r"has no metrics\.json \(did its training"):
        read_metrics(tmp_path)
    assert not is_finished(tmp_path)
    (tmp_path / "metrics.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(RunFolderError, match=r"metrics\.json: not readable JSON"):
        read_metrics(tmp_path)
    assert not is_finished(tmp_path)
    (tmp_path / "metrics.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(RunFolderError, match="expected a JSON object"):
        read_metrics(tmp_path)
    assert not is_finished(tmp_path)
    write_metrics(tmp_path, {"test": {"micro_f1": 0.5}})
    assert read_metrics(tmp_path) == {"test": {"micro_f1": 0.5}} and is_finished(tmp_path)


def test_read_recipe(tmp_path):
    assert read_recipe(tmp_path) == {}
    (tmp_path / "recipe.yaml").write_text("dataset: wos\nlearning_rate: 1.0e-3\n")
    assert read_recipe(tmp_path) == {"dataset": "wos", "learning_rate": 1e-3}
    (tmp_path / "recipe.yaml").write_text("- a list\n")
    with pytest.raises(RunFolderError, match=r"recipe\.yaml: expected a mapping"):
        read_recipe(tmp_path)
    (tmp_path / "recipe.yaml").write_text("key: [unclosed\n")
    with pytest.raises(RunFolderError, match=r"recipe\.yaml: not valid YAML"):
        read_recipe(tmp_path)


def test_read_thresholds(tmp_path, small_tree):
    assert read_thresholds(tmp_path, small_tree) is None
    stored = Thresholds(0.3, np.linspace(0.2, 0.7, len(small_tree)))
    stored.save(tmp_path, labels=small_tree)
    loaded = read_thresholds(tmp_path, small_tree)
    np.testing.assert_allclose(loaded.array(len(small_tree)), stored.array(len(small_tree)))
    (tmp_path / "thresholds.json").write_text('{"per_label": {}}')
    with pytest.raises(RunFolderError, match=r"thresholds\.json: not a thresholds file"):
        read_thresholds(tmp_path, small_tree)


def test_read_log_history_prefers_the_saved_history(tmp_path):
    assert read_log_history(tmp_path) is None
    checkpoint = tmp_path / "checkpoint-4"
    checkpoint.mkdir()
    write_json(checkpoint / "trainer_state.json", {"log_history": [{"loss": 1.0, "step": 4}]})
    assert read_log_history(tmp_path) == [{"loss": 1.0, "step": 4}]
    write_json(tmp_path / "log_history.json", [{"loss": float("nan"), "step": 5}])
    assert read_log_history(tmp_path) == [{"loss": None, "step": 5}]
    (tmp_path / "log_history.json").write_text("nope")
    with pytest.raises(RunFolderError, match=r"log_history\.json: not readable JSON"):
        read_log_history(tmp_path)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_json(tmp_path / "absent.json")


RUN_FILE_NAMES = {
    run_folder.METRICS_FILE,
    run_folder.RECIPE_FILE,
    run_folder.SUBSET_FILE,
    run_folder.THRESHOLDS_FILE,
    run_folder.REPORT_FILE,
    run_folder.LOG_HISTORY_FILE,
    run_folder.TRAINER_STATE_FILE,
    run_folder.TRAINING_ARGS_FILE,
    run_folder.COMPARISON_MD,
    run_folder.COMPARISON_CSV,
    run_folder.COMPARISON_PLOT,
    run_folder.SWEEP_FILE,
    *run_folder.PLOT_FILES.values(),
}


def test_only_run_folder_spells_the_run_files_names():
    package = Path(mlcl_text.__file__).parent
    spelled = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "run_folder.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in RUN_FILE_NAMES:
                spelled.append(f"{path.relative_to(package)}:{node.lineno} {node.value}")
    assert spelled == []


def test_a_runs_recipe_reads_back_in_the_recipes_yaml_dialect(tmp_path):
    (tmp_path / "recipe.yaml").write_text("learning_rate: 1e-4\nsave_strategy: no\nbf16: true\n")
    recipe = read_recipe(tmp_path)
    assert recipe == {"learning_rate": 1e-4, "save_strategy": "no", "bf16": True}


def test_json_ready_can_stringify_what_json_cannot_hold():
    marker = object()
    assert json_ready({"a": [np.float32(0.5), float("nan")], "b": marker}, stringify=True) == {
        "a": [0.5, None],
        "b": str(marker),
    }
    assert json_ready({"b": marker})["b"] is marker
