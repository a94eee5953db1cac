"""RCV1-v2 (Lewis, Yang, Rose and Li 2004, JMLR 5; the "LYRL2004" files).

``load("rcv1", path)`` reads, from the folder ``path``, each file plain or gzipped (``.gz``):

* ``lyrl2004_tokens_train.dat`` and ``lyrl2004_tokens_test_pt0.dat`` … ``pt3.dat``: documents
  as ``.I <docid>`` / ``.W`` / token lines, ended by a blank line. The texts are already
  tokenised, lower-cased, stop-worded and stemmed by the authors, so they read like
  ``"mexic peso firm dollar trad"``; a document's text is its tokens joined by spaces;
* ``rcv1-v2.topics.qrels``: lines ``<topic> <docid> 1``;
* ``rcv1.topics.hier.orig`` (or ``….orig.txt``): lines
  ``parent: CCAT   child: C15   child-description: PERFORMANCE``; the 4 top topics have the
  parent ``Root``, whose own line has the parent ``None``.

Label names are the topic codes (``"C151"``); their descriptions are in
:func:`read_rcv1_hierarchy` and, as JSON, in each split's ``info.description``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import re
import zlib
from array import array
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from datasets import Dataset, DatasetDict

from mlcl_text.data.file_io import find_file, open_text
from mlcl_text.data.registry import DataError, register
from mlcl_text.data.rows import FEATURES, rows_to_dataset
from mlcl_text.data.splits import seeded_split
from mlcl_text.hierarchy import LabelTree

logger = logging.getLogger(__name__)

TRAIN_FILE = "lyrl2004_tokens_train.dat"
TEST_FILES = tuple(f"lyrl2004_tokens_test_pt{part}.dat" for part in range(4))
QRELS_FILE = "rcv1-v2.topics.qrels"
HIERARCHY_FILES = ("rcv1.topics.hier.orig", "rcv1.topics.hier.orig.txt")
#: LYRL2004's split: 23,149 training and 781,265 test documents.
LYRL2004_SIZES = (23_149, 781_265)

_HIERARCHY_LINE = re.compile(
    r"^\s*parent:\s*(?P<parent>\S+)\s+child:\s*(?P<child>\S+)"
    r"(?:\s+child-description:\s*(?P<description>.*?))?\s*$"
)
_READ_ERRORS = (UnicodeDecodeError, gzip.BadGzipFile, EOFError, zlib.error)
_FORMAT = 1  # bump when the rows built from the same files change (invalidates caches)


@register("rcv1")
def load_rcv1(
    path: str | None,
    *,
    seed: int = 0,
    validation_size: int = 2_316,
    include_test: bool = True,
    test_parts: Sequence[int] = (0, 1, 2, 3),
    cache_dir: str | None = None,
) -> tuple[DatasetDict, LabelTree]:
    """Load RCV1-v2 as ``(DatasetDict, LabelTree)`` with ``text``, ``labels`` and ``id`` columns.

    Splits: LYRL2004's 23,149 training documents give train and validation; the 781,265
    documents of the four test parts give test. Validation is carved from the training
    documents by a seeded rule: ``numpy.random.default_rng(seed).permutation(n)`` over the
    training documents in file order; the first ``validation_size`` (2,316 by default, 10%)
    go to validation, the other 20,833 stay in train; each split keeps file order.

    The tree has the 103 topics (``Root`` is left out, so its 4 children are the roots) over
    4 levels; a document's ``labels`` are its qrels topics closed under ancestors, in tree
    order; its ``id`` is its Reuters document id.

    Args:
        path: the folder with the files (see the module docstring).
        seed: seed of the validation rule.
        validation_size: number of training documents moved to validation.
        include_test: ``False`` skips the test files (the test split is then empty).
        test_parts: which of the test parts 0–3 to read.
        cache_dir: where ``datasets`` writes the test split (default: its cache). The test
            split is written to disk while it is read, part by part, so the 781k documents are
            never all in memory; it is reused while the files keep their size and mtime.

    Documents without any topic in the qrels are skipped and their number is logged as a
    warning (once, when a split is built). A malformed line in any file, or a qrels topic
    missing from the hierarchy, raises :class:`~mlcl_text.data.registry.DataError` naming
    the file, the line and the reason.
    """
    folder, parts = _check_options(path, validation_size, include_test, test_parts)
    hierarchy_file = _find(folder, HIERARCHY_FILES)
    tree, descriptions = read_rcv1_hierarchy(hierarchy_file)
    qrels_file = _find(folder, QRELS_FILE)
    labeler = _Labeler(qrels_file, tree)
    train_file = _find(folder, TRAIN_FILE)
    test_files = [_find(folder, TEST_FILES[part]) for part in parts]

    rows = list(_labelled_rows(str(train_file), labeler))
    if validation_size > len(rows):
        raise ValueError(
            f"validation_size={validation_size} exceeds the {len(rows)} training documents"
        )
    split = seeded_split(len(rows), n_validation=validation_size, n_test=0, seed=seed)
    data = {
        name: rows_to_dataset([rows[i] for i in split[name]]) for name in ("train", "validation")
    }
    del rows
    if test_files:
        sources = [train_file, hierarchy_file, qrels_file, *test_files]
        data["test"] = Dataset.from_generator(
            _generate_rows,
            features=FEATURES,
            cache_dir=cache_dir,
            gen_kwargs={"files": tuple(str(f) for f in test_files), "labeler": labeler},
            fingerprint=_fingerprint(sources),
            split="test",
        )
    else:
        data["test"] = rows_to_dataset([])
    description = _description(descriptions)
    for dataset in data.values():
        dataset.info.description = description
    return DatasetDict({name: data[name] for name in ("train", "validation", "test")}), tree


def read_rcv1_hierarchy(path: str | Path) -> tuple[LabelTree, dict[str, str]]:
    """The topic tree of ``rcv1.topics.hier.orig`` and ``{topic code: description}``.

    ``Root`` (whose parent is ``None``) is left out: its children become the tree's roots.
    """
    path = Path(path)
    pairs: list[tuple[str, str | None]] = []
    descriptions: dict[str, str] = {}
    line_of: dict[str, int] = {}
    with open_text(path) as handle:
        for number, line in _numbered(path, handle):
            if not line.strip():
                continue
            match = _HIERARCHY_LINE.match(line)
            if match is None:
                raise DataError(
                    f"{path}, line {number}: expected 'parent: <code> child: <code> "
                    f"child-description: <text>', got {line.strip()!r}",
                    "malformed line",
                )
            parent, child = match["parent"], match["child"]
            if child == "Root":
                continue
            if child == "None" or child in line_of:
                raise DataError(
                    f"{path}, line {number}: topic {child!r} "
                    + (f"already listed on line {line_of[child]}" if child in line_of else "")
                    + ("is not a topic code" if child == "None" else ""),
                    "duplicate topic",
                )
            line_of[child] = number
            pairs.append((child, None if parent in ("Root", "None") else parent))
            descriptions[child] = (match["description"] or "").strip()
    if not pairs:
        raise DataError(f"{path}: no topics found", "empty file")
    try:
        tree = LabelTree.from_parents(pairs)
    except ValueError as error:
        raise DataError(f"{path}: the topics do not form a tree: {error}", "bad tree") from error
    return tree, descriptions


class _Labeler:
    """The qrels as sorted arrays; ``labels(docid)`` gives the topics closed under ancestors."""

    def __init__(self, path: Path, tree: LabelTree):
        topic_id = {name: i for i, name in enumerate(tree.names)}
        docs, topics = array("q"), array("i")
        with open_text(path) as handle:
            for number, line in _numbered(path, handle):
                fields = line.split()
                if not fields:
                    continue
                if len(fields) != 3:
                    raise DataError(
                        f"{path}, line {number}: expected '<topic> <docid> 1', got "
                        f"{line.strip()!r}",
                        "malformed line",
                    )
                topic, doc, relevance = fields
                if topic not in topic_id:
                    raise DataError(
                        f"{path}, line {number}: topic {topic!r} is not in the hierarchy",
                        "unknown label",
                    )
                if not doc.isdigit():
                    raise DataError(
                        f"{path}, line {number}: document id {doc!r} is not a number",
                        "malformed line",
                    )
                if relevance != "1":
                    raise DataError(
                        f"{path}, line {number}: expected relevance 1, got {relevance!r}",
                        "malformed line",
                    )
                docs.append(int(doc))
                topics.append(topic_id[topic])
        doc_ids = np.frombuffer(docs, dtype=np.int64) if docs else np.zeros(0, np.int64)
        topic_ids = np.frombuffer(topics, dtype=np.int32) if topics else np.zeros(0, np.int32)
        order = np.lexsort((topic_ids, doc_ids))
        doc_ids, topic_ids = doc_ids[order], topic_ids[order]
        starts = np.flatnonzero(np.r_[True, doc_ids[1:] != doc_ids[:-1]]) if len(doc_ids) else []
        self.doc_ids = doc_ids[starts]
        self.bounds = np.r_[starts, len(doc_ids)].astype(np.int64)
        self.topic_ids = topic_ids
        self.tree, self.names = tree, tree.names
        self._cache: dict[bytes, list[str]] = {}

    def labels(self, doc: int) -> list[str]:
        """Topic codes of ``doc`` with their ancestors, in tree order; ``[]`` when it has none."""
        position = int(np.searchsorted(self.doc_ids, doc))
        if position == len(self.doc_ids) or self.doc_ids[position] != doc:
            return []
        own = self.topic_ids[self.bounds[position] : self.bounds[position + 1]]
        key = own.tobytes()  # documents share few topic sets: close each set once
        if key not in self._cache:
            self._cache[key] = self.tree.with_ancestors([self.names[t] for t in own])
        return list(self._cache[key])


def _labelled_rows(file: str, labeler: _Labeler) -> Iterator[dict[str, Any]]:
    seen: set[int] = set()
    skipped = 0
    for line, doc, text in iter_lyrl_tokens(file):
        if doc in seen:
            raise DataError(f"{file}, line {line}: document {doc} appears twice", "duplicate")
        seen.add(doc)
        labels = labeler.labels(doc)
        if not labels:
            skipped += 1
            continue
        yield {"text": text, "labels": labels, "id": str(doc)}
    if skipped:
        logger.warning("%s: skipped %d documents that have no topic in the qrels", file, skipped)


def _generate_rows(files: tuple[str, ...], labeler: _Labeler) -> Iterator[dict[str, Any]]:
    for file in files:
        yield from _labelled_rows(file, labeler)


def iter_lyrl_tokens(path: str | Path) -> Iterator[tuple[int, int, str]]:
    """``(line of its .I, docid, tokens joined by spaces)`` for each document of a token file."""
    path = Path(path)
    doc: int | None = None
    start = number = 0
    lines: list[str] = []
    expect_w = False
    with open_text(path) as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                line = raw.strip()
                if doc is not None and not expect_w and line and line[0] != ".":
                    lines.append(line)  # the common case: a line of tokens
                elif line.startswith(".I") and (len(line) == 2 or line[2].isspace()):
                    if expect_w:
                        raise DataError(
                            f"{path}, line {number}: expected '.W' after '.I {doc}'",
                            "malformed line",
                        )
                    if doc is not None:
                        yield start, doc, _join(lines)
                    fields = line.split()
                    if len(fields) != 2 or not fields[1].isdigit():
                        raise DataError(
                            f"{path}, line {number}: expected '.I <docid>', got {line!r}",
                            "malformed line",
                        )
                    doc, start, lines, expect_w = int(fields[1]), number, [], True
                elif expect_w:
                    if line != ".W":
                        raise DataError(
                            f"{path}, line {number}: expected '.W' after '.I {doc}', got {line!r}",
                            "malformed line",
                        )
                    expect_w = False
                elif not line:
                    if doc is not None:
                        yield start, doc, _join(lines)
                    doc = None
                elif doc is None:
                    raise DataError(
                        f"{path}, line {number}: text outside a document (expected '.I <docid>')",
                        "malformed line",
                    )
                else:
                    lines.append(line)
        except _READ_ERRORS as error:
            raise DataError(
                f"{path}, line {number + 1}: cannot be read ({error})", "unreadable"
            ) from None
    if expect_w:
        raise DataError(f"{path}: the file ends before the '.W' of document {doc}", "truncated")
    if doc is not None:
        yield start, doc, _join(lines)


def _join(lines: list[str]) -> str:
    return " ".join(" ".join(lines).split())


def _check_parts(test_parts: Sequence[int]) -> tuple[int, ...]:
    parts = tuple(test_parts)
    if any(isinstance(p, bool) or p not in (0, 1, 2, 3) for p in parts) or len(set(parts)) != len(
        parts
    ):
        raise ValueError(f"test_parts must be distinct parts among 0, 1, 2, 3; got {test_parts!r}")
    return parts


def _check_options(
    path: str | None, validation_size: int, include_test: bool, test_parts: Sequence[int]
) -> tuple[Path, tuple[int, ...]]:
    """The data folder and the test parts to read; bad arguments raise naming them."""
    if path is None:
        raise ValueError("load('rcv1') needs path=, the folder with the LYRL2004 files")
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder (expected the RCV1-v2 LYRL2004 files)")
    if isinstance(validation_size, bool) or not isinstance(validation_size, int | np.integer):
        raise ValueError(f"validation_size must be an integer, got {validation_size!r}")
    if validation_size < 0:
        raise ValueError(f"validation_size must not be negative, got {validation_size}")
    return folder, (_check_parts(test_parts) if include_test else ())


def _find(folder: Path, names: str | Sequence[str]) -> Path:
    return find_file(folder, names, needed_for="RCV1-v2 needs the LYRL2004 files")


def _description(descriptions: dict[str, str]) -> str:
    """The JSON ``info.description`` of every split: the source and the topics' names."""
    return json.dumps(
        {
            "data_set": "RCV1-v2, LYRL2004 token files (Lewis et al. 2004)",
            "label_names": "topic codes",
            "label_descriptions": descriptions,
        }
    )


def _numbered(path: Path, handle: io.TextIOBase) -> Iterator[tuple[int, str]]:
    """``enumerate(handle, 1)`` that names the file and line on a decoding error."""
    number = 0
    try:
        for number, line in enumerate(handle, start=1):
            yield number, line
    except _READ_ERRORS as error:
        raise DataError(
            f"{path}, line {number + 1}: cannot be read ({error})", "unreadable"
        ) from None


def _fingerprint(files: Sequence[Path]) -> str:
    stats = [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return hashlib.sha256(json.dumps([_FORMAT, stats]).encode()).hexdigest()[:32]
