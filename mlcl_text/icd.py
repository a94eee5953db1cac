"""Deprecated: the ICD code modules moved to :mod:`mlcl_text.data.clinical`.

ICD-9-CM is in :mod:`mlcl_text.data.clinical.icd9`, ICD-10-CM and ICD-10-PCS in
:mod:`mlcl_text.data.clinical.icd10`, and what they share (:data:`UNKNOWN_ROOT`,
:class:`MissingICDCodeWarning`) in :mod:`mlcl_text.data.clinical.icd_common`.
``icd10_tree`` is now :func:`~mlcl_text.data.clinical.icd10.icd10_cm_tree`. This module
re-exports the old names and warns once, when it is imported.
"""

from __future__ import annotations

import warnings

from mlcl_text.data.clinical.icd9 import format_icd9, icd9_diagnosis_tree, icd9_procedure_tree
from mlcl_text.data.clinical.icd10 import icd10_cm_tree, icd10_pcs_tree
from mlcl_text.data.clinical.icd_common import UNKNOWN_ROOT, MissingICDCodeWarning

__all__ = [
    "UNKNOWN_ROOT",
    "MissingICDCodeWarning",
    "format_icd9",
    "icd9_diagnosis_tree",
    "icd9_procedure_tree",
    "icd10_pcs_tree",
    "icd10_tree",
]

icd10_tree = icd10_cm_tree

warnings.warn(
    "mlcl_text.icd is deprecated; import from mlcl_text.data.clinical.icd9 and "
    "mlcl_text.data.clinical.icd10 (icd10_tree is now icd10_cm_tree)",
    DeprecationWarning,
    stacklevel=2,
)
