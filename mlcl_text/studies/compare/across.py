"""The summary of a study across data sets: each method against reference methods, set by set.

One sweep per data set gives, per method and training-set size, the mean of a metric over
seeds on that set (:func:`~mlcl_text.studies.compare.table.compare_table`). :func:`across_sets` puts
those side by side and, for each reference method ``r`` (SetFit and TF-IDF, say), gives

    Δ_r = (1 / |S|) Σ_{s ∈ S} (mean_s(method) − mean_s(r)),     worst_r = min_{s ∈ S} (…),

over the sets ``S`` where both have a score, with the set of the worst difference, and the
ratio of the method's mean fit time to the reference's, averaged over those sets the same way.
A method is judged by its worst set as much as by its mean.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlcl_text.studies.compare.runs import CompareError, RunResult
from mlcl_text.studies.compare.table import MISSING, TRAIN_SECONDS, Cell, compare_table

ACROSS_MD = "across-sets.md"
ACROSS_CSV = "across-sets.csv"


@dataclass
class Difference:
    """A method's differences to one reference over the sets both were scored on."""

    mean: float
    worst: float
    worst_set: str
    sets: int
    time_ratio: float | None  # mean over those sets of the ratio of fit times


@dataclass
class AcrossRow:
    method: str
    shots: str
    per_set: dict[str, Cell]  # the metric's mean ± sd over seeds on every set (no runs: n = 0)
    seconds: dict[str, Cell]  # the fit time on each set (absent where no run records it)
    differences: dict[str, Difference] = field(default_factory=dict)

    @property
    def mean(self) -> float | None:
        """The mean over sets of the per-set means (``None`` unless every set has one)."""
        means = [cell.mean for cell in self.per_set.values()]
        if not means or any(m is None for m in means):
            return None
        return math.fsum(means) / len(means)

    @property
    def worst_std(self) -> float | None:
        """The largest seed spread (sample sd) over the sets."""
        spreads = [cell.std for cell in self.per_set.values() if cell.std is not None]
        return max(spreads) if spreads else None


@dataclass
class AcrossSets:
    rows: list[AcrossRow]
    sets: tuple[str, ...]
    metric: str
    split: str
    references: tuple[str, ...]


def across_sets(
    runs_by_set: Mapping[str, Sequence[RunResult]],
    metric: str = "micro_f1",
    split: str = "test",
    references: Sequence[str] = ("setfit", "tfidf"),
) -> AcrossSets:
    """Each (method, shots) scored on each set, and its differences to ``references``."""
    if not runs_by_set:
        raise CompareError("no data sets to summarise")
    sets = tuple(runs_by_set)
    tables = {
        name: compare_table(runs, metrics=(metric,), split=split)
        for name, runs in runs_by_set.items()
    }
    keys: list[tuple[str, str]] = []
    scores: dict[tuple[str, str], dict[str, Cell]] = {}
    seconds: dict[tuple[str, str], dict[str, Cell]] = {}
    for name, table in tables.items():
        for row in table.rows:
            key = (row.group["method"], row.group["shots"])
            if key not in scores:
                keys.append(key)
                scores[key], seconds[key] = {}, {}
            scores[key][name] = row.cells[metric]
            if TRAIN_SECONDS in row.cells and row.cells[TRAIN_SECONDS].mean is not None:
                seconds[key][name] = row.cells[TRAIN_SECONDS]
    missing = [r for r in references if not any(method == r for method, _ in keys)]
    if missing:
        methods = sorted({method for method, _ in keys})
        raise CompareError(
            f"reference method {missing[0]!r} has no runs; methods: {', '.join(methods)}"
        )
    rows = []
    for method, shots in keys:
        per_set = {name: scores[method, shots].get(name, Cell(None, None, 0, 0)) for name in sets}
        row = AcrossRow(method, shots, per_set, seconds[method, shots])
        for reference in references:
            if reference == method or (reference, shots) not in scores:
                continue
            difference = _difference(row, scores[reference, shots], seconds[reference, shots])
            if difference is not None:
                row.differences[reference] = difference
        rows.append(row)
    return AcrossSets(rows, sets, metric, split, tuple(references))


def _difference(
    row: AcrossRow, reference: dict[str, Cell], reference_seconds: dict[str, Cell]
) -> Difference | None:
    gaps = {
        name: cell.mean - reference[name].mean
        for name, cell in row.per_set.items()
        if cell.mean is not None and name in reference and reference[name].mean is not None
    }
    if not gaps:
        return None
    worst_set = min(gaps, key=gaps.__getitem__)
    ratios = [
        row.seconds[name].mean / reference_seconds[name].mean
        for name in gaps
        if name in row.seconds and name in reference_seconds and reference_seconds[name].mean
    ]
    return Difference(
        mean=math.fsum(gaps.values()) / len(gaps),
        worst=gaps[worst_set],
        worst_set=worst_set,
        sets=len(gaps),
        time_ratio=math.fsum(ratios) / len(ratios) if len(ratios) == len(gaps) else None,
    )


def format_across_markdown(summary: AcrossSets, scale: float = 100.0) -> str:
    """The summary as a markdown table, scores × ``scale`` (points by default)."""

    def points(value: float | None, sign: bool = False) -> str:
        return MISSING if value is None else f"{value * scale:{'+' if sign else ''}.1f}"

    def per_set(cell: Cell | None) -> str:
        if cell is None or cell.mean is None:
            return MISSING
        spread = "" if cell.std is None else f" ± {cell.std * scale:.1f}"
        return f"{cell.mean * scale:.1f}{spread} ({cell.n})"

    header = ["method", "shots", *summary.sets, "mean", "largest sd"]
    for reference in summary.references:
        header += [f"Δ {reference}", f"worst Δ {reference}", f"time / {reference}"]
    lines = [
        f"{summary.metric} on {summary.split} × {scale:g}: per set, mean ± sample sd over seeds "
        "(runs); mean: over the sets; Δ: mean over the sets of the difference of per-set means "
        "to the reference, worst: the lowest, with its set; time: mean ratio of fit times.",
        "",
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(["---", "---"] + ["---:"] * (len(header) - 2)) + " |",
    ]
    for row in summary.rows:
        values = [row.method, row.shots, *(per_set(row.per_set.get(s)) for s in summary.sets)]
        values += [points(row.mean), points(row.worst_std)]
        for reference in summary.references:
            gap = row.differences.get(reference)
            if gap is None:
                values += [MISSING] * 3
                continue
            ratio = MISSING if gap.time_ratio is None else f"{gap.time_ratio:.2f}×"
            values += [
                points(gap.mean, sign=True),
                f"{points(gap.worst, sign=True)} ({gap.worst_set})",
                ratio,
            ]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines) + "\n"


def write_across(summary: AcrossSets, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``across-sets.md`` and ``across-sets.csv`` (one row per method, shots and set,
    unscaled) into ``out_dir``; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = out_dir / ACROSS_MD
    markdown.write_text(format_across_markdown(summary), encoding="utf-8")
    table = out_dir / ACROSS_CSV
    with table.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["method", "shots", "set", "mean", "std", "runs", "train_s"])
        for row in summary.rows:
            for name, cell in row.per_set.items():
                time = row.seconds.get(name)
                writer.writerow(
                    [
                        row.method,
                        row.shots,
                        name,
                        "" if cell.mean is None else repr(cell.mean),
                        "" if cell.std is None else repr(cell.std),
                        cell.n,
                        "" if time is None else repr(time.mean),
                    ]
                )
    return markdown, table
