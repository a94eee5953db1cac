"""Generic data: CSV, TSV, JSONL or Parquet files (or a Hub data set) plus an optional hierarchy.

``load("files", path, ...)`` reads one file per split. Each row gives a text (one column, or
several joined by a blank line) and a label field: a list (JSONL, Parquet), a JSON list
written as a string (``'["a", "b"]'``) or a delimited string (``"a,b"``, ``label_separator``).
A document without labels is written as an explicit empty list (``[]``, also in a CSV
cell); an empty or missing label field is a bad row.
The label tree comes from a hierarchy file (JSON ``{"child": "parent"}`` or a JSON list of
label paths; TSV ``child<TAB>parent`` rows or one label path per row), from label paths in
the data (``label_path_sep="/"``), or is flat. A ``hierarchy.json`` (or ``hierarchy.tsv``)
beside the split files is used without being named (``hierarchy=`` names another file,
``hierarchy=False`` ignores it).

Bad rows (an empty text, an empty or malformed label field, a label missing from the
hierarchy, a label that is known labels joined by another separator than the label
separator, such as ``"A;B"`` when ``A`` and ``B`` are labels and the separator is ``","``)
raise :class:`~mlcl_text.data.registry.DataError` naming the file, row and reason; with
``on_error="skip"`` they are skipped and counted in a warning instead.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from datasets import DatasetDict

from mlcl_text.data.registry import SPLITS, DataError, check_on_error, register
from mlcl_text.data.row_parser import RowParser
from mlcl_text.data.rows import rows_to_dataset
from mlcl_text.data.splits import seeded_split
from mlcl_text.hierarchy import LabelTree

logger = logging.getLogger(__name__)

SUFFIXES = (".csv", ".tsv", ".jsonl", ".json", ".parquet")
SPLIT_ALIASES = {
    "train": ("train",),
    "validation": ("validation", "valid", "dev", "val"),
    "test": ("test",),
}
#: Files beside the split files that give the label tree when ``hierarchy`` is not given.
HIERARCHY_FILES = ("hierarchy.json", "hierarchy.tsv")


@register("files")
def load_files(
    path: str | None = None,
    *,
    train: str | None = None,
    validation: str | None = None,
    test: str | None = None,
    hub_id: str | None = None,
    text_columns: str | Sequence[str] = "text",
    label_column: str = "labels",
    label_separator: str = ",",
    label_path_sep: str | None = None,
    hierarchy: str | bool | None = None,
    hierarchy_sep: str = "/",
    on_error: str = "raise",
    holdout_fractions: tuple[float, float] = (0.1, 0.1),
    seed: int = 0,
) -> tuple[DatasetDict, LabelTree]:
    """Load splits from files (``path``: a folder with ``train.*``, ``validation.*``/``dev.*``,
    ``test.*``; or ``train=``/``validation=``/``test=`` file paths) or from ``hub_id``.

    ``path`` may also be a single file, the training split, when its folder holds no
    validation/test files; one that does is an error asking for the folder.

    The hierarchy: the file ``hierarchy`` names; else a ``hierarchy.json`` or
    ``hierarchy.tsv`` in the folder ``path`` names (or in the training file's folder) is used
    automatically, and its use is logged; ``hierarchy=False`` ignores it (labels then give
    the tree, flat or by ``label_path_sep``).

    Missing validation/test splits are carved from train: a seeded permutation, the first
    ``holdout_fractions[1]`` of the rows → test, the next ``holdout_fractions[0]`` →
    validation (only the missing ones are carved).
    """
    check_on_error(on_error)
    if not (hierarchy is None or hierarchy is False or isinstance(hierarchy, str | Path)):
        raise DataError(f"hierarchy must be a file path or false, got {hierarchy!r}")
    columns = [text_columns] if isinstance(text_columns, str) else list(text_columns)
    files = None
    if hub_id is None:
        files = _split_files(path, {"train": train, "validation": validation, "test": test})
        if hierarchy is None:
            hierarchy = _hierarchy_beside(path, files)
    tree = read_hierarchy(hierarchy, hierarchy_sep) if hierarchy else None
    path_separators = [label_path_sep, hierarchy_sep if tree is not None else None]
    reader = RowParser(columns, label_column, label_separator, tree, on_error, path_separators)

    parsed = _parse_splits(reader, files, hub_id)
    if "train" not in parsed:
        raise DataError("no training split found (give train=..., or a folder with a train.* file)")
    parsed = _carve_missing(parsed, holdout_fractions, seed)

    if tree is None:
        tree = _tree_of_labels(parsed, label_path_sep)
    data = DatasetDict(
        {
            split: rows_to_dataset(
                [{**row, "labels": tree.with_ancestors(row["labels"])} for row in parsed[split]]
            )
            for split in SPLITS
        }
    )
    return data, tree


def _parse_splits(reader, files: dict[str, Path] | None, hub_id: str | None) -> dict:
    """``{split: rows}`` of the split ``files``, or of the Hub data set ``hub_id``."""
    if files is None:
        from datasets import load_dataset

        hub = load_dataset(hub_id)
        read = {
            split: reader.parse(
                f"{hub_id}[{split}]", ((i + 1, dict(row)) for i, row in enumerate(hub[split]))
            )
            for split in hub
        }
        parsed = reader.finish(read)
        return {_canonical_split(name) or name: rows for name, rows in parsed.items()}
    read = {split: reader.parse(str(file), read_rows(file)) for split, file in files.items()}
    parsed = reader.finish(read)
    empty = [str(files[split]) for split, rows in parsed.items() if not rows]
    if empty:
        raise DataError(f"{empty[0]}: no rows (an empty split file)")
    return parsed


def _tree_of_labels(parsed: dict, label_path_sep: str | None) -> LabelTree:
    """The tree of the labels the rows use: flat, or label paths split at ``label_path_sep``."""
    names = sorted({label for rows in parsed.values() for row in rows for label in row["labels"]})
    if label_path_sep:
        return LabelTree.from_paths(names, sep=label_path_sep)
    return LabelTree.from_labels(names)


def read_hierarchy(path: str | Path, sep: str = "/") -> LabelTree:
    """A LabelTree from a JSON (``{"child": "parent"}`` or ``["a/b", ...]``) or TSV file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"hierarchy file {path} does not exist")
    text = read_text(path)
    try:
        if path.suffix.lower() == ".json":
            content = json.loads(text, object_pairs_hook=_unique_keys(path))
            if isinstance(content, dict):
                return LabelTree.from_parents({str(k): (v or None) for k, v in content.items()})
            if isinstance(content, list):
                return LabelTree.from_paths([str(p) for p in content], sep=sep)
            raise DataError(
                f"{path}: expected a JSON object (child → parent) or a list of label paths"
            )
        rows = [line.split("\t") for line in text.splitlines() if line.strip()]
        if all(len(row) == 1 for row in rows):
            return LabelTree.from_paths([row[0].strip() for row in rows], sep=sep)
        for number, row in enumerate(rows, start=1):
            if len(row) != 2:
                raise DataError(
                    f"{path}, row {number}: expected 'child<TAB>parent', got {len(row)} fields"
                )
        return LabelTree.from_parents([(c.strip(), p.strip() or None) for c, p in rows])
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not valid JSON ({error})") from error
    except DataError:
        raise
    except ValueError as error:
        raise DataError(f"{path}: {error}") from error


