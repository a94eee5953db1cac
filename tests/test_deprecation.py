"""Old spellings of moved or renamed names warn and resolve to the new ones (mlcl_text.deprecation)."""

from __future__ import annotations

import importlib

import pytest

from mlcl_text.deprecation import moved_names


@pytest.mark.parametrize(
    ("module", "old", "new"),
    [
        ("mlcl_text.data.mimic4", "icd10_tree", "mlcl_text.data.clinical.trees.icd10_label_tree"),
        ("mlcl_text.data.mimic3", "icd9_tree", "mlcl_text.data.clinical.trees.icd9_label_tree"),
        (
            "mlcl_text.data.mimic3",
            "is_icd9_procedure",
            "mlcl_text.data.clinical.icd9.is_icd9_procedure",
        ),
        ("mlcl_text.data.clinical", "patient_split", "mlcl_text.data.splits.patient_split"),
        ("mlcl_text.data.clinical", "find_file", "mlcl_text.data.file_io.find_file"),
        (
            "mlcl_text.data.wos",
            "read_wos_label_names",
            "mlcl_text.data.wos_names.read_wos_label_names",
        ),
    ],
)
def test_moved_names_warn_and_resolve_to_their_new_home(module, old, new):
    home, _, name = new.rpartition(".")
    with pytest.warns(DeprecationWarning, match=f"{module}.{old} is deprecated; use {new}"):
        found = getattr(importlib.import_module(module), old)
    assert found is getattr(importlib.import_module(home), name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        importlib.import_module(module).nothing  # noqa: B018


def test_moved_names_builds_a_module_getattr():
    getattr_ = moved_names("old.place", {"join": "os.path:join"})
    with pytest.warns(
        DeprecationWarning, match=r"old\.place\.join is deprecated; use os\.path\.join"
    ):
        assert getattr_("join") is importlib.import_module("os.path").join
    with pytest.raises(AttributeError, match=r"module 'old\.place' has no attribute 'split'"):
        getattr_("split")
