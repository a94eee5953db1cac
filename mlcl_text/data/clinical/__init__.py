"""The clinical wing: what the ICD-coding loaders (:mod:`mlcl_text.data.mimic3`,
:mod:`mlcl_text.data.mimic4`) are built from, one module a job.

Both loaders turn a credentialed local copy of MIMIC into the standard coding benchmark:

1. **notes** (:mod:`.notes`), streamed in chunks from the (multi-GB) note table with a
   progress bar (:mod:`.tables`): only the discharge notes of each admission are kept, and
   an admission's text is its report followed by its addenda (each group ordered by chart
   time, then note id), joined by a blank line. Memory grows with the discharge notes kept,
   never with the file;
2. **codes** per admission from the diagnosis and procedure tables (:mod:`.codes`), dotted
   by the code system's module (:mod:`.icd9`, :mod:`.icd10`), duplicates removed; rows with
   an empty or malformed code are skipped and reported (row number and code, never note
   text) in one warning, or raise with ``on_error="raise"`` (:class:`.tables.BadRows`);
3. the **setting**, the **splits** and the rows of the data set (:mod:`.dataset`): ``"full"``
   or ``"50"``; the user's split files or a patient-disjoint seeded split
   (:func:`mlcl_text.data.splits.patient_split`);
4. the **label tree** of the codes (:mod:`.trees`: chapter → category → code by default, or
   every level of the ICD tables).

Every split has the columns ``text``, ``labels``, ``id`` (the admission id) and
``subject_id`` (the patient). These data sets are *restricted*
(:data:`mlcl_text.data.registry.RESTRICTED`): models trained on them carry
``restricted=True`` and refuse a public Hub push without a named data-use agreement, and no
message of these loaders contains note text.
"""

from mlcl_text.data.clinical.codes import read_code_tables, read_codes, top_codes
from mlcl_text.data.clinical.dataset import (
    FEATURES,
    HIERARCHIES,
    SETTINGS,
    build_dataset,
    check_options,
    data_folder,
    read_split_files,
)
from mlcl_text.data.clinical.notes import AdmissionNotes, clean_text
from mlcl_text.data.clinical.tables import (
    BadRows,
    BadRowsWarning,
    selected_rows,
    stream_table,
)
from mlcl_text.data.clinical.trees import code_tree, compact_tree, merge_trees

__all__ = [
    "FEATURES",
    "HIERARCHIES",
    "SETTINGS",
    "AdmissionNotes",
    "BadRows",
    "BadRowsWarning",
    "build_dataset",
    "check_options",
    "clean_text",
    "code_tree",
    "compact_tree",
    "data_folder",
    "merge_trees",
    "read_code_tables",
    "read_codes",
    "read_split_files",
    "selected_rows",
    "stream_table",
    "top_codes",
]
