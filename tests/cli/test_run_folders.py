"""Run folders through the CLI: refused overwrites, --overwrite, and --resume after a crash."""

from __future__ import annotations

import json
import shutil

from safetensors.torch import load_file, save_file

from mlcl_text.cli.main import main
from tests.helpers.recipe_files import recipe


def _snapshot(folder) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_folder_holding_a_run_is_refused_and_left_as_it_was(
    tmp_path, model_dir, data_dir, capsys
):
    path = recipe(tmp_path, model_dir, data_dir)
    assert main(["train", str(path)]) == 0
    before = _snapshot(tmp_path / "run")
    capsys.readouterr()
    assert main(["train", str(path), "--set", "learning_rate=5e-4"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.startswith("mlcl-text: error: ") and len(error.splitlines()) == 1
    assert "already holds a run" in error and "--overwrite" in error and "--resume" in error
    assert _snapshot(tmp_path / "run") == before


def test_overwrite_replaces_the_run_and_drops_its_stale_files(tmp_path, model_dir, data_dir):
    subset = {"method": "k_per_label", "k": 2, "seed": 0}
    path = recipe(tmp_path, model_dir, data_dir, subset=subset)
    assert main(["train", str(path)]) == 0
    run = tmp_path / "run"
    (run / "metrics-validation.json").write_text("{}")  # an old evaluation of the old model
    assert (run / "subset.json").is_file()
    assert main(["train", str(path), "--set", "subset=", "--overwrite"]) == 0
    assert not (run / "subset.json").exists() and not (run / "metrics-validation.json").exists()
    assert json.loads((run / "metrics.json").read_text())["test"]["micro_f1"] >= 0


def test_resume_after_a_crash_gives_the_uninterrupted_weights(tmp_path, model_dir, data_dir):
    settings = {"max_steps": 6, "save_strategy": "steps", "save_steps": 3}
    keep = {**settings, "keep_checkpoints": True}
    assert main(["train", str(recipe(tmp_path, model_dir, data_dir, "full", **keep))]) == 0
    # what a kill -9 after step 3 leaves: the recipe, the first checkpoint, nothing else
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    shutil.copytree(tmp_path / "full" / "checkpoint-3", crashed / "checkpoint-3")
    shutil.copy(tmp_path / "full" / "recipe.yaml", crashed / "recipe.yaml")
    path = recipe(tmp_path, model_dir, data_dir, "crashed", **keep)
    assert main(["train", str(path)]) == 2  # refused without --resume
    assert main(["train", str(path), "--resume"]) == 0
    full = load_file(tmp_path / "full" / "model.safetensors")
    resumed = load_file(crashed / "model.safetensors")
    assert full.keys() == resumed.keys()
    for key in full:
        assert full[key].equal(resumed[key]), key
    # the checkpoint is really read: the same resume from an altered checkpoint ends elsewhere
    altered = tmp_path / "altered"
    altered.mkdir()
    shutil.copytree(crashed / "checkpoint-3", altered / "checkpoint-3")
    weights = load_file(altered / "checkpoint-3" / "model.safetensors")
    weights["classifier.bias"] = weights["classifier.bias"] + 1.0
    save_file(weights, altered / "checkpoint-3" / "model.safetensors", metadata={"format": "pt"})
    path = recipe(tmp_path, model_dir, data_dir, "altered", **settings)
    assert main(["train", str(path), "--resume", str(altered / "checkpoint-3")]) == 0
    moved = load_file(altered / "model.safetensors")["classifier.bias"]
    assert not moved.equal(full["classifier.bias"])


def test_resume_needs_a_checkpoint(tmp_path, model_dir, data_dir, capsys):
    path = recipe(tmp_path, model_dir, data_dir)
    assert main(["train", str(path), "--resume"]) == 2
    assert "holds no checkpoint-* folder" in capsys.readouterr().err
    assert main(["train", str(path), "--resume", str(tmp_path / "nowhere")]) == 2
    assert "is not a checkpoint folder" in capsys.readouterr().err


def test_bad_splits_fail_before_the_folder_is_touched(tmp_path, model_dir, data_dir, capsys):
    empty, single = tmp_path / "empty", tmp_path / "single"
    for folder, text in ((empty, ""), (single, '{"text": "one doc", "labels": ["CS"]}\n')):
        folder.mkdir()
        (folder / "train.jsonl").write_text(text)
    for folder, message in ((empty, "train.jsonl: no rows"), (single, "holds 1 document(s)")):
        path = recipe(tmp_path, model_dir, data_dir, f"run-{folder.name}", dataset_path=str(folder))
        assert main(["train", str(path)]) == 2
        error = capsys.readouterr().err.strip()
        assert message in error and len(error.splitlines()) == 1
        assert not (tmp_path / f"run-{folder.name}").exists()


def test_no_validation_split_is_said_and_nothing_claims_a_tuning(
    tmp_path, model_dir, data_dir, capsys, caplog
):
    few = tmp_path / "few"
    few.mkdir()
    rows = [{"text": f"text {i}", "labels": ["CS/ML" if i % 2 else "Bio"]} for i in range(2)]
    (few / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = recipe(tmp_path, model_dir, data_dir, dataset_path=str(few), max_steps=1)
    assert main(["train", str(path)]) == 0
    out = capsys.readouterr().out
    assert "decision threshold (not tuned: the default): 0.50" in out and "tuned on" not in out
    assert "no validation documents" in caplog.text
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["thresholds"]["tuned_on"] is None


def test_resume_after_a_real_kill_9(tmp_path, model_dir, data_dir):
    """A training process killed with SIGKILL after its first checkpoint, then resumed."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import torch

    settings = {"max_steps": 90, "save_strategy": "steps", "save_steps": 30, "logging_steps": 30}
    killed = recipe(tmp_path, model_dir, data_dir, "killed", **settings)
    process = subprocess.Popen(
        [sys.executable, "-m", "mlcl_text", "train", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # as many threads as this process: float sums depend on how the work is split
        env={**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())},
    )
    state = tmp_path / "killed" / "checkpoint-30" / "trainer_state.json"
    deadline = time.monotonic() + 240
    while not state.is_file() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert state.is_file() and not (tmp_path / "killed" / "metrics.json").exists()
    assert main(["train", str(killed), "--resume"]) == 0
    assert main(["train", str(recipe(tmp_path, model_dir, data_dir, "whole", **settings))]) == 0
    whole = load_file(tmp_path / "whole" / "model.safetensors")
    resumed = load_file(tmp_path / "killed" / "model.safetensors")
    for key in whole:
        assert whole[key].equal(resumed[key]), key


def test_the_demo_refuses_an_earlier_demo_run_without_suggesting_resume(tmp_path, capsys):
    earlier = tmp_path / "demo"
    earlier.mkdir()
    (earlier / "config.json").write_text("{}")
    assert main(["demo", "--output-dir", str(earlier)]) == 2
    err = capsys.readouterr().err
    assert "already holds a demo run: pass --overwrite to replace it" in err
    assert "--resume" not in err and err.count("\n") == 1
    assert sorted(p.name for p in earlier.iterdir()) == ["config.json"]


def test_a_finished_run_keeps_no_checkpoint_unless_asked(tmp_path, model_dir, data_dir):
    settings = {"max_steps": 4, "save_strategy": "steps", "save_steps": 2}
    assert main(["train", str(recipe(tmp_path, model_dir, data_dir, "clean", **settings))]) == 0
    assert not list((tmp_path / "clean").glob("checkpoint-*"))
    assert (tmp_path / "clean" / "model.safetensors").is_file()


def test_resume_refuses_a_weights_only_checkpoint_in_one_line(
    tmp_path, model_dir, data_dir, capsys
):
    settings = {"max_steps": 4, "save_strategy": "steps", "save_steps": 2}
    weights_only = {**settings, "save_only_model": True, "keep_checkpoints": True}
    path = recipe(tmp_path, model_dir, data_dir, "light", **weights_only)
    assert main(["train", str(path)]) == 0
    before = sorted(p.name for p in (tmp_path / "light").iterdir())
    capsys.readouterr()
    assert main(["train", str(path), "--resume"]) == 2
    err = capsys.readouterr().err
    assert "holds the weights only (no optimizer.pt, scheduler.pt" in err and err.count("\n") == 1
    assert sorted(p.name for p in (tmp_path / "light").iterdir()) == before


def test_ctrl_c_is_one_line_that_says_how_to_resume(tmp_path, monkeypatch, capsys):
    def interrupted(recipe, overwrite=False, resume=None):
        raise KeyboardInterrupt

    monkeypatch.setattr("mlcl_text.training.run.train_from_recipe", interrupted)
    path = tmp_path / "r.yaml"
    path.write_text("model_name_or_path: m\n")
    assert main(["train", str(path), "--set", "seed=3"]) == 130
    err = capsys.readouterr().err
    assert err == (
        f"mlcl-text: interrupted; continue from the last checkpoint with: mlcl-text train {path} "
        "--set seed=3 --resume\n"
    )
