"""The micro-averaged precision-recall curve of a split, with its operating point."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

from mlcl_text.evaluation.metrics.inputs import TruePositions, as_scores, threshold_vector
from mlcl_text.evaluation.plots.figure import PALETTE, STYLE, PlotFile, save_figure


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
    scores = as_scores(y_score)
    truth = TruePositions.from_labels(y_true, scores.shape).to_csr()
    scores, truth, note = _sample_documents(scores, truth, max_entries, seed)
    positive = truth.toarray() > 0
    thresholds = threshold_vector(threshold, scores.shape[1], scores.dtype)
    with rc_context(STYLE):
        fig = Figure(figsize=(5.2, 4.6), layout="constrained")
        ax = fig.add_subplot()
        _draw_iso_f1(ax)
        _draw_curve(ax, positive, scores)
        _draw_operating_point(ax, positive, scores, thresholds)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("recall (micro)")
        ax.set_ylabel("precision (micro)")
        ax.set_title(title + note)
        ax.legend(loc="lower left")
        return save_figure(fig, path, title)


def _sample_documents(scores: np.ndarray, truth, max_entries: int, seed: int):
    """The scores and truth of a seeded sample of whole documents when there are more than
    ``max_entries`` pairs (with a note for the title), else all of them (and no note)."""
    num_docs, num_labels = scores.shape
    if num_docs * num_labels <= max_entries:
        return scores, truth, ""
    keep = max(1, max_entries // num_labels)
    rows = np.sort(np.random.default_rng(seed).choice(num_docs, keep, replace=False))
    return scores[rows], truth[rows], f" ({keep:,} of {num_docs:,} documents)"


def _draw_iso_f1(ax) -> None:
    """Dotted contours of equal F1 (0.2, 0.4, 0.6, 0.8) in the precision-recall plane."""
    for level in (0.2, 0.4, 0.6, 0.8):
        r = np.linspace(level / 2 + 1e-3, 1.0, 200)
        p = level * r / (2 * r - level)
        inside = p <= 1.0
        ax.plot(r[inside], p[inside], ":", color="#bbbbbb", linewidth=0.8)
        ax.annotate(f"F1={level:.1f}", (1.0, level / (2 - level)), fontsize=6, color="#888888")


def _draw_curve(ax, positive: np.ndarray, scores: np.ndarray) -> None:
    """The pooled PR curve with its average precision, and the prevalence of positives."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    if not positive.any():
        ax.text(0.5, 0.5, "no positive label", ha="center", va="center")
        return
    flat_true, flat_score = positive.ravel(), scores.ravel()
    precision, recall, _ = precision_recall_curve(flat_true, flat_score, drop_intermediate=True)
    ap = average_precision_score(flat_true, flat_score)
    ax.plot(
        recall,
        precision,
        drawstyle="steps-post",
        color=PALETTE[0],
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


def _draw_operating_point(
    ax, positive: np.ndarray, scores: np.ndarray, thresholds: np.ndarray
) -> None:
    """The micro precision and recall of ``scores >= thresholds``, as one marked point."""
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
    ax.plot(
        [recall_at],
        [precision_at],
        "o",
        color=PALETTE[3],
        markersize=7,
        label=f"operating point, {where}\n(P {precision_at:.3f}, R {recall_at:.3f}, "
        f"F1 {f1_at:.3f})",
    )
