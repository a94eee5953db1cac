"""PNG figures of a trained model: per-level F1, F1 by label frequency, the micro PR curve,
loss curves and 2-D views of the embedding and projection spaces.

Every function takes plain arrays, dicts and lists, draws one figure with matplotlib's
object-oriented API (a :class:`matplotlib.figure.Figure` rendered by the Agg canvas: no
``pyplot``, no display, no global figure registry, whatever the session's backend), saves it
as a PNG (parent folders are created) and returns a :class:`PlotFile` — the path plus what
the figure shows (its panels and its plotted series), read back from the drawn axes. The
figure is cleared after saving and left to the garbage collector; nothing stays open.
Drawing is deterministic: the same inputs give the same PNG bytes (a subsample, where one
is drawn, comes from a seeded generator).
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from matplotlib import rc_context
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from mlcl_text.metrics import TruePositions, as_scores, threshold_vector

DPI = 120
_STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.fontsize": 8,
    "legend.frameon": False,
}
# tab10 without its grey (index 7), which marks the "multiple" / "other" / "none" groups
_PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
    "#17becf",
]
MULTIPLE = "multiple"
"""Group of a document with several top-level labels in :func:`plot_embedding_views`."""
NO_LABEL = "none"
"""Group of a document without any label."""
OTHER = "other"
"""Group that collects the top-level labels beyond the palette's ``max_groups`` colours."""
_SPECIAL_COLOURS = {MULTIPLE: "#555555", OTHER: "#aaaaaa", NO_LABEL: "#d0d0d0"}


@dataclass(frozen=True)
class PlotFile:
    """A saved figure: ``path`` (``os.fspath(plot)`` works), its ``title``, the titles of
    its ``panels`` (axes) and the names of its plotted ``series`` (lines and point sets)."""

    path: Path
    title: str
    panels: tuple[str, ...] = ()
    series: tuple[str, ...] = ()

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)


