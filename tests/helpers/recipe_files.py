"""Recipe files for tests that train through the CLI: a few CPU steps, nothing saved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: Training settings of a quick CPU test run (merged under the test's own keys).
QUICK_CPU_TRAINING: dict[str, Any] = {
    "logging_steps": 1,
    "per_device_train_batch_size": 8,
    "report_to": "none",
    "save_strategy": "no",
    "use_cpu": True,
    "disable_tqdm": True,
}


def write_recipe(path: Path, **keys: Any) -> Path:
    """Write ``QUICK_CPU_TRAINING`` updated with ``keys`` as a YAML recipe to ``path``."""
    path.write_text(yaml.safe_dump({**QUICK_CPU_TRAINING, **keys}), encoding="utf-8")
    return path


def write_files_recipe(path: Path, model_dir: Path, data_dir: Path, **keys: Any) -> Path:
    """A quick CPU recipe on the ``files`` loader over the ``data_dir`` fixture's topics
    (label paths split at ``/``) with the tiny model at ``model_dir``; ``keys`` override."""
    settings = {
        "model_name_or_path": str(model_dir),
        "max_length": 24,
        "dataset": "files",
        "dataset_path": str(data_dir),
        "dataset_options": {"label_path_sep": "/"},
        "output_dir": str(path.parent / "run"),
    }
    return write_recipe(path, **{**settings, **keys})


def recipe(tmp_path, model_dir, data_dir, name="run", **extra):
    """``tmp_path/<name>.yaml``: a files recipe with one level-1 head, 3 steps at seed 7, its
    run folder ``tmp_path/<name>``; ``extra`` overrides."""
    settings = {
        "heads": [{"name": "top", "positives": "all", "level": 1, "out_dim": 8}],
        "output_dir": str(tmp_path / name),
        "max_steps": 3,
        "learning_rate": 1e-3,
        "seed": 7,
    }
    return write_files_recipe(
        tmp_path / f"{name}.yaml", model_dir, data_dir, **{**settings, **extra}
    )
