"""The comparison table: mean ± sample standard deviation of each metric over the runs of a group.

:func:`compare_table` groups runs (by method and shots by default) and gives, for each metric
of one split of ``metrics.json``, the mean, the sample standard deviation (``ddof=1``; none
for a single run) and the number of runs that have the metric. A metric that some runs lack
(or hold as ``null``/NaN) is left out of their group's statistics and counted as missing.
When some runs record their fit time (``metrics.json`` ``timing.train_seconds``), the table
also has a ``train_s`` column, the same statistics of that time in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mlcl_text.studies.compare.runs import CompareError, RunResult, shots_sort_key

DEFAULT_METRICS = ("micro_f1", "macro_f1", "hier_f1")
TRAIN_SECONDS = "train_s"  # the column of metrics.json timing.train_seconds
GROUP_FIELDS = ("method", "shots", "seed")
MISSING = "–"


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
