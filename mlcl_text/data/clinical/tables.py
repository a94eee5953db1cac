"""Streaming the (multi-GB) clinical CSV tables in chunks, and the rows they hold that are bad.

:func:`stream_table` reads a plain or gzipped CSV file chunk by chunk with a progress bar, so
memory never grows with the file. A bad row (an id that is not an integer, an empty code or
note) goes to :class:`BadRows`: with ``on_error="skip"`` (the MIMIC loaders' default) it is
counted and the first few are named, file and row only, never note text, in one
:class:`BadRowsWarning`; with ``on_error="raise"`` the first one raises a
:class:`~mlcl_text.data.registry.DataError`.
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from mlcl_text.data.file_io import open_binary
from mlcl_text.data.registry import DataError, check_on_error

__all__ = [
    "BadRows",
    "BadRowsWarning",
    "parse_id",
    "read_header",
    "selected_rows",
    "stream_table",
]

_EXAMPLES = 5  # bad rows named in a warning


class BadRowsWarning(UserWarning):
    """Rows of a clinical table were skipped; the message counts them by reason."""


class BadRows:
    """Rows skipped for a reason, counted per reason, the first few named (file, row, value).

    ``on_error="raise"`` makes the first bad row raise instead.
    """

    def __init__(self, on_error: str = "skip"):
        self.on_error = check_on_error(on_error)
        self.counts: Counter[str] = Counter()
        self.examples: list[str] = []

    def add(self, where: str, reason: str) -> None:
        """Record one bad row (``where`` names file and row; it must not hold note text)."""
        if self.on_error == "raise":
            raise DataError(
                f'{where}: {reason} (on_error="raise"; pass on_error="skip" to skip)', reason
            )
        self.counts[reason] += 1
        if len(self.examples) < _EXAMPLES:
            self.examples.append(f"{where}: {reason}")

    def warn(self, what: str) -> None:
        """One :class:`BadRowsWarning` counting the skipped rows of ``what`` (if any)."""
        if not self.counts:
            return
        total = sum(self.counts.values())
        reasons = ", ".join(f"{n} {reason}" for reason, n in self.counts.most_common())
        warnings.warn(
            f"{what}: skipped {total} row(s) ({reasons}); first: {'; '.join(self.examples)}",
            BadRowsWarning,
            stacklevel=3,
        )


def read_header(path: Path) -> list[str]:
    """The column names of a CSV file (plain or gzipped)."""
    raw, stream = open_binary(path)
    try:
        line = stream.readline().decode("utf-8-sig")
    except (OSError, EOFError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read the header ({type(error).__name__})") from None
    finally:
        raw.close()
    return [name.strip().strip('"') for name in line.rstrip("\r\n").split(",")]


def stream_table(
    path: Path,
    columns: Sequence[str],
    *,
    chunk_size: int = 20_000,
    progress: bool = True,
    description: str | None = None,
) -> Iterator[tuple[int, pd.DataFrame]]:
    """Chunks ``(first_row, frame)`` of the CSV ``path`` with ``columns`` as strings.

    ``first_row`` numbers the chunk's first data row (1 = the row below the header). Only
    ``chunk_size`` rows are in memory at a time; the progress bar counts bytes of the file as
    stored (compressed for ``.gz``). Missing columns raise :class:`DataError` naming them.
    """
    header = read_header(path)
    missing = [c for c in columns if c not in header]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}"
        )
    raw, stream = open_binary(path)
    bar = tqdm(
        total=path.stat().st_size,
        unit="B",
        unit_scale=True,
        desc=description or path.name,
        disable=not progress,
    )
    first = 1
    try:
        reader = pd.read_csv(
            stream,
            usecols=list(columns),
            dtype=str,
            keep_default_na=False,
            chunksize=chunk_size,
            encoding="utf-8",
        )
        for frame in reader:
            yield first, frame
            first += len(frame)
            bar.update(raw.tell() - bar.n)
    except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as error:
        # pandas' parser messages name line numbers, never field contents
        reason = str(error).splitlines()[0] if isinstance(error, pd.errors.ParserError) else ""
        raise DataError(
            f"{path}: unreadable near data row {first} ({type(error).__name__}{': ' + reason if reason else ''})"
        ) from None
    finally:
        bar.close()
        raw.close()


def selected_rows(frame: pd.DataFrame, mask: Any) -> Iterator[tuple[int, dict[str, str]]]:
    """``(position in frame, row as a dict)`` of the rows where ``mask`` is true."""
    positions = np.flatnonzero(np.asarray(mask))
    return zip(positions.tolist(), frame.iloc[positions].to_dict("records"), strict=True)


def parse_id(value: str, where: str, column: str, bad: BadRows) -> int | None:
    """An integer id (MIMIC writes some as ``"123.0"``); ``None`` and a bad row if not."""
    text = value.strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        bad.add(where, f"{column} is {'empty' if not text else 'not an integer'}")
        return None
    return int(text)
