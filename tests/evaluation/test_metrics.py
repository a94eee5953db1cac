"""evaluate_predictions: hand-computed cases, scikit-learn and hiclass cross-checks, inputs."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from itertools import permutations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import f1_score, precision_score, recall_score, roc_auc_score

from mlcl_text.evaluation import metrics
from mlcl_text.evaluation.metrics import TOP_K, evaluate_module_path, evaluate_predictions
from mlcl_text.hierarchy import LabelTree

# ----------------------------------------------------------------------------- a hand example
# Labels (ids): A, A/a1, A/a2, B.  Threshold 0.5.
TREE = LabelTree.from_paths(["A/a1", "A/a2", "B"])
Y = np.array(
    [
        [1, 1, 0, 0],  # d0: {A, A/a1}
        [0, 0, 0, 1],  # d1: {B}
        [1, 0, 1, 1],  # d2: {A, A/a2, B}
    ]
)
S = np.array(
    [
        [0.9, 0.6, 0.4, 0.2],  # predicted {A, A/a1}
        [0.3, 0.7, 0.1, 0.8],  # predicted {A/a1, B}: A/a1 without its parent
        [0.6, 0.2, 0.3, 0.4],  # predicted {A}
    ]
)


def test_hand_computed_set_scores():
    m = evaluate_predictions(Y, S)
    # per label (A, a1, a2, B): pred 2,2,0,1  true 2,1,1,2  tp 2,1,0,1
    assert m["micro_precision"] == pytest.approx(4 / 5)
    assert m["micro_recall"] == pytest.approx(4 / 6)
    assert m["micro_f1"] == pytest.approx(2 * 4 / (5 + 6))
    assert m["macro_precision"] == pytest.approx((1 + 1 / 2 + 0 + 1) / 4)
    assert m["macro_recall"] == pytest.approx((1 + 1 + 0 + 1 / 2) / 4)
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3 + 0 + 2 / 3) / 4)
    # per document: (pred, true, tp) = (2, 2, 2), (2, 1, 1), (1, 3, 1)
    assert m["samples_precision"] == pytest.approx((1 + 1 / 2 + 1) / 3)
    assert m["samples_recall"] == pytest.approx((1 + 1 + 1 / 3) / 3)
    assert m["samples_f1"] == pytest.approx((1 + 2 / 3 + 2 / 4) / 3)


def test_hand_computed_ranking_scores():
    m = evaluate_predictions(Y, S)
    # AUC per label = share of (positive, negative) pairs ordered right, ties ½:
    # A 2/2, a1 1/2, a2 1/2, B 2/2.
    assert m["macro_auc"] == pytest.approx((1 + 0.5 + 0.5 + 1) / 4)
    assert m["macro_auc_skipped_labels"] == 0
    # pooled: negatives 0.1 0.2 0.2 0.3 0.4 0.7; positives 0.9 0.6 0.3 0.8 0.6 0.4 beat
    # 6, 5, 3 + ½, 6, 5, 4 + ½ of them.
    assert m["micro_auc"] == pytest.approx(30 / 36)
    # top-1 is a true label in every document; k >= 4 = L takes every label.
    assert m["p@1"] == 1.0
    assert m["r@1"] == pytest.approx((1 / 2 + 1 + 1 / 3) / 3)
    for k in (5, 8, 15):
        assert m[f"p@{k}"] == pytest.approx((2 + 1 + 3) / 3 / k)
        assert m[f"r@{k}"] == 1.0


def test_hand_computed_hierarchical_scores():
    m = evaluate_predictions(Y, S, tree=TREE)
    # closed predictions {A, a1}, {A, a1, B}, {A}; truths are closed already.
    # |∩| = 2 + 1 + 1, Σ|pred| = 2 + 3 + 1, Σ|true| = 2 + 1 + 3
    assert m["hier_precision"] == pytest.approx(4 / 6)
    assert m["hier_recall"] == pytest.approx(4 / 6)
    assert m["hier_f1"] == pytest.approx(4 / 6)
    # level 1 (A, B): pred 3, 1  true 2, 2  tp 2, 1
    assert m["level1_micro_f1"] == pytest.approx(2 * 3 / (4 + 4))
    assert m["level1_macro_f1"] == pytest.approx((2 * 2 / 5 + 2 * 1 / 3) / 2)
    # level 2 (a1, a2): pred 2, 0  true 1, 1  tp 1, 0
    assert m["level2_micro_f1"] == pytest.approx(2 * 1 / (2 + 2))
    assert m["level2_macro_f1"] == pytest.approx((2 / 3 + 0) / 2)
    assert m["violation_rate"] == pytest.approx(1 / 5)
    # consistent decoding drops a1 from d1: predictions {A, a1}, {B}, {A}
    assert m["consistent_micro_precision"] == 1.0
    assert m["consistent_micro_recall"] == pytest.approx(4 / 6)
    assert m["consistent_micro_f1"] == pytest.approx(2 * 4 / (4 + 6))
    assert m["consistent_hier_precision"] == 1.0
    assert m["consistent_hier_f1"] == pytest.approx(2 * 4 / (4 + 6))
    assert "consistent_violation_rate" not in m


def test_consistent_option():
    assert not any(k.startswith("consistent_") for k in evaluate_predictions(Y, S))
    with_tree = evaluate_predictions(Y, S, tree=TREE)
    assert "consistent_micro_f1" in with_tree and "consistent_level2_macro_f1" in with_tree
    assert evaluate_predictions(Y, S, tree=TREE, consistent=True) == with_tree
    without = evaluate_predictions(Y, S, tree=TREE, consistent=False)
    assert not any(k.startswith("consistent_") for k in without)
    assert without["hier_f1"] == with_tree["hier_f1"]
    with pytest.raises(ValueError, match="needs a label tree"):
        evaluate_predictions(Y, S, consistent=True)


# ----------------------------------------------------------------------------- random data
def _random_case(seed=0, n=300, num_labels=17, decimals=2):
    rng = np.random.default_rng(seed)
    y = (rng.random((n, num_labels)) < rng.uniform(0.05, 0.5, num_labels)).astype(np.int64)
    y[:, 3] = 0  # no positive
    y[:, 5] = 1  # no negative
    s = np.round(np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1), decimals)  # many ties
    return y, s


@pytest.fixture(params=[None, 53], ids=["one-block", "many-blocks"])
def block_size(request, monkeypatch):
    if request.param:
        monkeypatch.setattr(metrics.inputs, "_BLOCK_ELEMENTS", request.param)
    return request.param


@pytest.mark.parametrize("per_label_threshold", [False, True])
def test_set_scores_match_sklearn(block_size, per_label_threshold):
    y, s = _random_case()
    threshold = np.linspace(0.3, 0.6, y.shape[1]) if per_label_threshold else 0.5
    m = evaluate_predictions(y, s, threshold=threshold)
    predicted = s >= threshold
    for average in ("micro", "macro", "samples"):
        kwargs = {"average": average, "zero_division": 0}
        assert m[f"{average}_precision"] == pytest.approx(precision_score(y, predicted, **kwargs))
        assert m[f"{average}_recall"] == pytest.approx(recall_score(y, predicted, **kwargs))
        assert m[f"{average}_f1"] == pytest.approx(f1_score(y, predicted, **kwargs))


def test_auc_matches_sklearn_and_counts_skipped_labels(block_size):
    y, s = _random_case()
    m = evaluate_predictions(y, s)
    both = (y.sum(0) > 0) & (y.sum(0) < len(y))
    assert m["macro_auc_skipped_labels"] == 2 == int((~both).sum())
    assert m["macro_auc"] == pytest.approx(roc_auc_score(y[:, both], s[:, both], average="macro"))
    assert m["micro_auc"] == pytest.approx(roc_auc_score(y, s, average="micro"))
    assert m["micro_auc"] == pytest.approx(roc_auc_score(y.ravel(), s.ravel()))


def test_auc_without_ties_and_float32_scores():
    y, _ = _random_case(seed=3)
    s = np.random.default_rng(3).random(y.shape, dtype=np.float32) + 0.2 * y
    m = evaluate_predictions(y, s)
    both = (y.sum(0) > 0) & (y.sum(0) < len(y))
    assert m["macro_auc"] == pytest.approx(roc_auc_score(y[:, both], s[:, both]), rel=1e-12)
    assert m["micro_auc"] == pytest.approx(roc_auc_score(y.ravel(), s.ravel()), rel=1e-12)


def test_auc_undefined_is_nan():
    m = evaluate_predictions(np.zeros((4, 3)), np.random.default_rng(0).random((4, 3)))
    assert math.isnan(m["micro_auc"]) and math.isnan(m["macro_auc"])
    assert m["macro_auc_skipped_labels"] == 3
    assert math.isnan(m["r@1"]) and m["p@1"] == 0.0


def _naive_top_k(y, s, k):
    """Reference p@k / r@k with a per-document loop (no ties in s)."""
    precisions, recalls = [], []
    for truth, score in zip(y, s, strict=True):
        top = np.argsort(-score, kind="stable")[:k]
        hits = truth[top].sum()
        precisions.append(hits / k)
        if truth.sum():
            recalls.append(hits / truth.sum())
    return np.mean(precisions), np.mean(recalls)


def test_top_k_matches_a_naive_loop(block_size):
    rng = np.random.default_rng(1)
    y = (rng.random((120, 23)) < 0.2).astype(int)
    y[7] = 0  # a document without labels: counts for p@k, not for r@k
    s = rng.random(y.shape) + 0.3 * y  # continuous: no ties
    m = evaluate_predictions(y, s)
    for k in TOP_K:
        p, r = _naive_top_k(y, s, k)
        assert m[f"p@{k}"] == pytest.approx(p)
        assert m[f"r@{k}"] == pytest.approx(r)


def test_top_k_averages_over_tied_labels():
    num_labels = 10
    scores = np.full((1, num_labels), 0.1)
    scores[0, :6] = [0.9, 0.8, 0.8, 0.8, 0.8, 0.8]  # 0.9, then five labels tied at 0.8
    truth = np.zeros((1, num_labels), dtype=int)
    truth[0, [0, 1, 2]] = 1
    m = evaluate_predictions(truth, scores)
    # top-5 = label 0 + 4 of the 5 tied labels, of which 2 are true: 1 + 4 · 2/5 expected hits
    assert m["p@5"] == pytest.approx((1 + 4 * 2 / 5) / 5)
    assert m["r@5"] == pytest.approx((1 + 4 * 2 / 5) / 3)
    assert m["p@1"] == 1.0
    # same as averaging a stable top-5 over every order of the tied labels
    tied = [1, 2, 3, 4, 5]
    expected = []
    for order in permutations(tied):
        ranking = [0, *order, 6, 7, 8, 9]
        expected.append(truth[0, ranking[:5]].sum() / 5)
    assert m["p@5"] == pytest.approx(np.mean(expected))
    # label order does not matter
    flipped = evaluate_predictions(truth[:, ::-1], scores[:, ::-1])
    assert all(flipped[f"p@{k}"] == pytest.approx(m[f"p@{k}"]) for k in TOP_K)
    # all scores equal: every label equally likely in the top 1
    flat = evaluate_predictions(truth, np.zeros((1, num_labels)))
    assert flat["p@1"] == pytest.approx(3 / num_labels)
    assert flat["p@8"] == pytest.approx(8 * 3 / num_labels / 8)


def test_sparse_and_dense_inputs_agree(block_size):
    y, s = _random_case(seed=2)
    tree = _random_tree(y.shape[1], seed=2)
    dense = evaluate_predictions(y, s, tree=tree)
    for sparse in (sp.csr_matrix(y), sp.csr_array(y), sp.coo_matrix(y), sp.csc_array(y)):
        assert evaluate_predictions(sparse, s, tree=tree) == pytest.approx(dense, nan_ok=True)
    assert evaluate_predictions(y.astype(bool), s.astype(np.float32), tree=tree).keys() == (
        dense.keys()
    )


def _random_tree(num_labels, seed=0):
    """A random forest of num_labels labels whose ids are in parents-first order."""
    rng = np.random.default_rng(seed)
    parents = [None]
    for i in range(1, num_labels):
        parents.append(None if rng.random() < 0.25 else f"L{rng.integers(0, i)}")
    return LabelTree([f"L{i}" for i in range(num_labels)], parents)


def test_per_level_scores_match_sklearn_on_level_views(block_size):
    y, s = _random_case(seed=4, num_labels=25)
    tree = _random_tree(25, seed=9)
    m = evaluate_predictions(y, s, tree=tree)
    closed_true = tree.closure(y)
    closed_pred = tree.closure((s >= 0.5).astype(int))
    # five levels of >= 3 labels (scikit-learn reads a single column as a binary target)
    assert [len(tree.level_ids(d)) for d in range(1, tree.num_levels + 1)] == [3, 7, 6, 5, 4]
    for depth in range(1, tree.num_levels + 1):
        true_view = tree.level_view(closed_true, depth)
        pred_view = tree.level_view(closed_pred, depth)
        assert np.array_equal(true_view, closed_true[:, tree.level_ids(depth)])
        for average in ("micro", "macro"):
            expected = f1_score(true_view, pred_view, average=average, zero_division=0)
            assert m[f"level{depth}_{average}_f1"] == pytest.approx(expected)
    # hierarchical scores are the micro scores of the closed sets
    assert m["hier_precision"] == pytest.approx(
        precision_score(closed_true, closed_pred, average="micro")
    )
    assert m["hier_recall"] == pytest.approx(
        recall_score(closed_true, closed_pred, average="micro")
    )
    assert m["hier_f1"] == pytest.approx(f1_score(closed_true, closed_pred, average="micro"))


def test_violation_rate_and_consistent_scores_match_sklearn():
    y, s = _random_case(seed=5, num_labels=25)
    tree = _random_tree(25, seed=5)
    m = evaluate_predictions(y, s, tree=tree)
    predicted = s >= 0.5
    assert m["violation_rate"] == pytest.approx(tree.violations(predicted).sum() / predicted.sum())
    assert m["violation_rate"] > 0
    kept = tree.consistent_decoding(predicted)
    for average in ("micro", "macro", "samples"):
        expected = f1_score(y, kept, average=average, zero_division=0)
        assert m[f"consistent_{average}_f1"] == pytest.approx(expected)
    assert m["consistent_hier_precision"] == pytest.approx(
        precision_score(tree.closure(y), kept, average="micro")
    )


def _paths(tree: LabelTree, multi_hot: np.ndarray, width: int) -> np.ndarray:
    """hiclass's multi-label input: [N, width, levels] root-to-label name paths, '' padded.

    Label names are unique paths (the tree's names), so hiclass's sets of node names are our
    closed label sets. hiclass zips the true and predicted paths of a document, so both
    arrays need the same ``width``.
    """
    rows = [[[*tree.ancestors(name), name] for name in labels] for labels in tree.decode(multi_hot)]
    out = np.full((len(rows), width, tree.num_levels), "", dtype=object)
    for i, row in enumerate(rows):
        for p, path in enumerate(row):
            out[i, p, : len(path)] = path
    return out


def test_hierarchical_scores_match_hiclass():
    hiclass_metrics = pytest.importorskip("hiclass.metrics")
    y, s = _random_case(seed=6, num_labels=20)
    tree = _random_tree(20, seed=6)
    m = evaluate_predictions(y, s, tree=tree)
    predicted = (s >= 0.5).astype(int)
    width = max(y.sum(1).max(), predicted.sum(1).max())
    true_paths, pred_paths = _paths(tree, y, width), _paths(tree, predicted, width)
    assert m["hier_precision"] == pytest.approx(hiclass_metrics.precision(true_paths, pred_paths))
    assert m["hier_recall"] == pytest.approx(hiclass_metrics.recall(true_paths, pred_paths))
    assert m["hier_f1"] == pytest.approx(hiclass_metrics.f1(true_paths, pred_paths))


# ----------------------------------------------------------------------------- inputs
def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="must both be"):
        evaluate_predictions(Y[:, :3], S)
    with pytest.raises(ValueError, match="NaN"):
        evaluate_predictions(Y, np.where(S > 0.8, np.nan, S))
    with pytest.raises(ValueError, match="one value per label"):
        evaluate_predictions(Y, S, threshold=[0.5, 0.5])
    with pytest.raises(ValueError, match="tree has"):
        evaluate_predictions(Y, S, tree=LabelTree.from_labels("abc"))
    with pytest.raises(TypeError, match="dense"):
        evaluate_predictions(Y, sp.csr_matrix(S))


def test_callers_keys_are_kept():
    m = evaluate_predictions(Y.astype(np.float32), S, tree=TREE, threshold=0.5)
    for prefix in ("", "consistent_"):
        for average in ("micro", "macro", "samples"):
            for score in ("precision", "recall", "f1"):
                assert isinstance(m[f"{prefix}{average}_{score}"], float)
    assert "violation_rate" in m
    json.dumps(m)


# ----------------------------------------------------------------------------- 🤗 evaluate
_EVALUATE_SCRIPT = """
import json, sys
import evaluate, numpy as np
from mlcl_text.hierarchy import LabelTree
from mlcl_text.evaluation.metrics import evaluate_module_path
data = json.load(sys.stdin)
metric = evaluate.load(evaluate_module_path(), cache_dir=data["cache"])
tree = LabelTree.from_dict(data["tree"])
one = metric.compute(predictions=data["scores"], references=data["labels"], tree=tree)
metric = evaluate.load(evaluate_module_path(), tree=data["tree"], keep_in_memory=True)
for i in range(0, len(data["scores"]), 2):
    metric.add_batch(predictions=data["scores"][i:i + 2], references=data["labels"][i:i + 2])
print(json.dumps([one, metric.compute(), metric.name]))
"""


def test_evaluate_module_loads_offline_and_agrees(tmp_path):
    pytest.importorskip("evaluate")
    y, s = _random_case(seed=8, n=9, num_labels=6)
    tree = _random_tree(6, seed=8)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_MODULES_CACHE": str(tmp_path / "modules"),
        "HF_HOME": str(tmp_path / "hf"),
    }
    data = {
        "scores": s.tolist(),
        "labels": y.tolist(),
        "tree": tree.to_dict(),
        "cache": str(tmp_path / "cache"),
    }
    run = subprocess.run(
        [sys.executable, "-c", _EVALUATE_SCRIPT],
        input=json.dumps(data),
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    one, batched, name = json.loads(run.stdout.strip().splitlines()[-1])
    expected = evaluate_predictions(y, s, tree=tree)
    assert name == "mlcl_multilabel"
    assert one == pytest.approx(expected, nan_ok=True)
    assert batched == pytest.approx(expected, nan_ok=True)
    assert evaluate_module_path().endswith(os.path.join("evaluate_module", "mlcl_multilabel.py"))


# ---------------------------------------------------------------------- scored labels
def _icd_like_case(seed=0):
    tree = LabelTree.from_paths(
        ["390-459/428/428.0", "390-459/427/427.31", "390-459/401.9", "35-39/39/39.61"], sep="/"
    )
    rng = np.random.default_rng(seed)
    leaves = [tree.index(name) for name in tree.leaves]
    y = np.zeros((40, len(tree)))
    for row in y:
        row[rng.choice(leaves, size=rng.integers(1, 3), replace=False)] = 1
    y = tree.closure(y)
    scores = np.clip(y * 0.3 + rng.random(y.shape) * 0.7, 0, 1)
    return tree, y, scores, np.asarray(leaves)


def test_scored_labels_restrict_the_flat_scores_only():
    from mlcl_text.evaluation.metrics import scored_label_ids

    tree, y, scores, leaves = _icd_like_case()
    assert sorted(scored_label_ids(tree, "leaves")) == sorted(leaves)
    assert scored_label_ids(tree, "all") is None
    got = evaluate_predictions(y, scores, tree=tree, threshold=0.55, scored_labels=leaves)
    flat = evaluate_predictions(y[:, leaves], scores[:, leaves], threshold=0.55)
    full = evaluate_predictions(y, scores, tree=tree, threshold=0.55)
    for key, value in flat.items():
        assert got[key] == pytest.approx(value, nan_ok=True), key
    for key in ("hier_f1", "level1_micro_f1", "level3_macro_f1", "violation_rate"):
        assert got[key] == pytest.approx(full[key]), key
    assert got["micro_f1"] != pytest.approx(full["micro_f1"])  # the chapters are left out
    decoded = tree.consistent_decoding(scores >= 0.55)[:, leaves]
    assert got["consistent_micro_f1"] == pytest.approx(
        f1_score(y[:, leaves], decoded, average="micro", zero_division=0)
    )
    assert got["consistent_hier_f1"] == pytest.approx(full["consistent_hier_f1"])
    mask = np.zeros(len(tree), bool)
    mask[leaves] = True
    assert evaluate_predictions(y, scores, tree=tree, threshold=0.55, scored_labels=mask) == got
    with pytest.raises(ValueError, match="scored_labels must name"):
        evaluate_predictions(y, scores, scored_labels=[len(tree)])
    with pytest.raises(ValueError, match="metric_labels must be one of"):
        scored_label_ids(tree, "codes")


def test_threshold_tuning_on_scored_labels():
    from mlcl_text.evaluation.thresholds import Thresholds, tune_global_threshold

    _, y, scores, leaves = _icd_like_case(1)
    tuned = Thresholds.tune(y, scores, per_label=False, scored_labels=leaves)
    assert tuned.global_threshold == tune_global_threshold(y[:, leaves], scores[:, leaves])


def test_per_label_scores_agree_with_the_flat_scores():
    from mlcl_text.evaluation.metrics import evaluate_predictions, per_label_scores

    rng = np.random.default_rng(5)
    y = (rng.random((40, 6)) < 0.3).astype(int)
    scores = rng.random((40, 6)).astype(np.float32)
    thresholds = np.linspace(0.3, 0.7, 6)
    per_label = per_label_scores(sp.csr_matrix(y), scores, thresholds)
    flat = evaluate_predictions(y, scores, threshold=thresholds)
    assert per_label["f1"].mean() == pytest.approx(flat["macro_f1"])
    assert per_label["threshold"].tolist() == thresholds.tolist()
    decided = scores >= thresholds.astype(np.float32)
    assert per_label["predicted"].tolist() == decided.sum(axis=0).tolist()
    np.testing.assert_allclose(
        per_label["recall"], (decided & (y == 1)).sum(axis=0) / np.maximum(y.sum(axis=0), 1)
    )
