"""What the ICD-9-CM and ICD-10 tree builders share (:mod:`.icd9`, :mod:`.icd10`).

Only the codes given and their ancestors become labels. Names are dotted codes for
categories and below and range identifiers for the upper levels (ICD-10-PCS: the code for
leaves and a ``"PCS "``-prefixed prefix above them), so they are unique, even across the
code systems of one data set, and do not depend on the input order. Codes that are
well-formed but missing from a package's tables never make the build fail: one
:class:`MissingICDCodeWarning` names all of them, and :func:`place_code` hangs each under
its longest known prefix (e.g. ``"250.0"`` for an unknown ``"250.09"``), or else under its
category, which is then created and placed under the range that contains it (by comparing
the code with the range bounds), or under the synthetic root :data:`UNKNOWN_ROOT` if no
range does. Malformed codes raise :class:`ValueError` (:func:`unique_codes`).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterable, Mapping

from mlcl_text.hierarchy import LabelTree

__all__ = [
    "UNKNOWN_ROOT",
    "MissingICDCodeWarning",
    "TreeBuilder",
    "narrowest_range",
    "place_code",
    "table_tree",
    "unique_codes",
    "warn_missing",
]

UNKNOWN_ROOT = "unknown"
"""Name of the synthetic root for missing codes whose category falls in no known range."""


class MissingICDCodeWarning(UserWarning):
    """Some codes are not in the package's tables; they were placed by their prefix."""


class TreeBuilder:
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
        """The tree of the chains added so far."""
        return LabelTree.from_parents(list(self.parent_of.items()))


def unique_codes(
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


def narrowest_range(category: str, ranges: Iterable[str]) -> str | None:
    """The narrowest ``"lo-hi"`` range containing ``category`` (same-width bounds)."""
    best: tuple[int, str] | None = None
    for name, (low, high) in ((r, r.split("-", 1)) for r in ranges):
        if len(low) == len(high) == len(category) and low <= category <= high:
            width = _span(low, high)
            if best is None or width < best[0]:
                best = (width, name)
    return None if best is None else best[1]


def _span(low: str, high: str) -> int:
    """How many codes lie between two same-width bounds (base 36, digit by digit)."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    value = 0
    for a, b in zip(low, high, strict=True):
        value = value * 36 + digits.index(b) - digits.index(a)
    return value


def warn_missing(missing: list[str], source: str) -> None:
    """One :class:`MissingICDCodeWarning` naming the ``missing`` codes (if any)."""
    if missing:
        warnings.warn(
            f"{len(missing)} code(s) not found in {source}, placed under their prefix: "
            + ", ".join(missing),
            MissingICDCodeWarning,
            stacklevel=4,
        )


def place_code(
    code: str,
    builder: TreeBuilder,
    known_chain: Callable[[str], list[str] | None],
    category_of: Callable[[str], str],
    range_chain: Callable[[str], list[str] | None],
) -> bool:
    """Add ``code`` with its ancestors to ``builder``; ``False`` when the code itself is
    unknown and was placed by prefix, category or range (see the module docstring).

    ``known_chain`` gives a known code's root-to-code chain (``None`` if unknown),
    ``category_of`` a code's category, ``range_chain`` a category's root-to-range chain.
    """
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


def table_tree(
    codes: Iterable[str],
    known_chain: Callable[[str], list[str] | None],
    category_of: Callable[[str], str],
    ranges: Callable[[], Mapping[str, list[str]]],
    source: str,
) -> LabelTree:
    """The tree above ``codes`` (checked, without duplicates) from a package's tables.

    ``known_chain`` gives a known code's root-to-code chain (``None`` if the tables lack
    it), ``category_of`` a code's category and ``ranges()`` every range of the tables → its
    root-to-range chain (called only when a category is missing from the tables). Codes the tables lack are placed by :func:`place_code` and named
    in one :class:`MissingICDCodeWarning` that names ``source``.
    """
    builder = TreeBuilder()
    missing = []

    def range_chain(category: str) -> list[str] | None:
        table = ranges()
        found = narrowest_range(category, table)
        return None if found is None else table[found]

    for code in codes:
        if not place_code(code, builder, known_chain, category_of, range_chain):
            missing.append(code)
    warn_missing(missing, source)
    return builder.tree()
