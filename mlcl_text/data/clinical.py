"""Shared pieces of the clinical ICD-coding loaders (:mod:`.mimic3`, :mod:`.mimic4`).

Both loaders turn a credentialed local copy of MIMIC into the standard coding benchmark:

1. **notes**, streamed in chunks from the (multi-GB) note table with a progress bar: only the
   discharge notes of each admission are kept, and an admission's text is its report
   followed by its addenda (each group ordered by chart time, then note id), joined by a
   blank line. Memory grows with the discharge notes kept, never with the file;
2. **codes** per admission from the diagnosis and procedure tables, dotted, duplicates
   removed; rows with an empty or malformed code are skipped and reported (row number and
   code, never note text) in one warning, or raise with ``strict=True``;
3. the **setting**: ``"full"`` (every code) or ``"50"`` (the 50 codes assigned to most
   admissions, ties broken by code; admissions without any of them are dropped);
4. the **splits**: the user's split files (one admission id per line, as the CAML files
   ``train_50_hadm_ids.csv``, ``dev_50_hadm_ids.csv``, ``test_50_hadm_ids.csv``), else a
   patient-disjoint seeded split (:func:`patient_split`);
5. the **label tree** of the codes (:func:`compact_tree`: chapter → category → code by
   default, or every level of the ICD tables).

Every split has the columns ``text``, ``labels`` (codes closed under their ancestors, in tree
order), ``id`` (the admission id) and ``subject_id`` (the patient). These data sets are
*restricted* (:data:`mlcl_text.data.registry.RESTRICTED`): models trained on them carry
``restricted=True`` and refuse a public Hub push without a named data-use agreement, and no
message of these loaders contains note text.
"""

from __future__ import annotations

import gzip
import io
import logging
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from datasets import Dataset, DatasetDict, Features, List, Value
from tqdm.auto import tqdm

from mlcl_text.data.registry import SPLITS, DataError
from mlcl_text.hierarchy import LabelTree

__all__ = [
    "FEATURES",
    "HIERARCHIES",
    "SETTINGS",
    "AdmissionNotes",
    "BadRows",
    "BadRowsWarning",
    "build_dataset",
    "check_fractions",
    "check_options",
    "clean_text",
    "code_tree",
    "compact_tree",
    "data_folder",
    "find_file",
    "merge_trees",
    "patient_split",
    "read_code_tables",
    "read_codes",
    "read_split_files",
    "selected_rows",
    "stream_table",
    "top_codes",
]

logger = logging.getLogger(__name__)

FEATURES = Features(
    {
        "text": Value("string"),
        "labels": List(Value("string")),
        "id": Value("string"),
        "subject_id": Value("int64"),
    }
)
SETTINGS = ("full", "50")
HIERARCHIES = ("compact", "full")
#: Split-file names per setting: ``{split}_{setting}_hadm_ids.csv`` (CAML's naming).
SPLIT_FILE_PREFIXES = {"train": "train", "validation": "dev", "test": "test"}
_EXAMPLES = 5  # bad rows named in a warning
_WORD = re.compile(r"\w+")
_LETTER = re.compile(r"[^\W\d_]")


class BadRows:
    """Rows skipped for a reason, counted per reason, the first few named (file, row, value)."""

    def __init__(self, strict: bool = False):
        self.strict = strict
        self.counts: Counter[str] = Counter()
        self.examples: list[str] = []

    def add(self, where: str, reason: str) -> None:
        """Record one bad row (``where`` names file and row; it must not hold note text)."""
        if self.strict:
            raise DataError(f"{where}: {reason} (strict=True; pass strict=False to skip)", reason)
        self.counts[reason] += 1
        if len(self.examples) < _EXAMPLES:
            self.examples.append(f"{where}: {reason}")

    def warn(self, what: str) -> None:
        if not self.counts:
            return
        total = sum(self.counts.values())
        reasons = ", ".join(f"{n} {reason}" for reason, n in self.counts.most_common())
        warnings.warn(
            f"{what}: skipped {total} row(s) ({reasons}); first: {'; '.join(self.examples)}",
            BadRowsWarning,
            stacklevel=3,
        )


class BadRowsWarning(UserWarning):
    """Rows of a clinical table were skipped; the message counts them by reason."""


