"""The shipped few-shot recipe, interrupted by Ctrl-C (SIGINT) or killed (SIGKILL) and then
resumed with ``--resume``, follows the uninterrupted run's learning rate at every step and
ends at its weights. Slow (three runs of 100 steps and a subprocess); the fast version is
``tests/cli/test_run_folders.py``'s crash test."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from mlcl_text.cli.main import main
from mlcl_text.resources import recipes_dir

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _settings(model_dir: Path, data_dir: Path, output_dir: Path) -> list[str]:
    sets = [
        f"model_name_or_path={model_dir}",
        f"dataset_path={data_dir}",
        "dataset_options={label_path_sep: /}",
        "max_length=24",
        "logging_steps=1",
        "use_cpu=true",
        "disable_tqdm=true",
        f"output_dir={output_dir}",
    ]
    return [part for item in sets for part in ("--set", item)]


def _rates(run: Path) -> dict[int, float]:
    history = json.loads((run / "log_history.json").read_text())
    return {e["step"]: e["learning_rate"] for e in history if "learning_rate" in e}


def _wait_for_checkpoint(folder: Path, process: subprocess.Popen, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(folder.glob("checkpoint-*/trainer_state.json")):
            time.sleep(1.0)  # a few more steps past the checkpoint
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    raise AssertionError("no checkpoint was written")


@pytest.mark.parametrize("sent", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_an_interrupted_run_resumes_to_the_uninterrupted_schedule_and_weights(
    sent, tmp_path, model_dir, data_dir, capsys
):
    recipe = recipes_dir() / "fewshot" / "bce.yaml"
    full, cut = tmp_path / "full", tmp_path / "cut"
    assert main(["train", str(recipe), *_settings(model_dir, data_dir, full)]) == 0
    command = [sys.executable, "-m", "mlcl_text", "train", str(recipe)]
    settings = _settings(model_dir, data_dir, cut)
    process = subprocess.Popen(
        [*command, *settings], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _wait_for_checkpoint(cut, process)
    process.send_signal(sent)
    _, err = process.communicate(timeout=120)
    if sent == signal.SIGINT:
        assert process.returncode == 130
        last = err.strip().splitlines()[-1]
        assert last.startswith("mlcl-text: interrupted; continue from the last checkpoint with")
        assert last.endswith("--resume")
    assert not (cut / "model.safetensors").exists()  # it really stopped before the end
    stopped_at = max(int(p.name.split("-")[1]) for p in cut.glob("checkpoint-*"))
    capsys.readouterr()
    assert main(["train", str(recipe), *settings, "--resume"]) == 0
    expected, resumed = _rates(full), _rates(cut)  # early stopping may end both before 100
    assert resumed == expected and sorted(expected) == list(range(1, len(expected) + 1))
    assert stopped_at < len(expected)  # the resumed run did train on past the checkpoint
    weights, got = load_file(full / "model.safetensors"), load_file(cut / "model.safetensors")
    assert weights.keys() == got.keys()
    for name in weights:
        assert weights[name].equal(got[name]), name
    assert not list(cut.glob("checkpoint-*"))  # removed once the run finished
