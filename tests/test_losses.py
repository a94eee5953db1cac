"""Correctness of the contrastive losses against plain loops written from the papers.

Every reference below is a per-anchor double loop over ``i`` (anchors) and ``j`` (the contrast
set) in float64 Python arithmetic, written from the formulas of the papers (Khosla et al. 2020
eq. 2; the ANY / ALL / Jaccard multi-label baselines; Huang et al. 2024 for the
Similarity-Dissimilarity weights; Zhang & Wu AAAI 2024 for MulSupCon; Zhang et al. CVPR 2022
for HiMulCon / HiConE / HiMulConE). None of them calls mlcl_text's kernel or positive rules.
"""

from __future__ import annotations

import math
import random

import pytest
import torch
from pytorch_metric_learning import losses as pml_losses

from mlcl_text import LabelTree
from mlcl_text.losses import (
    ContrastiveHeadSpec,
    HierarchicalContrastiveLoss,
    LabelSubsetView,
    LevelView,
    MulSupConLoss,
    MultiLabelSupConLoss,
    MultiLevelContrastiveLoss,
    SimilarityDissimilarityLoss,
    SupConLoss,
    weighted_supcon_loss,
)
from mlcl_text.losses.positives import similarity_dissimilarity

DTYPES = [torch.float16, torch.float32, torch.float64]
MULTI_LABEL_RULES = ["any", "all", "jaccard"]
MODES = ["himulcon", "hicone", "himulcone"]
PENALTIES = ["exp", "pow2", "none"]

# A 3-level tree: depth 1 = {A, B, C}, depth 2 = {A/A1, A/A2, B/B1, B/B2}, depth 3 = leaves.
# "B/B2" and "C" are leaves above the deepest level.
PATHS = ["A/A1/a", "A/A1/b", "A/A2/c", "B/B1/d", "B/B1/e", "B/B2", "C"]
TREE = LabelTree.from_paths(PATHS)
DEPTH = 3


# ---------------------------------------------------------------------------- references
def unit_rows(embeddings: torch.Tensor) -> list[list[float]]:
    """Rows scaled to unit L2 norm, as float64 Python lists."""
    z = embeddings.detach().to(torch.float64)
    return (z / z.norm(dim=1, keepdim=True)).tolist()


def dot(u: list[float], v: list[float]) -> float:
    return math.fsum(a * b for a, b in zip(u, v, strict=True))


def log_probabilities(
    anchors: list[list[float]], contrast: list[list[float]], tau: float
) -> list[list[float] | None]:
    """``log p_ij = z_i·c_j/τ − log Σ_{a≠i} exp(z_i·c_a/τ)``; anchor ``i`` is contrast row ``i``.

    ``None`` for an anchor alone in its contrast set.
    """
    out: list[list[float] | None] = []
    for i, z_i in enumerate(anchors):
        logits = [dot(z_i, c_j) / tau for c_j in contrast]
        others = [logits[a] for a in range(len(contrast)) if a != i]
        if not others:
            out.append(None)
            continue
        peak = max(others)
        log_z = peak + math.log(math.fsum(math.exp(s - peak) for s in others))
        out.append([s - log_z for s in logits])
    return out


def weighted_mean_loss(logp, weight, omega=None) -> float:
    """``Σ_i ω_i ℓ_i / Σ_i ω_i`` over anchors with ``Σ_{j≠i} W_ij > 0``, where
    ``ℓ_i = −Σ_{j≠i} W_ij log p_ij / Σ_{j≠i} W_ij``; 0 when no anchor has a positive."""
    numerator = denominator = 0.0
    for i, row in enumerate(logp):
        if row is None:
            continue
        w = [0.0 if j == i else float(weight(i, j)) for j in range(len(row))]
        total = math.fsum(w)
        if total <= 0:
            continue
        loss_i = -math.fsum(w[j] * row[j] for j in range(len(row)) if w[j] != 0) / total
        om = 1.0 if omega is None else float(omega[i])
        numerator += om * loss_i
        denominator += om
    return numerator / denominator if denominator > 0 else 0.0


def label_sets(labels: torch.Tensor) -> list[frozenset[int]]:
    """``[N]`` ids or ``[N, L]`` multi-hot as a list of label-id sets."""
    if labels.ndim == 1:
        return [frozenset([int(v)]) for v in labels.tolist()]
    return [frozenset(j for j, v in enumerate(row) if v != 0) for row in labels.tolist()]


def with_memory(embeddings, labels, memory):
    """Anchors, contrast rows (batch then memory) and the label sets of the contrast rows."""
    anchors = unit_rows(embeddings)
    sets = label_sets(labels)
    contrast = list(anchors)
    if memory is not None:
        contrast += unit_rows(memory[0])
        sets += label_sets(memory[1])
    return anchors, contrast, sets


def ref_supcon(embeddings, ids, tau, memory=None) -> float:
    """Khosla et al. 2020, eq. 2 (L_out), literally; mean over anchors with a positive."""
    anchors, contrast, sets = with_memory(embeddings, ids, memory)
    per_anchor = []
    for i, z_i in enumerate(anchors):
        positives = [p for p in range(len(contrast)) if p != i and sets[p] == sets[i]]
        if not positives:
            continue
        denominator = math.fsum(
            math.exp(dot(z_i, contrast[a]) / tau) for a in range(len(contrast)) if a != i
        )
        per_anchor.append(
            -1.0
            / len(positives)
            * math.fsum(
                math.log(math.exp(dot(z_i, contrast[p]) / tau) / denominator) for p in positives
            )
        )
    return math.fsum(per_anchor) / len(per_anchor) if per_anchor else 0.0


def rule_weight(rule: str, s: frozenset, t: frozenset) -> float:
    if rule == "any":
        return float(len(s & t) > 0)
    if rule == "all":
        return float(s == t and len(s) > 0)
    if rule == "jaccard":
        return len(s & t) / len(s | t) if s | t else 0.0
    if rule == "sd":
        if not s:
            return 0.0
        k_s = len(s & t) / len(s)
        k_d = 1.0 / (1.0 + len(t - s))
        return k_s * k_d
    raise AssertionError(rule)