# ---------------------------------------------------------------------- streaming tables
def open_table(path: Path) -> tuple[io.BufferedIOBase, io.BufferedIOBase]:
    """``(raw, text_stream)``: the raw file (whose position drives the progress bar) and the
    decompressed byte stream pandas reads (``.gz`` files are gunzipped on the fly)."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    return raw, (gzip.GzipFile(fileobj=raw) if path.suffix == ".gz" else raw)


def read_header(path: Path) -> list[str]:
    """The column names of a CSV file (plain or gzipped)."""
    raw, stream = open_table(path)
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
    raw, stream = open_table(path)
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


def find_file(folder: Path, name: str, subfolders: Sequence[str] = ()) -> Path:
    """``folder/[sub/]name`` or ``name.gz``, the first that exists; else a clear error."""
    tried = []
    for sub in ("", *subfolders):
        for candidate in (f"{name}.gz", name):
            path = folder / sub / candidate if sub else folder / candidate
            if path.is_file():
                return path
            tried.append(str(path))
    raise FileNotFoundError(f"{name}(.gz) not found; looked for {', '.join(tried)}")


# ---------------------------------------------------------------------- notes
@dataclass
class AdmissionNotes:
    """The discharge notes of each admission, kept until they are joined."""

    subjects: dict[int, int] = field(default_factory=dict)
    parts: dict[int, list[tuple[tuple, str]]] = field(default_factory=dict)

    def add(self, hadm_id: int, subject_id: int, order: tuple, text: str) -> None:
        """One note; ``order`` sorts an admission's notes (report first, then addenda)."""
        known = self.subjects.setdefault(hadm_id, subject_id)
        if known != subject_id:
            raise DataError(
                f"admission {hadm_id} belongs to patients {known} and {subject_id} in the notes"
            )
        self.parts.setdefault(hadm_id, []).append((order, text))

    def texts(self, clean: bool) -> dict[int, str]:
        """Each admission's notes in order, joined by a blank line (cleaned if ``clean``)."""
        out = {}
        for hadm_id, parts in self.parts.items():
            text = "\n\n".join(text for _, text in sorted(parts, key=lambda p: p[0]))
            out[hadm_id] = clean_text(text) if clean else text
        return out

    def add_row(
        self,
        bad: BadRows,
        where: str,
        row: Mapping[str, str],
        columns: tuple[str, str, str],
        order: tuple,
    ) -> None:
        """One note row as read; ``columns`` names its admission, patient and text columns.
        A bad row goes to ``bad`` (reported by column name, never with its text)."""
        hadm_column, subject_column, text_column = columns
        hadm_id = parse_id(row[hadm_column], where, hadm_column, bad)
        subject_id = parse_id(row[subject_column], where, subject_column, bad)
        if hadm_id is None or subject_id is None:
            return
        text = row[text_column].strip()
        if not text:
            bad.add(where, f"{text_column} is empty")
            return
        self.add(hadm_id, subject_id, order, text)


def selected_rows(frame: pd.DataFrame, mask: Any) -> Iterator[tuple[int, dict[str, str]]]:
    """``(position in frame, row as a dict)`` of the rows where ``mask`` is true."""
    positions = np.flatnonzero(np.asarray(mask))
    return zip(positions.tolist(), frame.iloc[positions].to_dict("records"), strict=True)


def clean_text(text: str) -> str:
    """The text cleaning of the CAML line of work (Mullenbach et al., NAACL 2018).

    Word tokens (``\\w+``) are lower-cased and tokens without a letter (numbers, de-
    identification underscores) are dropped: ``"Pt [**Name**] 65 y/o, BP 120/80"`` →
    ``"pt name y o bp"``.
    """
    return " ".join(t.lower() for t in _WORD.findall(text) if _LETTER.search(t))


def parse_id(value: str, where: str, column: str, bad: BadRows) -> int | None:
    """An integer id (MIMIC writes some as ``"123.0"``); ``None`` and a bad row if not."""
    text = value.strip()
    if text.endswith(".0"):
        text = text[:-2]
    if not text.isdigit():
        bad.add(where, f"{column} is {'empty' if not text else 'not an integer'}")
        return None
    return int(text)


# ---------------------------------------------------------------------- codes
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
    strict: bool,
    progress: bool,
    keep_row: Callable[[pd.DataFrame], np.ndarray] | None = None,
    extra_columns: Sequence[str] = (),
) -> dict[int, set[str]]:
    """The codes of several tables (diagnoses, procedures) merged per admission; each
    table's bad rows are reported in one warning naming the table."""
    codes: dict[int, set[str]] = {}
    for path, format_code in tables:
        bad = BadRows(strict)
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


