"""``report.md``: what a training run did and how well it scored, for people to read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlcl_text.hierarchy import LabelTree

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
) -> Path:
    """Write ``output_dir/report.md``: the run's setup, data, thresholds, scores and losses."""
    lines = ["# Training report", ""]
    lines += [
        f"- Model: `{recipe.get('model_name_or_path')}` (pooling `{recipe.get('pooling')}`, "
        f"max length {recipe.get('max_length')}, segments {recipe.get('max_segments')})",
        f"- Data: `{recipe.get('dataset')}`; "
        + ", ".join(f"{split} {size:,}" for split, size in split_sizes.items())
        + " documents",
        f"- Labels: {len(tree)} on {tree.num_levels} level(s) ("
        + " / ".join(str(len(tree.level_ids(d))) for d in range(1, tree.num_levels + 1))
        + " per level)",
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
    path = Path(output_dir) / "report.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _format(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)
