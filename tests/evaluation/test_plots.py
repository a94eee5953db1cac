"""The PNG figures of mlcl_text.evaluation.plots, from plain arrays: valid files, panels, series, determinism."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("matplotlib")

from matplotlib.image import imread

from mlcl_text import LabelTree
from mlcl_text.evaluation import plots

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path) -> None:
    with open(path, "rb") as handle:
        assert handle.read(8) == PNG_SIGNATURE
    image = imread(path)
    assert image.ndim == 3 and image.shape[0] > 0 and image.shape[1] > 0


@pytest.fixture
def scores():
    rng = np.random.default_rng(0)
    truth = (rng.random((60, 6)) < 0.3).astype(np.float32)
    probabilities = np.clip(0.6 * truth + 0.5 * rng.random((60, 6)), 0, 1).astype(np.float32)
    return truth, probabilities


def test_level_f1_bars(tmp_path):
    metrics = {
        "level1_micro_f1": 0.8,
        "level1_macro_f1": 0.7,
        "level2_micro_f1": 0.5,
        "level2_macro_f1": 0.3,
        "micro_f1": 0.6,
        "macro_f1": 0.4,
    }
    plot = plots.plot_level_f1(metrics, tmp_path / "sub" / "levels.png", level_sizes=[2, 4])
    assert plot.path == tmp_path / "sub" / "levels.png"
    assert_png(plot)
    assert plot.panels == ("F1 per tree level",)
    assert plot.series == ("micro F1", "macro F1")
    with pytest.raises(ValueError, match="level"):
        plots.plot_level_f1({"micro_f1": 0.5}, tmp_path / "none.png")


def test_f1_against_frequency_leaves_out_unplottable_labels(tmp_path):
    f1 = np.array([0.9, 0.5, 0.1, 0.0, 0.7])
    frequency = np.array([500, 40, 3, 0, 12])
    support = np.array([30, 5, 1, 2, 0])
    plot = plots.plot_f1_vs_frequency(
        f1, frequency, tmp_path / "freq.png", support=support, depths=[1, 1, 2, 2, 2]
    )
    assert_png(plot)
    assert plot.series == ("mean F1 per bin", "level 1 labels (2)", "level 2 labels (1)")
    with pytest.raises(ValueError):
        plots.plot_f1_vs_frequency(f1, frequency[:3], tmp_path / "bad.png")


def test_binned_means_of_equal_frequencies():
    centres, means, counts = plots.scores._binned_means(
        np.array([4.0, 4.0]), np.array([0.2, 0.4]), 8
    )
    assert centres.tolist() == [4.0] and means.tolist() == pytest.approx([0.3]) and counts == [2]


def test_precision_recall_marks_the_operating_point(tmp_path, scores):
    truth, probabilities = scores
    plot = plots.plot_precision_recall(truth, probabilities, tmp_path / "pr.png", threshold=0.5)
    assert_png(plot)
    assert plot.series[0].startswith("micro PR curve (AP ")
    assert any(s.startswith("operating point, threshold 0.50") for s in plot.series)
    per_label = np.linspace(0.3, 0.7, 6)
    sampled = plots.plot_precision_recall(
        sp.csr_array(truth), probabilities, tmp_path / "pr2.png", per_label, max_entries=120
    )
    assert any("per-label thresholds" in s for s in sampled.series)
    assert_png(sampled)


def test_loss_curves_one_line_per_logged_key(tmp_path):
    history = [
        {"loss": 2.0, "loss_cls": 0.7, "loss_con/a": 3.0, "step": 1},
        {"loss": 1.5, "loss_cls": 0.6, "loss_con/a": 2.5, "step": 2},
        {"eval_loss": 1.7, "eval_loss_cls": 0.65, "eval_runtime": 0.1, "step": 2},
        {"loss": 1.2, "loss_cls": 0.5, "loss_con/a": float("nan"), "step": 3},
        {"train_loss": 1.6, "train_runtime": 3.0, "step": 3},
    ]
    plot = plots.plot_loss_curves(history, tmp_path / "loss.png")
    assert_png(plot)
    assert plot.panels == ("loss", "loss_cls", "loss_con/a")
    assert sorted(plot.series) == sorted(
        ["loss", "eval_loss", "loss_cls", "eval_loss_cls", "loss_con/a"]
    )
    assert plots.loss_series(history)["loss_con/a"] == ([1, 2], [3.0, 2.5])
    with pytest.raises(ValueError, match="no loss"):
        plots.plot_loss_curves([{"eval_runtime": 1.0}], tmp_path / "none.png")


def test_embedding_views_one_panel_per_space(tmp_path):
    rng = np.random.default_rng(1)
    spaces = {"pooled embeddings": rng.normal(size=(30, 16)), "head a": rng.normal(size=(30, 4))}
    groups = ["CS"] * 12 + ["Bio"] * 10 + [plots.MULTIPLE] * 5 + [plots.NO_LABEL] * 3
    plot = plots.plot_embedding_views(spaces, groups, tmp_path / "views.png")
    assert_png(plot)
    assert plot.panels == ("pooled embeddings (16-d)", "head a (4-d)")
    assert set(plot.series) == {"CS", "Bio", plots.MULTIPLE, plots.NO_LABEL}
    with pytest.raises(ValueError, match="shape"):
        plots.plot_embedding_views({"x": np.zeros((3, 2))}, groups, tmp_path / "bad.png")


def test_embedding_views_fold_rare_groups_into_other(tmp_path):
    groups = [f"g{i:02d}" for i in range(12)] * 2
    plot = plots.plot_embedding_views(
        {"space": np.arange(48.0).reshape(24, 2) ** 0.5}, groups, tmp_path / "v.png", max_groups=3
    )
    assert set(plot.series) == {"g00", "g01", "g02", plots.OTHER}


def test_umap_view_uses_umap_when_available(tmp_path, monkeypatch):
    calls = {}

    class FakeUMAP:
        def __init__(self, **kwargs):
            calls.update(kwargs)

        def fit_transform(self, values):
            return values[:, :2]

    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=FakeUMAP))
    plot = plots.plot_embedding_views(
        {"s": np.random.default_rng(0).normal(size=(10, 3))}, ["a"] * 10, tmp_path / "u.png", "umap"
    )
    assert_png(plot)
    assert calls["random_state"] == 0 and calls["n_components"] == 2
    with pytest.raises(ValueError, match="method"):
        plots.plot_embedding_views({"s": np.zeros((2, 2))}, ["a", "b"], tmp_path / "x.png", "tsne")


def test_reduce_2d_handles_degenerate_inputs():
    coords, labels = plots.reduce_2d(np.ones((1, 5)))
    assert coords.shape == (1, 2) and labels == ("PC1", "PC2")
    coords, labels = plots.reduce_2d(np.arange(4.0).reshape(4, 1))
    assert coords.shape == (4, 2) and np.all(coords[:, 1] == 0)


def test_figures_are_deterministic(tmp_path, scores):
    truth, probabilities = scores
    first = plots.plot_precision_recall(truth, probabilities, tmp_path / "a.png")
    second = plots.plot_precision_recall(truth, probabilities, tmp_path / "b.png")
    assert first.path.read_bytes() == second.path.read_bytes()
    spaces = {"s": probabilities}
    groups = ["x"] * 30 + ["y"] * 30
    one = plots.plot_embedding_views(spaces, groups, tmp_path / "c.png")
    two = plots.plot_embedding_views(spaces, groups, tmp_path / "d.png")
    assert one.path.read_bytes() == two.path.read_bytes()


def test_top_level_groups():
    tree = LabelTree.from_paths(["CS/ML", "CS/DB", "Bio/Genetics"], sep="/")
    y = tree.encode([["CS/ML"], ["Bio", "Bio/Genetics"], ["CS", "Bio"], []])
    assert plots.top_level_groups(tree, y) == ["CS", "Bio", plots.MULTIPLE, plots.NO_LABEL]
    assert plots.top_level_groups(tree, sp.csr_array(y)) == plots.top_level_groups(tree, y)
