"""Writing a comparison: its markdown table, ``comparison.md`` and ``comparison.csv``, and the
figure of each metric against training-set size per method."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from mlcl_text.run_folder import COMPARISON_CSV, COMPARISON_MD
from mlcl_text.studies.compare.runs import CompareError, shots_sort_key
from mlcl_text.studies.compare.table import MISSING, TRAIN_SECONDS, Comparison


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
