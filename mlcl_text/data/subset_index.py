"""A subset's index file: the rows a subset recipe picked, and the check that a split is the
one they were drawn from.

:class:`SubsetResult` holds the sorted row indices, the recipe's parameters, a fingerprint of
the source split (:func:`dataset_fingerprint`), the labels that could not reach ``k`` and the
label counts of the subset. :meth:`SubsetResult.save` writes them to one strict UTF-8 JSON
file (atomically; an existing file with other content is never overwritten unless asked);
:meth:`SubsetResult.load` and :meth:`SubsetResult.apply` restore the exact rows later and
refuse a split whose rows differ. The recipes that draw subsets live in
:mod:`mlcl_text.data.subsets`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
from datasets import Dataset, DatasetDict

__all__ = ["DEFAULT_SPLIT", "FORMAT_VERSION", "SubsetResult", "arrow_column", "dataset_fingerprint"]

FORMAT_VERSION = 1
DEFAULT_SPLIT = "train"


@dataclass
class SubsetResult:
    """The rows a recipe picked from a split, with everything needed to reproduce them.

    Attributes:
        indices: sorted row indices into the source split.
        params: the recipe (``method``, ``k`` or ``fraction``, ``seed``, ``level``,
            ``labels``), the ``split`` name, the source split's ``num_rows`` and its
            ``fingerprint`` (sha256 of the ``id`` column, or of ``text`` without one; the
            column used is in ``fingerprint_field``).
        unreachable: label → number of documents in the whole split, for every label of the
            target set that has fewer than ``k`` (all of its documents are in the subset).
            Always empty for :func:`fraction`.
        label_counts: label → number of subset documents carrying it, for every label of the
            tree that occurs in the subset (tree order).
        source: the index file this result was loaded from or last saved to (used in error
            messages; not part of equality).
    """

    indices: list[int]
    params: dict[str, Any]
    unreachable: dict[str, int] = field(default_factory=dict)
    label_counts: dict[str, int] = field(default_factory=dict)
    source: str | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return len(self.indices)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form written by :meth:`save`."""
        return {
            "format_version": FORMAT_VERSION,
            "params": dict(self.params),
            "num_selected": len(self.indices),
            "indices": [int(i) for i in self.indices],
            "unreachable": {str(k): int(v) for k, v in self.unreachable.items()},
            "label_counts": {str(k): int(v) for k, v in self.label_counts.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str | None = None) -> SubsetResult:
        """Inverse of :meth:`to_dict`; ``ValueError`` naming ``source`` on a malformed dict."""
        where = source or "subset dict"
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: expected a JSON object, got {type(data).__name__}")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"{where}: unsupported subset format_version {version!r}")
        missing = [key for key in ("params", "indices") if key not in data]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        indices = [int(i) for i in data["indices"]]
        if indices != sorted(set(indices)) or (indices and indices[0] < 0):
            raise ValueError(f"{where}: indices must be sorted, unique and non-negative")
        params = dict(data["params"])
        for key in ("num_rows", "fingerprint"):
            if key not in params:
                raise ValueError(f"{where}: params lack {key!r}")
        return cls(
            indices=indices,
            params=params,
            unreachable={str(k): int(v) for k, v in data.get("unreachable", {}).items()},
            label_counts={str(k): int(v) for k, v in data.get("label_counts", {}).items()},
            source=source,
        )

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> Path:
        """Write the subset to one pretty-printed UTF-8 JSON index file and return its path.

        An existing file with the same content is left as it is; an existing file with other
        content raises ``FileExistsError`` unless ``overwrite=True``. Parent folders are
        created; the file is written atomically (temporary file, then rename).
        """
        path = Path(path)
        payload = self.to_dict()
        if path.exists():
            try:
                existing = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                existing = None
            if existing == payload:
                self.source = str(path)
                return path
            if not overwrite:
                raise FileExistsError(
                    f"{path} already exists with a different subset; pass overwrite=True to replace it"
                )
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
            os.replace(temporary, path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        self.source = str(path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> SubsetResult:
        """Read an index file written by :meth:`save`."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not a JSON subset index file ({error})") from error
        return cls.from_dict(data, source=str(path))

    def check(self, dataset: Dataset | DatasetDict) -> Dataset:
        """Return the source split (picked by name from a ``DatasetDict``) after checking it.

        ``ValueError`` naming the index file when the row count or the fingerprint of the
        given split differs from the split the subset was drawn from.
        """
        where = self.source or "this (unsaved) subset"
        split = self.params.get("split")
        if isinstance(dataset, DatasetDict):
            name = split or DEFAULT_SPLIT
            if name not in dataset:
                raise ValueError(f"{where}: the DatasetDict has no split {name!r}")
            dataset = dataset[name]
        expected_rows = int(self.params["num_rows"])
        if dataset.num_rows != expected_rows:
            raise ValueError(
                f"{where} was drawn from a split of {expected_rows} rows (split {split!r}), "
                f"but the given data set has {dataset.num_rows} rows"
            )
        fingerprint, column = dataset_fingerprint(dataset)
        expected_column = self.params.get("fingerprint_field", column)
        if column != expected_column or fingerprint != self.params["fingerprint"]:
            raise ValueError(
                f"{where} does not match the given data set: its {expected_column!r} fingerprint "
                f"is {self.params['fingerprint'][:12]}…, the data set's {column!r} fingerprint "
                f"is {fingerprint[:12]}… (different rows, order or version of split {split!r})"
            )
        if self.indices and self.indices[-1] >= dataset.num_rows:
            raise ValueError(f"{where}: index {self.indices[-1]} is out of range")
        return dataset

    def apply(self, dataset: Dataset | DatasetDict) -> Dataset:
        """The subset's rows of ``dataset`` (a split, or a ``DatasetDict`` holding it).

        Checks the row count and fingerprint first (see :meth:`check`).
        """
        return self.check(dataset).select(self.indices)


def dataset_fingerprint(dataset: Dataset) -> tuple[str, str]:
    """``(sha256 hex digest, column)`` of the ``id`` column, or of ``text`` without one.

    Every value is hashed as its ``str`` with a length prefix, in row order, so a change of
    rows, their order or their content (ids or texts) changes the fingerprint.
    """
    column = "id" if "id" in dataset.column_names else "text"
    if column not in dataset.column_names:
        raise ValueError("the data set has neither an 'id' nor a 'text' column to fingerprint")
    digest = hashlib.sha256()
    digest.update(f"{column}\n{dataset.num_rows}\n".encode())
    for value in arrow_column(dataset, column).to_pylist():
        encoded = str(value).encode("utf-8")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest(), column


def arrow_column(dataset: Dataset, name: str) -> pa.ChunkedArray:
    """The column ``name`` as Arrow, row order as the data set presents it (fast: no rows)."""
    if name not in dataset.column_names:
        raise ValueError(f"the data set has no {name!r} column")
    column = dataset.with_format("arrow")[name]
    return column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
