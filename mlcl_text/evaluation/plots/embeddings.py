"""2-D views of the embedding and projection spaces (PCA, or seeded UMAP), points coloured
by the document's top-level label (:func:`top_level_groups`)."""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from matplotlib import rc_context
from matplotlib.figure import Figure

from mlcl_text.evaluation.plots.figure import PALETTE, STYLE, PlotFile, save_figure

MULTIPLE = "multiple"
"""Group of a document with several top-level labels in :func:`plot_embedding_views`."""
NO_LABEL = "none"
"""Group of a document without any label."""
OTHER = "other"
"""Group that collects the top-level labels beyond the palette's ``max_groups`` colours."""
_SPECIAL_COLOURS = {MULTIPLE: "#555555", OTHER: "#aaaaaa", NO_LABEL: "#d0d0d0"}


def plot_embedding_views(
    spaces: Mapping[str, Any],
    groups: Sequence[str],
    path: str | os.PathLike,
    method: str = "pca",
    seed: int = 0,
    max_groups: int = len(PALETTE),
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
    with rc_context(STYLE):
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
        return save_figure(fig, path, title or f"2-D views ({method.upper()})")


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
    kept = set(ranked[: min(max_groups, len(PALETTE))])
    shown = np.array([g if g in kept or g in special else OTHER for g in groups], dtype=object)
    present = set(shown.tolist())
    order = [g for g in (NO_LABEL, OTHER, MULTIPLE) if g in present]
    order += [g for g in ranked if g in kept]
    colours = dict(_SPECIAL_COLOURS)
    colours.update({g: PALETTE[i] for i, g in enumerate(g for g in ranked if g in kept)})
    return shown, order, colours


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
