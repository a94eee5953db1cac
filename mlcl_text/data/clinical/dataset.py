"""The clinical ICD-coding benchmark built from an admission's notes and codes.

:func:`build_dataset` takes the joined discharge notes, the patients and the code sets of
the admissions and makes the benchmark: the **setting** ``"full"`` (every code) or ``"50"``
(the 50 codes assigned to most admissions, ties broken by code; admissions without any of
them are dropped), the **splits** from the user's split files (:func:`read_split_files`,
CAML's ``{train,dev,test}_{setting}_hadm_ids.csv``) or else a patient-disjoint seeded split
(:func:`mlcl_text.data.splits.patient_split`), and the **label tree** of the codes used.
Every split has the columns of :data:`FEATURES`: ``text``, ``labels`` (codes closed under
their ancestors, in tree order), ``id`` (the admission id) and ``subject_id`` (the patient).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from datasets import DatasetDict, Value

from mlcl_text.data.clinical.codes import top_codes
from mlcl_text.data.clinical.tables import BadRowsWarning
from mlcl_text.data.registry import SPLITS, DataError
from mlcl_text.data.rows import features_with, rows_to_dataset
from mlcl_text.data.splits import check_fractions, patient_split
from mlcl_text.hierarchy import LabelTree

__all__ = [
    "FEATURES",
    "HIERARCHIES",
    "SETTINGS",
    "build_dataset",
    "check_options",
    "data_folder",
    "read_split_files",
]

logger = logging.getLogger(__name__)

#: The standard columns and the admission's patient.
FEATURES = features_with(subject_id=Value("int64"))
SETTINGS = ("full", "50")
HIERARCHIES = ("compact", "full")
#: Split-file names per setting: ``{split}_{setting}_hadm_ids.csv`` (CAML's naming).
SPLIT_FILE_PREFIXES = {"train": "train", "validation": "dev", "test": "test"}


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
        order = _from_split_files(name, admissions, splits, setting)
    else:
        parts = patient_split(
            [subjects[h] for h in admissions],
            seed=seed,
            validation_fraction=validation_fraction,
            test_fraction=test_fraction,
        )
        order = {s: [admissions[i] for i in parts[s]] for s in SPLITS}
    tree = tree_of(sorted({c for s in order.values() for h in s for c in label_sets[h]}))
    rows = {
        split: [
            {
                "text": notes[h],
                "labels": tree.with_ancestors(label_sets[h]),
                "id": str(h),
                "subject_id": subjects[h],
            }
            for h in ids
        ]
        for split, ids in order.items()
    }
    return DatasetDict({s: rows_to_dataset(rows[s], FEATURES) for s in rows}), tree


def _from_split_files(
    name: str, admissions: Sequence[int], splits: str | Path, setting: str
) -> dict[str, list[int]]:
    """The admissions of each split file that are in the data, in the file's order; one
    :class:`BadRowsWarning` counts those left out."""
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
            stacklevel=4,
        )
    return {s: [h for h in ids if h in available] for s, ids in wanted.items()}
