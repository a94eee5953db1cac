"""``report.md``: what a training run did and how well it scored, for people to read.

:func:`write_report` describes a training run, :func:`write_evaluation_report` an evaluation
of one split (``mlcl-text evaluate``); both end with a *Figures* section linking the PNG
plots (:mod:`mlcl_text.evaluation.plots`) by paths relative to the report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlcl_text.hierarchy import LabelTree
from mlcl_text.run_folder import REPORT_FILE

HEADLINE_METRICS = (
    "micro_f1",
    "macro_f1",
    "samples_f1",
    "hier_f1",
    "micro_auc",
    "macro_auc",
    "p@1",
    "p@5",
    "violation_rate",
)


def write_report(
    output_dir: Path,
    recipe: dict[str, Any],
    split_sizes: dict[str, int],
    tree: LabelTree,
    metrics: dict[str, Any],
    log_history: list[dict[str, Any]],
    figures: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``output_dir/report.md``: the run's setup, data, thresholds, scores and losses,
    and, with ``figures`` (``{name: path or PlotFile}``), links to those figures."""
    lines = ["# Training report", ""]
    lines += [
        f"- Model: `{recipe.get('model_name_or_path')}` (pooling `{recipe.get('pooling')}`, "
        f"max length {recipe.get('max_length')}, segments {recipe.get('max_segments')})",
        f"- Data: `{recipe.get('dataset')}`; "
        + ", ".join(f"{split} {size:,}" for split, size in split_sizes.items())
        + " documents",
        _labels_line(tree),
    ]
    if recipe.get("subset"):
        lines.append(f"- Subset: `{recipe['subset']}` (index file `subset.json`)")
    heads = recipe.get("heads") or []
    lines.append(
        "- Contrastive heads: "
        + (
            ", ".join(
                f"{h['name']} ({h.get('positives', 'any')}"
                + (f", level {h['level']}" if h.get("level") else "")
                + f", τ {h.get('temperature', 0.1)}, weight {h.get('weight', 1.0)})"
                for h in heads
            )
            if heads
            else "none (BCE only)"
        )
    )
    thresholds = metrics.get("thresholds", {})
    if thresholds:
        kind = "per label, global fallback" if thresholds.get("per_label") else "global"
        lines.append(
            f"- Decision threshold ({kind}, tuned on validation): {thresholds['global']:.3f}"
        )
    lines += ["", "## Scores", ""]
    splits = [s for s in metrics if s != "thresholds"]
    if splits:
        shown = [m for m in HEADLINE_METRICS if any(m in metrics[s] for s in splits)]
        lines.append("| metric | " + " | ".join(splits) + " |")
        lines.append("|---|" + "---|" * len(splits))
        for name in shown:
            row = [_format(metrics[s].get(name)) for s in splits]
            lines.append(f"| {name} | " + " | ".join(row) + " |")
    else:
        lines.append("No split was evaluated.")
    train_logs = [entry for entry in log_history if "loss" in entry and "eval_loss" not in entry]
    if train_logs:
        components = sorted(
            {k for entry in train_logs for k in entry if k.startswith(("loss_cls", "loss_con/"))}
        )
        lines += ["", "## Training losses (first and last logging window)", ""]
        lines.append("| component | first | last |")
        lines.append("|---|---|---|")
        for name in ["loss", *components]:
            values = [entry[name] for entry in train_logs if name in entry]
            if values:
                lines.append(f"| {name} | {_format(values[0])} | {_format(values[-1])} |")
    lines += figures_section(output_dir, figures)
    path = Path(output_dir) / REPORT_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


EVALUATION_METRICS = (
    "micro_precision",
    "micro_recall",
    *HEADLINE_METRICS,
)


