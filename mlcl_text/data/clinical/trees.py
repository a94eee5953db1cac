"""The label trees of the clinical data sets: one code system's diagnoses and procedures.

A data set's codes get the trees of their tables (:mod:`.icd9`, :mod:`.icd10`), merged into
one forest (:func:`merge_trees`); ``hierarchy="full"`` keeps every level of the tables,
``"compact"`` (the default) cuts it to chapter → category → code (:func:`compact_tree`), so
that levels 1 and 2 are the same kind of node for every code. :func:`icd9_label_tree` is
the tree of MIMIC-III (and of MIMIC-IV with ICD-9), :func:`icd10_label_tree` that of
MIMIC-IV with ICD-10.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from mlcl_text.data.clinical.icd9 import (
    icd9_diagnosis_tree,
    icd9_procedure_tree,
    is_icd9_category,
    is_icd9_procedure,
)
from mlcl_text.data.clinical.icd10 import (
    icd10_cm_tree,
    icd10_pcs_tree,
    is_icd10_category,
    is_icd10_pcs,
)
from mlcl_text.hierarchy import LabelTree

__all__ = ["code_tree", "compact_tree", "icd9_label_tree", "icd10_label_tree", "merge_trees"]


def icd9_label_tree(codes: list[str], hierarchy: str = "compact") -> LabelTree:
    """The label tree of dotted ICD-9-CM diagnosis and procedure codes (MIMIC-III).

    Diagnoses come from :func:`~.icd9.icd9_diagnosis_tree`, procedures from
    :func:`~.icd9.icd9_procedure_tree` with its chapters, so both have chapters as roots.
    ``"compact"`` keeps chapter → category (3 characters, ``E`` + 3 for E-codes, 2 for
    procedures) → code; ``"full"`` every level of the tables.
    """
    return code_tree(
        codes,
        is_procedure=is_icd9_procedure,
        diagnosis_tree=icd9_diagnosis_tree,
        procedure_tree=lambda procedures: icd9_procedure_tree(procedures, chapters=True),
        is_category=is_icd9_category,
        hierarchy=hierarchy,
    )


def icd10_label_tree(codes: list[str], hierarchy: str = "compact") -> LabelTree:
    """The label tree of ICD-10-CM diagnoses and ICD-10-PCS procedures (MIMIC-IV).

    Diagnoses come from :func:`~.icd10.icd10_cm_tree` (chapter → block → category → … →
    code), procedures from :func:`~.icd10.icd10_pcs_tree` (section → body system → root
    operation → code). ``"compact"`` keeps chapter/section → category (3-character
    diagnosis category, PCS root operation) → code; ``"full"`` every level.
    """
    return code_tree(
        codes,
        is_procedure=is_icd10_pcs,
        diagnosis_tree=icd10_cm_tree,
        procedure_tree=icd10_pcs_tree,
        is_category=is_icd10_category,
        hierarchy=hierarchy,
    )


def merge_trees(*trees: LabelTree) -> LabelTree:
    """One forest of several trees; a name in two trees must have the same parent there."""
    parents: dict[str, str | None] = {}
    for tree in trees:
        for name in tree:
            parent = tree.parent(name)
            if name in parents and parents[name] != parent:
                raise ValueError(
                    f"label {name!r} has parent {parents[name]!r} in one tree and {parent!r} "
                    "in another"
                )
            parents[name] = parent
    return LabelTree.from_parents(parents)


def code_tree(
    codes: Sequence[str],
    *,
    is_procedure: Callable[[str], bool],
    diagnosis_tree: Callable[[list[str]], LabelTree],
    procedure_tree: Callable[[list[str]], LabelTree],
    is_category: Callable[[str], bool],
    hierarchy: str,
) -> LabelTree:
    """The label tree of one code system's diagnosis and procedure ``codes``.

    The diagnoses and the procedures (``is_procedure``) get the trees of their tables,
    merged into one forest (:func:`merge_trees`); ``hierarchy="full"`` keeps it whole,
    ``"compact"`` cuts it to chapter → category → code (:func:`compact_tree`).
    """
    procedures = [c for c in codes if is_procedure(c)]
    diagnoses = [c for c in codes if not is_procedure(c)]
    trees = []
    if diagnoses:
        trees.append(diagnosis_tree(diagnoses))
    if procedures:
        trees.append(procedure_tree(procedures))
    tree = merge_trees(*trees)
    if hierarchy == "full":
        return tree
    return compact_tree(tree, codes, is_category)


def compact_tree(
    tree: LabelTree, codes: Iterable[str], is_category: Callable[[str], bool]
) -> LabelTree:
    """The tree of ``codes`` cut to three levels: root (chapter) → category → code.

    Each code hangs under the nearest of its ancestors that ``is_category`` accepts, which
    hangs under the code's root; a code that is itself a category (or has no category
    ancestor) hangs under the root directly, and a root code stays a root. Nodes of
    ``tree`` that are neither roots, categories nor ``codes`` are dropped.
    """
    parents: dict[str, str | None] = {}
    for code in codes:
        chain = tree.ancestors(code)  # root first
        root = chain[0] if chain else None
        category = next((a for a in reversed(chain[1:]) if is_category(a)), None)
        if root is not None:
            parents.setdefault(root, None)
        if category is not None and not is_category(code):
            parents.setdefault(category, root)
            parents[code] = category
        else:
            parents[code] = root
    return LabelTree.from_parents(parents)