def _unique_keys(path: Path):
    """A ``json.loads`` hook that refuses an object with the same key twice."""

    def build(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        content: dict[str, Any] = {}
        for key, value in pairs:
            if key in content:
                raise DataError(
                    f"{path}: label {key!r} is given twice (parents {content[key]!r} and "
                    f"{value!r}); each label has one parent"
                )
            content[key] = value
        return content

    return build


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(row number, row)``; for CSV/TSV the number is the line, the header being line 1."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        handle = io.StringIO(read_text(path), newline="")
        reader = csv.DictReader(handle, delimiter="\t" if suffix == ".tsv" else ",")
        for row in reader:
            yield reader.line_num, row
    elif suffix in (".jsonl", ".json"):
        # "\n" only: str.splitlines would also split at U+2028 inside a JSON string
        for number, line in enumerate(read_text(path).split("\n"), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(f"{path}, row {number}: not a JSON object ({error.msg})") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}, row {number}: not a JSON object")
            yield number, row
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        for number, row in enumerate(pq.read_table(path).to_pylist(), start=1):
            yield number, row
    else:
        raise DataError(
            f"{path}: unsupported file type {suffix!r}; use one of {', '.join(SUFFIXES)}"
        )


def read_text(path: Path) -> str:
    """The file's text as UTF-8 (a leading byte-order mark, as spreadsheet programs write it,
    is dropped); a byte that is not UTF-8 is a :class:`DataError` naming the file, row and
    column."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line_start = data.rfind(b"\n", 0, error.start) + 1
        row = data.count(b"\n", 0, error.start) + 1
        raise DataError(
            f"{path}, row {row}: byte 0x{data[error.start]:02x} at column "
            f"{error.start - line_start + 1} is not UTF-8 text (save the file as UTF-8)"
        ) from None


def _split_files(path: str | None, given: dict[str, str | None]) -> dict[str, Path]:
    files = {split: Path(p) for split, p in given.items() if p is not None}
    if path is not None:
        folder = Path(path)
        if folder.is_file():
            siblings = _sibling_split_files(folder, skip=files)
            if siblings:
                raise DataError(
                    f"{folder} is one split file of a folder that holds validation/test files "
                    f"({', '.join(siblings)}): pass the folder {folder.parent}"
                )
            files.setdefault("train", folder)
        elif folder.is_dir():
            for split, aliases in SPLIT_ALIASES.items():
                if split in files:
                    continue
                found = [
                    folder / f"{a}{s}"
                    for a in aliases
                    for s in SUFFIXES
                    if (folder / f"{a}{s}").is_file()
                ]
                if len(found) > 1:
                    raise DataError(
                        f"{folder}: several files for the {split} split: {[f.name for f in found]}"
                    )
                if found:
                    files[split] = found[0]
        else:
            raise DataError(f"{folder} does not exist")
    for split, file in files.items():
        if not file.is_file():
            raise DataError(f"the {split} file {file} does not exist")
    return files


def _sibling_split_files(file: Path, skip: Collection[str]) -> list[str]:
    """Names of the validation/test files beside ``file`` (splits in ``skip`` left out)."""
    return sorted(
        candidate.name
        for split in ("validation", "test")
        if split not in skip
        for alias in SPLIT_ALIASES[split]
        for suffix in SUFFIXES
        if (candidate := file.parent / f"{alias}{suffix}").is_file() and candidate.name != file.name
    )


def _hierarchy_beside(path: str | None, files: dict[str, Path]) -> Path | None:
    """The hierarchy file in the folder ``path`` (or in the training file's folder), or
    ``None``; two of them are an error."""
    if path is not None and Path(path).is_dir():
        folder = Path(path)
    elif "train" in files:
        folder = files["train"].parent
    else:
        return None
    found = [folder / name for name in HIERARCHY_FILES if (folder / name).is_file()]
    if len(found) > 1:
        raise DataError(
            f"{folder}: several hierarchy files ({', '.join(f.name for f in found)}); "
            "name one with the hierarchy option"
        )
    if found:
        logger.info("%s: using the hierarchy file %s", folder, found[0].name)
        return found[0]
    return None


def _canonical_split(name: str) -> str | None:
    return next((split for split, aliases in SPLIT_ALIASES.items() if name in aliases), None)


def _carve_missing(
    parsed: dict[str, list], fractions: tuple[float, float], seed: int
) -> dict[str, list]:
    missing = [split for split in ("validation", "test") if split not in parsed]
    if not missing:
        return parsed
    train = parsed["train"]
    sizes = {
        split: round(fraction * len(train)) if split in missing else 0
        for split, fraction in zip(("validation", "test"), fractions, strict=True)
    }
    parts = seeded_split(
        len(train), n_validation=sizes["validation"], n_test=sizes["test"], seed=seed
    )
    return {
        **parsed,
        **{split: [train[i] for i in parts[split]] for split in ("train", *missing)},
    }
