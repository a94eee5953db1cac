r"""Decision thresholds tuned on validation data, and their JSON form.

A label is predicted when its score reaches its threshold, ``P_ij = S_ij >= t_j`` (as in
:func:`mlcl_text.evaluation.metrics.evaluate_predictions`, which takes the thresholds tuned here).

* :func:`tune_global_threshold`: one threshold ``t`` for all labels, the candidate that
  maximises micro-F1 (default), macro-F1 or samples-F1 on the validation data — the "SCut"
  strategy with a single cut (Yang 2001). Candidates: a grid (default
  ``np.linspace(0.05, 0.95, 19)``) or, for micro-F1, ``grid="exact"``: every distinct
  score of a true label. Micro-F1 ``= 2 TP(t) / (Pred(t) + |Y|)`` only changes when ``t``
  crosses a score, falls when ``t`` passes below a negative's score (``Pred`` grows, ``TP``
  does not) and can only rise when it passes below a positive's, so its maximum over all
  real ``t`` is reached at a positive's score (Lipton, Elkan & Naryanaswamy 2014 discuss the
  F1-optimal threshold).
* :func:`tune_label_thresholds`: per-label thresholds ``t_j`` maximising that label's F1
  ``2 TP_j(t) / (Pred_j(t) + |Y_j|)`` over the grid (SCut; Yang 2001). A label with fewer
  than ``min_support`` positives in the validation data, or whose best F1 is 0, gets the
  ``fallback`` — by default the tuned global threshold: a threshold fitted on a handful of
  positives over-fits (Fan & Lin 2007 fall back likewise for rare labels, "SCutFBR").

Ties between candidates go to the lowest threshold. F1 follows the ``zero_division=0``
convention of the metrics (a ratio with denominator 0 is 0). Scores are compared in their
own dtype, so a threshold tuned on ``float32`` scores reproduces the tuned predictions.

:class:`Thresholds` stores the result as JSON (per-label values keyed by label name when
names are given) next to an exported model, and gives back the ``[L]`` vector.

References:
    Fan, R.-E. & Lin, C.-J. (2007). A study on threshold selection for multi-label
    classification. Technical report, National Taiwan University.
    Lipton, Z. C., Elkan, C. & Naryanaswamy, B. (2014). Optimal thresholding of classifiers
    to maximize F1 measure. ECML PKDD 2014, LNCS 8725.
    Yang, Y. (2001). A study of thresholding strategies for text categorization. SIGIR 2001.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlcl_text.evaluation.metrics.inputs import (
    TruePositions,
    as_scores,
    check_finite_block,
    row_blocks,
)
from mlcl_text.run_folder import THRESHOLDS_FILE, RunFolderError, read_json, write_json

METRICS = ("micro_f1", "macro_f1", "samples_f1")
DEFAULT_GRID = np.linspace(0.05, 0.95, 19)
_FORMAT_VERSION = 1


def tune_global_threshold(
    y_true: Any,
    y_score: Any,
    metric: str = "micro_f1",
    grid: Sequence[float] | np.ndarray | str | None = None,
) -> float:
    """The single threshold that maximises ``metric`` on ``(y_true, y_score)``.

    Args:
        y_true: ``[N, L]`` true labels (dense or SciPy sparse; entries ``> 0`` are positive).
        y_score: ``[N, L]`` scores.
        metric: ``"micro_f1"``, ``"macro_f1"`` or ``"samples_f1"``.
        grid: candidate thresholds (default ``np.linspace(0.05, 0.95, 19)``), or ``"exact"``
            to search every distinct positive score (micro-F1 only; the module docstring
            shows the optimum is among them).
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    scores = as_scores(y_score)
    truth = TruePositions.from_labels(y_true, scores.shape)
    if isinstance(grid, str):
        if grid != "exact":
            raise ValueError(f"grid must be a sequence of thresholds or 'exact', got {grid!r}")
        if metric != "micro_f1":
            raise ValueError("the exact search is only available for metric='micro_f1'")
        return _exact_micro_f1_threshold(scores, truth)
    candidates = _grid(grid)
    counts = _GridCounts.collect(scores, truth, candidates, by=metric.split("_")[0])
    f1 = counts.f1()
    if metric != "micro_f1":
        f1 = f1.mean(axis=1)  # [G, labels or documents] -> [G]
    return float(candidates[int(np.argmax(f1))])


