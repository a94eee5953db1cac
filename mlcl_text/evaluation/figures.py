"""The figures of a scored split, in its ``plots/`` folder (:data:`PLOT_FILES`).

Per-level F1 bars, per-label F1 against label frequency, the micro precision-recall curve
with the operating point, the loss curves of every logged component (when a log history
with losses is given), and a PCA view of the pooled embeddings and of every projection head
coloured by top-level label — plus a UMAP view when ``umap-learn`` is importable (it is
optional). A document with several top-level labels is coloured as ``"multiple"``
(:data:`mlcl_text.evaluation.plots.MULTIPLE`), one without labels as ``"none"``. The 2-D views run the model once more on at most ``max_points`` documents (a
seeded random sample when the split is larger; :func:`sample_vectors`).

:func:`mlcl_text.evaluation.evaluate.evaluate_run` and training both draw them with
:func:`write_split_figures`.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from transformers import PreTrainedTokenizerBase

from mlcl_text.evaluation import plots
from mlcl_text.evaluation.metrics import evaluate_predictions, per_label_scores
from mlcl_text.evaluation.scoring import SplitScores
from mlcl_text.hierarchy import LabelTree
from mlcl_text.modeling.inference import embed_texts
from mlcl_text.modeling.model import MLCLModel
from mlcl_text.run_folder import PLOT_FILES, PLOTS_DIR

__all__ = [
    "POOLED",
    "sample_indices",
    "sample_vectors",
    "vector_spaces",
    "write_plots",
    "write_split_figures",
]

logger = logging.getLogger(__name__)

POOLED = "pooled embeddings"
"""Panel title of the encoder's pooled document vectors in the 2-D views."""


def write_split_figures(
    scores: SplitScores,
    output_dir: str | os.PathLike,
    tree: LabelTree,
    log_history: Sequence[Mapping[str, Any]] | None = None,
    vectors: Mapping[str, Any] | None = None,
    groups: Sequence[str] | None = None,
    *,
    umap: bool | None = None,
    seed: int = 0,
) -> dict[str, plots.PlotFile]:
    """The figures of a scored split (:func:`write_plots`) in ``output_dir/plots``."""
    return write_plots(
        Path(output_dir) / PLOTS_DIR,
        tree,
        scores.y_true,
        scores.probabilities,
        scores.threshold,
        metrics=scores.metrics,
        per_label=scores.per_label,
        log_history=log_history,
        vectors=vectors,
        groups=groups,
        umap=umap,
        seed=seed,
    )


def write_plots(
    plots_dir: str | os.PathLike,
    tree: LabelTree,
    y_true: Any,
    probabilities: np.ndarray,
    threshold: Any = 0.5,
    *,
    metrics: Mapping[str, Any] | None = None,
    per_label: Mapping[str, Any] | None = None,
    log_history: Sequence[Mapping[str, Any]] | None = None,
    vectors: Mapping[str, Any] | None = None,
    groups: Sequence[str] | None = None,
    umap: bool | None = None,
    seed: int = 0,
) -> dict[str, plots.PlotFile]:
    """The figures of :data:`PLOT_FILES` that the inputs allow, in ``plots_dir``.

    ``metrics`` and ``per_label`` are computed when not given (see :func:`evaluate_run`);
    ``vectors`` is :func:`embed_texts`'s output and ``groups`` the matching
    :func:`mlcl_text.evaluation.plots.top_level_groups` (both needed for the 2-D views).
    """
    plots_dir = Path(plots_dir)
    if metrics is None:
        metrics = evaluate_predictions(y_true, probabilities, tree=tree, threshold=threshold)
    if per_label is None:
        per_label = per_label_scores(y_true, probabilities, threshold)
    figures: dict[str, plots.PlotFile] = {}
    sizes = [len(tree.level_ids(d)) for d in range(1, tree.num_levels + 1)]
    figures["level_f1"] = plots.plot_level_f1(
        metrics, plots_dir / PLOT_FILES["level_f1"], level_sizes=sizes
    )
    from_training = per_label.get("frequency_source") == "train"
    figures["f1_vs_frequency"] = plots.plot_f1_vs_frequency(
        per_label["f1"],
        per_label.get("frequency", per_label["support"]),
        plots_dir / PLOT_FILES["f1_vs_frequency"],
        support=per_label["support"],
        depths=tree.depths,
        frequency_label="training documents with the label"
        if from_training
        else "documents with the label in the evaluated split",
    )
    figures["precision_recall"] = plots.plot_precision_recall(
        y_true, probabilities, plots_dir / PLOT_FILES["precision_recall"], threshold=threshold
    )
    if log_history and plots.loss_series(log_history):
        figures["loss_curves"] = plots.plot_loss_curves(
            log_history, plots_dir / PLOT_FILES["loss_curves"]
        )
    if vectors is not None and groups is not None and len(groups):
        figures.update(_embedding_figures(plots_dir, vector_spaces(vectors), groups, umap, seed))
    return figures


def _embedding_figures(
    plots_dir: Path, spaces: Mapping[str, Any], groups: Sequence[str], umap: bool | None, seed: int
) -> dict[str, plots.PlotFile]:
    """The PCA view, and the UMAP view when ``umap`` asks for it (``None``: when
    ``umap-learn`` is importable; a failure is then logged, not raised)."""
    figures = {
        "embeddings_pca": plots.plot_embedding_views(
            spaces, groups, plots_dir / PLOT_FILES["embeddings_pca"], method="pca", seed=seed
        )
    }
    want_umap = importlib.util.find_spec("umap") is not None if umap is None else umap
    if want_umap:
        try:
            figures["embeddings_umap"] = plots.plot_embedding_views(
                spaces, groups, plots_dir / PLOT_FILES["embeddings_umap"], method="umap", seed=seed
            )
        except Exception:
            if umap:
                raise
            logger.warning("the UMAP view failed; only the PCA view is drawn", exc_info=True)
    return figures


def sample_vectors(
    model: MLCLModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: Sequence[str],
    y_true: np.ndarray,
    tree: LabelTree,
    max_points: int = 2000,
    seed: int = 0,
    batch_size: int = 32,
    max_length: int | None = None,
) -> tuple[dict[str, Any] | None, list[str] | None]:
    """``(vectors, groups)`` of the 2-D views: :func:`embed_texts` of at most ``max_points``
    documents (:func:`sample_indices`) and their top-level groups; ``(None, None)`` for 0."""
    if max_points <= 0:
        return None, None
    chosen = sample_indices(len(texts), max_points, seed)
    vectors = embed_texts(model, tokenizer, [texts[i] for i in chosen], batch_size, max_length)
    return vectors, plots.top_level_groups(tree, y_true[chosen])


def sample_indices(num: int, max_points: int, seed: int = 0) -> np.ndarray:
    """All of ``range(num)``, or a sorted seeded random sample of ``max_points`` of them."""
    if num <= max_points:
        return np.arange(num)
    return np.sort(np.random.default_rng(seed).choice(num, max_points, replace=False))


def vector_spaces(vectors: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Panels of the 2-D views from :func:`embed_texts`'s output: :data:`POOLED` first,
    then ``head <name>`` for every projection head."""
    spaces = {POOLED: np.asarray(vectors["embeddings"])}
    for name, values in vectors.get("projections", {}).items():
        spaces[f"head {name}"] = np.asarray(values)
    return spaces