def write_evaluation_report(
    output_dir: str | os.PathLike,
    metrics: Mapping[str, Any],
    tree: LabelTree,
    *,
    split: str = "test",
    num_documents: int | None = None,
    thresholds: Mapping[str, Any] | None = None,
    per_label: Mapping[str, Any] | None = None,
    figures: Mapping[str, Any] | None = None,
    model: str | None = None,
    dataset: str | None = None,
) -> Path:
    """Write ``output_dir/report.md`` for the evaluation of one split.

    Args:
        metrics: the flat scores of :func:`mlcl_text.evaluation.metrics.evaluate_predictions`.
        thresholds: :func:`mlcl_text.evaluation.scoring.threshold_summary`'s dict.
        per_label: ``names`` and ``[L]`` arrays ``f1``, ``support``, ``frequency`` (and
            ``frequency_source``), as :func:`mlcl_text.evaluation.evaluate.evaluate_run` returns;
            adds the head/tail and lowest-F1 tables.
        figures: ``{name: path or PlotFile}``, linked relative to ``output_dir``.
    """
    lines = ["# Evaluation report", ""]
    if model:
        lines.append(f"- Model: `{model}`")
    documents = f", {num_documents:,} documents" if num_documents is not None else ""
    lines.append("- Data: " + (f"`{dataset}`, " if dataset else "") + f"split `{split}`{documents}")
    lines.append(_labels_line(tree))
    if thresholds:
        if thresholds.get("per_label"):
            lines.append(
                f"- Decision thresholds: per label (mean {thresholds['mean']:.3f}, "
                f"{thresholds['min']:.3f} to {thresholds['max']:.3f})"
            )
        else:
            lines.append(f"- Decision threshold: {thresholds['global']:.3f} for every label")

    lines += ["", "## Scores", ""]
    shown = [m for m in EVALUATION_METRICS if m in metrics]
    lines.append("| metric | as predicted | hierarchy-consistent decoding |")
    lines.append("|---|---|---|")
    for name in shown:
        lines.append(
            f"| {name} | {_format(metrics.get(name))} | "
            f"{_format(metrics.get(f'consistent_{name}'))} |"
        )

    levels = [d for d in range(1, tree.num_levels + 1) if f"level{d}_micro_f1" in metrics]
    if levels:
        lines += ["", "## Per level", ""]
        lines.append("| level | labels | micro F1 | macro F1 |")
        lines.append("|---|---|---|---|")
        for d in levels:
            lines.append(
                f"| {d} | {len(tree.level_ids(d))} | {_format(metrics[f'level{d}_micro_f1'])} "
                f"| {_format(metrics.get(f'level{d}_macro_f1'))} |"
            )
    if per_label is not None:
        lines += _label_tables(per_label)
    lines += figures_section(output_dir, figures)
    path = Path(output_dir) / REPORT_FILE
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def figures_section(output_dir: str | os.PathLike, figures: Mapping[str, Any] | None) -> list[str]:
    """Markdown lines of a *Figures* section: ``![title](relative/path.png)`` per figure
    (empty when there is none). A :class:`~mlcl_text.evaluation.plots.PlotFile` gives its title."""
    if not figures:
        return []
    lines = ["", "## Figures", ""]
    for name, figure in figures.items():
        caption = str(getattr(figure, "title", name)).replace("[", "(").replace("]", ")")
        link = Path(os.path.relpath(Path(figure), Path(output_dir))).as_posix()
        lines += [f"![{caption}]({link})", ""]
    return lines[:-1]


def _labels_line(tree: LabelTree) -> str:
    return (
        f"- Labels: {len(tree)} on {tree.num_levels} level(s) ("
        + " / ".join(str(len(tree.level_ids(d))) for d in range(1, tree.num_levels + 1))
        + " per level)"
    )


def _label_tables(per_label: Mapping[str, Any], lowest: int = 10) -> list[str]:
    """Head / torso / tail thirds of the labels by frequency (mean F1 of each), and the
    labels with the lowest F1; labels without positives in the split are left out."""
    names = list(per_label["names"])
    f1 = np.asarray(per_label["f1"], dtype=np.float64)
    support = np.asarray(per_label["support"])
    frequency = np.asarray(per_label.get("frequency", support), dtype=np.float64)
    source = "training" if per_label.get("frequency_source") == "train" else "split"
    scored = np.flatnonzero(support > 0)
    if not len(scored):
        return []
    lines = ["", f"## Head and tail labels (by {source} frequency)", ""]
    skipped = len(names) - len(scored)
    if skipped:
        lines += [f"{skipped} label(s) without positives in the split are left out.", ""]
    lines.append(f"| labels | count | {source} frequency | mean F1 |")
    lines.append("|---|---|---|---|")
    ranked = scored[np.argsort(-frequency[scored], kind="stable")]
    parts = np.array_split(ranked, min(3, len(ranked)))
    for title, part in zip(("head", "torso", "tail")[: len(parts)], parts, strict=True):
        low, high = frequency[part].min(), frequency[part].max()
        lines.append(
            f"| {title} third | {len(part)} | {low:,.0f} – {high:,.0f} | {f1[part].mean():.4f} |"
        )
    worst = scored[np.lexsort((-support[scored], f1[scored]))][:lowest]
    lines += ["", f"Lowest F1 ({len(worst)} label(s)):", ""]
    lines.append(f"| label | F1 | positives in split | {source} frequency |")
    lines.append("|---|---|---|---|")
    for j in worst:
        lines.append(f"| {names[j]} | {f1[j]:.4f} | {int(support[j]):,} | {frequency[j]:,.0f} |")
    return lines


def _format(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
