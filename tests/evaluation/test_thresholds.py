"""Threshold tuning (global and per label) and the JSON form of Thresholds."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import f1_score

from mlcl_text.evaluation import metrics
from mlcl_text.evaluation.metrics import evaluate_predictions
from mlcl_text.evaluation.thresholds import (
    DEFAULT_GRID,
    THRESHOLDS_FILE,
    Thresholds,
    tune_global_threshold,
    tune_label_thresholds,
)
from mlcl_text.hierarchy import LabelTree


def _case(seed=0, n=200, num_labels=9):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, num_labels)) < rng.uniform(0.05, 0.4, num_labels)).astype(int)
    y[:, 0] = 0
    y[:3, 0] = 1  # a label with 3 positives only
    s = np.clip(rng.normal(0.3 + rng.uniform(0.1, 0.5, num_labels) * y, 0.2), 0, 1)
    return y, s.astype(np.float32)


@pytest.fixture(params=[None, 41], ids=["one-block", "many-blocks"])
def block_size(request, monkeypatch):
    if request.param:
        monkeypatch.setattr(metrics.inputs, "_BLOCK_ELEMENTS", request.param)


@pytest.mark.parametrize("metric", ["micro_f1", "macro_f1", "samples_f1"])
def test_global_threshold_is_the_best_grid_point(metric, block_size):
    y, s = _case()
    average = metric.split("_")[0]
    f1 = [f1_score(y, s >= np.float32(t), average=average, zero_division=0) for t in DEFAULT_GRID]
    best = tune_global_threshold(y, s, metric=metric)
    assert best == pytest.approx(DEFAULT_GRID[int(np.argmax(f1))])
    assert evaluate_predictions(y, s, threshold=best)[metric] == pytest.approx(max(f1))


def test_global_threshold_on_a_custom_grid_and_sparse_labels():
    y, s = _case(seed=1)
    grid = [0.6, 0.2, 0.4]
    f1 = {t: f1_score(y, s >= np.float32(t), average="micro") for t in grid}
    assert tune_global_threshold(sp.csr_matrix(y), s, grid=grid) == max(f1, key=f1.get)


def test_exact_search_beats_every_threshold(block_size):
    y, s = _case(seed=2)
    best = tune_global_threshold(y, s, grid="exact")
    assert best in set(s[y > 0].tolist())  # a positive's score
    best_f1 = f1_score(y, s >= np.float32(best), average="micro")
    candidates = np.unique(s)
    all_f1 = [f1_score(y, s >= t, average="micro") for t in candidates[::7]]
    assert best_f1 >= max(all_f1) - 1e-12
    assert best_f1 >= f1_score(y, s >= np.float32(tune_global_threshold(y, s)), average="micro")
    assert evaluate_predictions(y, s, threshold=best)["micro_f1"] == pytest.approx(best_f1)
    with pytest.raises(ValueError, match="only available"):
        tune_global_threshold(y, s, metric="macro_f1", grid="exact")
    with pytest.raises(ValueError, match="no positive"):
        tune_global_threshold(np.zeros_like(y), s, grid="exact")


def test_label_thresholds_maximise_each_label_f1(block_size):
    y, s = _case(seed=3)
    thresholds = tune_label_thresholds(y, s, min_support=5, fallback=0.77)
    assert thresholds.shape == (y.shape[1],)
    assert thresholds[0] == 0.77  # 3 positives < min_support
    for j in range(1, y.shape[1]):
        f1 = [f1_score(y[:, j], s[:, j] >= np.float32(t), zero_division=0) for t in DEFAULT_GRID]
        assert thresholds[j] == pytest.approx(DEFAULT_GRID[int(np.argmax(f1))])


def test_label_thresholds_fall_back_to_the_global_threshold():
    y, s = _case(seed=4)
    global_threshold = tune_global_threshold(y, s)
    thresholds = tune_label_thresholds(y, s, min_support=y.sum(0)[1:].min() + 1)
    low = y.sum(0) < y.sum(0)[1:].min() + 1
    assert low.sum() >= 2
    assert np.all(thresholds[low] == global_threshold)
    # a label never predicted right at any grid point falls back as well
    y[:, 2] = 0
    y[:10, 2] = 1
    s[:, 2] = 0.0
    assert tune_label_thresholds(y, s, min_support=1, fallback=0.5)[2] == 0.5


def test_per_label_thresholds_help_on_validation_data():
    y, s = _case(seed=5)
    tuned = Thresholds.tune(y, s, min_support=5)
    per_label = evaluate_predictions(y, s, threshold=tuned)["macro_f1"]
    single = evaluate_predictions(y, s, threshold=tuned.global_threshold)["macro_f1"]
    assert per_label >= single
    assert np.array_equal(tuned.array(y.shape[1]), tuned.per_label)


def test_json_round_trip_with_label_names(tmp_path):
    tree = LabelTree.from_paths(["A/x", "A/y", "B"])
    thresholds = Thresholds(0.35, np.array([0.3, 0.4, 0.5, 0.6]), "macro_f1", 5)
    path = thresholds.save(tmp_path, labels=tree)
    assert path == tmp_path / THRESHOLDS_FILE
    stored = json.loads(path.read_text())
    assert stored["per_label"] == {"A": 0.3, "A/x": 0.4, "A/y": 0.5, "B": 0.6}
    loaded = Thresholds.load(tmp_path, labels=tree)
    assert loaded.global_threshold == 0.35 and loaded.metric == "macro_f1"
    assert loaded.min_support == 5
    assert np.array_equal(loaded.per_label, thresholds.per_label)
    # names put values in the order of the given labels
    shuffled = Thresholds.from_dict(stored, labels=["B", "A", "A/y", "A/x"])
    assert shuffled.per_label.tolist() == [0.6, 0.3, 0.5, 0.4]
    with pytest.raises(ValueError, match="do not match"):
        Thresholds.from_dict(stored, labels=["A", "A/x", "A/y", "C"])


def test_json_round_trip_without_names_and_global_only(tmp_path):
    thresholds = Thresholds(0.4, [0.1, 0.9])
    again = Thresholds.from_dict(json.loads(json.dumps(thresholds.to_dict())))
    assert again.per_label.tolist() == [0.1, 0.9]
    only_global = Thresholds(0.25)
    path = only_global.save(tmp_path / "t.json")
    loaded = Thresholds.load(path)
    assert loaded.per_label is None
    assert loaded.array(3).tolist() == [0.25] * 3
    with pytest.raises(ValueError, match="per-label thresholds for"):
        thresholds.array(3)
    with pytest.raises(ValueError, match="format_version"):
        Thresholds.from_dict({"format_version": 99, "global_threshold": 0.5})
