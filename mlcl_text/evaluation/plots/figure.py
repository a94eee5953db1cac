"""What every figure of :mod:`mlcl_text.evaluation.plots` shares: the style, the palette, and saving a
figure as a PNG that a :class:`PlotFile` describes.

A figure is a :class:`matplotlib.figure.Figure` rendered by the Agg canvas (no ``pyplot``, no
display, no global figure registry, whatever the session's backend). :func:`save_figure`
writes it (parent folders are created) without a ``Software`` stamp, so that the same inputs
give the same PNG bytes, reads its panels and series back from the drawn axes, and clears it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

DPI = 120
STYLE = {
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
PALETTE = [
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


def number(value: Any) -> float:
    return float("nan") if value is None else float(value)


def save_figure(fig: Figure, path: str | os.PathLike, title: str) -> PlotFile:
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
