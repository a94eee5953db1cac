"""Finding a loader's files, plain or gzipped, and opening them either way.

Data sets are often shipped gzipped (MIMIC's ``NOTEEVENTS.csv.gz``, RCV1-v2's token files)
and sometimes unpacked: :func:`find_file` looks for ``name`` and then ``name.gz`` in a
folder and its given subfolders, and :func:`open_binary`, :func:`open_text` and
:func:`read_bytes` decompress a ``.gz`` file on the fly.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Sequence
from pathlib import Path
from typing import IO

__all__ = ["find_file", "open_binary", "open_text", "read_bytes"]


def find_file(
    folder: Path,
    names: str | Sequence[str],
    subfolders: Sequence[str] = (),
    *,
    needed_for: str | None = None,
) -> Path:
    """The first of ``folder/[sub/]name`` and ``….gz`` that is a file.

    ``names`` is one file name or several spellings of it, tried in order; ``folder``
    itself is searched first, then each of ``subfolders``; per name the plain file comes
    before the gzipped one. When none exists, ``FileNotFoundError`` names the folder and
    every path tried, then ``needed_for`` (what the data set needs, e.g. "RCV1-v2 needs
    the LYRL2004 files").
    """
    wanted = [names] if isinstance(names, str) else list(names)
    tried = []
    for sub in ("", *subfolders):
        for name in wanted:
            for candidate in (name, f"{name}.gz"):
                path = folder / sub / candidate if sub else folder / candidate
                if path.is_file():
                    return path
                tried.append(str(path))
    where = f" (or its {', '.join(subfolders)} subfolder)" if subfolders else ""
    raise FileNotFoundError(
        f"{folder}{where} has no {' or '.join(wanted)} (plain or .gz); looked for "
        f"{', '.join(tried)}" + (f"; {needed_for}" if needed_for else "")
    )


def open_binary(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """``(raw, stream)``: the file as stored, whose position tells how much was read (for a
    progress bar), and its content as bytes (``.gz`` files gunzipped on the fly). Close
    ``raw`` when done."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    return raw, (gzip.GzipFile(fileobj=raw) if path.suffix == ".gz" else raw)


def open_text(path: Path, encoding: str = "utf-8") -> io.TextIOBase:
    """The file as text (``.gz`` files gunzipped on the fly); use it in a ``with``."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding=encoding)
    return path.open(encoding=encoding)


def read_bytes(path: Path) -> bytes:
    """The whole content of the file (gunzipped when its name ends in ``.gz``)."""
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data