# ---------------------------------------------------------------------- splits
def read_split_files(folder: str | Path, setting: str) -> dict[str, list[int]]:
    """Admission ids per split from ``{train,dev,test}_{setting}_hadm_ids.csv`` in ``folder``.

    One id per line; blank lines and a ``HADM_ID`` header line are ignored. A line that is
    not an integer, or an id in two files, raises :class:`DataError` naming file and line.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"split folder {folder} does not exist")
    out: dict[str, list[int]] = {}
    seen: dict[int, str] = {}
    for split, prefix in SPLIT_FILE_PREFIXES.items():
        path = folder / f"{prefix}_{setting}_hadm_ids.csv"
        if not path.is_file():
            raise FileNotFoundError(
                f"split file {path} does not exist (expected {prefix}_{setting}_hadm_ids.csv "
                f"for the {split} split of setting {setting!r})"
            )
        ids = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            text = line.strip().strip('"')
            if not text or text.upper() == "HADM_ID":
                continue
            if text.endswith(".0"):
                text = text[:-2]
            if not text.isdigit():
                raise DataError(f"{path}:{number}: not an admission id: {line.strip()[:30]!r}")
            hadm_id = int(text)
            if hadm_id in seen:
                raise DataError(f"{path}:{number}: admission {hadm_id} is also in {seen[hadm_id]}")
            seen[hadm_id] = path.name
            ids.append(hadm_id)
        out[split] = ids
    return out


def check_fractions(validation_fraction: float, test_fraction: float) -> None:
    """Held-out fractions in ``[0, 1)`` with a sum below 1, else ``ValueError``."""
    if not (0 <= validation_fraction < 1 and 0 <= test_fraction < 1) or (
        validation_fraction + test_fraction >= 1
    ):
        raise ValueError(
            "validation_fraction and test_fraction must be in [0, 1) with a sum below 1, got "
            f"{validation_fraction} and {test_fraction}"
        )


def patient_split(
    subjects: Sequence[int], *, seed: int, validation_fraction: float, test_fraction: float
) -> dict[str, np.ndarray]:
    """Patient-disjoint split of admissions whose patients are ``subjects``.

    The rule: the distinct patient ids, sorted, are permuted by
    ``numpy.random.default_rng(seed).permutation``; walking that order, patients go to test
    until test holds at least ``round(test_fraction · n)`` admissions, then to validation
    until it holds ``round(validation_fraction · n)``, and the rest to train. Every
    admission of a patient is in one split. Returns each split's sorted admission indices.
    """
    check_fractions(validation_fraction, test_fraction)
    subjects = np.asarray(subjects, dtype=np.int64)
    patients, inverse, counts = np.unique(subjects, return_inverse=True, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(patients))
    cumulative = np.cumsum(counts[order])
    n_test = round(test_fraction * len(subjects))
    n_held = n_test + round(validation_fraction * len(subjects))
    # first position whose running total reaches each target
    test_end = int(np.searchsorted(cumulative, n_test)) + 1 if n_test else 0
    held_end = max(test_end, int(np.searchsorted(cumulative, n_held)) + 1 if n_held else 0)
    split_of_patient = np.zeros(len(patients), dtype=np.int8)  # 0 train, 1 validation, 2 test
    split_of_patient[order[:test_end]] = 2
    split_of_patient[order[test_end:held_end]] = 1
    split_of_admission = split_of_patient[inverse]
    return {
        "train": np.flatnonzero(split_of_admission == 0),
        "validation": np.flatnonzero(split_of_admission == 1),
        "test": np.flatnonzero(split_of_admission == 2),
    }


# ---------------------------------------------------------------------- label trees
def merge_trees(*trees: LabelTree) -> LabelTree:
    """One forest of several trees; a name in two trees must have the same parent there."""
    parents: dict[str, str | None] = {}
    for tree in trees:
        for name in tree:
            parent = tree.parent(name)
            if name in parents and parents[name] != parent:
                raise ValueError(
                    f"label {name!r} has parent {parents[name]!r} in one tree and {parent!r} "
                    "in another"
                )
            parents[name] = parent
    return LabelTree.from_parents(parents)


def code_tree(
    codes: Sequence[str],
    *,
    is_procedure: Callable[[str], bool],
    diagnosis_tree: Callable[[list[str]], LabelTree],
    procedure_tree: Callable[[list[str]], LabelTree],
    is_category: Callable[[str], bool],
    hierarchy: str,
) -> LabelTree:
    """The label tree of one code system's diagnosis and procedure ``codes``.

    The diagnoses and the procedures (``is_procedure``) get the trees of their tables,
    merged into one forest (:func:`merge_trees`); ``hierarchy="full"`` keeps it whole,
    ``"compact"`` cuts it to chapter → category → code (:func:`compact_tree`).
    """
    procedures = [c for c in codes if is_procedure(c)]
    diagnoses = [c for c in codes if not is_procedure(c)]
    trees = []
    if diagnoses:
        trees.append(diagnosis_tree(diagnoses))
    if procedures:
        trees.append(procedure_tree(procedures))
    tree = merge_trees(*trees)
    if hierarchy == "full":
        return tree
    return compact_tree(tree, codes, is_category)


def compact_tree(tree: LabelTree, codes: Iterable[str], is_category: Callable[[str], bool]):
    """The tree of ``codes`` cut to three levels: root (chapter) → category → code.

    Each code hangs under the nearest of its ancestors that ``is_category`` accepts, which
    hangs under the code's root; a code that is itself a category (or has no category
    ancestor) hangs under the root directly, and a root code stays a root. Nodes of
    ``tree`` that are neither roots, categories nor ``codes`` are dropped.
    """
    parents: dict[str, str | None] = {}
    for code in codes:
        chain = tree.ancestors(code)  # root first
        root = chain[0] if chain else None
        category = next((a for a in reversed(chain[1:]) if is_category(a)), None)
        if root is not None:
            parents.setdefault(root, None)
        if category is not None and not is_category(code):
            parents.setdefault(category, root)
            parents[code] = category
        else:
            parents[code] = root
    return LabelTree.from_parents(parents)


# ---------------------------------------------------------------------- the data set
def data_folder(path: str | Path | None, name: str, contents: str) -> Path:
    """The data set's folder ``path``; a clear error when it is not given or not there
    (``contents`` says what the folder holds)."""
    if path is None:
        raise ValueError(f"{name} needs path=<folder with {contents}>")
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{name} folder {folder} does not exist")
    return folder


def check_options(
    setting: str, hierarchy: str, validation_fraction: float, test_fraction: float
) -> str:
    """``setting`` as a string (``50`` may come from YAML as an int); bad options raise."""
    setting = str(setting)
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
    if hierarchy not in HIERARCHIES:
        raise ValueError(f"hierarchy must be one of {HIERARCHIES}, got {hierarchy!r}")
    check_fractions(validation_fraction, test_fraction)
    return setting


def build_dataset(
    *,
    name: str,
    notes: Mapping[int, str],
    subjects: Mapping[int, int],
    codes: Mapping[int, set[str]],
    tree_of: Callable[[list[str]], LabelTree],
    setting: str,
    splits: str | Path | None,
    seed: int,
    validation_fraction: float,
    test_fraction: float,
) -> tuple[DatasetDict, LabelTree]:
    """The benchmark from joined notes and code sets (see the module docstring)."""
    admissions = sorted(set(notes) & set(codes))
    without_codes = len(set(notes) - set(codes))
    if without_codes:
        logger.info("%s: %d admission(s) with discharge notes have no codes", name, without_codes)
    if not admissions:
        raise DataError(f"{name}: no admission has both a discharge note and a code")
    if setting == "50":
        chosen = set(top_codes((codes[h] for h in admissions), 50))
        label_sets = {h: codes[h] & chosen for h in admissions}
        admissions = [h for h in admissions if label_sets[h]]
    else:
        label_sets = {h: codes[h] for h in admissions}
    if splits is not None:
        wanted = read_split_files(splits, setting)
        available = set(admissions)
        missing = {s: [h for h in ids if h not in available] for s, ids in wanted.items()}
        if any(missing.values()):
            counts = ", ".join(f"{len(m)} of {s}" for s, m in missing.items() if m)
            example = next(m[0] for m in missing.values() if m)
            warnings.warn(
                f"{name}: {counts} admission(s) of the split files in {splits} are not in the "
                f"data (no discharge note or no code{' of the top 50' if setting == '50' else ''}; "
                f"e.g. {example}); they are left out",
                BadRowsWarning,
                stacklevel=3,
            )
        order = {s: [h for h in ids if h in available] for s, ids in wanted.items()}
    else:
        parts = patient_split(
            [subjects[h] for h in admissions],
            seed=seed,
            validation_fraction=validation_fraction,
            test_fraction=test_fraction,
        )
        order = {s: [admissions[i] for i in parts[s]] for s in SPLITS}
    used = sorted({c for s in order.values() for h in s for c in label_sets[h]})
    tree = tree_of(used)
    dataset = DatasetDict(
        {
            split: Dataset.from_dict(
                {
                    "text": [notes[h] for h in ids],
                    "labels": [_closed(label_sets[h], tree) for h in ids],
                    "id": [str(h) for h in ids],
                    "subject_id": [subjects[h] for h in ids],
                },
                features=FEATURES,
            )
            for split, ids in order.items()
        }
    )
    return dataset, tree


def _closed(codes: Iterable[str], tree: LabelTree) -> list[str]:
    closed = {a for code in codes for a in (*tree.ancestors(code), code)}
    return sorted(closed, key=tree.index)
