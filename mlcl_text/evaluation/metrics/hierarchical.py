r"""Hierarchical scores of predictions over a :class:`~mlcl_text.hierarchy.LabelTree`.

``Ĉ`` is a document's true label set and ``Ĉ'`` its predicted set, each closed under
ancestors (:meth:`LabelTree.closure`: a label brings its parent, grandparent, … up to its
root):

* ``hier_precision = Σ_i |Ĉ_i ∩ Ĉ'_i| / Σ_i |Ĉ'_i|``,
  ``hier_recall = Σ_i |Ĉ_i ∩ Ĉ'_i| / Σ_i |Ĉ_i|``,
  ``hier_f1 = 2 hP hR / (hP + hR)`` (Kiritchenko, Matwin & Famili 2005; Kiritchenko, Matwin,
  Nock & Famili 2006; sums over documents — the micro-averaged form of Silla & Freitas 2011
  and of ``hiclass.metrics.precision/recall/f1(average="micro")``). Every label of the forest,
  roots included, is a node of the sets (there is no artificial super-root to exclude).
* ``level{d}_micro_f1`` / ``level{d}_macro_f1``: micro/macro F1 (as in
  :mod:`mlcl_text.evaluation.metrics.flat`) of the level-``d`` view of the closed sets,
  ``tree.level_view(closure(·), d)`` — the columns ``tree.level_ids(d)`` of the closed
  matrices — for ``d = 1 … tree.num_levels``.
* ``violation_rate``: the share of predicted labels whose parent is not predicted,
  ``Σ_ij P_ij [parent(j) exists and P_i,parent(j) = 0] / ΣP`` (0 when nothing is predicted;
  counted by :func:`mlcl_text.evaluation.metrics.counts.count_predictions`).
* ``consistent_*``: the set-based, hierarchical and per-level scores again, for the
  hierarchy-consistent decoding of ``P`` (:meth:`LabelTree.consistent_decoding`: a predicted
  label survives only when its whole ancestor path is predicted).

References:
    Kiritchenko, S., Matwin, S. & Famili, A. F. (2005). Functional annotation of genes using
    hierarchical text categorization. BioLINK SIG, ISMB 2005.
    Kiritchenko, S., Matwin, S., Nock, R. & Famili, A. F. (2006). Learning and evaluation in
    the presence of class hierarchies: application to text categorization. Canadian AI 2006,
    LNAI 4013.
    Silla, C. N. & Freitas, A. A. (2011). A survey of hierarchical classification across
    different application domains. Data Mining and Knowledge Discovery 22(1–2).
"""

from __future__ import annotations

import numpy as np

from mlcl_text.evaluation.metrics.counts import PredictionCounts
from mlcl_text.evaluation.metrics.flat import prf
from mlcl_text.hierarchy import LabelTree


def hierarchical_scores(
    counts: PredictionCounts, closed_true: np.ndarray, tree: LabelTree
) -> dict[str, float]:
    pooled = prf(counts.closed_tp, counts.closed_pred, closed_true)
    scores = {
        "hier_precision": pooled["micro_precision"],
        "hier_recall": pooled["micro_recall"],
        "hier_f1": pooled["micro_f1"],
    }
    for depth in range(1, tree.num_levels + 1):
        ids = tree.level_ids(depth)
        level = prf(counts.closed_tp[ids], counts.closed_pred[ids], closed_true[ids])
        scores[f"level{depth}_micro_f1"] = level["micro_f1"]
        scores[f"level{depth}_macro_f1"] = level["mean_f1"]
    return scores
