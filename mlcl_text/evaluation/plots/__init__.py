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

One module per family of figures: :mod:`~mlcl_text.evaluation.plots.scores` (per-level F1, F1 against
label frequency), :mod:`~mlcl_text.evaluation.plots.precision_recall`, :mod:`~mlcl_text.evaluation.plots.losses`
(loss curves) and :mod:`~mlcl_text.evaluation.plots.embeddings` (2-D views); what they share (style,
palette, saving) is in :mod:`~mlcl_text.evaluation.plots.figure`.
"""

from __future__ import annotations

from mlcl_text.evaluation.plots.embeddings import (
    MULTIPLE,
    NO_LABEL,
    OTHER,
    plot_embedding_views,
    reduce_2d,
    top_level_groups,
)
from mlcl_text.evaluation.plots.figure import DPI, PlotFile
from mlcl_text.evaluation.plots.losses import is_loss_key, loss_series, plot_loss_curves
from mlcl_text.evaluation.plots.precision_recall import plot_precision_recall
from mlcl_text.evaluation.plots.scores import plot_f1_vs_frequency, plot_level_f1

__all__ = [
    "DPI",
    "MULTIPLE",
    "NO_LABEL",
    "OTHER",
    "PlotFile",
    "is_loss_key",
    "loss_series",
    "plot_embedding_views",
    "plot_f1_vs_frequency",
    "plot_level_f1",
    "plot_loss_curves",
    "plot_precision_recall",
    "reduce_2d",
    "top_level_groups",
]
