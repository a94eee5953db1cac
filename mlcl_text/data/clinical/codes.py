"""The ICD codes of each admission, read from the diagnosis and procedure tables.

Codes are dotted by the code system's formatter (:mod:`.icd9`, :mod:`.icd10`) and
deduplicated per admission; a row with an empty or malformed code is a bad row
(:class:`~mlcl_text.data.clinical.tables.BadRows`). :func:`top_codes` picks the codes of
the top-50 setting.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mlcl_text.data.clinical.tables import BadRows, parse_id, stream_table
from mlcl_text.data.registry import check_on_error

__all__ = ["read_code_tables", "read_codes", "top_codes"]


def read_codes(
    path: Path,
    *,
    hadm_column: str,
    code_column: str,
    format_code: Callable[[str], str],
    keep_row: Callable[[pd.DataFrame], np.ndarray] | None = None,
    extra_columns: Sequence[str] = (),
    bad: BadRows,
    progress: bool,
    chunk_size: int = 200_000,
) -> dict[int, set[str]]:
    """``{admission id: {dotted codes}}`` from a diagnosis or procedure table.

    ``format_code`` dots one code (raising ``ValueError`` for a malformed one); ``keep_row``
    selects the rows of a chunk to read (e.g. one ICD version). Bad rows go to ``bad``.
    """
    codes: dict[int, set[str]] = {}
    columns = [hadm_column, code_column, *extra_columns]
    for first, frame in stream_table(path, columns, chunk_size=chunk_size, progress=progress):
        selected = np.ones(len(frame), bool) if keep_row is None else keep_row(frame)
        for offset, (hadm, code, keep) in enumerate(
            zip(frame[hadm_column], frame[code_column], selected, strict=True)
        ):
            if not keep:
                continue
            where = f"{path.name} row {first + offset}"
            hadm_id = parse_id(hadm, where, hadm_column, bad)
            if hadm_id is None:
                continue
            if not code.strip():
                bad.add(where, f"{code_column} is empty")
                continue
            try:
                dotted = format_code(code)
            except ValueError:
                bad.add(where, f"malformed code {code.strip()[:12]!r}")
                continue
            codes.setdefault(hadm_id, set()).add(dotted)
    return codes


def read_code_tables(
    tables: Sequence[tuple[Path, Callable[[str], str]]],
    *,
    hadm_column: str,
    code_column: str,
    progress: bool,
    on_error: str = "skip",
    keep_row: Callable[[pd.DataFrame], np.ndarray] | None = None,
    extra_columns: Sequence[str] = (),
) -> dict[int, set[str]]:
    """The codes of several tables (diagnoses, procedures) merged per admission; each
    table's bad rows are reported in one warning naming the table (``on_error="skip"``)
    or raise (``"raise"``)."""
    check_on_error(on_error)
    codes: dict[int, set[str]] = {}
    for path, format_code in tables:
        bad = BadRows(on_error)
        found = read_codes(
            path,
            hadm_column=hadm_column,
            code_column=code_column,
            format_code=format_code,
            keep_row=keep_row,
            extra_columns=extra_columns,
            bad=bad,
            progress=progress,
        )
        bad.warn(str(path))
        for hadm_id, admission_codes in found.items():
            codes.setdefault(hadm_id, set()).update(admission_codes)
    return codes


def top_codes(code_sets: Iterable[Iterable[str]], k: int) -> list[str]:
    """The ``k`` codes assigned to most admissions; ties go to the smaller code string."""
    counts = Counter(code for codes in code_sets for code in set(codes))
    return [code for code, _ in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:k]]
