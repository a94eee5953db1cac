"""Evaluate a trained model on one split: scores, per-label F1, figures and a report.

:func:`evaluate_run` is what ``mlcl-text evaluate`` runs. Given a model, its tokenizer and a
split with ``text`` and ``labels`` (lists of label names) columns, it writes into
``output_dir``:

* ``metrics.json`` (:func:`metrics_document`; the run folder's schema of
  :mod:`mlcl_text.run_folder`): ``{"<split>", "split", "num_documents", "thresholds",
  "frequency_source", "per_label"}`` — ``<split>`` (the split's name) is the flat dict
  of :func:`mlcl_text.evaluation.metrics.evaluate_predictions` at the given thresholds, ``per_label`` maps each label name to its ``f1``, ``precision``,
  ``recall``, ``support`` (positives in the split), ``predicted``, ``threshold`` and
  ``frequency`` (training count, or the support when no training counts are given).
  Undefined scores (``NaN``) are written as ``null``, so the file is strict JSON.
* ``plots/`` (:mod:`mlcl_text.evaluation.figures`, :data:`PLOT_FILES`): per-level F1, F1 against
  label frequency, the micro precision-recall curve, the loss curves when a log history is
  given, and 2-D views of the embedding spaces of at most ``max_points`` documents.
* ``report.md`` (:func:`mlcl_text.evaluation.report.write_evaluation_report`): headline scores as a
  table, per-level scores, head versus tail labels and links to every figure.

:func:`evaluate_run` is :func:`mlcl_text.evaluation.scoring.score_split` (the scores), then
:func:`mlcl_text.evaluation.figures.write_split_figures` and :func:`write_split_summary` (the
files); training calls the same pieces on the probabilities it has, for the figures of its
own report. Its settings are an :class:`EvaluationOptions`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from transformers import PreTrainedTokenizerBase

from mlcl_text.evaluation.figures import (
    sample_vectors,
    write_split_figures,
)
from mlcl_text.evaluation.report import write_evaluation_report
from mlcl_text.evaluation.scoring import SplitScores, score_split
from mlcl_text.hierarchy import LabelTree
from mlcl_text.modeling.inference import predict_probabilities
from mlcl_text.modeling.model import MLCLModel
from mlcl_text.run_folder import (
    METRICS_FILE,
    REPORT_FILE,
    write_json,
)

__all__ = [
    "EvaluationOptions",
    "evaluate_run",
    "format_summary",
    "metrics_document",
    "split_metrics_document",
    "split_result",
    "write_split_summary",
]


@dataclass(frozen=True)
class EvaluationOptions:
    """How :func:`evaluate_run` runs the model and what it writes; every field has a default.

    Attributes:
        batch_size, max_length: for running the model (``max_length``: ``None``, the default,
            is the length the model was trained with, its ``config.max_length``).
        max_points: documents embedded for the 2-D views (0: no 2-D view).
        split_name: the split's name, for the files and the report.
        umap: also draw the UMAP view — ``None``: when ``umap-learn`` is importable (a
            failure is logged, not raised), ``True``: required, ``False``: never.
        seed: for the sample of documents embedded and for UMAP.
        progress: show a progress bar while predicting.
        write_summary: write ``metrics.json`` and ``report.md`` (``False``: figures only).
        model_name, dataset_name: shown in the report.
        scored_labels: the labels the flat scores cover (``evaluate_predictions``'s
            argument; :func:`mlcl_text.evaluation.metrics.scored_label_ids` of a recipe's
            ``metric_labels``); ``None``: every label.
    """

    batch_size: int = 32
    max_length: int | None = None
    max_points: int = 2000
    split_name: str = "test"
    umap: bool | None = None
    seed: int = 0
    progress: bool = False
    write_summary: bool = True
    model_name: str | None = None
    dataset_name: str | None = None
    scored_labels: Any = None


def evaluate_run(
    model: MLCLModel,
    tokenizer: PreTrainedTokenizerBase,
    dataset_split: Any,
    tree: LabelTree,
    output_dir: str | os.PathLike,
    thresholds: Any = None,
    log_history: Sequence[Mapping[str, Any]] | None = None,
    train_label_counts: Sequence[int] | np.ndarray | Mapping[str, int] | None = None,
    *,
    probabilities: np.ndarray | None = None,
    metrics: dict[str, Any] | None = None,
    options: EvaluationOptions | None = None,
) -> dict[str, Any]:
    """Score ``model`` on ``dataset_split`` and write metrics, figures and a report.

    Args:
        model, tokenizer: the trained model and its tokenizer.
        dataset_split: a ``datasets.Dataset`` (or a mapping) with ``text`` and ``labels``
            (lists of label names of ``tree``) columns.
        tree: the label tree; must equal the model's.
        output_dir: where ``metrics.json``, ``report.md`` and ``plots/`` go (created).
        thresholds: ``None`` (0.5), a number, a ``[L]`` vector or a
            :class:`~mlcl_text.evaluation.thresholds.Thresholds`.
        log_history: the Trainer's ``state.log_history`` (see :meth:`mlcl_text.run_folder.RunFolder.log_history`)
            for the loss curves; without it (or without losses in it) there is no such plot.
        train_label_counts: training documents per label (``[L]`` in tree order, or
            ``{name: count}``) for the F1-against-frequency plot; ``None`` uses the
            label's support in this split.
        probabilities: ``[N, L]`` probabilities already computed (training has them); the
            model then only runs for the 2-D views.
        metrics: ``evaluate_predictions`` of ``probabilities`` at ``thresholds`` when the
            caller has them already (they are not recomputed).
        options: the :class:`EvaluationOptions` (its defaults when ``None``).

    Returns:
        A dict: ``split``, ``num_documents``, ``metrics`` (flat scores), ``per_label``
        (``names`` and ``[L]`` arrays ``f1``, ``precision``, ``recall``, ``support``,
        ``predicted``, ``threshold``, ``frequency``, with ``frequency_source``
        ``"train"`` or ``"split"``), ``thresholds`` (summary), ``probabilities``,
        ``plots`` (``{key: PlotFile}``, keys of :data:`PLOT_FILES`) and ``files``
        (``metrics``/``report`` paths when written).
    """
    options = options or EvaluationOptions()
    if tree != model.config.tree:
        raise ValueError("the label tree differs from the model's")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    texts = [str(t) for t in dataset_split["text"]]
    if not texts:
        raise ValueError(f"split {options.split_name!r} has no document")
    if probabilities is None:
        probabilities = predict_probabilities(
            model,
            tokenizer,
            texts,
            batch_size=options.batch_size,
            max_length=options.max_length,
            progress=options.progress,
        )
    scores = score_split(
        tree,
        dataset_split["labels"],
        probabilities,
        thresholds,
        split_name=options.split_name,
        train_label_counts=train_label_counts,
        scored_labels=options.scored_labels,
        metrics=metrics,
    )
    return _write_run(model, tokenizer, texts, scores, tree, output_dir, log_history, options)


def _write_run(
    model: MLCLModel,
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    scores: SplitScores,
    tree: LabelTree,
    output_dir: Path,
    log_history: Sequence[Mapping[str, Any]] | None,
    options: EvaluationOptions,
) -> dict[str, Any]:
    """The figures (with the 2-D views' vectors) and summary files of a scored split."""
    vectors, groups = sample_vectors(
        model,
        tokenizer,
        texts,
        scores.y_true,
        tree,
        options.max_points,
        options.seed,
        options.batch_size,
        options.max_length,
    )
    figures = write_split_figures(
        scores, output_dir, tree, log_history, vectors, groups, umap=options.umap, seed=options.seed
    )
    files = (
        write_split_summary(
            scores, output_dir, tree, figures, options.model_name, options.dataset_name
        )
        if options.write_summary
        else {}
    )
    return split_result(scores, figures, files)


def write_split_summary(
    scores: SplitScores,
    output_dir: str | os.PathLike,
    tree: LabelTree,
    figures: Mapping[str, Any] | None = None,
    model_name: str | None = None,
    dataset_name: str | None = None,
) -> dict[str, Path]:
    """``metrics.json`` (:func:`metrics_document`) and ``report.md`` of a scored split in
    ``output_dir``: ``{"metrics": path, "report": path}``."""
    output_dir = Path(output_dir)
    metrics_file = write_json(output_dir / METRICS_FILE, metrics_document(split_result(scores)))
    report = write_evaluation_report(
        output_dir,
        scores.metrics,
        tree,
        split=scores.split,
        num_documents=scores.num_documents,
        thresholds=scores.thresholds,
        per_label=scores.per_label,
        figures=figures,
        model=model_name,
        dataset=dataset_name,
    )
    return {"metrics": metrics_file, "report": report}


def split_result(
    scores: SplitScores,
    figures: Mapping[str, Any] | None = None,
    files: Mapping[str, Path] | None = None,
) -> dict[str, Any]:
    """:func:`evaluate_run`'s result dict of a scored split and what was written of it."""
    return {
        "split": scores.split,
        "num_documents": scores.num_documents,
        "metrics": scores.metrics,
        "per_label": scores.per_label,
        "thresholds": scores.thresholds,
        "probabilities": scores.probabilities,
        "plots": dict(figures or {}),
        "files": dict(files or {}),
    }


def metrics_document(result: Mapping[str, Any]) -> dict[str, Any]:
    """What the evaluation folder's ``metrics.json`` holds, from :func:`evaluate_run`'s result:
    the run folder's schema (:mod:`mlcl_text.run_folder`) with the split's scores under its
    name, and the evaluation's ``split``, ``num_documents``, ``thresholds``,
    ``frequency_source`` and ``per_label``."""
    per_label = result["per_label"]
    fields = ("f1", "precision", "recall", "support", "predicted", "threshold", "frequency")
    return {
        **split_metrics_document(result),
        "frequency_source": per_label.get("frequency_source"),
        "per_label": {
            name: {field: per_label[field][j] for field in fields if field in per_label}
            for j, name in enumerate(per_label["names"])
        },
    }


def split_metrics_document(result: Mapping[str, Any]) -> dict[str, Any]:
    """What ``metrics-<split>.json`` (``mlcl-text evaluate --output``) holds: the split's
    scores under its name, ``split``, ``num_documents`` and ``thresholds``
    (:mod:`mlcl_text.run_folder`'s schema)."""
    return {
        result["split"]: dict(result["metrics"]),
        "split": result["split"],
        "num_documents": result["num_documents"],
        "thresholds": result["thresholds"],
    }


def format_summary(result: Mapping[str, Any], name: str | None = None) -> str:
    """A few lines for the console: the headline F1 scores and where the files went."""
    scores = result["metrics"]
    shown = ", ".join(
        f"{key} {scores[key]:.4f}"
        for key in ("micro_f1", "macro_f1", "samples_f1", "hier_f1")
        if key in scores
    )
    title = f"{name}/{result['split']}" if name else result["split"]
    lines = [f"{title} ({result['num_documents']:,} documents): {shown}"]
    files = result.get("files") or {}
    if files:
        folder = Path(files["report"]).parent
        lines.append(
            f"  {METRICS_FILE}, {REPORT_FILE} and {len(result['plots'])} plots written to {folder}"
        )
    return "\n".join(lines)
