"""Compare finished training runs: mean ± standard deviation over seeds, per method and size.

Each run folder (as written by :func:`mlcl_text.training.train_from_recipe`) holds
``metrics.json`` and ``recipe.yaml``. A run is identified by

* **method**: a name given with the folder (``NAME=DIR``, or a ``(name, dir)`` pair); else,
  for a folder laid out as a sweep cell ``<method>/<shots>/seed<S>`` (see
  :mod:`mlcl_text.sweep`), the ``<method>`` folder's name; else the run folder's own name
  (``outputs/<recipe stem>`` by default);
* **shots**: the training subset's size, ``k`` of a ``k_per_label`` subset (``"5"``), the
  ``fraction`` of a ``fraction`` subset (``"0.05"``), or ``"full"`` without a subset;
* **seed**: the subset's seed, else the training ``seed``.

:func:`compare_table` groups runs (by method and shots by default) and gives, for each metric
of one split of ``metrics.json``, the mean, the sample standard deviation (``ddof=1``; none
for a single run) and the number of runs that have the metric. A metric that some runs lack
(or hold as ``null``/NaN) is left out of their group's statistics and counted as missing.
When some runs record their fit time (``metrics.json`` ``timing.train_seconds``: training
runs and the baselines of :mod:`mlcl_text.baselines` write it), the table also has a
``train_s`` column, the same statistics of that time in seconds (``–`` for runs without it,
which are not counted as missing metrics). :func:`write_comparison` writes ``comparison.md`` and ``comparison.csv``;
:func:`plot_metric_vs_shots` draws each metric against shots per method.

Example:
    >>> runs = collect_runs(["outputs/bce", "mlcl=outputs/run-7"])  # doctest: +SKIP
    >>> table = compare_table(runs, metrics=("micro_f1", "hier_f1"))  # doctest: +SKIP
    >>> print(format_markdown(table))  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcl_text.run_folder import (
    COMPARISON_CSV,
    COMPARISON_MD,
    METRICS_FILE,
    RECIPE_FILE,
    RunFolderError,
    read_metrics,
    read_recipe,
)
from mlcl_text.run_folder import COMPARISON_PLOT as PLOT_FILE

__all__ = [
    "COMPARISON_CSV",
    "COMPARISON_MD",
    "DEFAULT_METRICS",
    "GROUP_FIELDS",
    "METRICS_FILE",
    "PLOT_FILE",
    "RECIPE_FILE",
    "TRAIN_SECONDS",
    "Cell",
    "CompareError",
    "Comparison",
    "ComparisonRow",
    "RunResult",
    "collect_runs",
    "compare_table",
    "find_run_dirs",
    "format_markdown",
    "plot_metric_vs_shots",
    "shots_sort_key",
    "write_comparison",
]

DEFAULT_METRICS = ("micro_f1", "macro_f1", "hier_f1")
TRAIN_SECONDS = "train_s"  # the column of metrics.json timing.train_seconds
GROUP_FIELDS = ("method", "shots", "seed")
MISSING = "–"

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


@dataclass
class Cell:
    """Statistics of one metric over a group's runs."""

    mean: float | None
    std: float | None  # sample std (ddof=1); None for fewer than two values
    n: int  # runs that have the metric
    missing: int  # runs of the group that lack it

    def markdown(self, digits: int = 4) -> str:
        if self.mean is None:
            return MISSING
        std = MISSING if self.std is None else f"{self.std:.{digits}f}"
        text = f"{self.mean:.{digits}f} ± {std}"
        if self.missing:
            text += f" (n={self.n}; {self.missing} missing)"
        return text


@dataclass
class ComparisonRow:
    group: dict[str, str]
    runs: int
    cells: dict[str, Cell]


