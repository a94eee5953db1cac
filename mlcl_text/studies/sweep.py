"""Few-shot sweeps: train recipes × training-set sizes × seeds, then compare them.

A sweep spec is a YAML file::

    recipes: [recipes/wos/bce.yaml, recipes/wos/mlcl.yaml]   # or {name, path, overrides} items
    shots: [1, 5, 10, full]     # k examples per label, a fraction in (0, 1], or full
    seeds: [0, 1, 2]
    output_dir: sweeps/wos
    overrides: [max_steps=200]  # key=value, applied to every recipe
    metrics: [micro_f1, macro_f1, hier_f1]
    split: test
    baselines: [tfidf, frozen]  # or {name: NAME, method: setfit, options: {...}} items

Only ``recipes`` and ``output_dir`` are required (defaults: ``shots: [full]``,
``seeds: [0]``, no overrides, the metrics above, ``split: test``, no baselines). A relative
recipe path is read from the working directory, else from the spec's folder. A recipes item
``{name: NAME, path: PATH, overrides: [key=value, ...]}`` runs that recipe with its own
overrides (after the spec's), so one recipe file can enter a sweep under several settings.

:func:`run_sweep` trains the cells one after another: a recipe with the overrides,
``subset={method: k_per_label, k: K, seed: S}`` (``{method: fraction, ...}`` for a fraction,
none for ``full``), ``seed=S`` and ``output_dir=OUTPUT_DIR/<method>/<shots>/seed<S>``
(``<method>``: the recipe file's stem or the name given). Each baseline (a method name of
:mod:`mlcl_text.studies.baselines`, or ``{name, method, options}``) is a cell for every size
and seed too, fitted after the training cells on the first recipe's data with that cell's
overrides (the same subset and evaluation documents) into ``OUTPUT_DIR/<name>/<shots>/seed<S>``.
A cell whose folder has ``metrics.json`` is skipped, so a crashed sweep resumes. At the end
it writes ``comparison.md`` / ``comparison.csv`` (:mod:`mlcl_text.studies.compare`, with the
runs' fit times ``train_s``), ``metric_vs_shots.png`` and the spec as run (``sweep.yaml``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlcl_text.data.registry import did_you_mean
from mlcl_text.run_folder import (
    COMPARISON_PLOT,
    METRICS_FILE,
    SWEEP_FILE,
    RunFolder,
    RunFolderError,
)
from mlcl_text.studies.compare import (
    DEFAULT_METRICS,
    collect_runs,
    compare_table,
    format_markdown,
    plot_metric_vs_shots,
    shots_label,
    write_comparison,
)
from mlcl_text.training.recipe import Recipe, RecipeError, load_recipe
from mlcl_text.yaml_loader import parse_yaml, yaml_error_line

__all__ = [
    "SPEC_KEYS",
    "SweepCell",
    "SweepError",
    "SweepSpec",
    "load_sweep_spec",
    "run_sweep",
]

SPEC_KEYS = (
    "recipes",
    "shots",
    "seeds",
    "output_dir",
    "overrides",
    "metrics",
    "split",
    "baselines",
)
SPLITS = ("validation", "test", "validation@0.5", "test@0.5")
# keys each cell sets itself: overriding them would break the grid
_CELL_KEYS = ("subset", "seed", "output_dir")


class SweepError(RecipeError):
    """A sweep spec that cannot be run, or cells that failed; the message says which."""


@dataclass
class SweepCell:
    """One run of the grid: a training run, or a baseline (``baseline``: its method) fitted
    on the data of ``recipe_path``."""

    method: str
    recipe_path: Path
    shots: int | float | str
    seed: int
    output_dir: Path
    baseline: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def overrides(self) -> list[str]:
        if self.shots == "full":
            subset = "subset="
        elif isinstance(self.shots, float):
            subset = f"subset={{method: fraction, fraction: {self.shots!r}, seed: {self.seed}}}"
        else:
            subset = f"subset={{method: k_per_label, k: {self.shots}, seed: {self.seed}}}"
        return [subset, f"seed={self.seed}", f"output_dir={self.output_dir}"]

    def __str__(self) -> str:
        return f"{self.method} shots={shots_label(self.shots)} seed={self.seed}"


@dataclass
class SweepSpec:
    recipes: dict[str, Path]  # method name → recipe file
    output_dir: Path
    shots: list[int | float | str] = field(default_factory=lambda: ["full"])
    seeds: list[int] = field(default_factory=lambda: [0])
    overrides: list[str] = field(default_factory=list)
    metrics: list[str] = field(default_factory=lambda: list(DEFAULT_METRICS))
    split: str = "test"
    source: str = "sweep spec"
    # baseline name → (baseline method, its options)
    baselines: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    # method name → its own overrides, applied after the spec's
    recipe_overrides: dict[str, list[str]] = field(default_factory=dict)

    def cells(self) -> list[SweepCell]:
        """The grid, recipe-major: every size and seed of the first recipe, then the next;
        then the baselines the same way, each on the data of the first recipe."""
        first = next(iter(self.recipes.values()))
        runs = [(method, path, None, {}) for method, path in self.recipes.items()]
        runs += [(name, first, m, o) for name, (m, o) in self.baselines.items()]
        return [
            SweepCell(
                method,
                path,
                shots,
                seed,
                self.output_dir / method / shots_label(shots) / f"seed{seed}",
                baseline=baseline,
                options=dict(options),
            )
            for method, path, baseline, options in runs
            for shots in self.shots
            for seed in self.seeds
        ]

    def recipe(self, cell: SweepCell) -> Recipe:
        own = self.recipe_overrides.get(cell.method, []) if cell.baseline is None else []
        return load_recipe(cell.recipe_path, [*self.overrides, *own, *cell.overrides])

    def to_dict(self) -> dict[str, Any]:
        return {
            "recipes": [
                {"name": m, "path": str(p)}
                | ({"overrides": self.recipe_overrides[m]} if m in self.recipe_overrides else {})
                for m, p in self.recipes.items()
            ],
            "shots": list(self.shots),
            "seeds": list(self.seeds),
            "output_dir": str(self.output_dir),
            "overrides": list(self.overrides),
            "metrics": list(self.metrics),
            "split": self.split,
            "baselines": [
                {"name": name, "method": method, "options": dict(options)}
                for name, (method, options) in self.baselines.items()
            ],
        }


def load_sweep_spec(path: str | Path, overrides: Sequence[str] = ()) -> SweepSpec:
    """Read and check a sweep spec; ``overrides`` (``key=value``) go after the spec's own.

    Every recipe is loaded once with the overrides and a cell's keys, so a bad key fails here
    rather than hours into the sweep. :class:`SweepError` names the problem.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sweep spec {path} does not exist")
    try:
        content = parse_yaml(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise SweepError(yaml_error_line(path, error)) from None
    if not isinstance(content, dict):
        raise SweepError(f"{path}: a sweep spec is a mapping with keys {', '.join(SPEC_KEYS)}")
    unknown = [key for key in content if key not in SPEC_KEYS]
    if unknown:
        hints = [f"{key!r}{did_you_mean(key, SPEC_KEYS)}" for key in unknown]
        raise SweepError(
            f"{path}: unknown key(s) {', '.join(hints)}; allowed: {', '.join(SPEC_KEYS)}"
        )
    for key in ("recipes", "output_dir"):
        if content.get(key) in (None, "", []):
            raise SweepError(f"{path}: {key!r} is required")
    recipes, recipe_overrides = _recipes(content["recipes"], path)
    spec = SweepSpec(
        recipes=recipes,
        recipe_overrides=recipe_overrides,
        output_dir=Path(str(content["output_dir"])),
        shots=_shots(content.get("shots", ["full"]), path),
        seeds=_seeds(content.get("seeds", [0]), path),
        overrides=_strings(content.get("overrides") or [], "overrides", path) + list(overrides),
        metrics=_strings(content.get("metrics", list(DEFAULT_METRICS)), "metrics", path),
        split=str(content.get("split", "test")),
        source=str(path),
    )
    spec.baselines = _baselines(content.get("baselines") or [], path, spec.recipes)
    if not spec.metrics:
        raise SweepError(f"{path}: 'metrics' names no metric")
    if spec.split not in SPLITS:
        raise SweepError(f"{path}: split must be one of {', '.join(SPLITS)}, got {spec.split!r}")
    own = [o for overrides in spec.recipe_overrides.values() for o in overrides]
    for override in [*spec.overrides, *own]:
        key = override.partition("=")[0].strip()
        if "=" not in override or not key:
            raise SweepError(f"{path}: override {override!r} is not of the form key=value")
        if key.split(".")[0] in _CELL_KEYS:
            raise SweepError(
                f"{path}: override {override!r} sets {key!r}, which the sweep sets for each "
                f"cell ({', '.join(_CELL_KEYS)})"
            )
    for method, recipe_path in spec.recipes.items():
        probe = SweepCell(method, recipe_path, spec.shots[0], spec.seeds[0], spec.output_dir)
        spec.recipe(probe)  # RecipeError naming the file and key
    return spec


def _recipes(value: Any, source: Path) -> tuple[dict[str, Path], dict[str, list[str]]]:
    items = value if isinstance(value, list) else [value]
    recipes: dict[str, Path] = {}
    recipe_overrides: dict[str, list[str]] = {}
    for item in items:
        overrides: list[str] = []
        if isinstance(item, dict):
            extra = sorted(set(item) - {"name", "path", "overrides"})
            if extra or "path" not in item:
                raise SweepError(
                    f"{source}: a recipes item is a path or {{name: NAME, path: PATH, "
                    f"overrides: [key=value, ...]}}, got {item!r}"
                )
            name, given = item.get("name"), Path(str(item["path"]))
            if item.get("overrides"):
                overrides = _strings(item["overrides"], "overrides", source)
        elif isinstance(item, str) and item.strip():
            name, given = None, Path(item)
        else:
            raise SweepError(f"{source}: a recipes item is a path, got {item!r}")
        found = _find_recipe(given, source)
        name = str(name) if name is not None else found.stem
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise SweepError(f"{source}: {name!r} cannot name a method (it is a folder name)")
        if name in recipes:
            raise SweepError(
                f"{source}: two recipes are named {name!r} ({recipes[name]} and {found}); "
                "give one a name: {name: NAME, path: PATH}"
            )
        recipes[name] = found
        if overrides:
            recipe_overrides[name] = overrides
    return recipes, recipe_overrides


def _baselines(
    value: Any, source: Path, recipes: dict[str, Path]
) -> dict[str, tuple[str, dict[str, Any]]]:
    from mlcl_text.studies.baselines import BaselineError, resolve_options

    items = value if isinstance(value, list) else [value]
    baselines: dict[str, tuple[str, dict[str, Any]]] = {}
    for item in items:
        if isinstance(item, dict):
            extra = sorted(set(item) - {"name", "method", "options"})
            options = item.get("options") or {}
            if extra or "method" not in item or not isinstance(options, dict):
                raise SweepError(
                    f"{source}: a baselines item is a method name or {{name: NAME, method: "
                    f"METHOD, options: {{...}}}}, got {item!r}"
                )
            method = str(item["method"])
            name = str(item.get("name") or method)
        elif isinstance(item, str) and item.strip():
            method, name, options = item.strip(), item.strip(), {}
        else:
            raise SweepError(f"{source}: a baselines item is a method name, got {item!r}")
        try:
            resolve_options(method, options)
        except BaselineError as error:
            raise SweepError(f"{source}: {error}") from None
        if not name or "/" in name or "\\" in name or name in (".", ".."):
            raise SweepError(f"{source}: {name!r} cannot name a baseline (it is a folder name)")
        if name in recipes or name in baselines:
            raise SweepError(
                f"{source}: two methods are named {name!r}; give the baseline another name: "
                "{name: NAME, method: METHOD}"
            )
        baselines[name] = (method, dict(options))
    return baselines


def _find_recipe(given: Path, source: Path) -> Path:
    if given.is_file():
        return given
    beside = source.parent / given
    if not given.is_absolute() and beside.is_file():
        return beside
    where = "" if given.is_absolute() else f" (nor {beside})"
    raise SweepError(f"{source}: recipe file {given} does not exist{where}")


def _shots(value: Any, source: Path) -> list[int | float | str]:
    items = value if isinstance(value, list) else [value]
    shots: list[int | float | str] = []
    for item in items:
        if isinstance(item, bool):
            ok = False
        elif isinstance(item, int):
            ok = item >= 1
        elif isinstance(item, float):
            ok = 0 < item <= 1
        else:
            ok = item == "full"
        if not ok:
            raise SweepError(
                f"{source}: shots are positive integers (examples per label), fractions in "
                f"(0, 1] or 'full'; got {item!r}"
            )
        if shots_label(item) in map(shots_label, shots):
            raise SweepError(f"{source}: shots lists {item!r} twice")
        shots.append(item)
    if not shots:
        raise SweepError(f"{source}: 'shots' is empty")
    return shots


def _seeds(value: Any, source: Path) -> list[int]:
    items = value if isinstance(value, list) else [value]
    if not items or any(isinstance(s, bool) or not isinstance(s, int) for s in items):
        raise SweepError(f"{source}: seeds are a non-empty list of integers, got {value!r}")
    if len(set(items)) != len(items):
        raise SweepError(f"{source}: seeds repeat: {value!r}")
    return list(items)


def _strings(value: Any, key: str, source: Path) -> list[str]:
    items = value if isinstance(value, list) else [value]
    if any(not isinstance(item, str) or not item.strip() for item in items):
        raise SweepError(f"{source}: {key!r} is a list of strings, got {value!r}")
    return list(items)


def run_sweep(
    spec_path: str | Path,
    train: Callable[[Recipe], Any] | None = None,
    overrides: Sequence[str] = (),
    keep_going: bool = False,
    baseline: Callable[[str, Recipe, Path, dict], Any] | None = None,
) -> Path:
    """Run every unfinished cell of the spec's grid, then write the comparison and the plot.

    ``train`` runs one recipe (default :func:`mlcl_text.training.run.train_from_recipe`);
    ``baseline`` fits one baseline cell as ``baseline(method, recipe, output_dir, options)``
    (default :func:`mlcl_text.studies.baselines.run_baseline`). ``overrides`` are applied after the
    spec's own. A cell that raises stops the sweep
    (the exception propagates) unless ``keep_going``, in which case the other cells run, the
    table covers the finished ones and a :class:`SweepError` lists the failed cells at the
    end. Returns the sweep's output folder.
    """
    spec = load_sweep_spec(spec_path, overrides)
    if train is None:
        from mlcl_text.training.run import train_from_recipe

        # a cell is rerun only when unfinished: its folder holds a crashed run's files
        train = functools.partial(train_from_recipe, overwrite=True)
    if baseline is None:
        from mlcl_text.studies.baselines import run_baseline

        baseline = run_baseline
    spec.output_dir.mkdir(parents=True, exist_ok=True)
    (spec.output_dir / SWEEP_FILE).write_text(
        yaml.safe_dump(spec.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8"
    )
    cells = spec.cells()
    failed: list[tuple[SweepCell, BaseException]] = []
    for number, cell in enumerate(cells, 1):
        prefix = f"[{number}/{len(cells)}] {cell}:"
        recipe = spec.recipe(cell)
        if RunFolder(cell.output_dir).is_finished:
            changed = _changed_keys(cell.output_dir, recipe)
            note = f" (its recipe.yaml differs in {', '.join(changed)})" if changed else ""
            print(f"{prefix} skip, finished in {cell.output_dir}{note}", flush=True)
            continue
        doing = "training" if cell.baseline is None else f"fitting baseline {cell.baseline}"
        print(f"{prefix} {doing} into {cell.output_dir}", flush=True)
        try:
            if cell.baseline is None:
                train(recipe)
            else:
                baseline(cell.baseline, recipe, cell.output_dir, cell.options)
        except Exception as error:
            if not keep_going:
                raise
            failed.append((cell, error))
            print(f"{prefix} failed: {type(error).__name__}: {error}", flush=True)
            continue
        if not RunFolder(cell.output_dir).is_finished:
            raise SweepError(
                f"{cell}: {doing} returned but wrote no {cell.output_dir / METRICS_FILE}"
            )

    finished = [(c.method, c.output_dir) for c in cells if RunFolder(c.output_dir).is_finished]
    if finished:
        table = compare_table(collect_runs(finished), metrics=spec.metrics, split=spec.split)
        markdown, csv_path = write_comparison(table, spec.output_dir)
        plot = _plot(table, spec.output_dir / COMPARISON_PLOT)
        print(format_markdown(table), flush=True)
        print(f"wrote {markdown}, {csv_path}" + (f" and {plot}" if plot else ""), flush=True)
    if failed:
        listed = "; ".join(f"{cell} ({type(error).__name__}: {error})" for cell, error in failed)
        raise SweepError(
            f"{len(failed)} of {len(cells)} cells failed: {listed}. Run the sweep again to retry them"
        )
    return spec.output_dir


def _plot(table, path: Path) -> Path | None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)", flush=True)
        return None
    return plot_metric_vs_shots(table, path)


def _changed_keys(folder: Path, recipe: Recipe) -> list[str]:
    """Recipe keys whose value in the finished cell's ``recipe.yaml`` differs from now."""
    try:
        saved = RunFolder(folder).recipe()
    except RunFolderError:
        return []
    if not saved:
        return []
    now = parse_yaml(yaml.safe_dump(recipe.to_dict(), sort_keys=False))
    return sorted(k for k in set(saved) | set(now) if saved.get(k) != now.get(k))
