"""The data sets shipped inside the package: each loads with no network.

Each one is a folder ``mlcl_text/data/<name>/`` holding ``<name>.jsonl.gz`` (one JSON object
a line: ``{"id", "split", "labels", "text"}``, ``labels`` the document's most specific label
paths), ``metadata.json`` and a ``README.md`` with its provenance, licence, label rule and
statistics, all written by ``scripts/build_<name>.py``:

* ``debtags``: Debian package descriptions labelled with their debtags such as
  ``devel::lang:python`` (facet → tag → subtag, a multi-path tree);
* ``appstream``: Debian's AppStream application descriptions labelled with their
  freedesktop menu categories (flat, multi-label);
* ``hpo``: Human Phenotype Ontology term definitions labelled with the organ systems and
  subsystems above them (two levels, several paths per term);
* ``icd10cm``: ICD-10-CM code descriptions labelled with their chapter and block (two
  levels, one path per code);
* ``pypi``: long descriptions (READMEs) of Python projects on PyPI labelled with their
  ``Topic :: …`` trove classifiers, each full classifier one label (flat, multi-label;
  the long documents of the collection).

Every split has the columns ``text``, ``labels`` (closed under ancestors:
``devel::lang:python`` comes with ``devel`` and ``devel::lang``, in tree order) and ``id``.
"""

from __future__ import annotations

import inspect
import json
from importlib.resources import as_file, files
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from datasets import DatasetDict

from mlcl_text.data.file_io import read_bytes
from mlcl_text.data.registry import SPLITS, DataError, register
from mlcl_text.data.rows import rows_to_dataset
from mlcl_text.hierarchy import LabelTree

if TYPE_CHECKING:  # importlib.resources.abc is Python 3.11+
    from importlib.resources.abc import Traversable

#: name → the separators of its label paths (``LabelTree.from_paths``)
PACKAGED: dict[str, tuple[str, ...]] = {
    "debtags": ("::", ":"),
    "appstream": (" > ",),
    "hpo": (" > ",),
    "icd10cm": (" > ",),
    # flat: no classifier contains " > " (``sep=" :: "`` would give the classifier tree)
    "pypi": (" > ",),
}


def data_file_name(name: str) -> str:
    return f"{name}.jsonl.gz"


def packaged_file(name: str) -> Traversable:
    """The data file of the packaged data set ``name``."""
    return files("mlcl_text.data") / name / data_file_name(name)


def load_packaged(
    name: str, path: str | None = None, *, max_train: int | None = None, seed: int = 0
) -> tuple[DatasetDict, LabelTree]:
    """Load the packaged data set ``name`` as ``(DatasetDict, LabelTree)``; no network needed.

    Args:
        name: one of :data:`PACKAGED`.
        path: a file written by ``scripts/build_<name>.py`` (``.jsonl.gz`` or plain
            ``.jsonl``) or the folder holding ``<name>.jsonl.gz``; default: the file shipped
            in the package.
        max_train: keep at most this many training documents, drawn with
            ``numpy.random.default_rng(seed).permutation`` and kept in file order;
            validation and test are untouched. ``None`` keeps them all.
        seed: seed of that subsample.

    The tree is ``LabelTree.from_paths(sorted labels of all splits, sep=PACKAGED[name])``.
    Bad rows raise :class:`~mlcl_text.data.registry.DataError` naming the file, line and
    reason.
    """
    if max_train is not None and (
        isinstance(max_train, bool) or not isinstance(max_train, int | np.integer) or max_train < 0
    ):
        raise ValueError(f"max_train must be a non-negative integer or None, got {max_train!r}")
    rows = _read_rows(name, path)
    tree = LabelTree.from_paths(
        sorted({label for row in rows for label in row["labels"]}), sep=PACKAGED[name]
    )
    closed = [{**row, "labels": tree.with_ancestors(row["labels"])} for row in rows]
    dataset = DatasetDict(
        {s: rows_to_dataset([row for row in closed if row["split"] == s]) for s in SPLITS}
    )
    if max_train is not None and max_train < len(dataset["train"]):
        keep = np.random.default_rng(seed).permutation(len(dataset["train"]))[:max_train]
        dataset["train"] = dataset["train"].select(np.sort(keep))
    return dataset, tree


_LOADER_SIGNATURE = inspect.signature(load_packaged).replace(
    parameters=list(inspect.signature(load_packaged).parameters.values())[1:]
)


def _register(name: str) -> None:
    def loader(path: str | None = None, **options) -> tuple[DatasetDict, LabelTree]:
        return load_packaged(name, path, **options)

    loader.__name__ = f"load_{name}"
    loader.__doc__ = f"``load_packaged({name!r}, path, ...)``: see :func:`load_packaged`."
    # load_packaged's signature without ``name``: the registry checks options against it
    loader.__signature__ = _LOADER_SIGNATURE
    register(name)(loader)


for _name in PACKAGED:
    _register(_name)


def _read_rows(name: str, path: str | None) -> list[dict]:
    if path is None:
        resource = packaged_file(name)
        source = str(resource)
        with as_file(resource) as file:
            data = read_bytes(file)
    else:
        file = Path(path)
        if file.is_dir():
            file = file / data_file_name(name)
        if not file.is_file():
            raise FileNotFoundError(f"no {name} data file at {file}")
        source = str(file)
        data = read_bytes(file)
    rows = []
    seen: set[str] = set()
    for number, line in enumerate(data.decode("utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{source}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise DataError(f"{where}: not a JSON object ({error})") from None
        rows.append(_check_row(row, where, seen))
    if not rows:
        raise DataError(f"{source}: no rows")
    return rows


def _check_row(row: object, where: str, seen: set[str]) -> dict:
    if not isinstance(row, dict):
        raise DataError(f"{where}: not a JSON object")
    for key in ("id", "split", "text"):
        if not isinstance(row.get(key), str) or not row[key].strip():
            raise DataError(f"{where}: {key!r} must be a non-empty string, got {row.get(key)!r}")
    if row["split"] not in SPLITS:
        raise DataError(f"{where}: split must be one of {SPLITS}, got {row['split']!r}")
    labels = row.get("labels")
    if (
        not isinstance(labels, list)
        or not labels
        or not all(isinstance(label, str) and label.strip() for label in labels)
    ):
        raise DataError(f"{where}: 'labels' must be a non-empty list of strings, got {labels!r}")
    if row["id"] in seen:
        raise DataError(f"{where}: id {row['id']!r} is used twice")
    seen.add(row["id"])
    return row