@dataclass
class Comparison:
    """The rows of :func:`compare_table` and how they were made; iterates over the rows."""

    rows: list[ComparisonRow]
    metrics: tuple[str, ...]
    split: str
    group_by: tuple[str, ...]
    # extra columns after the metrics: ("train_s",) when some run records its fit time; their
    # cells are in row.cells too, but they are no metric (not plotted, not counted as missing)
    timings: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        """The metrics, then the timing columns."""
        return (*self.metrics, *self.timings)

    def __iter__(self) -> Iterator[ComparisonRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> ComparisonRow:
        return self.rows[index]

    @property
    def missing(self) -> dict[str, int]:
        """Per metric, how many runs lack it (only metrics that some run lacks)."""
        counts = {m: sum(row.cells[m].missing for row in self.rows) for m in self.metrics}
        return {m: c for m, c in counts.items() if c}


# ---------------------------------------------------------------------------- runs


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
        metrics = read_metrics(folder)
        recipe = read_recipe(folder)
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


# ---------------------------------------------------------------------------- table


def compare_table(
    runs: Sequence[RunResult],
    metrics: Sequence[str] = DEFAULT_METRICS,
    split: str = "test",
    group_by: Sequence[str] = ("method", "shots"),
) -> Comparison:
    """Mean, sample std (``ddof=1``) and count of each metric over the runs of each group.

    Groups are ordered by method as the runs first name it, then by size (examples per label
    ascending, fractions, ``full`` last), then by seed.
    """
    metrics = tuple(metrics)
    group_by = tuple(group_by)
    if not runs:
        raise CompareError("no runs to compare")
    if not metrics:
        raise CompareError("no metrics to compare")
    unknown = [g for g in group_by if g not in GROUP_FIELDS]
    if unknown:
        raise CompareError(
            f"cannot group by {', '.join(map(repr, unknown))}; choose from {', '.join(GROUP_FIELDS)}"
        )
    if not any(isinstance(run.metrics.get(split), dict) for run in runs):
        available = sorted(
            {k for run in runs for k, v in run.metrics.items() if isinstance(v, dict)}
        )
        raise CompareError(
            f"no run has scores for split {split!r}; available: {', '.join(available) or 'none'}"
        )
    method_order = {}
    for run in runs:
        method_order.setdefault(run.method, len(method_order))
    groups: dict[tuple[str, ...], list[RunResult]] = {}
    for run in runs:
        key = tuple(_group_value(run, g) for g in group_by)
        groups.setdefault(key, []).append(run)

    def order(key: tuple[str, ...]):
        parts = []
        for name, value in zip(group_by, key, strict=True):
            if name == "method":
                parts.append((method_order[value], 0.0, ""))
            elif name == "shots":
                parts.append(shots_sort_key(value))
            else:
                parts.append(
                    (0, float(value), "") if value.lstrip("-").isdigit() else (1, 0, value)
                )
        return parts

    timed = any(run.train_seconds is not None for run in runs)
    rows = []
    for key in sorted(groups, key=order):
        members = groups[key]
        cells = {m: _cell([run.value(split, m) for run in members]) for m in metrics}
        if timed:
            cells[TRAIN_SECONDS] = _cell([run.train_seconds for run in members])
        rows.append(ComparisonRow(dict(zip(group_by, key, strict=True)), len(members), cells))
    return Comparison(
        rows=rows,
        metrics=metrics,
        split=split,
        group_by=group_by,
        timings=(TRAIN_SECONDS,) if timed else (),
    )


def _group_value(run: RunResult, name: str) -> str:
    value = getattr(run, name)
    return MISSING if value is None else str(value)


def _cell(values: list[float | None]) -> Cell:
    present = [v for v in values if v is not None]
    missing = len(values) - len(present)
    if not present:
        return Cell(None, None, 0, missing)
    n = len(present)
    mean = math.fsum(present) / n
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in present) / (n - 1)) if n > 1 else None
    return Cell(mean, std, n, missing)


# ---------------------------------------------------------------------------- output


