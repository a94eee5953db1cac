"""Web of Science (WOS; Kowsari et al. 2017, "HDLTex"), as published on Mendeley Data.

``load("wos", path)`` reads the archive's layout::

    <root>/
        Data.xlsx              (or Meta-data/Data.xlsx): Y1, Y2, Y, Domain, area, keywords, Abstract
        WOS46985/  X.txt  Y.txt  YL1.txt  YL2.txt
        WOS11967/  ...
        WOS5736/   ...

``X.txt`` holds one abstract per line, ``YL1.txt`` the document's domain id (level 1),
``YL2.txt`` its area id *within that domain* (level 2) and ``Y.txt`` the overall class id,
line by line. Labels form a two-level tree: the domain (``"CS"``) and the area, named by its
path (``"CS/Machine learning"``) because area names are only unique within a domain. Some area
names contain a slash themselves (``"Medical/HIV/AIDS"``), so the tree is built from explicit
parent links, not by splitting names at ``/``: every area sits at depth 2 under its domain.

Label names
-----------
``Data.xlsx`` lists the 46,985 documents of WOS-46985 with their domain id ``Y1``,
area id ``Y2`` and the names ``Domain`` and ``area``. A document's ids ``(YL1, YL2)``
are looked up among the ``(Y1, Y2)`` pairs; names are stripped of surrounding white
space (the published file has trailing spaces). Reading it needs ``openpyxl``
(``pip install openpyxl``; an ``ImportError`` says so when it is missing). Without
``Data.xlsx`` names are ``domain-<YL1>`` and ``domain-<YL1>/area-<YL2>``. ``"auto"``
uses ``Data.xlsx`` only for WOS-46985 (the folder is named ``WOS46985`` or holds
46,985 documents) because the ids of the smaller variants need not follow WOS-46985's
numbering; ``label_names="xlsx"`` applies it to them anyway. The tree lists the
domains by id, then the areas by ``(domain, area)`` id (``label_names`` of :func:`load_wos`).

Split rule
----------
With ``n`` documents, ``n_test = round(n * test)`` and ``n_val = round(n * validation)``
(or the given counts). The indices ``0..n-1`` (line order of ``X.txt``) are shuffled
with ``numpy.random.default_rng(seed).permutation(n)``; the first ``n_test`` go to
test, the next ``n_val`` to validation and the rest to train; each split keeps file
order. For WOS-46985 the defaults give 30,070 / 7,518 / 9,397 documents, the sizes of
the split used by HGCLR and HPT. Only the sizes are reproduced, not the membership of
their split, which cannot be derived from the archive. See :func:`wos_split_sizes`
and :func:`mlcl_text.data.splits.seeded_split`.

Hub data
--------
The Hub data set needs a text column (``text``, ``input_data`` or ``abstract``) and one
of: a ``labels`` column of ``"Domain/area"`` paths (the domain ends at the first
``/``; an entry without ``/`` is a domain); ``domain`` and ``area`` string columns; or
the integer columns ``label_level_1`` and ``label_level_2`` of
``HDLTex/web_of_science`` (named by their ``ClassLabel`` names when they have them,
id-based names otherwise). Column names are matched case-insensitively. When it has
``train``, ``validation`` and ``test`` splits they are kept; otherwise all its rows
are split by the rule above. ``id`` is its ``id`` column or ``<hub_id>[<split>]:<row>``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from datasets import Dataset, DatasetDict

from mlcl_text.data.registry import SPLITS, DataError, register
from mlcl_text.data.rows import rows_to_dataset
from mlcl_text.data.splits import seeded_split
from mlcl_text.data.wos_names import label_names as read_label_names
from mlcl_text.hierarchy import LabelTree

logger = logging.getLogger(__name__)

#: The HGCLR/HPT split of WOS-46985: 30,070 train / 7,518 validation / 9,397 test.
WOS46985_SPLIT = (30_070, 7_518, 9_397)
#: ``(validation, test)`` fractions of that split, the default for any number of documents.
DEFAULT_SPLIT_FRACTIONS = (
    WOS46985_SPLIT[1] / sum(WOS46985_SPLIT),
    WOS46985_SPLIT[2] / sum(WOS46985_SPLIT),
)

LABEL_NAME_MODES = ("auto", "xlsx", "ids")


@register("wos")
def load_wos(
    path: str | None = None,
    *,
    variant: str = "WOS46985",
    hub_id: str | None = None,
    hub_config: str | None = None,
    seed: int = 0,
    split_sizes: tuple[float | int, float | int] | None = None,
    label_names: str = "auto",
) -> tuple[DatasetDict, LabelTree]:
    """Load WOS as ``(DatasetDict, LabelTree)`` with ``text``, ``labels`` and ``id`` columns.

    Args:
        path: the archive's root folder (the variant's subfolder is taken) or a variant folder
            itself (a folder holding ``X.txt``; then ``variant`` is not used).
        variant: ``"WOS46985"`` (default), ``"WOS11967"`` or ``"WOS5736"``.
        hub_id: load from the Hugging Face Hub with ``datasets.load_dataset(hub_id, hub_config)``
            instead of ``path`` (see *Hub data* in the module docstring).
        hub_config: the Hub configuration, e.g. ``"WOS46985"`` for ``HDLTex/web_of_science``.
        seed: seed of the split rule.
        split_sizes: ``(validation, test)`` sizes: floats are fractions of the documents, ints
            are counts. Default: the fractions of the WOS-46985 split, ``(7518/46985,
            9397/46985)``.
        label_names: where label names come from. ``"xlsx"``: ``Data.xlsx`` (an error when it
            is absent); ``"ids"``: id-based names, ``Data.xlsx`` is not read; ``"auto"``
            (default): ``Data.xlsx`` for WOS-46985 when it is present, id-based names
            otherwise (with a warning).

    Label names, the split rule and the Hub columns are described in the module docstring.
    The ``id`` of a local document is ``<variant folder name>:<line>``, its 1-based line in
    ``X.txt``.
    Bad input (line counts that differ, a non-integer id, an empty abstract, ids missing
    from ``Data.xlsx``) raises :class:`~mlcl_text.data.registry.DataError` naming the file,
    line or row and the reason.
    """
    if label_names not in LABEL_NAME_MODES:
        raise ValueError(f"label_names must be one of {LABEL_NAME_MODES}, got {label_names!r}")
    if hub_id is not None:
        if path is not None:
            raise ValueError("give either path or hub_id, not both")
        return _load_hub(hub_id, hub_config, seed, split_sizes)
    if path is None:
        raise ValueError(
            "load('wos') needs path= (the WOS archive folder or a variant folder) or hub_id="
        )

    folder = _variant_folder(Path(path), variant)
    texts, level1, level2 = _read_variant(folder)
    names = read_label_names(
        folder,
        level1,
        level2,
        label_names,
        is_wos46985=folder.name == "WOS46985" or len(level1) == sum(WOS46985_SPLIT),
    )

    domain_ids = sorted(set(level1))
    area_ids = sorted(set(zip(level1, level2, strict=True)))
    tree = _make_tree(
        [names.domain(d) for d in domain_ids],
        [(names.area(d, a), names.domain(d)) for d, a in area_ids],
        source=str(names.source),
    )
    rows = [
        {
            "text": text,
            "labels": [names.domain(d), names.area(d, a)],
            "id": f"{folder.name}:{line}",
        }
        for line, (text, d, a) in enumerate(zip(texts, level1, level2, strict=True), start=1)
    ]
    return _split_rows(rows, seed, split_sizes), tree


# ---------------------------------------------------------------------- the split rule
def wos_split_sizes(
    n: int, split_sizes: tuple[float | int, float | int] | None = None
) -> tuple[int, int, int]:
    """``(train, validation, test)`` sizes for ``n`` documents (see :func:`load_wos`).

    >>> wos_split_sizes(46_985)
    (30070, 7518, 9397)
    """
    given = DEFAULT_SPLIT_FRACTIONS if split_sizes is None else tuple(split_sizes)
    if len(given) != 2:
        raise ValueError(f"split_sizes must be (validation, test), got {split_sizes!r}")
    counts = []
    for name, size in zip(("validation", "test"), given, strict=True):
        if isinstance(size, bool) or not isinstance(size, int | float | np.integer | np.floating):
            raise ValueError(f"the {name} size must be a fraction or a count, got {size!r}")
        if isinstance(size, int | np.integer):
            if size < 0:
                raise ValueError(f"the {name} size must not be negative, got {size}")
            counts.append(int(size))
        else:
            if not 0.0 <= size < 1.0:
                raise ValueError(f"the {name} fraction must lie in [0, 1), got {size}")
            counts.append(round(n * float(size)))
    n_validation, n_test = counts
    if n_validation + n_test > n:
        raise ValueError(
            f"{n_validation} validation + {n_test} test documents exceed the {n} documents"
        )
    return n - n_validation - n_test, n_validation, n_test


def _split_rows(
    rows: list[dict[str, Any]], seed: int, split_sizes: tuple[float | int, float | int] | None
) -> DatasetDict:
    _, n_validation, n_test = wos_split_sizes(len(rows), split_sizes)
    parts = seeded_split(len(rows), n_validation=n_validation, n_test=n_test, seed=seed)
    return DatasetDict(
        {split: rows_to_dataset([rows[i] for i in parts[split]]) for split in SPLITS}
    )


# ---------------------------------------------------------------------- local files
def _variant_folder(path: Path, variant: str) -> Path:
    if (path / "X.txt").is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"{path} does not exist (expected the WOS archive folder)")
    folder = path / variant
    if not (folder / "X.txt").is_file():
        found = sorted(p.name for p in path.iterdir() if (p / "X.txt").is_file())
        raise FileNotFoundError(
            f"{folder / 'X.txt'} does not exist; variant folders found in {path}: "
            f"{', '.join(found) or 'none'}"
        )
    return folder


def _read_lines(path: Path) -> list[str]:
    """Lines split at ``\\n`` only (an abstract may hold a ``\\r``); trailing blanks dropped."""
    lines = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise DataError(
                    f"{path}, line {number}: not valid UTF-8 ({error.reason})", "encoding"
                ) from None
            lines.append(line.lstrip("\ufeff") if number == 1 else line)
    while lines and not lines[-1].strip():
        lines.pop()
    return [line.rstrip("\r\n") for line in lines]


def _read_ids(path: Path) -> list[int]:
    ids = []
    for number, line in enumerate(_read_lines(path), start=1):
        try:
            ids.append(int(line.strip()))
        except ValueError:
            raise DataError(
                f"{path}, line {number}: expected an integer class id, got {line.strip()!r}",
                "bad id",
            ) from None
    return ids


def _read_variant(folder: Path) -> tuple[list[str], list[int], list[int]]:
    x_file = folder / "X.txt"
    texts = [line.strip() for line in _read_lines(x_file)]
    for number, text in enumerate(texts, start=1):
        if not text:
            raise DataError(f"{x_file}, line {number}: empty abstract", "empty text")
    columns: dict[str, list[int]] = {}
    for name in ("YL1.txt", "YL2.txt", "Y.txt"):
        file = folder / name
        if not file.is_file():
            if name == "Y.txt":  # the overall class id is not needed; checked when present
                continue
            raise FileNotFoundError(f"{file} does not exist (WOS needs X.txt, YL1.txt, YL2.txt)")
        columns[name] = _read_ids(file)
        if len(columns[name]) != len(texts):
            raise DataError(
                f"{file}: {len(columns[name])} lines, but {x_file} has {len(texts)} "
                "(every file holds one line per document)",
                "line count",
            )
    return texts, columns["YL1.txt"], columns["YL2.txt"]


def _make_tree(domains: Iterable[str], areas: Iterable[tuple[str, str]], source: str) -> LabelTree:
    try:
        return LabelTree.from_parents([*((d, None) for d in domains), *areas])
    except ValueError as error:
        raise DataError(f"{source}: the label names do not form a tree: {error}") from error


# ---------------------------------------------------------------------- the Hub
_TEXT_COLUMNS = ("text", "input_data", "abstract")


def _load_hub(
    hub_id: str,
    hub_config: str | None,
    seed: int,
    split_sizes: tuple[float | int, float | int] | None,
) -> tuple[DatasetDict, LabelTree]:
    hub = datasets.load_dataset(hub_id, hub_config) if hub_config else datasets.load_dataset(hub_id)
    records: dict[str, list[dict[str, Any]]] = {}
    keys: dict[str, tuple] = {}  # label name -> sort key
    parents: dict[str, str | None] = {}
    for split in hub:
        source = f"{hub_id}[{split}]"
        read = _hub_reader(source, hub[split])
        rows = []
        for number, row in enumerate(hub[split], start=1):
            text, paths = read(number, row)
            labels: list[str] = []
            for domain, domain_key, area, area_key in paths:
                parents.setdefault(domain, None)
                keys.setdefault(domain, (0, *domain_key))
                labels.append(domain)
                if area is not None:
                    name = f"{domain}/{area}"
                    parents.setdefault(name, domain)
                    keys.setdefault(name, (1, *domain_key, *area_key))
                    labels.append(name)
            row_id = row.get("id")
            rows.append(
                {
                    "text": text,
                    "labels": list(dict.fromkeys(labels)),
                    "id": str(row_id) if row_id is not None else f"{source}:{number}",
                }
            )
        records[split] = rows
    order = sorted(parents, key=keys.__getitem__)
    tree = _make_tree(
        [n for n in order if parents[n] is None],
        [(n, parents[n]) for n in order if parents[n] is not None],
        source=hub_id,
    )
    rank = {name: i for i, name in enumerate(tree.names)}
    for rows in records.values():
        for row in rows:
            row["labels"].sort(key=rank.__getitem__)
    if set(SPLITS) <= set(records):
        return DatasetDict({split: rows_to_dataset(records[split]) for split in SPLITS}), tree
    ordered = [s for s in SPLITS if s in records] + sorted(set(records) - set(SPLITS))
    return _split_rows([row for s in ordered for row in records[s]], seed, split_sizes), tree


def _hub_reader(source: str, data: Dataset):
    """A function ``(row number, row) -> (text, [(domain, key, area | None, key)])``."""
    columns = {c.lower(): c for c in data.column_names}
    text_column = next((columns[c] for c in _TEXT_COLUMNS if c in columns), None)
    if text_column is None:
        raise DataError(
            f"{source}: no text column (one of {_TEXT_COLUMNS}) among {data.column_names}",
            "missing column",
        )

    def text_of(number: int, row: dict[str, Any]) -> str:
        text = row[text_column]
        if not isinstance(text, str) or not text.strip():
            raise DataError(f"{source}, row {number}: empty text", "empty text")
        return text.strip()

    if "labels" in columns:
        labels_column = columns["labels"]

        def read(number, row):
            value = row[labels_column]
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(
                isinstance(v, str) and v.strip() for v in value
            ):
                raise DataError(
                    f"{source}, row {number}: malformed labels {value!r}", "malformed labels"
                )
            paths = []
            for entry in value:
                domain, slash, area = (part.strip() for part in entry.strip().partition("/"))
                if not domain or (slash and not area):
                    raise DataError(
                        f"{source}, row {number}: malformed label path {entry!r}",
                        "malformed labels",
                    )
                paths.append((domain, (domain,), area or None, (area,)))
            return text_of(number, row), paths

        return read

    if "domain" in columns and "area" in columns:
        domain_column, area_column = columns["domain"], columns["area"]

        def read(number, row):
            names = []
            for column in (domain_column, area_column):
                value = row[column]
                if not isinstance(value, str) or not value.strip():
                    raise DataError(f"{source}, row {number}: empty {column}", "empty name")
                names.append(value.strip())
            return text_of(number, row), [(names[0], (names[0],), names[1], (names[1],))]

        return read

    if "label_level_1" in columns and "label_level_2" in columns:
        c1, c2 = columns["label_level_1"], columns["label_level_2"]
        names1 = getattr(data.features[c1], "names", None)
        names2 = getattr(data.features[c2], "names", None)

        def read(number, row):
            d, a = row[c1], row[c2]
            if not isinstance(d, int) or not isinstance(a, int) or d < 0 or a < 0:
                raise DataError(f"{source}, row {number}: bad label ids {(d, a)}", "bad id")
            domain = names1[d] if names1 else f"domain-{d}"
            area = names2[a] if names2 else f"area-{a}"
            return text_of(number, row), [(domain, (d,), area, (a,))]

        return read

    raise DataError(
        f"{source}: expected a 'labels' column, 'domain' and 'area' columns or "
        f"'label_level_1' and 'label_level_2' columns; found {data.column_names}",
        "missing column",
    )
