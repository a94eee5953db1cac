"""The label names of WOS: from the archive's ``Data.xlsx``, or built from the ids.

``Data.xlsx`` lists the documents of WOS-46985 with their domain and area ids and names;
:func:`read_wos_label_names` reads it (with ``openpyxl``) and :func:`label_names` picks the
names of a variant folder's ids (see "Label names" in :mod:`mlcl_text.data.wos`).
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from mlcl_text.data.registry import DataError

__all__ = ["XLSX_LOCATIONS", "LabelNames", "label_names", "read_wos_label_names"]

logger = logging.getLogger(__name__)

#: Where ``Data.xlsx`` is looked for, relative to the archive's root.
XLSX_LOCATIONS = ("Data.xlsx", "Meta-data/Data.xlsx")


class LabelNames:
    """Label names of domain ids and ``(domain, area)`` id pairs (id-based without a table)."""

    def __init__(self, source: Path | str, table: dict[tuple[int, int], tuple[str, str]] | None):
        self.source, self.table = source, table
        self.domains = {d: names[0] for (d, _), names in (table or {}).items()}

    def domain(self, d: int) -> str:
        """The name of domain ``d``."""
        return f"domain-{d}" if self.table is None else self.domains[d]

    def area(self, d: int, a: int) -> str:
        """The name of area ``a`` of domain ``d``: its path ``"<domain>/<area>"``."""
        if self.table is None:
            return f"domain-{d}/area-{a}"
        domain, area = self.table[d, a]
        return f"{domain}/{area}"


def label_names(
    folder: Path, level1: list[int], level2: list[int], mode: str, *, is_wos46985: bool
) -> LabelNames:
    """The label names of a variant folder's domain ids ``level1`` and area ids ``level2``.

    ``mode`` is :func:`~mlcl_text.data.wos.load_wos`'s ``label_names``; ``is_wos46985``
    says whether the folder is WOS-46985, whose ids ``Data.xlsx`` names (``"auto"`` uses it
    only then). Ids missing from ``Data.xlsx`` raise :class:`DataError` naming the line.
    """
    if mode == "ids":
        return LabelNames(folder, None)
    candidates = [folder / "Data.xlsx", *(folder.parent / loc for loc in XLSX_LOCATIONS)]
    xlsx = next((p for p in candidates if p.is_file()), None)
    if xlsx is None:
        if mode == "xlsx":
            raise FileNotFoundError(
                f"label_names='xlsx' but no Data.xlsx in {folder} or {folder.parent}"
            )
        logger.warning(
            "%s: no Data.xlsx next to the variant folder; label names are ids "
            "('domain-<YL1>', 'domain-<YL1>/area-<YL2>')",
            folder,
        )
        return LabelNames(folder, None)
    if mode == "auto" and not is_wos46985:
        logger.warning(
            "%s: Data.xlsx names the ids of WOS46985, which need not match the ids of this "
            "variant; label names are ids (pass label_names='xlsx' to use Data.xlsx anyway)",
            folder,
        )
        return LabelNames(folder, None)

    table, counts = read_wos_label_names(xlsx)
    pairs = Counter(zip(level1, level2, strict=True))
    for line, pair in enumerate(zip(level1, level2, strict=True), start=1):
        if pair not in table:
            raise DataError(
                f"{folder / 'YL2.txt'}, line {line}: (YL1, YL2) = {pair} has no row with "
                f"(Y1, Y2) = {pair} in {xlsx}",
                "unknown label",
            )
    if pairs != {pair: counts[pair] for pair in pairs} or sum(counts.values()) != len(level1):
        logger.warning(
            "%s: the counts of (Y1, Y2) in %s differ from those of (YL1, YL2) in %s; "
            "names are taken from Data.xlsx by id all the same",
            folder,
            xlsx,
            folder,
        )
    used = {pair: table[pair] for pair in sorted(pairs)}
    return LabelNames(xlsx, used)


def read_wos_label_names(
    path: str | Path,
) -> tuple[dict[tuple[int, int], tuple[str, str]], Counter]:
    """``{(Y1, Y2): (Domain, area)}`` from ``Data.xlsx`` (names stripped) and row counts per pair.

    Needs ``openpyxl``. Rows that name one id pair, or one domain id, differently raise
    :class:`DataError` with the sheet row number (the header is row 1).
    """
    path = Path(path)
    try:
        import openpyxl
    except ImportError:
        raise ImportError(
            f"reading the WOS label names from {path} needs openpyxl: pip install openpyxl "
            "(or pass label_names='ids' for id-based names)"
        ) from None
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = next(rows, None) or ()
        position = {str(h).strip().lower(): i for i, h in enumerate(header) if h is not None}
        wanted = ("y1", "y2", "domain", "area")
        missing = [name for name in wanted if name not in position]
        if missing:
            raise DataError(
                f"{path}, row 1: missing column(s) {missing} (found {[str(h) for h in header]})",
                "missing column",
            )
        table: dict[tuple[int, int], tuple[str, str]] = {}
        domain_of: dict[int, str] = {}
        counts: Counter = Counter()
        for number, row in enumerate(rows, start=2):
            if row is None or all(v is None or str(v).strip() == "" for v in row):
                continue
            values = [row[position[name]] if position[name] < len(row) else None for name in wanted]
            y1 = _int_cell(path, number, "Y1", values[0])
            y2 = _int_cell(path, number, "Y2", values[1])
            domain, area = (
                _name_cell(path, number, c, v)
                for c, v in zip(("Domain", "area"), values[2:], strict=True)
            )
            if domain_of.setdefault(y1, domain) != domain:
                raise DataError(
                    f"{path}, row {number}: domain id Y1={y1} is named {domain!r} here but "
                    f"{domain_of[y1]!r} in an earlier row",
                    "inconsistent names",
                )
            if table.setdefault((y1, y2), (domain, area)) != (domain, area):
                raise DataError(
                    f"{path}, row {number}: (Y1, Y2) = {(y1, y2)} is named {(domain, area)} here "
                    f"but {table[y1, y2]} in an earlier row",
                    "inconsistent names",
                )
            counts[y1, y2] += 1
    finally:
        workbook.close()
    return table, counts


def _int_cell(path: Path, row: int, column: str, value: Any) -> int:
    if isinstance(value, bool):
        value = None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise DataError(f"{path}, row {row}: {column} is not an integer id: {value!r}", "bad id")


def _name_cell(path: Path, row: int, column: str, value: Any) -> str:
    name = "" if value is None else str(value).strip()
    if not name:
        raise DataError(f"{path}, row {row}: empty {column} name", "empty name")
    return name