def format_markdown(table: Comparison) -> str:
    """A markdown table: one row per group, ``mean ± std`` per metric, and a note on missing."""
    header = [*table.group_by, "runs", *table.columns]
    align = ["---"] * len(table.group_by) + ["---:"] * (1 + len(table.columns))
    lines = [
        f"Split: {table.split}. Mean ± sample standard deviation (ddof=1) over the runs of each "
        f"row; {MISSING} where there is no value or only one run."
        + (
            f" {TRAIN_SECONDS}: wall-clock seconds of the fit, where the run records it."
            if table.timings
            else ""
        ),
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(align) + " |",
    ]
    for row in table.rows:
        values = [
            *(row.group[g] for g in table.group_by),
            str(row.runs),
            *(row.cells[m].markdown() for m in table.metrics),
            *(row.cells[t].markdown(digits=2) for t in table.timings),
        ]
        lines.append("| " + " | ".join(v.replace("|", "\\|") for v in values) + " |")
    if table.missing:
        lines += [
            "",
            "Missing: " + ", ".join(f"{m} in {c} run(s)" for m, c in table.missing.items()) + ".",
        ]
    return "\n".join(lines) + "\n"


def write_comparison(table: Comparison, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``comparison.md`` and ``comparison.csv`` into ``out_dir``; return their paths.

    CSV columns: the group fields, ``runs``, then ``<metric>_mean``, ``<metric>_std``,
    ``<metric>_n`` and ``<metric>_missing`` per metric (an empty field for no value), and the
    same four for ``train_s`` when the table has it.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = out_dir / COMPARISON_MD
    markdown.write_text(format_markdown(table), encoding="utf-8")
    path = out_dir / COMPARISON_CSV
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                *table.group_by,
                "runs",
                *(f"{m}_{s}" for m in table.columns for s in ("mean", "std", "n", "missing")),
            ]
        )
        for row in table.rows:
            record: list[Any] = [*(row.group[g] for g in table.group_by), row.runs]
            for m in table.columns:
                cell = row.cells[m]
                record += [
                    "" if cell.mean is None else repr(cell.mean),
                    "" if cell.std is None else repr(cell.std),
                    cell.n,
                    cell.missing,
                ]
            writer.writerow(record)
    return markdown, path


def plot_metric_vs_shots(table: Comparison, path: str | Path) -> Path:
    """One PNG figure, one panel per metric: mean (± std error bars) against shots per method.

    Shots are a categorical axis in :func:`shots_sort_key` order (``full`` last). Needs a table
    grouped by ``("method", "shots")`` and matplotlib (drawn with the Agg canvas, no display).
    """
    if set(table.group_by) != {"method", "shots"}:
        raise CompareError("the plot needs a table grouped by method and shots")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    shots = sorted({row.group["shots"] for row in table.rows}, key=shots_sort_key)
    methods = list(dict.fromkeys(row.group["method"] for row in table.rows))
    position = {label: i for i, label in enumerate(shots)}
    sizes = [label for label in shots if label != "full"]
    x_label = (
        "training examples per label"
        if all(label.isdigit() for label in sizes)
        else "training set size (examples per label or fraction)"
    )
    panels = len(table.metrics)
    figure = Figure(figsize=(4.2 * panels, 3.6), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(1, panels, squeeze=False)[0]
    for ax, metric in zip(axes, table.metrics, strict=True):
        for method in methods:
            xs, ys, errs = [], [], []
            for row in table.rows:
                cell = row.cells[metric]
                if row.group["method"] != method or cell.mean is None:
                    continue
                xs.append(position[row.group["shots"]])
                ys.append(cell.mean)
                errs.append(cell.std or 0.0)
            order = sorted(range(len(xs)), key=xs.__getitem__)
            ax.errorbar(
                [xs[i] for i in order],
                [ys[i] for i in order],
                yerr=[errs[i] for i in order],
                marker="o",
                capsize=3,
                label=method,
            )
        ax.set_xticks(range(len(shots)), shots)
        ax.set_xlim(-0.5, len(shots) - 0.5)
        ax.set_xlabel(x_label)
        ax.set_title(f"{metric} ({table.split})")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize="small")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path