def tune_label_thresholds(
    y_true: Any,
    y_score: Any,
    min_support: int = 5,
    fallback: float | None = None,
    grid: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """Per-label thresholds ``[L]`` maximising each label's F1 over ``grid``.

    Labels with fewer than ``min_support`` positives in ``y_true``, or whose best F1 is 0,
    get ``fallback``; ``None`` means :func:`tune_global_threshold` (micro-F1) on the same
    data and grid.
    """
    if min_support < 0:
        raise ValueError(f"min_support must be >= 0, got {min_support}")
    scores = as_scores(y_score)
    truth = TruePositions.from_labels(y_true, scores.shape)
    candidates = _grid(grid)
    counts = _GridCounts.collect(scores, truth, candidates, by="label")
    f1 = counts.f1()  # [G, L]
    best = np.argmax(f1, axis=0)
    thresholds = candidates[best].astype(np.float64)
    if fallback is None:
        pooled = _GridCounts(counts.pred.sum(axis=1), counts.tp.sum(axis=1), counts.true.sum())
        fallback = float(candidates[int(np.argmax(pooled.f1()))])
    weak = (truth.label_counts() < min_support) | (f1.max(axis=0) <= 0)
    thresholds[weak] = fallback
    return thresholds


@dataclass
class Thresholds:
    """Tuned thresholds: one global value and optionally one per label.

    Attributes:
        global_threshold: the threshold of every label without its own.
        per_label: ``[L]`` thresholds, or ``None``.
        metric: what the global threshold maximised.
        min_support: the ``min_support`` the per-label thresholds were tuned with.
    """

    global_threshold: float = 0.5
    per_label: np.ndarray | None = None
    metric: str = "micro_f1"
    min_support: int | None = None

    def __post_init__(self) -> None:
        self.global_threshold = float(self.global_threshold)
        if self.per_label is not None:
            self.per_label = np.asarray(self.per_label, dtype=np.float64)
            if self.per_label.ndim != 1:
                raise ValueError(f"per_label must be 1-D, got shape {self.per_label.shape}")

    @classmethod
    def tune(
        cls,
        y_true: Any,
        y_score: Any,
        metric: str = "micro_f1",
        per_label: bool = True,
        min_support: int = 5,
        grid: Sequence[float] | np.ndarray | None = None,
        scored_labels: Any = None,
    ) -> Thresholds:
        """Tune the global threshold (``metric``) and, if ``per_label``, the per-label ones
        with the global threshold as fallback.

        ``scored_labels`` (label ids) restricts the global tuning to those columns, as
        ``evaluate_predictions(scored_labels=...)`` scores them; per-label thresholds are
        tuned for every label (each label's F1 does not depend on the others).
        """
        if scored_labels is None:
            global_threshold = tune_global_threshold(y_true, y_score, metric=metric, grid=grid)
        else:
            columns = np.asarray(scored_labels)
            truth = y_true.tocsc() if hasattr(y_true, "tocsc") else np.asarray(y_true)
            global_threshold = tune_global_threshold(
                truth[:, columns], as_scores(y_score)[:, columns], metric=metric, grid=grid
            )
        labels = (
            tune_label_thresholds(
                y_true, y_score, min_support=min_support, fallback=global_threshold, grid=grid
            )
            if per_label
            else None
        )
        return cls(global_threshold, labels, metric, min_support if per_label else None)

    def array(self, num_labels: int) -> np.ndarray:
        """The ``[num_labels]`` threshold vector for ``evaluate_predictions(threshold=...)``."""
        if self.per_label is None:
            return np.full(num_labels, self.global_threshold)
        if len(self.per_label) != num_labels:
            raise ValueError(f"{len(self.per_label)} per-label thresholds for {num_labels} labels")
        return self.per_label.copy()

    def to_dict(self, labels: Any = None) -> dict[str, Any]:
        """JSON-ready dict; with ``labels`` (a LabelTree or label names) the per-label
        thresholds are keyed by name, otherwise stored as a list in label-id order."""
        per_label: Any = None
        if self.per_label is not None:
            values = [float(v) for v in self.per_label]
            if labels is not None:
                names = _names(labels)
                if len(names) != len(values):
                    raise ValueError(f"{len(values)} per-label thresholds for {len(names)} labels")
                per_label = dict(zip(names, values, strict=True))
            else:
                per_label = values
        return {
            "format_version": _FORMAT_VERSION,
            "global_threshold": self.global_threshold,
            "metric": self.metric,
            "min_support": self.min_support,
            "per_label": per_label,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], labels: Any = None) -> Thresholds:
        """Inverse of :meth:`to_dict`. Per-label values keyed by name are put in the order
        of ``labels`` (all names must match); without ``labels`` they keep the stored order."""
        version = data.get("format_version", _FORMAT_VERSION)
        if version != _FORMAT_VERSION:
            raise ValueError(f"unsupported thresholds format_version {version!r}")
        if "global_threshold" not in data:
            raise ValueError(f"a thresholds dict needs 'global_threshold', got {data!r}")
        stored = data.get("per_label")
        per_label = None
        if isinstance(stored, dict):
            if labels is None:
                per_label = list(stored.values())
            else:
                names = _names(labels)
                missing = [n for n in names if n not in stored]
                unknown = [n for n in stored if n not in set(names)]
                if missing or unknown:
                    raise ValueError(
                        f"per-label thresholds do not match the labels: missing {missing[:5]}, "
                        f"unknown {unknown[:5]}"
                    )
                per_label = [stored[n] for n in names]
        elif stored is not None:
            per_label = list(stored)
            if labels is not None and len(per_label) != len(_names(labels)):
                raise ValueError(
                    f"{len(per_label)} per-label thresholds for {len(_names(labels))} labels"
                )
        return cls(
            global_threshold=data["global_threshold"],
            per_label=None if per_label is None else np.asarray(per_label, dtype=np.float64),
            metric=data.get("metric", "micro_f1"),
            min_support=data.get("min_support"),
        )

    def save(self, path: str | Path, labels: Any = None) -> Path:
        """Write :meth:`to_dict` as JSON; ``path`` may be a folder (then ``thresholds.json``)."""
        path = Path(path)
        if path.is_dir():
            path = path / THRESHOLDS_FILE
        return write_json(path, self.to_dict(labels))

    @classmethod
    def load(cls, path: str | Path, labels: Any = None) -> Thresholds:
        """Read what :meth:`save` wrote (a file, or a folder holding ``thresholds.json``):
        ``FileNotFoundError`` when it is missing, :class:`~mlcl_text.run_folder.RunFolderError`
        naming the file when it is not a thresholds file."""
        path = Path(path)
        if path.is_dir():
            path = path / THRESHOLDS_FILE
        try:
            return cls.from_dict(read_json(path), labels)
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, RunFolderError):
                raise
            raise RunFolderError(f"{path}: not a thresholds file ({error})") from None


