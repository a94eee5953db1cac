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
    RunFolder,
    RunFolderError,
    json_ready,
    read_json,
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


def test_run_folder_metrics_names_the_missing_or_unreadable_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere does not exist"):
        RunFolder(tmp_path / "nowhere").metrics()
    with pytest.raises(FileNotFoundError, match=r"has no metrics\.json \(did its training"):
        RunFolder(tmp_path).metrics()
    assert not RunFolder(tmp_path).is_finished
    (tmp_path / "metrics.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(RunFolderError, match=r"metrics\.json: not readable JSON"):
        RunFolder(tmp_path).metrics()
    assert not RunFolder(tmp_path).is_finished
    (tmp_path / "metrics.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(RunFolderError, match="expected a JSON object"):
        RunFolder(tmp_path).metrics()
    assert not RunFolder(tmp_path).is_finished
    write_metrics(tmp_path, {"test": {"micro_f1": 0.5}})
    assert (
        RunFolder(tmp_path).metrics() == {"test": {"micro_f1": 0.5}}
        and RunFolder(tmp_path).is_finished
    )


def test_run_folder_recipe(tmp_path):
    assert RunFolder(tmp_path).recipe() == {}
    (tmp_path / "recipe.yaml").write_text("dataset: wos\nlearning_rate: 1.0e-3\n")
    assert RunFolder(tmp_path).recipe() == {"dataset": "wos", "learning_rate": 1e-3}
    (tmp_path / "recipe.yaml").write_text("- a list\n")
    with pytest.raises(RunFolderError, match=r"recipe\.yaml: expected a mapping"):
        RunFolder(tmp_path).recipe()
    (tmp_path / "recipe.yaml").write_text("key: [unclosed\n")
    with pytest.raises(RunFolderError, match=r"recipe\.yaml: not valid YAML"):
        RunFolder(tmp_path).recipe()


def test_read_thresholds(tmp_path, small_tree):
    assert read_thresholds(tmp_path, small_tree) is None
    stored = Thresholds(0.3, np.linspace(0.2, 0.7, len(small_tree)))
    stored.save(tmp_path, labels=small_tree)
    loaded = read_thresholds(tmp_path, small_tree)
    np.testing.assert_allclose(loaded.array(len(small_tree)), stored.array(len(small_tree)))
    (tmp_path / "thresholds.json").write_text('{"per_label": {}}')
    with pytest.raises(RunFolderError, match=r"thresholds\.json: not a thresholds file"):
        read_thresholds(tmp_path, small_tree)


def test_run_folder_log_history_prefers_the_saved_history(tmp_path):
    assert RunFolder(tmp_path).log_history() is None
    checkpoint = tmp_path / "checkpoint-4"
    checkpoint.mkdir()
    write_json(checkpoint / "trainer_state.json", {"log_history": [{"loss": 1.0, "step": 4}]})
    assert RunFolder(tmp_path).log_history() == [{"loss": 1.0, "step": 4}]
    write_json(tmp_path / "log_history.json", [{"loss": float("nan"), "step": 5}])
    assert RunFolder(tmp_path).log_history() == [{"loss": None, "step": 5}]
    (tmp_path / "log_history.json").write_text("nope")
    with pytest.raises(RunFolderError, match=r"log_history\.json: not readable JSON"):
        RunFolder(tmp_path).log_history()
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


def test_run_folder_paths_checkpoints_and_model_type(tmp_path):
    run = RunFolder(str(tmp_path))
    assert run.path == tmp_path and str(run) == str(tmp_path)
    assert run.evaluation_dir("test") == tmp_path / "evaluation-test"
    assert run.split_metrics_path("validation") == tmp_path / "metrics-validation.json"
    assert run.checkpoints() == [] and run.subset_file is None
    for step in (9, 120, 30):
        (tmp_path / f"checkpoint-{step}").mkdir()
    (tmp_path / "checkpoint-7.txt").write_text("a file, not a checkpoint")
    assert [p.name for p in run.checkpoints()] == [
        "checkpoint-120",
        "checkpoint-30",
        "checkpoint-9",
    ]
    (tmp_path / "subset.json").write_text("{}")
    assert run.subset_file == tmp_path / "subset.json"
    assert not run.has_model and run.model_type() is None
    (tmp_path / "config.json").write_text('{"model_type": "mlcl"}')
    assert run.has_model and run.model_type() == "mlcl"
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(RunFolderError, match=r"config\.json: not a model config"):
        run.model_type()
    (tmp_path / "config.json").write_text("{oops")
    with pytest.raises(RunFolderError, match=r"config\.json: not readable JSON"):
        run.model_type()


def test_a_runs_recipe_reads_back_in_the_recipes_yaml_dialect(tmp_path):
    (tmp_path / "recipe.yaml").write_text("learning_rate: 1e-4\nsave_strategy: no\nbf16: true\n")
    recipe = RunFolder(tmp_path).recipe()
    assert recipe == {"learning_rate": 1e-4, "save_strategy": "no", "bf16": True}


def test_json_ready_can_stringify_what_json_cannot_hold():
    marker = object()
    assert json_ready({"a": [np.float32(0.5), float("nan")], "b": marker}, stringify=True) == {
        "a": [0.5, None],
        "b": str(marker),
    }
    assert json_ready({"b": marker})["b"] is marker
