"""Loss curves of a training run: one panel per loss component of the Trainer's log."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from matplotlib import rc_context
from matplotlib.figure import Figure

from mlcl_text.evaluation.plots.figure import PALETTE, STYLE, PlotFile, save_figure


def is_loss_key(key: str) -> bool:
    """``loss``, ``loss_*`` (``loss_cls``, ``loss_con/<head>``) and their ``eval_`` forms."""
    name = key.removeprefix("eval_")
    return name == "loss" or name.startswith("loss_")


def loss_series(log_history: Sequence[Mapping[str, Any]]) -> dict[str, tuple[list, list]]:
    """Per loss key of the Trainer's ``log_history`` (:func:`is_loss_key`), its
    ``(steps, values)`` in logging order; entries without ``step`` use their position.
    Non-finite values are skipped; the final ``train_loss`` summary is not a loss key."""
    series: dict[str, tuple[list, list]] = {}
    for position, entry in enumerate(log_history):
        step = entry.get("step", position)
        for key, value in entry.items():
            if not is_loss_key(key) or not isinstance(value, int | float):
                continue
            if isinstance(value, bool) or not math.isfinite(value):
                continue
            steps, values = series.setdefault(key, ([], []))
            steps.append(step)
            values.append(float(value))
    return series


def plot_loss_curves(
    log_history: Sequence[Mapping[str, Any]],
    path: str | os.PathLike,
    title: str = "Loss components during training",
) -> PlotFile:
    """One panel per loss component (``loss``, ``loss_cls``, ``loss_con/<head>``, …) with
    its training curve (solid) and, when logged, its evaluation counterpart ``eval_<name>``
    (dashed, markers) against the training step: one line per loss key in the log. Each
    component gets its own y scale (the BCE and contrastive terms differ by orders of
    magnitude). Raises ``ValueError`` when the log holds no loss."""
    series = loss_series(log_history)
    if not series:
        raise ValueError("the log history holds no loss value")
    components = sorted(
        {key.removeprefix("eval_") for key in series},
        key=lambda name: (name != "loss", name != "loss_cls", name),
    )
    columns = min(3, len(components))
    rows = math.ceil(len(components) / columns)
    with rc_context(STYLE):
        fig = Figure(figsize=(4.0 * columns, 2.8 * rows + 0.4), layout="constrained")
        for i, name in enumerate(components):
            ax = fig.add_subplot(rows, columns, i + 1)
            for key, style, label in (
                (name, {"linestyle": "-"}, "train"),
                (f"eval_{name}", {"linestyle": "--", "marker": "o", "markersize": 3}, "eval"),
            ):
                if key in series:
                    steps, values = series[key]
                    many = len(values) > 30
                    ax.plot(
                        steps,
                        values,
                        color=PALETTE[0] if label == "train" else PALETTE[1],
                        marker=style.get("marker", None if many else "."),
                        linestyle=style["linestyle"],
                        markersize=style.get("markersize", 3),
                        label=label,
                        gid=key,
                    )
            ax.set_title(name)
            ax.set_xlabel("step")
            ax.set_ylabel("loss")
            ax.legend(loc="upper right")
        fig.suptitle(title)
        return save_figure(fig, path, title)
