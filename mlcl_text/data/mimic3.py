"""MIMIC-III v1.4 discharge summaries with their ICD-9 codes (Johnson et al., Sci. Data 2016).

``load("mimic3", path=DIR, setting="50" | "full", splits=DIR_OR_None)`` builds the ICD-coding
benchmark of the CAML line of work (Mullenbach et al., NAACL 2018; LAAT, MSMN, PLM-ICD) from
a credentialed local copy of MIMIC-III, in the v1.4 column layout:

* ``NOTEEVENTS.csv(.gz)``: ``ROW_ID, SUBJECT_ID, HADM_ID, CHARTDATE, CHARTTIME, STORETIME,
  CATEGORY, DESCRIPTION, CGID, ISERROR, TEXT``. Notes of ``CATEGORY`` "Discharge summary"
  are kept, except those with ``ISERROR`` 1 and those without an admission; per admission,
  the ``DESCRIPTION`` "Report" notes come first, then the addenda, each by ``CHARTDATE`` and
  ``ROW_ID``. The 3.8 GB file is streamed in chunks with a progress bar;
* ``DIAGNOSES_ICD.csv(.gz)`` and ``PROCEDURES_ICD.csv(.gz)``: ``ROW_ID, SUBJECT_ID, HADM_ID,
  SEQ_NUM, ICD9_CODE``. Codes are dotted (:func:`mlcl_text.data.clinical.icd9.format_icd9`: diagnoses after
  3 characters, E-codes after 4, procedures after 2).

Settings: ``full`` keeps every code; ``50`` the 50 codes assigned to most admissions and the
admissions with at least one of them. With ``splits``, a folder of the CAML split files
(``train_full_hadm_ids.csv``, ``dev_full_hadm_ids.csv``, ``test_full_hadm_ids.csv``,
``*_50_hadm_ids.csv``), the standard splits are reproduced: 47,723 / 1,631 / 3,372
admissions (full) and 8,066 / 1,573 / 1,729 (top-50). Without it, admissions are split
patient-disjointly by :func:`mlcl_text.data.splits.patient_split`.

The pieces of both MIMIC loaders are in :mod:`mlcl_text.data.clinical`.
"""

from __future__ import annotations

from pathlib import Path

from datasets import DatasetDict

from mlcl_text.data.clinical.codes import read_code_tables
from mlcl_text.data.clinical.dataset import build_dataset, check_options, data_folder
from mlcl_text.data.clinical.icd9 import format_icd9
from mlcl_text.data.clinical.notes import AdmissionNotes
from mlcl_text.data.clinical.tables import BadRows, selected_rows, stream_table
from mlcl_text.data.clinical.trees import icd9_label_tree
from mlcl_text.data.file_io import find_file
from mlcl_text.data.registry import check_on_error, register
from mlcl_text.hierarchy import LabelTree

NOTES_FILE = "NOTEEVENTS.csv"
DIAGNOSES_FILE = "DIAGNOSES_ICD.csv"
PROCEDURES_FILE = "PROCEDURES_ICD.csv"
NOTE_COLUMNS = ("ROW_ID", "SUBJECT_ID", "HADM_ID", "CHARTDATE", "CATEGORY", "DESCRIPTION")
DISCHARGE = "Discharge summary"
#: The standard CAML split sizes (train, validation, test) per setting.
CAML_SIZES = {"full": (47_723, 1_631, 3_372), "50": (8_066, 1_573, 1_729)}


@register("mimic3", restricted=True)
def load_mimic3(
    path: str | None = None,
    *,
    setting: str = "50",
    splits: str | None = None,
    clean_text: bool = False,
    hierarchy: str = "compact",
    seed: int = 0,
    validation_fraction: float = 0.1,
    test_fraction: float = 0.1,
    on_error: str = "skip",
    chunk_size: int = 20_000,
    progress: bool = True,
) -> tuple[DatasetDict, LabelTree]:
    """Load the MIMIC-III ICD-9 coding benchmark (see the module docstring).

    Args:
        path: the folder holding ``NOTEEVENTS``, ``DIAGNOSES_ICD`` and ``PROCEDURES_ICD``
            (``.csv`` or ``.csv.gz``).
        setting: ``"50"`` (top-50 codes) or ``"full"`` (all codes).
        splits: a folder of CAML split files (``{train,dev,test}_{setting}_hadm_ids.csv``);
            ``None`` for a patient-disjoint seeded split.
        clean_text: the CAML cleaning (lower-case, drop tokens without letters).
        hierarchy: ``"compact"`` (chapter → category → code, three levels, so that levels 1
            and 2 are the same kind of node for every code) or ``"full"`` (every level of
            the ICD-9-CM tables: chapter → range → category → subcategory → code).
        seed, validation_fraction, test_fraction: the patient-disjoint split (no ``splits``).
        on_error: ``"skip"`` (default) skips bad rows and reports them, counted by reason,
            in one warning per file; ``"raise"`` raises on the first one.
        chunk_size: note rows held in memory at a time while streaming.
        progress: show progress bars.
    """
    setting = check_options(setting, hierarchy, validation_fraction, test_fraction)
    check_on_error(on_error)
    folder = data_folder(path, "mimic3", "NOTEEVENTS.csv(.gz), DIAGNOSES_ICD, PROCEDURES_ICD")
    notes_path = find_file(folder, NOTES_FILE)
    bad = BadRows(on_error)
    notes = read_discharge_summaries(notes_path, bad, chunk_size, progress)
    bad.warn(str(notes_path))
    codes = read_code_tables(
        [
            (find_file(folder, DIAGNOSES_FILE), lambda code: format_icd9(code, "diagnosis")),
            (find_file(folder, PROCEDURES_FILE), lambda code: format_icd9(code, "procedure")),
        ],
        hadm_column="HADM_ID",
        code_column="ICD9_CODE",
        on_error=on_error,
        progress=progress,
    )
    return build_dataset(
        name="mimic3",
        notes=notes.texts(clean_text),
        subjects=notes.subjects,
        codes=codes,
        tree_of=lambda used: icd9_label_tree(used, hierarchy),
        setting=setting,
        splits=splits,
        seed=seed,
        validation_fraction=validation_fraction,
        test_fraction=test_fraction,
    )


def read_discharge_summaries(
    path: Path, bad: BadRows, chunk_size: int = 20_000, progress: bool = True
) -> AdmissionNotes:
    """The discharge summaries of ``NOTEEVENTS`` per admission, streamed in chunks."""
    notes = AdmissionNotes()
    columns = (*NOTE_COLUMNS, "ISERROR", "TEXT")
    for first, frame in stream_table(
        path, columns, chunk_size=chunk_size, progress=progress, description="NOTEEVENTS"
    ):
        discharge = frame["CATEGORY"].str.strip() == DISCHARGE
        for offset, row in selected_rows(frame, discharge):
            where = f"{path.name} row {first + offset} (ROW_ID {row['ROW_ID'].strip()[:12]})"
            if row["ISERROR"].strip() in ("1", "1.0"):
                bad.add(where, "ISERROR is 1")
                continue
            addendum = row["DESCRIPTION"].strip().lower() == "addendum"
            row_id = int(row["ROW_ID"]) if row["ROW_ID"].strip().isdigit() else 0
            order = (addendum, row["CHARTDATE"].strip(), row_id)
            notes.add_row(bad, where, row, ("HADM_ID", "SUBJECT_ID", "TEXT"), order)
    return notes
