"""ICD-10-CM diagnoses and ICD-10-PCS procedures: their forms, their kinds and their trees.

MIMIC-IV labels admissions with ICD-10-CM diagnoses and ICD-10-PCS procedures, stored
undotted:

* :func:`format_icd10_cm` — a diagnosis in dotted form (after 3 characters: ``"I5021"`` →
  ``"I50.21"``); :func:`format_icd10_pcs` — a procedure checked (7 characters, no dot);
  :func:`is_icd10_pcs` and :func:`is_icd10_category` tell the kinds of codes and tree nodes
  apart;
* :func:`icd10_cm_tree` — ICD-10-CM from the ``simple-icd-10-cm`` package
  (https://pypi.org/project/simple-icd-10-cm/): chapter → block → category → subcategories →
  code, e.g. ``"I00-I99"`` → ``"I30-I5A"`` → ``"I50"`` → ``"I50.2"`` → ``"I50.21"``;
* :func:`icd10_pcs_tree` — ICD-10-PCS procedures by code prefix (no package needed): section
  ``"PCS 0"`` → body system ``"PCS 02"`` → root operation ``"PCS 021"`` → 7-character code
  ``"02100Z9"``.

Naming, missing and malformed codes: see :mod:`.icd_common`.
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable
from typing import Any

from mlcl_text.data.clinical.icd_common import TreeBuilder, table_tree, unique_codes
from mlcl_text.hierarchy import LabelTree

__all__ = [
    "format_icd10_cm",
    "format_icd10_pcs",
    "icd10_cm_tree",
    "icd10_pcs_tree",
    "is_icd10_category",
    "is_icd10_pcs",
]

_CM_CATEGORY = r"[A-Z]\d[0-9A-Z]"
_PCS_CHARACTER = "[0-9A-HJ-NP-Z]"  # no I or O (they look like 1 and 0)
_ICD10_CM = re.compile(rf"{_CM_CATEGORY}(?:\.[0-9A-Z]{{1,4}})?")
_ICD10_PCS = re.compile(f"{_PCS_CHARACTER}{{7}}")

# Prefix of the names of ICD-10-PCS internal nodes, which would otherwise look like
# ICD-10-CM categories ("B21") or ICD-9-CM procedure categories ("02").
_PCS_PREFIX = "PCS "
_ICD10_CATEGORY = re.compile(f"{_CM_CATEGORY}|{_PCS_PREFIX}{_PCS_CHARACTER}{{3}}")


# ---------------------------------------------------------------------- codes
def format_icd10_cm(code: str) -> str:
    """The dotted form of an ICD-10-CM code, undotted as in MIMIC-IV (``"I5021"`` →
    ``"I50.21"``) or already dotted; a bare category stays as it is (``"I10"``).

    Raises:
        ValueError: the code is malformed (the message names it).
    """
    text = code.strip().upper()
    dotted = text if "." in text or len(text) <= 3 else f"{text[:3]}.{text[3:]}"
    if not _ICD10_CM.fullmatch(dotted):
        raise ValueError(f"malformed ICD-10-CM code: {code!r}")
    return dotted


def format_icd10_pcs(code: str) -> str:
    """An ICD-10-PCS code stripped and upper-cased (7 characters from ``0-9`` and ``A-Z``
    without ``I`` and ``O``); ``ValueError`` naming it when it is malformed."""
    text = code.strip().upper()
    if not _ICD10_PCS.fullmatch(text):
        raise ValueError(f"malformed ICD-10-PCS code: {code!r}")
    return text


def is_icd10_pcs(code: str) -> bool:
    """An ICD-10-PCS procedure code (7 characters, no dot), not an ICD-10-CM diagnosis."""
    return _ICD10_PCS.fullmatch(code) is not None


def is_icd10_category(name: str) -> bool:
    """A 3-character ICD-10-CM category (``"I50"``) or an ICD-10-PCS root operation
    (``"PCS 021"``)."""
    return _ICD10_CATEGORY.fullmatch(name) is not None


@functools.cache
def _icd10() -> Any:
    try:
        with warnings.catch_warnings():
            # it reads its data with the deprecated importlib.resources.read_text
            warnings.simplefilter("ignore", DeprecationWarning)
            import simple_icd_10_cm
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "icd10_cm_tree needs the 'simple-icd-10-cm' package: pip install simple-icd-10-cm"
        ) from error
    return simple_icd_10_cm


@functools.cache
def _icd10_chapter_name(chapter: str) -> str:
    """A chapter's code range from its description (``"9"`` → ``"I00-I99"``)."""
    match = re.search(r"\(([A-Z0-9]{3}-[A-Z0-9]{3})\)\s*$", _icd10().get_description(chapter))
    return match.group(1) if match else f"chapter {chapter}"


