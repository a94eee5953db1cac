"""Loop references of the contrastive losses, written from the papers.

Every reference below is a per-anchor double loop over ``i`` (anchors) and ``j`` (the contrast
set) in float64 Python arithmetic, written from the formulas of the papers (Khosla et al. 2020
eq. 2; the ANY / ALL / Jaccard multi-label baselines; Huang et al. 2024 for the
Similarity-Dissimilarity weights; Zhang & Wu AAAI 2024 for MulSupCon; Zhang et al. CVPR 2022
for HiMulCon / HiConE / HiMulConE). None of them calls mlcl_text's kernel or positive rules.
The hierarchical references work on the label paths of ``TREE``.
"""

from __future__ import annotations

import math

import torch

from mlcl_text import LabelTree

# A 3-level tree: depth 1 = {A, B, C}, depth 2 = {A/A1, A/A2, B/B1, B/B2}, depth 3 = leaves.
# "B/B2" and "C" are leaves above the deepest level.
PATHS = ["A/A1/a", "A/A1/b", "A/A2/c", "B/B1/d", "B/B1/e", "B/B2", "C"]
TREE = LabelTree.from_paths(PATHS)
DEPTH = 3


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