def read_thresholds(folder: str | Path, labels: Any = None) -> Thresholds | None:
    """The :class:`Thresholds` of ``folder/thresholds.json``, ``None`` when there is none."""
    path = Path(folder) / THRESHOLDS_FILE
    return Thresholds.load(path, labels) if path.is_file() else None


# ---------------------------------------------------------------------------------- helpers
def _names(labels: Any) -> list[str]:
    names = labels.names if hasattr(labels, "names") else list(labels)
    if len(set(names)) != len(names):
        raise ValueError("label names must be unique")
    return list(names)


def _grid(grid: Sequence[float] | np.ndarray | None) -> np.ndarray:
    values = DEFAULT_GRID if grid is None else np.asarray(grid, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0 or np.isnan(values).any():
        raise ValueError("grid must be a non-empty 1-D sequence of thresholds")
    return np.unique(values)  # sorted ascending: ties then go to the lowest threshold


@dataclass
class _GridCounts:
    """``pred[g, ·]`` and ``tp[g, ·]`` at threshold ``grid[g]``, ``true[·]``; ``·`` is
    nothing (pooled), a label or a document."""

    pred: np.ndarray
    tp: np.ndarray
    true: np.ndarray

    def f1(self) -> np.ndarray:
        denominator = self.pred + np.asarray(self.true)
        out = np.zeros(np.broadcast(self.tp, denominator).shape, dtype=np.float64)
        np.divide(2.0 * self.tp, denominator, out=out, where=denominator > 0)
        return out

    @classmethod
    def collect(
        cls, scores: np.ndarray, truth: TruePositions, grid: np.ndarray, by: str
    ) -> _GridCounts:
        """Count by ``by`` = ``"micro"`` (pooled), ``"macro"``/``"label"`` or ``"samples"``.

        ``position = searchsorted(grid, s, "right")`` is the number of grid thresholds
        ``<= s``: ``s`` is predicted at ``grid[g]`` exactly when ``g < position``, so the
        counts at ``grid[g]`` are the reversed cumulative sums of histograms of positions.
        """
        num_docs, num_labels = scores.shape
        size = len(grid) + 1
        cut = grid.astype(scores.dtype)
        groups = {"micro": 1, "macro": num_labels, "label": num_labels, "samples": num_docs}[by]
        pred_hist = np.zeros(groups * size, dtype=np.int64)
        tp_hist = np.zeros(groups * size, dtype=np.int64)
        for start, stop in row_blocks(num_docs, num_labels):
            block = scores[start:stop]
            check_finite_block(block)
            position = np.searchsorted(cut, block, side="right")
            true_rows, true_cols = truth.block(start, stop)
            true_position = position[true_rows, true_cols]
            if by == "micro":
                pred_key, tp_key = position, true_position
            elif by == "samples":
                pred_key = np.arange(start, stop)[:, None] * size + position
                tp_key = (true_rows + start) * size + true_position
            else:
                pred_key = np.arange(num_labels)[None, :] * size + position
                tp_key = true_cols * size + true_position
            pred_hist += np.bincount(pred_key.ravel(), minlength=groups * size)
            tp_hist += np.bincount(tp_key, minlength=groups * size)
        pred_hist = pred_hist.reshape(groups, size)
        tp_hist = tp_hist.reshape(groups, size)
        # at grid[g]: the scores with position > g, i.e. suffix sums from g + 1
        pred = np.cumsum(pred_hist[:, ::-1], axis=1)[:, ::-1][:, 1:].T
        tp = np.cumsum(tp_hist[:, ::-1], axis=1)[:, ::-1][:, 1:].T
        true = truth.label_counts() if by in ("macro", "label") else truth.row_counts()
        if by == "micro":
            return cls(pred[:, 0], tp[:, 0], np.asarray(len(truth.indices)))
        return cls(pred, tp, true)


def _exact_micro_f1_threshold(scores: np.ndarray, truth: TruePositions) -> float:
    """The positive score ``u`` maximising ``2 TP(u) / (Pred(u) + |Y|)`` (module docstring)."""
    if len(truth.indices) == 0:
        raise ValueError("y_true has no positive label: micro-F1 is 0 at every threshold")
    candidates, counts = np.unique(scores[truth.rows, truth.indices], return_counts=True)
    tp = np.cumsum(counts[::-1])[::-1]  # positives scoring >= candidates[m]
    histogram = np.zeros(len(candidates) + 1, dtype=np.int64)
    for start, stop in row_blocks(*scores.shape):
        block = scores[start:stop]
        check_finite_block(block)
        # sorted needles make searchsorted several times faster than the sort costs
        histogram += np.bincount(
            np.searchsorted(candidates, np.sort(block, axis=1).ravel(), side="right"),
            minlength=len(candidates) + 1,
        )
    # values >= candidates[m] are those with searchsorted(..., "right") > m
    pred = np.cumsum(histogram[::-1])[::-1][1:]
    f1 = 2.0 * tp / (pred + len(truth.indices))
    return float(candidates[int(np.argmax(f1))])
