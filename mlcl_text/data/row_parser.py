"""The rows of a user's data files: a text from one or several columns and a label field,
checked row by row (see :mod:`mlcl_text.data.files` for the rules); bad rows raise
:class:`~mlcl_text.data.registry.DataError` naming file, row and reason, or are skipped and
counted with ``on_error="skip"``."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlcl_text.data.registry import DataError

logger = logging.getLogger(__name__)

#: Characters that join labels in a delimited label field: a label holding one that is not
#: the label separator, whose parts are all known labels, is a bad row.
LABEL_SEPARATORS = (",", ";", "|")


@dataclass
class _ParsedRow:
    record: dict[str, Any]  # text, labels, id
    source: str
    number: int
    listed: bool  # the labels were a list (not a delimited string)


class RowParser:
    def __init__(self, columns, label_column, separator, tree, on_error, path_separators=()):
        self.columns, self.label_column, self.separator = columns, label_column, separator
        self.tree, self.on_error = tree, on_error
        # a character of a label path separator is part of a label, not a joiner
        self.joiners = [
            c for c in LABEL_SEPARATORS if not any(s and c in s for s in path_separators)
        ]
        self.skipped: dict[str, Counter] = {}

    def parse(self, source: str, rows: Iterator[tuple[int, dict[str, Any]]]) -> list[_ParsedRow]:
        """The good rows of one file; a bad one raises, or is counted as skipped."""
        self.skipped.setdefault(source, Counter())
        kept = []
        for number, row in rows:
            try:
                kept.append(self._parse_row(source, number, row))
            except DataError as error:
                self._bad_row(source, error)
        return kept

    def finish(self, parsed: dict[str, list[_ParsedRow]]) -> dict[str, list[dict[str, Any]]]:
        """Each split's records, after the checks that need every file's labels (without a
        hierarchy: labels joined by another separator); logs one warning a file that had
        rows skipped."""
        if self.tree is None:
            known = {
                label for rows in parsed.values() for row in rows for label in row.record["labels"]
            }
            checked = {}
            for split, rows in parsed.items():
                checked[split] = []
                for row in rows:
                    try:
                        self._check_joined(
                            row.source, row.number, row.record["labels"], known, row.listed
                        )
                    except DataError as error:
                        self._bad_row(row.source, error)
                    else:
                        checked[split].append(row)
            parsed = checked
        for source, skipped in self.skipped.items():
            if skipped:
                logger.warning(
                    "%s: skipped %d rows (%s)",
                    source,
                    sum(skipped.values()),
                    ", ".join(f"{n} × {reason}" for reason, n in skipped.most_common()),
                )
        return {split: [row.record for row in rows] for split, rows in parsed.items()}

    def _bad_row(self, source: str, error: DataError) -> None:
        if self.on_error == "raise":
            raise error
        self.skipped.setdefault(source, Counter())[error.reason] += 1

    def _parse_row(self, source: str, number: int, row: dict[str, Any]) -> _ParsedRow:
        missing = [c for c in [*self.columns, self.label_column] if c not in row]
        if missing:
            raise _row_error(source, number, "missing column", f"missing column(s) {missing}")
        text = join_columns(row, self.columns)
        if not text:
            raise _row_error(source, number, "empty text", "empty text")
        labels, listed = self._labels(source, number, row[self.label_column])
        if self.tree is not None:
            unknown = [label for label in labels if label not in self.tree]
            if unknown:
                self._check_joined(source, number, unknown, self.tree, listed)
                raise _row_error(source, number, "unknown label", f"unknown label {unknown[0]!r}")
        record = {"text": text, "labels": labels}
        record["id"] = (
            str(row["id"]) if row.get("id") is not None else f"{Path(source).name}:{number}"
        )
        return _ParsedRow(record, source, number, listed)

    def _labels(self, source: str, number: int, value: Any) -> tuple[list[str], bool]:
        """``(labels, listed)``: the field's labels and whether it was a list."""
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if value is None or (isinstance(value, str) and not value.strip()):
            raise _row_error(
                source,
                number,
                "empty labels",
                "empty label field (write [] for a document without labels)",
            )
        listed = True
        if isinstance(value, str):
            stripped = value.strip()
            if stripped.startswith("["):
                try:
                    value = json.loads(stripped)
                except json.JSONDecodeError:
                    raise _row_error(
                        source, number, "malformed labels", f"malformed label list {value!r}"
                    ) from None
            else:
                listed = False
                value = [part.strip() for part in stripped.split(self.separator)]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise _row_error(source, number, "malformed labels", f"malformed label field {value!r}")
        return list(dict.fromkeys(v.strip() for v in value)), listed

    def _check_joined(
        self, source: str, number: int, labels: list[str], known: Collection[str], listed: bool
    ) -> None:
        """A :class:`DataError` for a label that is known labels joined by another character
        than the label separator (``"A;B"``, the separator being ``","``)."""
        for label in labels:
            for joiner in self.joiners:
                if joiner not in label:
                    continue
                parts = [part.strip() for part in label.split(joiner)]
                if all(part and part != label and part in known for part in parts):
                    fix = (
                        "give them as separate items of the label list"
                        if listed
                        else f"the label separator is {self.separator!r}"
                    )
                    raise _row_error(
                        source,
                        number,
                        "labels joined by another separator",
                        f"label {label!r} is the labels {' and '.join(map(repr, parts))} "
                        f"joined by {joiner!r} ({fix})",
                    )


def join_columns(row: dict[str, Any], columns: Sequence[str]) -> str:
    """The non-empty values of ``columns`` (in that order), joined by a blank line."""
    parts = [str(row[c]).strip() for c in columns if row.get(c) is not None]
    return "\n\n".join(part for part in parts if part)


def _row_error(source: str, number: int, reason: str, detail: str) -> DataError:
    return DataError(f"{source}, row {number}: {detail}", reason=reason)