# ------------------------------------------------------------------------------ per level
def plot_level_f1(
    metrics: Mapping[str, Any],
    path: str | os.PathLike,
    level_sizes: Sequence[int] | None = None,
    title: str = "F1 per tree level",
) -> PlotFile:
    """Grouped bars of ``level{d}_micro_f1`` and ``level{d}_macro_f1`` for every level ``d``
    found in ``metrics`` (:func:`mlcl_text.metrics.evaluate_predictions` with a tree), and
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
        micro.append(_number(metrics.get(f"level{depth}_micro_f1")))
        macro.append(_number(metrics.get(f"level{depth}_macro_f1")))
    if "micro_f1" in metrics:
        names.append("all labels")
        micro.append(_number(metrics.get("micro_f1")))
        macro.append(_number(metrics.get("macro_f1")))
    with rc_context(_STYLE):
        fig = Figure(figsize=(max(4.0, 1.3 * len(names) + 1.5), 3.6), layout="constrained")
        ax = fig.add_subplot()
        x = np.arange(len(names))
        width = 0.38
        for offset, values, label, colour in (
            (-width / 2, micro, "micro F1", _PALETTE[0]),
            (width / 2, macro, "macro F1", _PALETTE[1]),
        ):
            bars = ax.bar(x + offset, values, width, label=label, color=colour)
            ax.bar_label(bars, fmt="%.2f", padding=2, fontsize=7)
        ax.set_xticks(x, names)
        ax.set_ylim(0, 1.1)
        ax.set_ylabel("F1")
        ax.set_title(title)
        ax.grid(axis="x", visible=False)
        ax.legend(loc="upper right", ncols=2)
        return _save(fig, path, title)


# ------------------------------------------------------------------------- head and tail
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
    with rc_context(_STYLE):
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
                    color=_PALETTE[i % len(_PALETTE)],
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
        return _save(fig, path, title)


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


# ------------------------------------------------------------------------- PR curve
def plot_precision_recall(
    y_true: Any,
    y_score: Any,
    path: str | os.PathLike,
    threshold: Any = 0.5,
    max_entries: int = 20_000_000,
    seed: int = 0,
    title: str = "Micro-averaged precision-recall curve",
) -> PlotFile:
    """The precision-recall curve of all ``N × L`` (label, score) pairs pooled
    (:func:`sklearn.metrics.precision_recall_curve` on the flattened matrices), its average
    precision, iso-F1 contours, the prevalence of positives, and the operating point: the
    micro precision and recall of the decisions ``score >= threshold`` (a number, or one
    threshold per label — then the point is off the single-threshold curve).

    ``y_true`` is ``[N, L]`` 0/1 (dense or SciPy sparse). Above ``max_entries`` pairs, a
    seeded random sample of whole documents is used (said in the title).
    """
    from sklearn.metrics import average_precision_score, precision_recall_curve

    scores = as_scores(y_score)
    num_docs, num_labels = scores.shape
    truth = TruePositions.from_labels(y_true, scores.shape).to_csr()
    note = ""
    if num_docs * num_labels > max_entries:
        keep = max(1, max_entries // num_labels)
        rows = np.sort(np.random.default_rng(seed).choice(num_docs, keep, replace=False))
        scores, truth = scores[rows], truth[rows]
        note = f" ({keep:,} of {num_docs:,} documents)"
    positive = truth.toarray() > 0
    thresholds = threshold_vector(threshold, num_labels, scores.dtype)
    predicted = scores >= thresholds
    tp = int((predicted & positive).sum())
    precision_at = tp / max(int(predicted.sum()), 1)
    recall_at = tp / max(int(positive.sum()), 1)
    f1_at = 2 * precision_at * recall_at / (precision_at + recall_at) if tp else 0.0
    where = (
        f"threshold {float(thresholds[0]):.2f}"
        if np.all(thresholds == thresholds[0])
        else "per-label thresholds"
    )
    with rc_context(_STYLE):
        fig = Figure(figsize=(5.2, 4.6), layout="constrained")
        ax = fig.add_subplot()
        for level in (0.2, 0.4, 0.6, 0.8):
            r = np.linspace(level / 2 + 1e-3, 1.0, 200)
            p = level * r / (2 * r - level)
            inside = p <= 1.0
            ax.plot(r[inside], p[inside], ":", color="#bbbbbb", linewidth=0.8)
            ax.annotate(f"F1={level:.1f}", (1.0, level / (2 - level)), fontsize=6, color="#888888")
        if positive.any():
            flat_true, flat_score = positive.ravel(), scores.ravel()
            precision, recall, _ = precision_recall_curve(
                flat_true, flat_score, drop_intermediate=True
            )
            ap = average_precision_score(flat_true, flat_score)
            ax.plot(
                recall,
                precision,
                drawstyle="steps-post",
                color=_PALETTE[0],
                label=f"micro PR curve (AP {ap:.3f})",
            )
            prevalence = positive.mean()
            ax.axhline(
                prevalence,
                linestyle="--",
                color="#999999",
                linewidth=0.8,
                label=f"prevalence {prevalence:.3f}",
            )
        else:
            ax.text(0.5, 0.5, "no positive label", ha="center", va="center")
        ax.plot(
            [recall_at],
            [precision_at],
            "o",
            color=_PALETTE[3],
            markersize=7,
            label=f"operating point, {where}\n(P {precision_at:.3f}, R {recall_at:.3f}, "
            f"F1 {f1_at:.3f})",
        )
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall (micro)")
        ax.set_ylabel("precision (micro)")
        ax.set_title(title + note)
        ax.legend(loc="lower left")
        return _save(fig, path, title)


# ------------------------------------------------------------------------- loss curves
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
    with rc_context(_STYLE):
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
                        color=_PALETTE[0] if label == "train" else _PALETTE[1],
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
        return _save(fig, path, title)


# ------------------------------------------------------------------------- 2-D views
def plot_embedding_views(
    spaces: Mapping[str, Any],
    groups: Sequence[str],
    path: str | os.PathLike,
    method: str = "pca",
    seed: int = 0,
    max_groups: int = len(_PALETTE),
    title: str | None = None,
) -> PlotFile:
    """One panel per vector space (``{panel title: [N, D] array}``, e.g. the pooled
    embeddings and each projection head), each reduced to 2-D with ``method`` — ``"pca"``
    (:class:`sklearn.decomposition.PCA`, axes labelled with their explained variance) or
    ``"umap"`` (``umap-learn``, optional, seeded) — and its points coloured by ``groups``
    (one name per row, e.g. the document's top-level label, :data:`MULTIPLE` or
    :data:`NO_LABEL`). The ``max_groups`` most frequent groups get their own colour, others
    are drawn as :data:`OTHER`; the special groups are grey and drawn first (underneath).
    """
    if method not in ("pca", "umap"):
        raise ValueError(f"method must be 'pca' or 'umap', got {method!r}")
    if not spaces:
        raise ValueError("no vector space to plot")
    groups = list(groups)
    arrays = {name: np.asarray(values, dtype=np.float64) for name, values in spaces.items()}
    for name, values in arrays.items():
        if values.ndim != 2 or len(values) != len(groups):
            raise ValueError(
                f"space {name!r} has shape {values.shape}, expected [{len(groups)}, D]"
            )
    shown, order, colours = _group_colours(groups, max_groups)
    columns = min(3, len(arrays))
    rows = math.ceil(len(arrays) / columns)
    with rc_context(_STYLE):
        fig = Figure(figsize=(3.9 * columns + 1.6, 3.6 * rows + 0.4), layout="constrained")
        handles = {}
        for i, (name, values) in enumerate(arrays.items()):
            ax = fig.add_subplot(rows, columns, i + 1)
            coords, axis_labels = reduce_2d(values, method, seed)
            for group in order:
                mask = shown == group
                handles[group] = ax.scatter(
                    coords[mask, 0],
                    coords[mask, 1],
                    s=7,
                    alpha=0.7,
                    linewidths=0,
                    color=colours[group],
                    label=group,
                )
            ax.set_title(f"{name} ({values.shape[1]}-d)")
            ax.set_xlabel(axis_labels[0])
            ax.set_ylabel(axis_labels[1])
            ax.tick_params(labelbottom=False, labelleft=False)  # coordinates carry no units
        counts = Counter(shown.tolist())
        fig.legend(
            [handles[g] for g in order],
            [f"{g} ({counts[g]})" for g in order],
            loc="outside right center",
            markerscale=2.5,
            title="top-level label",
        )
        fig.suptitle(
            title or f"{method.upper()} of {len(groups):,} documents, coloured by top-level label"
        )
        return _save(fig, path, title or f"2-D views ({method.upper()})")


def reduce_2d(values: np.ndarray, method: str = "pca", seed: int = 0):
    """``[N, 2]`` coordinates of ``[N, D]`` vectors and the two axis labels."""
    num, dim = values.shape
    coords = np.zeros((num, 2))
    if method == "umap":
        import umap

        if num < 4:
            raise ValueError(f"UMAP needs at least 4 points, got {num}")
        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, num - 1), random_state=seed)
        return np.asarray(reducer.fit_transform(values)), ("UMAP 1", "UMAP 2")
    if num < 2:
        return coords, ("PC1", "PC2")
    from sklearn.decomposition import PCA

    components = min(2, dim, num)
    pca = PCA(n_components=components, svd_solver="full", random_state=seed)
    coords[:, :components] = pca.fit_transform(values)
    ratio = list(pca.explained_variance_ratio_) + [0.0] * (2 - components)
    return coords, tuple(f"PC{i + 1} ({100 * r:.0f}% of variance)" for i, r in enumerate(ratio))


def _group_colours(groups: list[str], max_groups: int):
    """Per point its shown group, the drawing order (grey groups first) and the colours."""
    special = set(_SPECIAL_COLOURS)
    counts = Counter(g for g in groups if g not in special)
    ranked = sorted(counts, key=lambda g: (-counts[g], g))
    kept = set(ranked[: min(max_groups, len(_PALETTE))])
    shown = np.array([g if g in kept or g in special else OTHER for g in groups], dtype=object)
    present = set(shown.tolist())
    order = [g for g in (NO_LABEL, OTHER, MULTIPLE) if g in present]
    order += [g for g in ranked if g in kept]
    colours = dict(_SPECIAL_COLOURS)
    colours.update({g: _PALETTE[i] for i, g in enumerate(g for g in ranked if g in kept)})
    return shown, order, colours


# ------------------------------------------------------------------------- helpers
def _number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _save(fig: Figure, path: str | os.PathLike, title: str) -> PlotFile:
    """Save ``fig`` as PNG, record its panels and series, and clear it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    panels = tuple(ax.get_title() for ax in fig.axes)
    series = tuple(
        name
        for ax in fig.axes
        for artist in (*ax.containers, *ax.get_lines(), *ax.collections)
        if (name := _series_name(artist)) is not None
    )
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    fig.clear()
    return PlotFile(path=path, title=title, panels=panels, series=series)


