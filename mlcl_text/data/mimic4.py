"""MIMIC-IV discharge notes with their ICD-9 or ICD-10 codes (Johnson et al., Sci. Data 2023).

``load("mimic4", path=DIR, icd_version=10, setting="50" | "full", splits=DIR_OR_None)``
builds the ICD-coding benchmark of MIMIC-IV (as in Nguyen et al., SIGIR 2023, "Mimic-IV-ICD")
from credentialed local copies of MIMIC-IV-Note and MIMIC-IV, found in ``DIR``, its
``note/`` and ``hosp/`` subfolders, or ``notes_path`` for the note file:

* ``discharge.csv(.gz)`` (MIMIC-IV-Note): ``note_id, subject_id, hadm_id, note_type,
  note_seq, charttime, storetime, text``; notes of type ``DS`` (discharge summaries) come
  first, then addenda (``AD``), each by ``charttime`` and ``note_seq``; streamed in chunks;
* ``diagnoses_icd.csv(.gz)`` (``subject_id, hadm_id, seq_num, icd_code, icd_version``) and
  ``procedures_icd.csv(.gz)`` (``subject_id, hadm_id, seq_num, chartdate, icd_code,
  icd_version``): only rows of ``icd_version`` are read. Codes are undotted in MIMIC-IV and
  dotted here: ICD-9 as in MIMIC-III, ICD-10-CM diagnoses after 3 characters
  (``"I5021"`` → ``"I50.21"``), ICD-10-PCS procedures stay 7 characters (``"02100Z9"``).

Admissions with no code of that version are left out, so ``icd_version=10`` gives the
admissions coded in ICD-10. Settings and splits as in :mod:`mlcl_text.data.mimic3` (split
files ``{train,dev,test}_{setting}_hadm_ids.csv``; else a patient-disjoint seeded split).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from datasets import DatasetDict

from mlcl_text.data.clinical.codes import read_code_tables
from mlcl_text.data.clinical.dataset import build_dataset, check_options, data_folder
from mlcl_text.data.clinical.icd9 import format_icd9
from mlcl_text.data.clinical.icd10 import format_icd10_cm, format_icd10_pcs
from mlcl_text.data.clinical.notes import AdmissionNotes
from mlcl_text.data.clinical.tables import BadRows, selected_rows, stream_table
from mlcl_text.data.clinical.trees import icd9_label_tree, icd10_label_tree
from mlcl_text.data.file_io import find_file
from mlcl_text.data.registry import check_on_error, register
from mlcl_text.hierarchy import LabelTree

NOTES_FILE = "discharge.csv"
DIAGNOSES_FILE = "diagnoses_icd.csv"
PROCEDURES_FILE = "procedures_icd.csv"
NOTE_COLUMNS = ("note_id", "subject_id", "hadm_id", "note_type", "note_seq", "charttime", "text")
NOTE_TYPES = {"DS": False, "AD": True}  # note type → is an addendum
ICD_VERSIONS = (9, 10)


@register("mimic4", restricted=True)
def load_mimic4(
    path: str | None = None,
    *,
    icd_version: int = 10,
    setting: str = "50",
    splits: str | None = None,
    notes_path: str | None = None,
    clean_text: bool = False,
    hierarchy: str = "compact",
    seed: int = 0,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    on_error: str = "skip",
    chunk_size: int = 20_000,
    progress: bool = True,
) -> tuple[DatasetDict, LabelTree]:
    """Load the MIMIC-IV ICD coding benchmark (see the module docstring).

    Args:
        path: the folder with ``hosp/diagnoses_icd.csv.gz`` and ``hosp/procedures_icd.csv.gz``
            (or those files directly in it) and, unless ``notes_path`` is given,
            ``note/discharge.csv.gz``.
        icd_version: 9 or 10: the codes read (others are ignored).
        notes_path: the ``discharge.csv(.gz)`` file or its folder, when MIMIC-IV-Note is
            stored apart from MIMIC-IV.
        Other arguments as in :func:`mlcl_text.data.mimic3.load_mimic3`.
    """
    setting = check_options(setting, hierarchy, validation_fraction, test_fraction)
    check_on_error(on_error)
    if icd_version not in ICD_VERSIONS:
        raise ValueError(f"icd_version must be 9 or 10, got {icd_version!r}")
    folder = data_folder(path, "mimic4", "hosp/diagnoses_icd.csv.gz, hosp/procedures_icd...")
    if notes_path is not None:
        given = Path(notes_path)
        notes_file = find_file(given, NOTES_FILE, ("note",)) if given.is_dir() else given
        if not notes_file.is_file():
            raise FileNotFoundError(f"MIMIC-IV-Note file {notes_file} does not exist")
    else:
        notes_file = find_file(folder, NOTES_FILE, ("note",))
    bad = BadRows(on_error)
    notes = read_discharge_notes(notes_file, bad, chunk_size, progress)
    bad.warn(str(notes_file))
    codes = read_code_tables(
        [
            (
                find_file(folder, name, ("hosp",)),
                lambda code, kind=kind: format_code(code, kind, icd_version),
            )
            for name, kind in ((DIAGNOSES_FILE, "diagnosis"), (PROCEDURES_FILE, "procedure"))
        ],
        hadm_column="hadm_id",
        code_column="icd_code",
        extra_columns=("icd_version",),
        keep_row=lambda frame: (frame["icd_version"].str.strip() == str(icd_version)).to_numpy(
            dtype=np.bool_
        ),
        on_error=on_error,
        progress=progress,
    )
    return build_dataset(
        name=f"mimic4 (ICD-{icd_version})",
        notes=notes.texts(clean_text),
        subjects=notes.subjects,
        codes=codes,
        tree_of=lambda used: (
            icd9_label_tree(used, hierarchy)
            if icd_version == 9
            else icd10_label_tree(used, hierarchy)
        ),
        setting=setting,
        splits=splits,
        seed=seed,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
    )


def read_discharge_notes(
    path: Path, bad: BadRows, chunk_size: int = 20_000, progress: bool = True
) -> AdmissionNotes:
    """The discharge notes of MIMIC-IV-Note per admission, streamed in chunks."""
    notes = AdmissionNotes()
    for first, frame in stream_table(
        path, NOTE_COLUMNS, chunk_size=chunk_size, progress=progress, description="discharge"
    ):
        types = frame["note_type"].str.strip().str.upper()
        for offset, row in selected_rows(frame, types.isin(list(NOTE_TYPES))):
            where = f"{path.name} row {first + offset} (note_id {row['note_id'].strip()[:24]})"
            seq = row["note_seq"].strip()
            order = (
                NOTE_TYPES[row["note_type"].strip().upper()],
                row["charttime"].strip(),
                int(seq) if seq.isdigit() else 0,
                row["note_id"].strip(),
            )
            notes.add_row(bad, where, row, ("hadm_id", "subject_id", "text"), order)
    return notes


def format_code(code: str, kind: str, icd_version: int) -> str:
    """The dotted form of an undotted MIMIC-IV code of ``kind`` (``"diagnosis"`` or
    ``"procedure"``) and ``icd_version``; ``ValueError`` if malformed."""
    if icd_version == 9:
        return format_icd9(code, kind)
    return format_icd10_pcs(code) if kind == "procedure" else format_icd10_cm(code)
