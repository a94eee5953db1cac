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
