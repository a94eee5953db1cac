"""The MIMIC-III / MIMIC-IV loaders on synthetic files in the exact MIMIC layouts."""

from __future__ import annotations

import gzip
import tracemalloc
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mlcl_text.data import DataError, is_restricted, load
from mlcl_text.data.clinical import (
    BadRows,
    BadRowsWarning,
    clean_text,
    read_split_files,
    top_codes,
)
from mlcl_text.data.clinical.icd9 import format_icd9
from mlcl_text.data.clinical.icd_common import MissingICDCodeWarning
from mlcl_text.data.mimic3 import read_discharge_summaries
from mlcl_text.data.splits import patient_split
from tests.helpers.mimic_files import (
    MIMIC3_PROCEDURES,
    NOTE3_HEADER,
    _write_csv,
    write_mimic3,
    write_mimic4,
    write_split_files,
)
from tests.helpers.recipe_files import write_recipe


def _dotted(code: str) -> str:
    return format_icd9(code, "procedure" if code in MIMIC3_PROCEDURES else "diagnosis")


@pytest.fixture(scope="module")
def mimic3(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mimic3")
    return folder, write_mimic3(folder)


def _load3(folder, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data, tree = load("mimic3", str(folder), progress=False, **options)
    return data, tree, [str(w.message) for w in caught]


def _rows(data):
    return {int(row["id"]): row for split in data.values() for row in split}  # admission id → row


def test_full_setting_groups_notes_and_codes_per_admission(mimic3):
    folder, truth = mimic3
    data, tree, messages = _load3(folder, setting="full")
    rows = _rows(data)
    assert set(rows) == set(truth.codes)  # no admission without a note or without codes
    for hadm_id, row in rows.items():
        assert row["text"] == truth.texts[hadm_id]  # report first, then its addendum
        assert row["subject_id"] == truth.subjects[hadm_id]
        codes = {_dotted(c) for c in truth.codes[hadm_id]}
        assert set(row["labels"]) == {a for c in codes for a in (*tree.ancestors(c), c)}
        assert row["labels"] == sorted(row["labels"], key=tree.index)
        assert {label for label in row["labels"] if label in tree.leaves} == codes
    assert "WRONG PATIENT NOTE" not in "".join(r["text"] for r in rows.values())
    assert any("ISERROR is 1" in m and "HADM_ID is empty" in m for m in messages)
    assert any("ICD9_CODE is empty" in m and "'4A19'" in m for m in messages)
    assert any("017.99" in m for m in messages)  # missing from the tables, placed by prefix
    assert not any(truth.secret in m for m in messages)  # no note text in any message


def test_codes_are_dotted_and_the_compact_tree_has_chapter_category_code(mimic3):
    folder, _ = mimic3
    _, tree, _ = _load3(folder, setting="full")
    assert tree.num_levels == 3
    assert tree.ancestors("427.31") == ["390-459", "427"]
    assert tree.ancestors("V45.81") == ["V01-V91", "V45"]
    assert tree.ancestors("E878.8") == ["E000-E999", "E878"]
    assert tree.ancestors("39.61") == ["35-39", "39"]
    assert tree.ancestors("00.66") == ["00-00", "00"]
    assert tree.ancestors("486") == ["460-519"]  # a category that is itself a code
    assert tree.ancestors("017.99") == ["001-139", "017"]
    assert set(tree.level(1)) >= {"390-459", "35-39"}


def test_full_hierarchy_keeps_every_level_of_the_tables(mimic3):
    folder, _ = mimic3
    _, tree, _ = _load3(folder, setting="full", hierarchy="full")
    assert tree.ancestors("427.31") == ["390-459", "420-429", "427", "427.3"]
    assert tree.ancestors("39.61") == ["35-39", "39", "39.6"]


def test_top50_setting_keeps_the_50_most_frequent_codes(mimic3):
    folder, truth = mimic3
    data, tree, _ = _load3(folder, setting="50")
    counts = Counter(_dotted(c) for codes in truth.codes.values() for c in set(codes))
    expected = sorted(counts, key=lambda c: (-counts[c], c))[:50]
    assert len(counts) > 50 and set(tree.leaves) == set(expected)
    rows = _rows(data)
    assert set(rows) == {
        h for h, c in truth.codes.items() if {_dotted(x) for x in c} & set(expected)
    }
    for hadm_id, row in rows.items():
        leaves = {label for label in row["labels"] if label in tree.leaves}
        assert leaves == {_dotted(c) for c in truth.codes[hadm_id]} & set(expected)


def test_top_codes_breaks_ties_by_code():
    assert top_codes([["b", "a"], ["c", "a"], ["c"]], 2) == ["a", "c"]
    assert top_codes([["z"], ["y"]], 5) == ["y", "z"]


def test_split_files_are_reproduced_in_order(mimic3, tmp_path):
    folder, truth = mimic3
    ids = sorted(truth.codes)
    parts = {"train": ids[10:][::-1], "validation": ids[:5], "test": [*ids[5:10], 999_999]}
    write_split_files(tmp_path, "full", parts)
    data, _, messages = _load3(folder, setting="full", splits=str(tmp_path))
    assert [int(i) for i in data["train"]["id"]] == parts["train"]
    assert [int(i) for i in data["validation"]["id"]] == parts["validation"]
    assert [int(i) for i in data["test"]["id"]] == parts["test"][:-1]
    assert any("1 of test" in m and "999999" in m for m in messages)


def test_split_file_errors_name_the_file_and_line(tmp_path):
    write_split_files(tmp_path, "50", {"train": [1, 2], "validation": [3], "test": [2]})
    with pytest.raises(DataError, match=r"test_50_hadm_ids.csv:1: admission 2 is also in train"):
        read_split_files(tmp_path, "50")
    (tmp_path / "test_50_hadm_ids.csv").write_text("HADM_ID\n4\nabc\n")
    with pytest.raises(DataError, match=r"test_50_hadm_ids.csv:3: not an admission id"):
        read_split_files(tmp_path, "50")
    with pytest.raises(FileNotFoundError, match=r"train_full_hadm_ids\.csv"):
        read_split_files(tmp_path, "full")


def test_patient_disjoint_split_is_seeded_and_disjoint(mimic3):
    folder, truth = mimic3
    data, _, _ = _load3(folder, setting="full", seed=3)
    patients = {s: set(data[s]["subject_id"]) for s in data}
    assert not patients["train"] & patients["validation"]
    assert not patients["train"] & patients["test"]
    assert not patients["validation"] & patients["test"]
    n = len(truth.codes)
    assert round(0.1 * n) <= len(data["test"]) <= round(0.1 * n) + 3  # patients have ≤ 3 stays
    again, _, _ = _load3(folder, setting="full", seed=3)
    other, _, _ = _load3(folder, setting="full", seed=4)
    assert again["test"]["id"] == data["test"]["id"] and other["test"]["id"] != data["test"]["id"]


def test_patient_split_rule():
    subjects = [1, 1, 2, 3, 3, 3, 4, 5]
    parts = patient_split(subjects, seed=0, validation_fraction=0.25, test_fraction=0.25)
    assert sorted(np.concatenate(list(parts.values()))) == list(range(8))
    order = np.random.default_rng(0).permutation(5) + 1  # patients 1..5 permuted
    first = order[0]
    assert set(np.asarray(subjects)[parts["test"]]) >= {first}
    with pytest.raises(ValueError, match="sum below 1"):
        patient_split(subjects, seed=0, validation_fraction=0.5, test_fraction=0.5)


def test_caml_cleaning():
    assert clean_text("Pt [**Name**] 65 y/o, BP 120/80 ___ on B12") == "pt name y o bp on b12"
    assert clean_text("Admission Date:  [**2151-7-16**]") == "admission date"


def test_clean_text_option(mimic3):
    folder, truth = mimic3
    data, _, _ = _load3(folder, setting="full", clean_text=True)
    row = data["train"][0]
    assert row["text"] == clean_text(truth.texts[int(row["id"])])


def test_plain_csv_files_load_like_gzipped(tmp_path):
    truth = write_mimic3(tmp_path, n_admissions=30, gz=False)
    data, _, _ = _load3(tmp_path, setting="full")
    assert set(_rows(data)) == set(truth.codes)


def test_on_error_raise_raises_on_the_first_bad_row(mimic3):
    folder, truth = mimic3
    with pytest.raises(
        DataError, match=r"NOTEEVENTS.csv.gz row \d+ \(ROW_ID \d+\): ISERROR"
    ) as info:
        _load3(folder, setting="full", on_error="raise")
    assert truth.secret not in str(info.value)
    assert str(info.value).endswith('(on_error="raise"; pass on_error="skip" to skip)')


@pytest.mark.parametrize("name", ["mimic3", "mimic4"])
def test_on_error_must_be_raise_or_skip(tmp_path, name):
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip', got 'ignore'"):
        load(name, str(tmp_path), on_error="ignore", progress=False)
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip', got True"):
        BadRows(True)


def test_missing_files_and_columns_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"NOTEEVENTS\.csv"):
        load("mimic3", str(tmp_path), progress=False)
    _write_csv(tmp_path / "NOTEEVENTS.csv", ["ROW_ID", "TEXT"], [[1, "x"]], gz=False)
    with pytest.raises(DataError, match=r"missing column.*SUBJECT_ID"):
        load("mimic3", str(tmp_path), progress=False)
    with pytest.raises(ValueError, match="setting must be one of"):
        load("mimic3", str(tmp_path), setting="100")
    for name in ("mimic3", "mimic4"):
        with pytest.raises(ValueError, match=rf"{name} needs path=<folder with "):
            load(name, None)
        with pytest.raises(FileNotFoundError, match=rf"{name} folder .*absent does not exist"):
            load(name, str(tmp_path / "absent"))


def test_notes_stream_in_bounded_memory(tmp_path):
    """Most of NOTEEVENTS is other note categories: memory must not grow with them."""
    rng = np.random.default_rng(0)
    filler = " ".join(rng.choice(["pt", "resting", "vitals", "stable", "nursing"], 2000))
    rows = [
        [i, 1 + i % 50, 100_001 + i % 80, "2151-08-01", "", "", "Nursing/other", "Report", "",
         "", filler]
        for i in range(3000)
    ]  # fmt: skip
    rows += [
        [5000 + i, 1 + i, 100_001 + i, "2151-08-04", "", "", "Discharge summary", "Report", "",
         "", "short discharge summary"]
        for i in range(20)
    ]  # fmt: skip
    _write_csv(tmp_path / "NOTEEVENTS.csv", NOTE3_HEADER, rows, gz=True)
    path = tmp_path / "NOTEEVENTS.csv.gz"
    size = len(gzip.decompress(path.read_bytes()))
    assert size > 25_000_000
    tracemalloc.start()
    notes = read_discharge_summaries(path, BadRows(), chunk_size=200, progress=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(notes.parts) == 20
    assert peak < size / 8, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


def test_mimic_is_restricted():
    assert is_restricted("mimic3") and is_restricted("mimic4") and not is_restricted("debtags")


# ---------------------------------------------------------------------- MIMIC-IV
@pytest.fixture(scope="module")
def mimic4(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mimic4")
    return folder, write_mimic4(folder)


def test_mimic4_icd10_admissions_codes_and_addenda(mimic4):
    folder, truth = mimic4
    data, tree = load("mimic4", str(folder), icd_version=10, setting="full", progress=False)
    rows = _rows(data)
    assert set(rows) == set(truth.codes)  # ICD-9-coded admissions are left out
    for hadm_id, row in rows.items():
        assert row["text"] == truth.texts[hadm_id]
        leaves = {label for label in row["labels"] if label in tree.leaves}
        expected = {c if len(c) in (3, 7) else f"{c[:3]}.{c[3:]}" for c in truth.codes[hadm_id]}
        assert leaves == expected
    assert tree.num_levels == 3
    assert tree.ancestors("I50.21") == ["I00-I99", "I50"]
    assert tree.ancestors("0DTJ4ZZ") == ["PCS 0", "PCS 0DT"]
    assert tree.ancestors("I10") == ["I00-I99"]  # a category that is itself a code


def test_mimic4_icd9_and_separate_notes_folder(mimic4, tmp_path):
    folder, truth = mimic4
    data, tree = load(
        "mimic4",
        str(folder),
        icd_version=9,
        setting="full",
        notes_path=str(folder / "note"),
        progress=False,
    )
    ids = {int(i) for split in data.values() for i in split["id"]}
    assert ids and not ids & set(truth.codes)
    assert set(tree.leaves) <= {"401.9", "428.0", "250.00"}
    with pytest.raises(ValueError, match="icd_version must be 9 or 10"):
        load("mimic4", str(folder), icd_version=11)


def test_mimic4_top50_with_split_files(mimic4, tmp_path):
    folder, truth = mimic4
    ids = sorted(truth.codes)
    write_split_files(tmp_path, "50", {"train": ids[6:], "validation": ids[:3], "test": ids[3:6]})
    data, _ = load("mimic4", str(folder), splits=str(tmp_path), progress=False)
    assert [int(i) for i in data["validation"]["id"]] == ids[:3]
    assert len(data["train"]) == len(ids) - 6  # fewer than 50 codes: every admission stays


def test_missing_code_warning_category(mimic3):
    folder, _ = mimic3
    with pytest.warns(MissingICDCodeWarning, match=r"017\.99"), warnings.catch_warnings():
        warnings.simplefilter("ignore", BadRowsWarning)
        load("mimic3", str(folder), setting="full", progress=False)


def test_fixture_files_are_in_the_mimic_layout(mimic3):
    folder, _ = mimic3
    with gzip.open(Path(folder) / "NOTEEVENTS.csv.gz", "rt") as handle:
        header = handle.readline().strip()
    assert header.split(",") == NOTE3_HEADER


# ---------------------------------------------------------------------- end to end
def test_tiny_training_run_long_documents_restricted_and_no_text_leak(
    tmp_path, mimic3, tiny_encoder_dir, tiny_tokenizer, capsys, caplog
):
    """Train on MIMIC-III files with the long-document option; no note text leaves the data."""
    import json
    import shutil

    import yaml

    from mlcl_text.cli.main import main
    from mlcl_text.export.forms import push_to_hub
    from mlcl_text.modeling.model import MLCLModel

    folder, truth = mimic3
    model_dir = tmp_path / "tiny-model"
    shutil.copytree(tiny_encoder_dir, model_dir)
    tiny_tokenizer.save_pretrained(model_dir)
    run = tmp_path / "run"
    path = write_recipe(
        tmp_path / "recipe.yaml",
        model_name_or_path=str(model_dir),
        max_length=32,
        max_segments=2,  # two windows of 32 tokens per admission
        dataset="mimic3",
        dataset_path=str(folder),
        dataset_options={"setting": "50", "clean_text": True, "progress": False},
        restricted=False,  # the data set's restriction wins
        metric_labels="leaves",
        heads=[
            {"name": "chapter", "positives": "jaccard", "level": 1, "out_dim": 8},
            {"name": "category", "positives": "sd", "level": 2, "out_dim": 8},
            {"name": "codes", "positives": "sd", "temperature": 0.07, "out_dim": 8},
        ],
        output_dir=str(run),
        max_steps=2,
        eval_strategy="no",
    )
    with caplog.at_level("DEBUG"):
        assert main(["train", str(path)]) == 0
        assert main(["evaluate", str(run), "--split", "test"]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["micro_f1"] <= 1.0 and "p@5" in metrics["test"]
    assert "level3_micro_f1" in metrics["test"] and "hier_f1" in metrics["test"]
    model = MLCLModel.from_pretrained(run)
    assert model.config.restricted and model.config.max_segments == 2
    assert len(model.config.tree.leaves) == 50  # the top-50 codes, under categories/chapters
    assert yaml.safe_load((run / "recipe.yaml").read_text())["metric_labels"] == "leaves"
    with pytest.raises(PermissionError, match="data_use_agreement"):
        push_to_hub(model, "someone/mimic-model", private=False)
    printed = capsys.readouterr()
    markers = [truth.secret.lower(), clean_text(truth.secret)]  # raw and cleaned note text
    assert markers[1] == "patient text marker"
    trained, _ = load("mimic3", str(folder), setting="50", clean_text=True, progress=False)
    assert any(markers[1] in text for text in trained["train"]["text"])  # there is text to leak
    leaked = [
        str(p.relative_to(tmp_path))
        for p in tmp_path.rglob("*")
        if p.is_file() and any(m.encode() in p.read_bytes().lower() for m in markers)
    ]
    assert leaked == []
    for stream in (printed.out, printed.err, caplog.text):
        assert not any(m in stream.lower() for m in markers)
