"""Reading finished runs for a comparison: each run folder's method, shots, seed and scores.

A run is identified by

* **method**: a name given with the folder (``NAME=DIR``, or a ``(name, dir)`` pair); else,
  for a folder laid out as a sweep cell ``<method>/<shots>/seed<S>`` (see
  :mod:`mlcl_text.studies.sweep`), the ``<method>`` folder's name; else the run folder's own name
  (``outputs/<recipe stem>`` by default);
* **shots**: the training subset's size, ``k`` of a ``k_per_label`` subset (``"5"``), the
  ``fraction`` of a ``fraction`` subset (``"0.05"``), or ``"full"`` without a subset;
* **seed**: the subset's seed, else the training ``seed``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcl_text.run_folder import METRICS_FILE, RunFolder, RunFolderError

_SEED_DIR = re.compile(r"seed-?\d+")
_SHOTS_DIR = re.compile(r"full|\d+|\d*\.\d+")


class CompareError(ValueError):
    """Run folders or a table request that cannot be compared; the message says which."""


@dataclass
class RunResult:
    """One finished run: where it is, what it is, and its ``metrics.json``."""

    run_dir: Path
    method: str
    shots: str
    seed: int | None
    metrics: dict[str, Any]
    recipe: dict[str, Any] = field(default_factory=dict)

    def value(self, split: str, metric: str) -> float | None:
        """The metric's score on ``split``, or ``None`` when absent, null or not finite."""
        scores = self.metrics.get(split)
        if not isinstance(scores, dict):
            return None
        value = scores.get(metric)
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        value = float(value)
        return value if math.isfinite(value) else None

    @property
    def train_seconds(self) -> float | None:
        """``timing.train_seconds`` of ``metrics.json`` (the fit's wall time), else ``None``."""
        timing = self.metrics.get("timing")
        value = timing.get("train_seconds") if isinstance(timing, dict) else None
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        return float(value) if math.isfinite(value) else None


def collect_runs(run_dirs: Iterable[str | Path | tuple[str, str | Path]]) -> list[RunResult]:
    """Read the runs of ``run_dirs``: each a folder, a ``"NAME=DIR"`` string or a
    ``(name, folder)`` pair (the name becomes the run's method).

    ``FileNotFoundError`` naming a folder that does not exist or has no ``metrics.json``;
    :class:`CompareError` for an unreadable ``metrics.json`` or ``recipe.yaml``.
    """
    runs = []
    for item in run_dirs:
        name, folder = _split_name(item)
        runs.append(_read_run(folder, name))
    if not runs:
        raise CompareError("no run folders to compare")
    return runs


def find_run_dirs(
    items: Iterable[str | Path | tuple[str, str | Path]],
) -> list[Path | tuple[str, Path]]:
    """Each item that is a run folder (has ``metrics.json``), or else every run folder below it
    (a sweep's output, say), for :func:`collect_runs`. A name given (``NAME=DIR`` or a pair)
    applies to every run found below its folder. What lies inside a run folder (its
    ``evaluation-<split>`` folders, which hold a ``metrics.json`` too) is part of that run.

    A folder that is neither (a crashed run, a typo) is a ``FileNotFoundError`` naming it.
    """
    found: list[Path | tuple[str, Path]] = []
    for item in items:
        name, path = _split_name(item)
        if (path / METRICS_FILE).is_file():
            below = [path]
        elif not path.is_dir():
            raise FileNotFoundError(f"run folder {path} does not exist")
        else:
            below = _outermost(p.parent for p in path.rglob(METRICS_FILE))
            if not below:
                raise FileNotFoundError(
                    f"{path} has no {METRICS_FILE} and no run folder below it "
                    "(did training finish?)"
                )
        found.extend(below if name is None else [(name, folder) for folder in below])
    return found


def _outermost(folders: Iterable[Path]) -> list[Path]:
    """The folders, sorted, without those inside another of them."""
    kept: list[Path] = []
    for folder in sorted(folders):  # a folder sorts before the folders inside it
        if not any(outer in folder.parents for outer in kept):
            kept.append(folder)
    return kept


def _split_name(item: str | Path | tuple[str, str | Path]) -> tuple[str | None, Path]:
    if isinstance(item, tuple):
        name, folder = item
        return str(name), Path(folder)
    if isinstance(item, str) and "=" in item and not Path(item).exists():
        name, _, folder = item.partition("=")
        if name.strip() and folder.strip():
            return name.strip(), Path(folder.strip())
    return None, Path(item)


def _read_run(folder: Path, name: str | None) -> RunResult:
    try:
        run = RunFolder(folder)
        metrics = run.metrics()
        recipe = run.recipe()
    except RunFolderError as error:
        raise CompareError(str(error)) from None
    shots, seed = _shots_and_seed(recipe)
    return RunResult(
        run_dir=folder,
        method=name or _method_from_path(folder),
        shots=shots,
        seed=seed,
        metrics=metrics,
        recipe=recipe,
    )


def _method_from_path(folder: Path) -> str:
    """``<method>`` of a sweep cell ``<method>/<shots>/seed<S>``, else the folder's name."""
    folder = folder.resolve()
    parts = folder.parts
    if (
        len(parts) >= 4
        and _SEED_DIR.fullmatch(parts[-1])
        and _SHOTS_DIR.fullmatch(parts[-2])
        and parts[-3]
    ):
        return parts[-3]
    return folder.name


def _shots_and_seed(recipe: dict[str, Any]) -> tuple[str, int | None]:
    subset = recipe.get("subset")
    seed = recipe.get("seed")
    if isinstance(subset, dict):
        if "seed" in subset:
            seed = subset["seed"]
        if subset.get("method") == "fraction" and "fraction" in subset:
            shots = shots_label(float(subset["fraction"]))
        elif "k" in subset:
            shots = shots_label(int(subset["k"]))
        else:
            shots = str(subset.get("method", "subset"))
    else:
        shots = "full"
    return shots, (int(seed) if isinstance(seed, int) and not isinstance(seed, bool) else None)


def shots_label(shots: int | float | str) -> str:
    """``5`` → ``"5"`` (examples per label), ``0.05`` → ``"0.05"`` (a fraction), ``"full"``."""
    if isinstance(shots, bool):
        raise CompareError(f"not a training-set size: {shots!r}")
    if isinstance(shots, int):
        return str(shots)
    if isinstance(shots, float):
        return repr(shots)
    return str(shots)


def shots_sort_key(label: str) -> tuple[int, float, str]:
    """Order sizes as: examples per label ascending, fractions ascending, others, ``full``."""
    if label == "full":
        return (3, 0.0, "")
    if re.fullmatch(r"\d+", label):
        return (0, float(label), "")
    try:
        return (1, float(label), "")
    except ValueError:
        return (2, 0.0, label)