def _series_name(artist: Any) -> str | None:
    """A plotted series' name: its ``gid`` if set, else its label unless matplotlib's
    ``_``-prefixed default (iso-F1 contours and other unnamed lines)."""
    gid = artist.get_gid() if hasattr(artist, "get_gid") else None
    if gid:
        return str(gid)
    label = str(artist.get_label())
    return None if label.startswith("_") else label


def top_level_groups(tree: Any, y_true: Any) -> list[str]:
    """Per document, the name of its top-level label (:meth:`LabelTree.level_view` at depth
    1 of the ancestor closure), :data:`MULTIPLE` when it has several, :data:`NO_LABEL` when
    it has none. ``y_true`` is the ``[N, L]`` multi-hot matrix (dense or sparse)."""
    matrix = sp.csr_array(y_true) if sp.issparse(y_true) else np.asarray(y_true)
    top = tree.level_view(tree.closure(matrix), 1)
    top = top.toarray() if sp.issparse(top) else np.asarray(top)
    names = [tree.names[j] for j in tree.level_ids(1)]
    count = (top > 0).sum(axis=1)
    first = (top > 0).argmax(axis=1)
    return [
        NO_LABEL if c == 0 else names[f] if c == 1 else MULTIPLE
        for c, f in zip(count, first, strict=True)
    ]
