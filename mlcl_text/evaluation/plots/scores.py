"""Figures of the scores of a split: F1 per tree level, and per-label F1 against label
frequency (head and tail labels)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from mlcl_text.evaluation.plots.figure import PALETTE, STYLE, PlotFile, number, save_figure


def plot_level_f1(
    metrics: Mapping[str, Any],
    path: str | os.PathLike,
    level_sizes: Sequence[int] | None = None,
    title: str = "F1 per tree level",
) -> PlotFile:
    """Grouped bars of ``level{d}_micro_f1`` and ``level{d}_macro_f1`` for every level ``d``
    found in ``metrics`` (:func:`mlcl_text.evaluation.metrics.evaluate_predictions` with a tree), and
    of ``micro_f1`` / ``macro_f1`` over all labels when present. ``level_sizes[d - 1]``, if
    given, is the number of labels at depth ``d`` (shown under the level)."""
    levels = sorted(
        int(match.group(1))
        for key in metrics
        if (match := re.fullmatch(r"level(\d+)_(?:micro|macro)_f1", key))
        and key.endswith("micro_f1")
    )
    if not levels:
        raise ValueError("metrics has no level{d}_micro_f1 scores: evaluate with a label tree")
    names, micro, macro = [], [], []
    for depth in levels:
        size = f"\n{level_sizes[depth - 1]} labels" if level_sizes is not None else ""
        names.append(f"level {depth}{size}")
        micro.append(number(metrics.get(f"level{depth}_micro_f1")))
        macro.append(number(metrics.get(f"level{depth}_macro_f1")))
    if "micro_f1" in metrics:
        names.append("all labels")
        micro.append(number(metrics.get("micro_f1")))
        macro.append(number(metrics.get("macro_f1")))
    with rc_context(STYLE):
        fig = Figure(figsize=(max(4.0, 1.3 * len(names) + 1.5), 3.6), layout="constrained")
        ax = fig.add_subplot()
        x = np.arange(len(names))
        width = 0.38
        for offset, values, label, colour in (
            (-width / 2, micro, "micro F1", PALETTE[0]),
            (width / 2, macro, "macro F1", PALETTE[1]),
        ):
            bars = ax.bar(x + offset, values, width, label=label, color=colour)
            ax.bar_label(bars, fmt="%.2f", padding=2, fontsize=7)
        ax.set_xticks(x, names)
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("F1")
        ax.set_title(title)
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper right", ncols=2)
        return save_figure(fig, path, title)


def plot_f1_vs_frequency(
    f1: Sequence[float] | np.ndarray,
    frequency: Sequence[float] | np.ndarray,
    path: str | os.PathLike,
    support: Sequence[int] | np.ndarray | None = None,
    depths: Sequence[int] | np.ndarray | None = None,
    frequency_label: str = "training documents with the label",
    num_bins: int = 8,
    title: str = "Per-label F1 against label frequency",
) -> PlotFile:
    """Per-label F1 (y) against the label's frequency (x, log scale), one point per label,
    plus the mean F1 of the labels in each of up to ``num_bins`` log-spaced frequency bins
    (each bin marked with its label count): head labels on the right, tail on the left.

    Labels with frequency 0 cannot sit on a log axis, and labels with ``support`` 0 (no
    positive in the evaluated split: their F1 is undefined, 0 by convention) would pull the
    means down; both are left out and counted in the subtitle. ``depths`` (the tree level
    of each label) colours the points by level.
    """
    f1 = np.asarray(f1, dtype=np.float64)
    frequency = np.asarray(frequency, dtype=np.float64)
    if f1.shape != frequency.shape or f1.ndim != 1:
        raise ValueError(f"f1 {f1.shape} and frequency {frequency.shape} must be [L] vectors")
    shown = frequency > 0
    notes = []
    if (~shown).any():
        notes.append(f"{int((~shown).sum())} with frequency 0")
    if support is not None:
        has_support = np.asarray(support) > 0
        if (shown & ~has_support).any():
            notes.append(f"{int((shown & ~has_support).sum())} without positives in the split")
        shown &= has_support
    with rc_context(STYLE):
        fig = Figure(figsize=(7.6, 4.2), layout="constrained")
        ax = fig.add_subplot()
        x, y = frequency[shown], f1[shown]
        if depths is not None:
            depth = np.asarray(depths)[shown]
            for i, level in enumerate(np.unique(depth)):
                mask = depth == level
                ax.scatter(
                    x[mask],
                    y[mask],
                    s=16,
                    alpha=0.6,
                    linewidths=0,
                    color=PALETTE[i % len(PALETTE)],
                    label=f"level {int(level)} labels ({int(mask.sum())})",
                )
        else:
            ax.scatter(x, y, s=16, alpha=0.6, linewidths=0, label=f"labels ({len(x)})")
        if len(x):
            centres, means, counts = _binned_means(x, y, num_bins)
            ax.plot(centres, means, "-o", color="black", markersize=4, label="mean F1 per bin")
            for cx, cy, n in zip(centres, means, counts, strict=True):
                ax.annotate(
                    f"n={n}", (cx, cy), textcoords="offset points", xytext=(0, 6), fontsize=7
                )
            ax.set_xscale("log")
            if x.max() < 100 * x.min():  # under two decades: also label 2× and 5×
                ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
            ax.xaxis.set_minor_formatter(NullFormatter())
        else:
            ax.text(0.5, 0.5, "no label to show", ha="center", va="center", transform=ax.transAxes)
        ax.set_ylim(-0.03, 1.08)
        ax.set_xlabel(f"{frequency_label} (log scale)")
        ax.set_ylabel("F1 on the evaluated split")
        ax.set_title(title + ("\n(not shown: " + ", ".join(notes) + ")" if notes else ""))
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        return save_figure(fig, path, title)


def _binned_means(x: np.ndarray, y: np.ndarray, num_bins: int):
    """Mean ``y`` in log-spaced bins of ``x > 0``: bin centres (geometric mean of the
    members' ``x``), means and member counts of the non-empty bins."""
    low, high = float(x.min()), float(x.max())
    if high <= low:
        return np.array([low]), np.array([y.mean()]), [len(y)]
    edges = np.geomspace(low, high, max(1, num_bins) + 1)
    which = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    centres, means, counts = [], [], []
    for b in np.unique(which):
        member = which == b
        centres.append(float(np.exp(np.log(x[member]).mean())))
        means.append(float(y[member].mean()))
        counts.append(int(member.sum()))
    return np.array(centres), np.array(means), counts