def ref_multilabel(embeddings, labels, tau, rule, memory=None) -> float:
    anchors, contrast, sets = with_memory(embeddings, labels, memory)
    logp = log_probabilities(anchors, contrast, tau)
    return weighted_mean_loss(logp, lambda i, j: rule_weight(rule, sets[i], sets[j]))


def ref_mulsupcon(embeddings, labels, tau, memory=None) -> float:
    """Zhang & Wu 2024: mean over (i, k) with y_ik = 1 and P_k(i) ≠ ∅ of −1/|P_k(i)| Σ log p_ip."""
    anchors, contrast, sets = with_memory(embeddings, labels, memory)
    logp = log_probabilities(anchors, contrast, tau)
    terms = []
    for i in range(len(anchors)):
        for k in sorted(sets[i]):
            positives = [p for p in range(len(contrast)) if p != i and k in sets[p]]
            if positives:
                terms.append(-math.fsum(logp[i][p] for p in positives) / len(positives))
    return math.fsum(terms) / len(terms) if terms else 0.0


def ancestor_at_depth(name: str, depth: int) -> str | None:
    """A path's ancestor-or-self at ``depth`` (1 = roots), from the path string itself."""
    parts = name.split("/")
    return "/".join(parts[:depth]) if len(parts) >= depth else None


def level_set(names: frozenset[str], depth: int) -> frozenset[str]:
    return frozenset(a for a in (ancestor_at_depth(n, depth) for n in names) if a is not None)


def penalty_value(penalty: str, level: int) -> float:
    return {"exp": math.exp(1.0 / level), "pow2": 2.0 ** (1.0 / level), "none": 1.0}[penalty]


def ref_level_losses(embeddings, names, tau, positives, memory=None) -> list[float]:
    """``L_l`` for ``l = 1`` (deepest depth) … ``D`` (roots)."""
    anchors = unit_rows(embeddings)
    contrast = list(anchors)
    names = list(names)
    if memory is not None:
        contrast += unit_rows(memory[0])
        names += list(memory[1])
    logp = log_probabilities(anchors, contrast, tau)
    out = []
    for level in range(1, DEPTH + 1):
        sets = [level_set(n, DEPTH - level + 1) for n in names]
        out.append(
            weighted_mean_loss(
                logp, lambda i, j, sets=sets: rule_weight(positives, sets[i], sets[j])
            )
        )
    return out


def ref_hierarchical(embeddings, names, tau, mode, penalty, positives="all", memory=None):
    level_losses = ref_level_losses(embeddings, names, tau, positives, memory)
    running_max, maxima = -math.inf, []
    for value in level_losses:
        running_max = max(running_max, value)
        maxima.append(running_max)
    lam = [penalty_value(penalty, level) for level in range(1, DEPTH + 1)]
    if mode == "himulcon":
        return math.fsum(lm * v for lm, v in zip(lam, level_losses, strict=True)) / DEPTH
    if mode == "hicone":
        return math.fsum(maxima) / DEPTH
    return math.fsum(lm * v for lm, v in zip(lam, maxima, strict=True)) / DEPTH


def ref_weighted_kernel(embeddings, weights, tau, omega=None) -> float:
    z = unit_rows(embeddings)
    w = weights.tolist()
    return weighted_mean_loss(log_probabilities(z, z, tau), lambda i, j: w[i][j], omega)


# ---------------------------------------------------------------------------- data
def make_batch(seed: int, n: int = 12, d: int = 6, num_labels: int = 5, p: float = 0.35):
    """float64 embeddings and an int64 multi-hot matrix (rows may be empty)."""
    g = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(n, d, generator=g, dtype=torch.float64)
    labels = (torch.rand(n, num_labels, generator=g) < p).long()
    return embeddings, labels


def make_ids(seed: int, n: int = 12, d: int = 6, classes: int = 4):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64), torch.randint(
        0, classes, (n,), generator=g
    )


def hierarchical_names(seed: int, n: int = 14) -> list[frozenset[str]]:
    """Label-name sets over TREE: mostly one label, sometimes two, some shallow, one empty."""
    rng = random.Random(seed)
    pool = ["A/A1/a", "A/A1/a", "A/A1/b", "A/A2/c", "B/B1/d", "B/B1/e", "B/B2", "C", "A/A1", "B"]
    out = []
    for row in range(n):
        if row == n - 1:
            out.append(frozenset())
            continue
        out.append(frozenset(rng.sample(pool, rng.choice([1, 1, 1, 2]))))
    return out


def encode(names: list[frozenset[str]]) -> torch.Tensor:
    labels = torch.zeros(len(names), len(TREE), dtype=torch.long)
    for row, row_names in enumerate(names):
        for name in row_names:
            labels[row, TREE.names.index(name)] = 1
    return labels


