"""Sweep and comparison fixtures: recipe and spec files, a fake trainer, finished run folders.

``FakeTrainer`` stands in for training in ``run_sweep``: it writes the files of a finished
run whose score encodes the grid cell. ``make_run`` writes a finished run folder by hand and
``sweep_runs`` a small sweep of them, read back with ``collect_runs``.
"""

from __future__ import annotations

import json

import yaml

from mlcl_text.studies.compare import collect_runs


def write_recipe(folder, name, **extra):
    """``folder/<name>.yaml``: a minimal files recipe on the model ``tiny`` (``extra`` added)."""
    folder.mkdir(parents=True, exist_ok=True)
    recipe = {
        "model_name_or_path": "tiny",
        "dataset": "files",
        "output_dir": f"outputs/{name}",
        "report_to": "none",
        "use_cpu": True,
        **extra,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return path


def write_spec(tmp_path, name="sweep.yaml", **content):
    """``tmp_path/<name>``: a sweep spec of ``content``, keys in the given order."""
    path = tmp_path / name
    path.write_text(yaml.safe_dump(content, sort_keys=False), encoding="utf-8")
    return path


class FakeTrainer:
    """Writes recipe.yaml and a metrics.json whose score encodes the cell; can crash once."""

    def __init__(self, crash_on=()):
        self.calls = []
        self.crash_on = set(crash_on)

    def __call__(self, recipe, **_):
        subset = recipe.subset
        shots = "full" if subset is None else subset["k"]
        seed = recipe.training["seed"]
        self.calls.append((recipe.output_dir.parts[-3], shots, seed))
        recipe.output_dir.mkdir(parents=True, exist_ok=True)
        recipe.save(recipe.output_dir / "recipe.yaml")
        if (self.calls[-1][0], shots, seed) in self.crash_on:
            self.crash_on.discard((self.calls[-1][0], shots, seed))
            raise RuntimeError("CUDA out of memory (simulated)")
        base = 0.9 if shots == "full" else shots / 10
        score = base + 0.01 * seed + (0.1 if "mlcl" in str(recipe.output_dir) else 0.0)
        metrics = {"test": {"micro_f1": score}, "validation": {"micro_f1": score}}
        (recipe.output_dir / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")


def make_run(folder, test=None, subset=None, seed=42, **splits):
    """A finished run folder: metrics.json (``test`` scores plus other splits) and recipe.yaml."""
    folder.mkdir(parents=True)
    metrics = {"test": test or {}, **splits, "thresholds": {"global": 0.5, "per_label": False}}
    (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    recipe = {"model_name_or_path": "m", "subset": subset, "seed": seed, "output_dir": str(folder)}
    (folder / "recipe.yaml").write_text(yaml.safe_dump(recipe), encoding="utf-8")
    return folder


def k(shots, seed):
    """The subset settings of a ``k_per_label`` subset with ``shots`` and ``seed``."""
    return {"method": "k_per_label", "k": shots, "seed": seed}


def sweep_runs(tmp_path):
    """mlcl: shots 5 (3 seeds), full (1 seed); bce: shots 1 and 5 (2 seeds each)."""
    scores = {
        ("mlcl", 5, 0): {"micro_f1": 0.5, "macro_f1": 0.2, "hier_f1": 0.6},
        ("mlcl", 5, 1): {"micro_f1": 0.6, "macro_f1": 0.4, "hier_f1": 0.7},
        ("mlcl", 5, 2): {"micro_f1": 0.7, "macro_f1": 0.9},  # no hier_f1
        ("mlcl", "full", 0): {"micro_f1": 0.9, "macro_f1": 0.8, "hier_f1": 0.95},
        ("bce", 5, 0): {"micro_f1": 0.3, "macro_f1": 0.1, "hier_f1": None},
        ("bce", 5, 1): {"micro_f1": 0.4, "macro_f1": 0.2, "hier_f1": float("nan")},
        ("bce", 1, 0): {"micro_f1": 0.1, "macro_f1": 0.05, "hier_f1": 0.2},
        ("bce", 1, 1): {"micro_f1": 0.2, "macro_f1": 0.15, "hier_f1": 0.4},
    }
    folders = []
    for (method, shots, seed), test in scores.items():
        subset = None if shots == "full" else k(shots, seed)
        folder = tmp_path / "sweep" / method / str(shots) / f"seed{seed}"
        folders.append(make_run(folder, test, subset, seed=seed))
    return collect_runs(folders)
