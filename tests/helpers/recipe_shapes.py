"""Synthetic label sets of the shipped recipes' data sets, for checks that need no text.

The real MIMIC, WOS and RCV1 files cannot be in the repository; these generators reproduce
what decides a contrastive head's positives: the label tree's shape, labels per document and
how skewed the label frequencies are (figures from the data sets' papers and loaders):

* MIMIC-III top-50 / MIMIC-IV ICD-10 top-50: 50 codes under about 40 categories and 15
  chapters, 5.7 codes per discharge summary, code frequencies from 38 % down to 3 %;
* MIMIC-III full: 8,929 codes, 15.9 per document, Zipf-distributed (most codes are rare);
* WOS-46985: 7 domains, 134 areas, one area per document;
* RCV1-v2: 103 topics on 4 levels under 4 roots, about 3.2 ancestor-closed topics per document.
"""

from __future__ import annotations

import numpy as np

from mlcl_text import LabelTree


def icd_like(
    n: int, codes: int, per_document: float, categories: int, chapters: int, zipf: float, seed: int
) -> tuple[LabelTree, np.ndarray]:
    """Chapter → category → code tree; Poisson(per_document) codes per document (at least
    one), drawn with probability ∝ rank^-zipf; rows ancestor-closed."""
    paths = [f"ch{(c % categories) % chapters}/cat{c % categories}/code{c}" for c in range(codes)]
    tree = LabelTree.from_paths(paths, sep="/")
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, codes + 1) ** zipf
    weights /= weights.sum()
    code_ids = np.asarray([tree.index(path) for path in paths])
    rows = np.zeros((n, len(tree)), dtype=np.float32)
    for row in rows:
        count = min(codes, max(1, int(rng.poisson(per_document))))
        row[code_ids[rng.choice(codes, size=count, replace=False, p=weights)]] = 1
    return tree, np.asarray(tree.closure(rows))


def mimic_top50(n: int = 3000, seed: int = 0) -> tuple[LabelTree, np.ndarray]:
    return icd_like(n, 50, 5.7, categories=40, chapters=15, zipf=0.8, seed=seed)


def mimic_full(n: int = 3000, seed: int = 0) -> tuple[LabelTree, np.ndarray]:
    return icd_like(n, 8929, 15.9, categories=1200, chapters=19, zipf=1.0, seed=seed)


def wos_like(n: int = 3000, seed: int = 0) -> tuple[LabelTree, np.ndarray]:
    """7 domains, 134 areas (19 or 20 each), one area per document, frequencies ×0.3–×1.7."""
    paths = [f"domain{a % 7}/area{a}" for a in range(134)]
    tree = LabelTree.from_paths(paths, sep="/")
    rng = np.random.default_rng(seed)
    weights = rng.uniform(0.3, 1.7, size=134)
    area_ids = np.asarray([tree.index(path) for path in paths])
    rows = np.zeros((n, len(tree)), dtype=np.float32)
    rows[np.arange(n), area_ids[rng.choice(134, size=n, p=weights / weights.sum())]] = 1
    return tree, np.asarray(tree.closure(rows))


def rcv1_like(n: int = 3000, seed: int = 0) -> tuple[LabelTree, np.ndarray]:
    """4 roots, 55 level-2, 35 level-3 and 9 level-4 topics (103); 1–2 topics below the roots
    per document (Zipf over topics), ancestor-closed: about 3.2 topics per document."""
    parents: dict[str, str | None] = {f"R{r}": None for r in range(4)}
    level2 = [f"R{i % 4}.{i}" for i in range(55)]
    level3 = [f"{level2[i % 20]}.{i}" for i in range(35)]
    level4 = [f"{level3[i % 5]}.{i}" for i in range(9)]
    for name in level2 + level3 + level4:
        parents[name] = name.rsplit(".", 1)[0]
    tree = LabelTree.from_parents(parents)
    topics = level2 + level3 + level4
    rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, len(topics) + 1) ** 0.7
    weights /= weights.sum()
    rows = np.zeros((n, len(tree)), dtype=np.float32)
    for row in rows:
        chosen = rng.choice(len(topics), size=int(rng.integers(1, 3)), replace=False, p=weights)
        row[[tree.index(topics[t]) for t in chosen]] = 1
    return tree, np.asarray(tree.closure(rows))