def _icd10_block_name(block: str) -> str:
    # Single-category blocks share their identifier with the category ("C7A"): widen them.
    return block if "-" in block else f"{block}-{block}"


def _icd10_chain(code: str) -> list[str] | None:
    cm = _icd10()
    if not cm.is_valid_item(code):
        return None
    chain = [*cm.get_ancestors(code)[::-1], code]
    chain[0] = _icd10_chapter_name(chain[0])
    if len(chain) > 1:
        chain[1] = _icd10_block_name(chain[1])
    return chain


@functools.cache
def _icd10_blocks() -> dict[str, list[str]]:
    """Every ICD-10-CM block (by its tree name) → its root-to-block chain."""
    cm = _icd10()
    out: dict[str, list[str]] = {}
    for chapter in (c for c in cm.get_all_codes(False) if cm.is_chapter(c)):
        for block in cm.get_children(chapter):
            name = _icd10_block_name(block)
            out[name] = [_icd10_chapter_name(chapter), name]
    return out


def icd10_cm_tree(codes: Iterable[str]) -> LabelTree:
    """The ICD-10-CM hierarchy above ``codes``, from the ``simple-icd-10-cm`` package.

    Structure: chapter → block → category → subcategories → code, e.g.
    ``"I00-I99"`` → ``"I30-I5A"`` → ``"I50"`` → ``"I50.2"`` → ``"I50.21"``. Chapters are named
    by their code range (from the package's chapter description) instead of the package's
    chapter number; blocks by the package's identifier, except single-category blocks, which
    the package names like their category (``"C7A"``) and which become ``"C7A-C7A"`` here so
    names stay unique. Everything else keeps its dotted code.

    Args:
        codes: dotted ICD-10-CM codes (``"I50.9"``, ``"E11.9"``, ``"S72.001A"``).

    Missing codes trigger one :class:`MissingICDCodeWarning` and are placed as the module
    docstring describes; malformed ones raise :class:`ValueError`.
    """
    unique = unique_codes(codes, _ICD10_CM, "ICD-10-CM")
    return table_tree(unique, _icd10_chain, lambda c: c[:3], _icd10_blocks, "simple-icd-10-cm")


def icd10_pcs_tree(codes: Iterable[str]) -> LabelTree:
    """The ICD-10-PCS procedure hierarchy above ``codes``, derived from the codes' prefixes.

    Structure: section (1st character) → body system (first 2) → root operation (first 3) →
    code, e.g. ``"PCS 0"`` (medical and surgical) → ``"PCS 02"`` (heart and great vessels) →
    ``"PCS 021"`` (bypass) → ``"02100Z9"`` and ``"PCS B"`` (imaging) → ``"PCS B2"`` →
    ``"PCS B21"`` → ``"B2111ZZ"``. Every code is at depth 4. No package is needed: the
    first three characters of a PCS code are a pure prefix code. The internal nodes carry a
    ``"PCS "`` prefix, since ``"B21"`` or ``"02"`` alone would collide with ICD-10-CM
    categories or ICD-9-CM procedure categories in a tree over several code systems; the
    codes keep their own 7-character names.

    Args:
        codes: ICD-10-PCS codes as in MIMIC-IV's ``procedures_icd`` (``icd_version`` 10):
            7 characters from ``0-9`` and ``A-Z`` without ``I`` and ``O``, no dots
            (``"02100Z9"``, ``"0DTJ4ZZ"``, ``"5A1955Z"``). Surrounding whitespace is stripped
            and lower case is upper-cased. Duplicates are fine.

    Raises:
        ValueError: a code is malformed (wrong length, ``I``/``O``, punctuation, empty);
            the message names it.
    """
    unique = unique_codes(
        codes,
        _ICD10_PCS,
        "ICD-10-PCS",
        normalize=lambda code: code.strip().upper(),
        expected="7 characters from 0-9 and A-Z without I and O, no dots",
    )
    builder = TreeBuilder()
    for code in unique:
        builder.add_chain([*(f"{_PCS_PREFIX}{code[:n]}" for n in (1, 2, 3)), code])
    return builder.tree()