def rounded(embeddings: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """The input as the loss sees it; references use ``rounded(...).double()``."""
    return embeddings.to(dtype)


def assert_matches(value: torch.Tensor, expected: float, tol: float = 2e-5) -> None:
    assert value.dtype == torch.float32
    assert value.ndim == 0
    assert math.isfinite(value.item())
    assert value.item() == pytest.approx(expected, rel=tol, abs=tol)


# ---------------------------------------------------------------------------- SupCon
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("tau", [0.05, 0.1, 0.5])
@pytest.mark.parametrize("seed", [0, 1])
def test_supcon_matches_khosla_loop(dtype, tau, seed):
    embeddings, ids = make_ids(seed)
    x = rounded(embeddings, dtype)
    value = SupConLoss(temperature=tau)(x, ids)
    assert_matches(value, ref_supcon(x.double(), ids, tau))


@pytest.mark.parametrize("tau", [0.07, 0.1, 0.3, 1.0])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_supcon_equals_pytorch_metric_learning(tau, seed):
    embeddings, ids = make_ids(seed, n=16, d=8, classes=5)
    x = embeddings.float()
    ours = SupConLoss(temperature=tau)(x, ids)
    theirs = pml_losses.SupConLoss(temperature=tau)(x, ids)
    torch.testing.assert_close(ours, theirs.float(), atol=1e-5, rtol=1e-5)


def test_supcon_equals_pytorch_metric_learning_gradient():
    embeddings, ids = make_ids(3, n=10, d=5, classes=3)
    ours_x = embeddings.float().requires_grad_()
    theirs_x = embeddings.float().requires_grad_()
    SupConLoss(temperature=0.1)(ours_x, ids).backward()
    pml_losses.SupConLoss(temperature=0.1)(theirs_x, ids).backward()
    torch.testing.assert_close(ours_x.grad, theirs_x.grad, atol=1e-5, rtol=1e-4)


def test_supcon_rejects_multi_hot_matrix():
    embeddings, labels = make_batch(0)
    with pytest.raises(ValueError, match="MultiLabelSupConLoss"):
        SupConLoss()(embeddings, labels)


# ---------------------------------------------------------------------------- multi-label SupCon
@pytest.mark.parametrize("rule", MULTI_LABEL_RULES)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multilabel_supcon_matches_loop(rule, dtype, seed):
    embeddings, labels = make_batch(seed)
    x = rounded(embeddings, dtype)
    value = MultiLabelSupConLoss(positives=rule, temperature=0.1)(x, labels)
    assert_matches(value, ref_multilabel(x.double(), labels, 0.1, rule))


@pytest.mark.parametrize("rule", MULTI_LABEL_RULES)
def test_multilabel_supcon_accepts_bool_and_float_matrices(rule):
    embeddings, labels = make_batch(4)
    loss = MultiLabelSupConLoss(positives=rule)
    expected = loss(embeddings, labels)
    torch.testing.assert_close(loss(embeddings, labels.bool()), expected)
    torch.testing.assert_close(loss(embeddings, labels.float()), expected)


def test_multilabel_supcon_rejects_unknown_rule():
    with pytest.raises(ValueError, match="positives"):
        MultiLabelSupConLoss(positives="sd")


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support")
@pytest.mark.parametrize("loss_name", ["any", "all", "jaccard", "sd", "mulsupcon"])
def test_wide_sparse_labels_match_loop(loss_name):
    """≥ 64 label columns with < 5 % non-zeros: the sparse intersection path."""
    g = torch.Generator().manual_seed(7)
    n, width = 16, 80
    embeddings = torch.randn(n, 6, generator=g, dtype=torch.float64)
    labels = torch.zeros(n, width, dtype=torch.long)
    pool = [3, 17, 41, 64, 79]
    for row in range(n):
        for col in torch.randperm(len(pool), generator=g)[: 1 + row % 3].tolist():
            labels[row, pool[col]] = 1
    assert labels.count_nonzero() < 0.05 * labels.numel()
    if loss_name == "sd":
        value = SimilarityDissimilarityLoss(0.1)(embeddings, labels)
        expected = ref_multilabel(embeddings, labels, 0.1, "sd")
    elif loss_name == "mulsupcon":
        value = MulSupConLoss(0.1)(embeddings, labels)
        expected = ref_mulsupcon(embeddings, labels, 0.1)
    else:
        value = MultiLabelSupConLoss(loss_name, 0.1)(embeddings, labels)
        expected = ref_multilabel(embeddings, labels, 0.1, loss_name)
    assert_matches(value, expected)


# ---------------------------------------------------------------------------- Similarity-Dissimilarity
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_similarity_dissimilarity_matches_loop(dtype, seed):
    embeddings, labels = make_batch(seed)
    x = rounded(embeddings, dtype)
    value = SimilarityDissimilarityLoss(temperature=0.07)(x, labels)
    assert_matches(value, ref_multilabel(x.double(), labels, 0.07, "sd"))


def test_similarity_dissimilarity_five_relations():
    # columns: a, b, c
    def hot(*cols):
        row = [0.0, 0.0, 0.0]
        for c in cols:
            row["abc".index(c)] = 1.0
        return row

    anchors = torch.tensor([hot("a", "b"), hot("a")])
    contrast = torch.tensor([hot("c"), hot("a", "b"), hot("a"), hot("b", "c"), hot("a", "b", "c")])
    w = similarity_dissimilarity(anchors, contrast)
    assert w.shape == (2, 5)
    # anchor S = {a, b}
    assert w[0, 0].item() == 0.0  # disjoint T = {c}
    assert w[0, 1].item() == 1.0  # identical T = {a, b}
    assert w[0, 2].item() == pytest.approx(1 / 2)  # subset T = {a}
    assert w[0, 3].item() == pytest.approx(1 / 2 * 1 / 2)  # partial T = {b, c}
    assert w[0, 4].item() == pytest.approx(1.0 * 1 / 2)  # superset T = {a, b, c}
    # anchor S = {a}
    assert w[1, 0].item() == 0.0  # disjoint
    assert w[1, 4].item() == pytest.approx(1 / 3)  # superset T = {a, b, c}
    assert w[1, 1].item() == pytest.approx(1 / 2)  # superset T = {a, b}
    assert w[1, 2].item() == 1.0  # identical
    # an empty anchor set has no positive
    assert similarity_dissimilarity(torch.zeros(1, 3), contrast).abs().sum().item() == 0.0


@pytest.mark.parametrize("tau", [1.0, 0.5, 0.1])
def test_similarity_dissimilarity_loss_by_hand(tau):
    """4 samples, 2-D unit embeddings at 0°, 0°, 90°, 180°; labels {a,b}, {a}, {b,c}, {c}.

    Dot products: z0·z1 = 1, z0·z3 = z1·z3 = −1, every other pair 0. With t = 1/τ:
      W row 0 ({a,b}): {a} subset 1/2, {b,c} partial 1/4, {c} disjoint 0
      W row 1 ({a}):   {a,b} superset 1/2, others disjoint
      W row 2 ({b,c}): {a,b} partial 1/4, {a} disjoint, {c} subset 1/2
      W row 3 ({c}):   {b,c} superset 1/2, others disjoint
      Z0 = Z1 = e^t + 1 + e^−t,  Z2 = 3,  Z3 = 2e^−t + 1
      ℓ0 = log Z0 − (1/2 · t + 1/4 · 0) / (3/4)
      ℓ1 = log Z1 − t
      ℓ2 = log 3 − 0
      ℓ3 = log Z3 − 0
    """
    embeddings = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    labels = torch.tensor([[1, 1, 0], [1, 0, 0], [0, 1, 1], [0, 0, 1]])
    t = 1.0 / tau
    log_z0 = math.log(math.exp(t) + 1.0 + math.exp(-t))
    losses = [
        log_z0 - (0.5 * t) / 0.75,
        log_z0 - t,
        math.log(3.0),
        math.log(2.0 * math.exp(-t) + 1.0),
    ]
    expected = sum(losses) / 4
    value = SimilarityDissimilarityLoss(temperature=tau)(embeddings, labels)
    assert_matches(value, expected, tol=1e-5)
    # the loops agree with the hand computation
    assert ref_multilabel(embeddings, labels, tau, "sd") == pytest.approx(expected, rel=1e-12)


def test_similarity_dissimilarity_single_label_is_supcon():
    embeddings, ids = make_ids(5)
    one_hot = torch.nn.functional.one_hot(ids, 4)
    torch.testing.assert_close(
        SimilarityDissimilarityLoss(0.1)(embeddings, one_hot), SupConLoss(0.1)(embeddings, ids)
    )


# ---------------------------------------------------------------------------- MulSupCon
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_mulsupcon_matches_loop(dtype, seed):
    embeddings, labels = make_batch(seed)
    x = rounded(embeddings, dtype)
    value = MulSupConLoss(temperature=0.1)(x, labels)
    assert_matches(value, ref_mulsupcon(x.double(), labels, 0.1))


def test_mulsupcon_single_label_is_supcon():
    embeddings, ids = make_ids(6)
    one_hot = torch.nn.functional.one_hot(ids, 4)
    torch.testing.assert_close(
        MulSupConLoss(0.2)(embeddings, one_hot), SupConLoss(0.2)(embeddings, ids)
    )


def test_mulsupcon_differs_from_sample_mean():
    """Anchors are (sample, label) pairs: a sample with two labels counts twice."""
    embeddings, labels = make_batch(2)
    assert ref_mulsupcon(embeddings, labels, 0.1) != pytest.approx(
        ref_multilabel(embeddings, labels, 0.1, "any"), abs=1e-3
    )


# ---------------------------------------------------------------------------- hierarchical
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("penalty", PENALTIES)
@pytest.mark.parametrize("positives", ["all", "any"])
def test_hierarchical_matches_loop(mode, penalty, positives):
    loss = HierarchicalContrastiveLoss(
        TREE, mode=mode, penalty=penalty, positives=positives, temperature=0.1
    )
    for seed in range(3):
        names = hierarchical_names(seed)
        g = torch.Generator().manual_seed(100 + seed)
        embeddings = torch.randn(len(names), 5, generator=g, dtype=torch.float64)
        value = loss(embeddings, encode(names))
        assert_matches(value, ref_hierarchical(embeddings, names, 0.1, mode, penalty, positives))


@pytest.mark.parametrize("dtype", DTYPES)
def test_hierarchical_input_dtypes(dtype):
    names = hierarchical_names(11)
    g = torch.Generator().manual_seed(11)
    x = rounded(torch.randn(len(names), 6, generator=g, dtype=torch.float64), dtype)
    value = HierarchicalContrastiveLoss(TREE, mode="himulcone", temperature=0.2)(x, encode(names))
    assert_matches(value, ref_hierarchical(x.double(), names, 0.2, "himulcone", "exp"))


def test_hierarchical_max_constraint_is_exercised():
    """Across these seeds the running max changes some level loss, and the library follows."""
    used_max = False
    for seed in range(6):
        names = hierarchical_names(seed)
        g = torch.Generator().manual_seed(200 + seed)
        embeddings = torch.randn(len(names), 4, generator=g, dtype=torch.float64)
        levels = ref_level_losses(embeddings, names, 0.1, "all")
        used_max |= any(levels[k] < max(levels[: k + 1]) for k in range(1, DEPTH))
        hicone = HierarchicalContrastiveLoss(TREE, mode="hicone", temperature=0.1)
        assert_matches(
            hicone(embeddings, encode(names)),
            ref_hierarchical(embeddings, names, 0.1, "hicone", "none"),
        )
    assert used_max


@pytest.mark.parametrize("mode", MODES)
def test_hierarchical_node_ids_equal_one_hot(mode):
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(0, len(TREE), (15,), generator=g)
    embeddings = torch.randn(15, 6, generator=g)
    loss = HierarchicalContrastiveLoss(TREE, mode=mode)
    one_hot = torch.nn.functional.one_hot(ids, len(TREE))
    torch.testing.assert_close(loss(embeddings, ids), loss(embeddings, one_hot))
    names = [frozenset([TREE.names[i]]) for i in ids.tolist()]
    assert_matches(loss(embeddings, ids), ref_hierarchical(embeddings, names, 0.1, mode, "exp"))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("penalty", PENALTIES)
def test_hierarchical_level_penalties(mode, penalty):
    loss = HierarchicalContrastiveLoss(TREE, mode=mode, penalty=penalty)
    expected = (
        [1.0] * DEPTH
        if mode == "hicone"
        else [penalty_value(penalty, level) for level in (1, 2, 3)]
    )
    assert loss.level_penalties() == pytest.approx(expected, rel=1e-12)


def test_hierarchical_rejects_bad_arguments():
    with pytest.raises(ValueError, match="mode"):
        HierarchicalContrastiveLoss(TREE, mode="himul")
    with pytest.raises(ValueError, match="penalty"):
        HierarchicalContrastiveLoss(TREE, penalty="linear")
    with pytest.raises(ValueError, match="positives"):
        HierarchicalContrastiveLoss(TREE, positives="some")
    with pytest.raises(ValueError, match="empty"):
        HierarchicalContrastiveLoss(LabelTree([], []))


# ---------------------------------------------------------------------------- MLCL
def mlcl_heads() -> list[ContrastiveHeadSpec]:
    return [
        ContrastiveHeadSpec("roots", "all", level=1, temperature=0.2, weight=0.7),
        ContrastiveHeadSpec("groupA", "jaccard", labels=["A"], temperature=0.1, weight=0.3),
        ContrastiveHeadSpec("sd", "sd", temperature=0.07, weight=0.5),
        ContrastiveHeadSpec("mul", "mulsupcon", temperature=0.1, weight=1.5),
        ContrastiveHeadSpec(
            "hier", "himulcone", temperature=0.15, weight=0.25, options={"penalty": "pow2"}
        ),
    ]


def mlcl_inputs(seed: int):
    names = hierarchical_names(seed, n=12)
    g = torch.Generator().manual_seed(300 + seed)
    embeddings = {
        spec.name: torch.randn(len(names), 3 + k, generator=g, dtype=torch.float64)
        for k, spec in enumerate(mlcl_heads())
    }
    return names, embeddings


@pytest.mark.parametrize("seed", [0, 1])
def test_mlcl_total_is_weighted_sum_of_single_losses(seed):
    names, embeddings = mlcl_inputs(seed)
    embeddings = {k: v.requires_grad_() for k, v in embeddings.items()}
    labels = encode(names)
    loss = MultiLevelContrastiveLoss(mlcl_heads(), tree=TREE)
    out = loss(embeddings, labels)
    singles = {
        "roots": MultiLabelSupConLoss("all", 0.2, view=LevelView(TREE, 1), num_labels=len(TREE)),
        "groupA": MultiLabelSupConLoss(
            "jaccard", 0.1, view=LabelSubsetView.from_names(TREE, ["A"])
        ),
        "sd": SimilarityDissimilarityLoss(0.07),
        "mul": MulSupConLoss(0.1),
        "hier": HierarchicalContrastiveLoss(
            TREE, mode="himulcone", penalty="pow2", temperature=0.15
        ),
    }
    weights = {spec.name: spec.weight for spec in mlcl_heads()}
    values = {name: single(embeddings[name], labels) for name, single in singles.items()}
    assert set(out.components) == set(singles)
    for name, value in values.items():
        torch.testing.assert_close(out.components[name], value)
        assert not out.components[name].requires_grad
    expected_total = sum(weights[name] * values[name] for name in values)
    torch.testing.assert_close(out.loss, expected_total)
    assert out.loss.requires_grad
    out.loss.backward()
    assert all(torch.isfinite(z.grad).all() for z in embeddings.values())


@pytest.mark.parametrize("seed", [0, 1])
def test_mlcl_heads_match_loops_with_their_views(seed):
    names, embeddings = mlcl_inputs(seed)
    out = MultiLevelContrastiveLoss(mlcl_heads(), tree=TREE)(embeddings, encode(names))
    roots = [level_set(n, 1) for n in names]
    group_a = [frozenset(x for x in n if x == "A" or x.startswith("A/")) for n in names]

    def view_loss(z, sets, tau, rule):
        rows = unit_rows(z)
        logp = log_probabilities(rows, rows, tau)
        return weighted_mean_loss(logp, lambda i, j: rule_weight(rule, sets[i], sets[j]))

    expected = {
        "roots": view_loss(embeddings["roots"], roots, 0.2, "all"),
        "groupA": view_loss(embeddings["groupA"], group_a, 0.1, "jaccard"),
        "sd": view_loss(embeddings["sd"], names, 0.07, "sd"),
        "mul": ref_mulsupcon(embeddings["mul"], encode(names), 0.1),
        "hier": ref_hierarchical(embeddings["hier"], names, 0.15, "himulcone", "pow2"),
    }
    for name, value in expected.items():
        assert_matches(out.components[name], value)
    weights = {spec.name: spec.weight for spec in mlcl_heads()}
    assert_matches(out.loss, sum(weights[n] * v for n, v in expected.items()))


def test_mlcl_accepts_embeddings_in_head_order():
    names, embeddings = mlcl_inputs(2)
    loss = MultiLevelContrastiveLoss(mlcl_heads(), tree=TREE)
    by_name = loss(embeddings, encode(names))
    in_order = loss([embeddings[s.name] for s in mlcl_heads()], encode(names))
    torch.testing.assert_close(by_name.loss, in_order.loss)


def test_mlcl_class_head_is_supcon():
    embeddings, ids = make_ids(8)
    loss = MultiLevelContrastiveLoss([ContrastiveHeadSpec("c", "class", weight=2.0)])
    out = loss({"c": embeddings}, ids)
    torch.testing.assert_close(out.components["c"], SupConLoss(0.1)(embeddings, ids))
    torch.testing.assert_close(out.loss, 2.0 * SupConLoss(0.1)(embeddings, ids))


def test_mlcl_errors():
    with pytest.raises(ValueError, match="unique"):
        MultiLevelContrastiveLoss(
            [ContrastiveHeadSpec("h", "any"), ContrastiveHeadSpec("h", "sd")], tree=TREE
        )
    with pytest.raises(ValueError, match="tree"):
        MultiLevelContrastiveLoss([ContrastiveHeadSpec("h", "all", level=1)])
    with pytest.raises(ValueError, match="tree"):
        MultiLevelContrastiveLoss([ContrastiveHeadSpec("h", "any", labels=["A"])])
    with pytest.raises(ValueError, match="tree"):
        MultiLevelContrastiveLoss([ContrastiveHeadSpec("h", "hicone")])
    with pytest.raises(ValueError, match="positives"):
        ContrastiveHeadSpec("h", "cosine")
    with pytest.raises(ValueError, match="positives"):
        MultiLevelContrastiveLoss([{"name": "h", "positives": "cosine"}], tree=TREE)
    with pytest.raises(ValueError, match="unknown contrastive-head keys"):
        MultiLevelContrastiveLoss([{"name": "h", "rule": "any"}], tree=TREE)
    with pytest.raises(ValueError, match="at least one head"):
        MultiLevelContrastiveLoss([], tree=TREE)
    names, embeddings = mlcl_inputs(0)
    loss = MultiLevelContrastiveLoss(mlcl_heads(), tree=TREE)
    with pytest.raises(ValueError, match="no embeddings"):
        loss({"roots": embeddings["roots"]}, encode(names))
    with pytest.raises(ValueError, match="embedding tensors"):
        loss([embeddings["roots"]], encode(names))


# ---------------------------------------------------------------------------- memory
MEMORY_CASES = {
    "supcon": (lambda k: SupConLoss(0.1, memory_size=k), "ids"),
    "any": (lambda k: MultiLabelSupConLoss("any", 0.1, memory_size=k), "multi"),
    "jaccard": (lambda k: MultiLabelSupConLoss("jaccard", 0.1, memory_size=k), "multi"),
    "sd": (lambda k: SimilarityDissimilarityLoss(0.1, memory_size=k), "multi"),
    "mulsupcon": (lambda k: MulSupConLoss(0.1, memory_size=k), "multi"),
    "himulcone": (
        lambda k: HierarchicalContrastiveLoss(TREE, temperature=0.1, memory_size=k),
        "tree",
    ),
}


def memory_batch(kind: str, seed: int, n: int):
    g = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(n, 5, generator=g, dtype=torch.float64)
    if kind == "ids":
        return embeddings, torch.randint(0, 3, (n,), generator=g)
    if kind == "multi":
        return embeddings, (torch.rand(n, 4, generator=g) < 0.4).long()
    return embeddings, encode(hierarchical_names(seed, n))


def memory_reference(name: str, embeddings, labels, memory):
    if name == "supcon":
        return ref_supcon(embeddings, labels, 0.1, memory)
    if name == "mulsupcon":
        return ref_mulsupcon(embeddings, labels, 0.1, memory)
    if name == "himulcone":
        memory_names = None
        if memory is not None:
            memory_names = [frozenset(TREE.names[j] for j in s) for s in label_sets(memory[1])]
            memory = (memory[0], memory_names)
        names = [frozenset(TREE.names[j] for j in s) for s in label_sets(labels)]
        return ref_hierarchical(embeddings, names, 0.1, "himulcone", "exp", memory=memory)
    return ref_multilabel(embeddings, labels, 0.1, name, memory)


@pytest.mark.parametrize("name", list(MEMORY_CASES))
def test_memory_contrast_set_is_batch_then_previous_batch(name):
    factory, kind = MEMORY_CASES[name]
    loss = factory(32).train()
    first = memory_batch(kind, 1, 7)
    second = memory_batch(kind, 2, 9)
    first_x = first[0].clone().requires_grad_()
    value_1 = loss(first_x, first[1])
    assert_matches(value_1, memory_reference(name, *first, None))
    assert len(loss.memory) == 7
    second_x = second[0].clone().requires_grad_()
    value_2 = loss(second_x, second[1])
    assert_matches(value_2, memory_reference(name, *second, first))
    assert len(loss.memory) == 16
    # memory rows are constants: no gradient reaches the previous batch through them
    value_2.backward()
    assert first_x.grad is None
    assert second_x.grad is not None and torch.isfinite(second_x.grad).all()


def test_memory_ring_buffer_keeps_newest_rows():
    loss = MultiLabelSupConLoss("any", 0.1, memory_size=5).train()
    b1, b2, b3, b4 = (memory_batch("multi", s, 3) for s in (11, 12, 13, 14))
    loss(*b1)
    loss(*b2)  # 6 rows pushed into 5 slots: b1[0] is overwritten
    assert len(loss.memory) == 5
    stored = loss.memory.contents()
    kept_x = torch.cat([b1[0][1:], b2[0]])
    kept_y = torch.cat([b1[1][1:], b2[1]])
    assert sorted(map(tuple, stored[0].double().round(decimals=5).tolist())) == sorted(
        map(tuple, (kept_x / kept_x.norm(dim=1, keepdim=True)).round(decimals=5).tolist())
    )
    assert stored[1].dtype == torch.bool
    assert sorted(map(tuple, stored[1].long().tolist())) == sorted(map(tuple, kept_y.tolist()))
    value = loss(*b3)
    assert_matches(value, ref_multilabel(*b3, 0.1, "any", memory=(kept_x, kept_y)))
    # newest 5 are now b2[1:], b3
    value = loss(*b4)
    memory = (torch.cat([b2[0][1:], b3[0]]), torch.cat([b2[1][1:], b3[1]]))
    assert_matches(value, ref_multilabel(*b4, 0.1, "any", memory=memory))


def test_memory_batch_larger_than_memory_keeps_its_last_rows():
    loss = MultiLabelSupConLoss("any", 0.1, memory_size=4).train()
    big = memory_batch("multi", 21, 7)
    nxt = memory_batch("multi", 22, 5)
    loss(*big)
    assert len(loss.memory) == 4
    value = loss(*nxt)
    assert_matches(value, ref_multilabel(*nxt, 0.1, "any", memory=(big[0][-4:], big[1][-4:])))


def test_memory_eval_mode_does_not_push():
    loss = MultiLabelSupConLoss("any", 0.1, memory_size=16)
    b1, b2, b3 = (memory_batch("multi", s, 4) for s in (31, 32, 33))
    loss.eval()
    assert_matches(loss(*b1), ref_multilabel(*b1, 0.1, "any"))
    assert len(loss.memory) == 0
    loss.train()
    loss(*b1)
    assert len(loss.memory) == 4
    loss.eval()
    before = [t.clone() for t in loss.memory.contents()]
    # in eval mode the stored rows are still contrasted, but nothing new is stored
    assert_matches(loss(*b2), ref_multilabel(*b2, 0.1, "any", memory=b1))
    assert_matches(loss(*b3), ref_multilabel(*b3, 0.1, "any", memory=b1))
    assert len(loss.memory) == 4
    after = loss.memory.contents()
    assert torch.equal(before[0], after[0]) and torch.equal(before[1], after[1])


# ---------------------------------------------------------------------------- edge cases
def _all_losses():
    return {
        "supcon": SupConLoss(0.1),
        "any": MultiLabelSupConLoss("any"),
        "all": MultiLabelSupConLoss("all"),
        "jaccard": MultiLabelSupConLoss("jaccard"),
        "sd": SimilarityDissimilarityLoss(),
        "mulsupcon": MulSupConLoss(),
        "himulcon": HierarchicalContrastiveLoss(TREE, mode="himulcon"),
        "hicone": HierarchicalContrastiveLoss(TREE, mode="hicone"),
        "himulcone": HierarchicalContrastiveLoss(TREE, mode="himulcone"),
    }


LOSS_NAMES = list(_all_losses())


def no_positive_labels(name: str, n: int) -> torch.Tensor:
    """Labels of ``n ≤ 4`` samples among which no pair is positive for ``name``."""
    if name == "supcon":
        return torch.arange(n)
    if name in ("himulcon", "hicone", "himulcone"):
        names = [frozenset({"A/A1/a"}), frozenset({"B/B2"}), frozenset({"C"}), frozenset()]
        return encode(names[:n])
    labels = torch.eye(4, dtype=torch.long)[:n]
    if n == 4:
        labels[3] = 0  # an empty row
    return labels


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_no_positives_gives_exact_zero_and_zero_gradients(name):
    embeddings = torch.randn(4, 6, generator=torch.Generator().manual_seed(0))
    embeddings.requires_grad_()
    value = _all_losses()[name](embeddings, no_positive_labels(name, 4))
    assert value.item() == 0.0
    assert value.dtype == torch.float32
    assert value.requires_grad
    value.backward()
    assert embeddings.grad is not None
    assert torch.equal(embeddings.grad, torch.zeros_like(embeddings))


def test_mlcl_without_positives_is_zero():
    heads = [ContrastiveHeadSpec("a", "any"), ContrastiveHeadSpec("h", "hicone")]
    loss = MultiLevelContrastiveLoss(heads, tree=TREE)
    embeddings = {k: torch.randn(3, 4).requires_grad_() for k in ("a", "h")}
    labels = no_positive_labels("himulcon", 3)
    out = loss(embeddings, labels)
    assert out.loss.item() == 0.0
    out.loss.backward()
    for z in embeddings.values():
        assert z.grad is not None and not z.grad.any()


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_single_sample_is_zero_without_nan(name):
    embeddings = torch.randn(1, 5).requires_grad_()
    value = _all_losses()[name](embeddings, no_positive_labels(name, 1))
    assert value.item() == 0.0
    value.backward()
    assert embeddings.grad is not None
    assert torch.isfinite(embeddings.grad).all() and not embeddings.grad.any()


@pytest.mark.parametrize("rule", ["any", "all", "jaccard", "sd", "mulsupcon"])
def test_anchors_without_positives_contribute_nothing(rule):
    """Samples 0-1 share label 0, samples 2-3 share label 1; 4 has a label of its own, 5 none."""
    embeddings = torch.randn(6, 4, generator=torch.Generator().manual_seed(9), dtype=torch.float64)
    labels = torch.tensor(
        [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=torch.long
    )
    if rule == "sd":
        loss, expected = (
            SimilarityDissimilarityLoss(0.1),
            ref_multilabel(embeddings, labels, 0.1, "sd"),
        )
    elif rule == "mulsupcon":
        loss, expected = MulSupConLoss(0.1), ref_mulsupcon(embeddings, labels, 0.1)
    else:
        loss, expected = (
            MultiLabelSupConLoss(rule, 0.1),
            ref_multilabel(embeddings, labels, 0.1, rule),
        )
    value = loss(embeddings, labels)
    assert_matches(value, expected)
    # by hand: the mean over anchors 0-3 only; 4 and 5 are negatives but never anchors
    z = unit_rows(embeddings)
    logp = log_probabilities(z, z, 0.1)
    partner = {0: 1, 1: 0, 2: 3, 3: 2}
    by_hand = sum(-logp[i][partner[i]] for i in range(4)) / 4
    assert_matches(value, by_hand)


def test_supcon_anchors_without_positives_contribute_nothing():
    embeddings = torch.randn(5, 4, generator=torch.Generator().manual_seed(10), dtype=torch.float64)
    ids = torch.tensor([0, 0, 1, 2, 3])
    z = unit_rows(embeddings)
    logp = log_probabilities(z, z, 0.1)
    by_hand = (-logp[0][1] - logp[1][0]) / 2
    value = SupConLoss(0.1)(embeddings, ids)
    assert_matches(value, by_hand)
    assert_matches(value, ref_supcon(embeddings, ids, 0.1))


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_invalid_shapes_raise(name):
    loss = _all_losses()[name]
    width = len(TREE)
    with pytest.raises(ValueError, match="N = 4"):
        loss(torch.randn(4, 3), torch.zeros(5, width))
    with pytest.raises(ValueError, match="N = 4"):
        loss(torch.randn(4, 3), torch.zeros(5, dtype=torch.long))
    with pytest.raises(ValueError, match="integer class ids"):
        loss(torch.randn(4, 3), torch.tensor([0.0, 1.0, 1.0, 0.0]))
    with pytest.raises(ValueError, match="integer class ids"):
        loss(torch.randn(4, 3), torch.tensor([True, False, True, False]))
    with pytest.raises(ValueError, match=">= 0"):
        loss(torch.randn(4, 3), torch.tensor([0, -1, 1, 0]))
    with pytest.raises(ValueError, match=r"\[N, d\]"):
        loss(torch.randn(4, 3, 2), torch.tensor([0, 1, 1, 0]))
    with pytest.raises(ValueError, match=r"\[N, d\]"):
        loss(torch.randn(4), torch.tensor([0, 1, 1, 0]))
    with pytest.raises(ValueError, match="labels"):
        loss(torch.randn(4, 3), torch.zeros(4, width, 2))


@pytest.mark.parametrize(
    "factory",
    [
        SupConLoss,
        lambda t: MultiLabelSupConLoss("any", t),
        SimilarityDissimilarityLoss,
        MulSupConLoss,
        lambda t: HierarchicalContrastiveLoss(TREE, temperature=t),
        lambda t: MultiLevelContrastiveLoss([ContrastiveHeadSpec("h", "any", temperature=t)]),
    ],
)
@pytest.mark.parametrize("tau", [0.0, -0.1, float("nan")])
def test_temperature_must_be_positive(factory, tau):
    with pytest.raises(ValueError, match="temperature"):
        factory(tau)


# ---------------------------------------------------------------------------- kernel
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("with_omega", [False, True])
def test_weighted_supcon_loss_matches_loop(dtype, seed, with_omega):
    g = torch.Generator().manual_seed(seed)
    n = 10
    x = rounded(torch.randn(n, 7, generator=g, dtype=torch.float64), dtype)
    weights = torch.rand(n, n, generator=g, dtype=torch.float64) * 3
    weights[torch.rand(n, n, generator=g) < 0.5] = 0  # sparse, arbitrary, self column non-zero
    weights[2] = 0  # an anchor without positives
    weights[5] = 0
    weights[5, 5] = 4.0  # only a self weight: still no positive
    omega = (torch.rand(n, generator=g, dtype=torch.float64) * 2) if with_omega else None
    if omega is not None:
        omega[7] = 0.0
    tau = 0.1 + 0.2 * seed
    value = weighted_supcon_loss(x, weights, tau, omega)
    assert_matches(value, ref_weighted_kernel(x.double(), weights, tau, omega))


def test_weighted_supcon_loss_zero_weights_is_zero():
    x = torch.randn(5, 3).requires_grad_()
    weights = torch.eye(5) * 2.0  # only self weights, which are ignored
    value = weighted_supcon_loss(x, weights, 0.1)
    assert value.item() == 0.0
    value.backward()
    assert torch.equal(x.grad, torch.zeros_like(x))


# ---------------------------------------------------------------------- SD head label views
def _closed_batch(tree: LabelTree, n: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    leaves = [tree.index(name) for name in tree.leaves]
    rows = torch.zeros(n, len(tree))
    for row in rows:
        count = 1 + int(torch.randint(2, (1,), generator=generator))
        chosen = torch.randperm(len(leaves), generator=generator)[:count]
        row[[leaves[i] for i in chosen]] = 1
    return torch.as_tensor(tree.closure(rows.numpy()))


def test_most_specific_view_matches_the_tree():
    from mlcl_text.losses.views import MostSpecificView

    tree = LabelTree.from_paths(["A/a/1", "A/a/2", "A/b", "B/c/3"], sep="/")
    labels = _closed_batch(tree, 12, seed=0)
    labels[0, tree.index("B")] = 1  # a row that is not ancestor-closed keeps B
    view = MostSpecificView(tree)
    assert torch.equal(view(labels), torch.as_tensor(tree.most_specific(labels.numpy())).float())


def test_sd_heads_compare_leaf_label_sets_by_default():
    tree = LabelTree.from_paths(["C1/c1/x", "C1/c1/y", "C1/c2/z", "C2/c3/w", "C2/c3/v"], sep="/")
    labels = _closed_batch(tree, 16, seed=1)
    z = torch.randn(16, 8, generator=torch.Generator().manual_seed(2))
    leaves = torch.as_tensor(tree.most_specific(labels.numpy())).float()
    plain = SimilarityDissimilarityLoss(temperature=0.1)
    default = MultiLevelContrastiveLoss([ContrastiveHeadSpec("codes", "sd")], tree=tree)
    whole = MultiLevelContrastiveLoss([ContrastiveHeadSpec("codes", "sd", view="all")], tree=tree)
    torch.testing.assert_close(default({"codes": z}, labels).loss, plain(z, leaves))
    torch.testing.assert_close(whole({"codes": z}, labels).loss, plain(z, labels))
    assert not torch.allclose(plain(z, leaves), plain(z, labels))
    jaccard = MultiLevelContrastiveLoss([ContrastiveHeadSpec("j", "jaccard")], tree=tree)
    torch.testing.assert_close(
        jaccard({"j": z}, labels).loss, MultiLabelSupConLoss("jaccard", 0.1)(z, labels)
    )


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ({"positives": "sd", "view": "codes"}, "view must be one of"),
        ({"positives": "sd", "view": "leaves", "level": 1}, "without level or labels"),
        ({"positives": "himulcone", "view": "all"}, "takes no view"),
    ],
)
def test_bad_head_views(keys, message):
    with pytest.raises(ValueError, match=message):
        ContrastiveHeadSpec("h", **keys)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_embeddings_are_a_clear_error(bad):
    z = torch.randn(6, 4)
    z[3, 1] = bad
    labels = torch.tensor([[1, 0], [1, 0], [0, 1], [0, 1], [1, 1], [1, 0]])
    for loss in (MultiLabelSupConLoss("any"), SimilarityDissimilarityLoss(), SupConLoss()):
        target = labels if not isinstance(loss, SupConLoss) else labels[:, 0].long()
        with pytest.raises(
            ValueError, match=r"NaN or infinite values in 1 of 6 rows \(first: \[3\]\)"
        ):
            loss(z, target)
