"""What ``mlcl-text predict`` reads and writes: texts from lines or data files, predictions
as JSON lines or CSV.

Inputs: a ``.jsonl``/``.json``, ``.csv``/``.tsv`` or ``.parquet`` file is read as the
``files`` loader reads it (:func:`mlcl_text.data.files.read_rows`: UTF-8, a byte-order mark
allowed, bad bytes named by row); each row's text is its ``text_columns`` joined by a blank
line, as the loaders join them, so a document may hold line breaks. Any other file, and
stdin, holds one text per line. A row's ``id_column`` (default ``id``) is kept when present.

Outputs: one record per text with ``labels`` (the predicted label names) and
``probabilities`` (every label's, or the ``top_k`` most probable ones, highest first), and
``id`` when the input has one. JSON lines go to stdout or a ``.jsonl`` file; a ``.csv``
file has the columns ``id`` (when present), ``labels`` (names joined by ``|``) and either
one ``p:<label>`` column per label or ``label_1, probability_1, …`` for ``top_k``.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlcl_text.data import DataError
from mlcl_text.data.files import SUFFIXES, read_rows, read_text
from mlcl_text.data.row_parser import join_columns

OUTPUT_SUFFIXES = (".jsonl", ".csv")


@dataclass
class Texts:
    texts: list[str]
    ids: list[str] | None  # None when the input has no id column


def read_texts(
    source: str, text_columns: Sequence[str] = ("text",), id_column: str = "id"
) -> Texts:
    """The texts (and ids) of ``source``: a data file, a text file or ``-`` (stdin)."""
    if source == "-":
        return Texts([line for line in sys.stdin.read().splitlines() if line.strip()], None)
    path = Path(source)
    if not path.is_file():
        raise DataError(f"input file {path} does not exist")
    if path.suffix.lower() not in SUFFIXES:
        lines = read_text(path).splitlines()
        return Texts([line for line in lines if line.strip()], None)
    texts, ids = [], []
    for number, row in read_rows(path):
        missing = [c for c in text_columns if c not in row]
        if missing:
            raise DataError(
                f"{path}, row {number}: no column {missing[0]!r} (columns: {sorted(row)}); "
                "name the text with --text-column"
            )
        text = join_columns(row, text_columns)
        if not text:
            raise DataError(f"{path}, row {number}: empty text")
        texts.append(text)
        ids.append(str(row[id_column]) if row.get(id_column) is not None else None)
    has_ids = any(i is not None for i in ids)
    if has_ids and None in ids:
        row = ids.index(None) + 1
        raise DataError(f"{path}: text {row} has no {id_column!r} while others have one")
    return Texts(texts, ids if has_ids else None)


def prediction_records(
    texts: Texts,
    predictions: list[list[str]],
    probabilities: np.ndarray,
    names: Sequence[str],
    top_k: int | None = None,
) -> list[dict[str, Any]]:
    """One record per text (see the module docstring), probabilities rounded to 6 digits."""
    records = []
    for row, (labels, scores) in enumerate(zip(predictions, probabilities, strict=True)):
        order = np.argsort(-scores, kind="stable")[:top_k] if top_k else range(len(names))
        record: dict[str, Any] = {} if texts.ids is None else {"id": texts.ids[row]}
        record["labels"] = labels
        record["probabilities"] = {names[j]: round(float(scores[j]), 6) for j in order}
        records.append(record)
    return records


def write_records(
    records: list[dict[str, Any]], output: str | None, names: Sequence[str], top_k: int | None
) -> None:
    """JSON lines on stdout (``output`` None) or in a ``.jsonl`` file; or a ``.csv`` file."""
    if output is None:
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
        return
    path = check_output(output)
    if path.suffix.lower() == ".jsonl":
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    else:
        text = _csv_text(records, names, top_k)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def check_output(output: str) -> Path:
    """``output`` as a path, or a :class:`DataError` when it is no ``.jsonl``/``.csv`` file."""
    path = Path(output)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise DataError(f"--output {path}: write {' or '.join(OUTPUT_SUFFIXES)}")
    return path


def _csv_text(records: list[dict[str, Any]], names: Sequence[str], top_k: int | None) -> str:
    has_ids = bool(records) and "id" in records[0]
    header = (["id"] if has_ids else []) + ["labels"]
    if top_k:
        header += [f"{kind}_{i}" for i in range(1, top_k + 1) for kind in ("label", "probability")]
    else:
        header += [f"p:{name}" for name in names]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for record in records:
        row = ([record["id"]] if has_ids else []) + ["|".join(record["labels"])]
        if top_k:
            for name, score in record["probabilities"].items():
                row += [name, score]
        else:
            row += [record["probabilities"][name] for name in names]
        writer.writerow(row)
    return buffer.getvalue()
