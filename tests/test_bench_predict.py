"""``bench/predict.py``: its options, the rotation of the timing order, the report's ratios
and targets, the three paths on a tiny model, and the memory worker."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from mlcl_text.export.forms import export_model
from mlcl_text.modeling.model import MLCLModel

BENCH = Path(__file__).resolve().parents[1] / "bench"
MODULES = ("predict", "predict_memory", "predict_report")
TEXTS = [
    "neural networks learn representations from data",
    "gene editing",
    "query optimisation speeds up database systems " * 6,  # longer than max_length
    "x",
    "databases store records in tables with indexes",
]


@pytest.fixture(scope="module")
def bench():
    """The three bench modules, imported as ``python bench/predict.py`` imports them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCH))
        yield SimpleNamespace(**{name: importlib.import_module(name) for name in MODULES})
        for name in MODULES:
            sys.modules.pop(name, None)


def test_batch_sizes_are_repeatable_or_comma_separated(bench):
    parse = bench.predict.parse_args
    assert parse([]).batch_sizes == [1, 32]
    assert parse(
        ["--batch-size", "32,1", "--batch-size", "8", "--batch-size", "8"]
    ).batch_sizes == [
        1,
        8,
        32,
    ]
    for wrong in (["--batch-size", "0"], ["--batch-size", "a"], ["--texts-batch-1", "0"]):
        with pytest.raises(SystemExit):
            parse(wrong)


def test_the_rotation_runs_each_path_at_every_position(bench):
    names = ["pipeline", "mlcl-text", "onnx"]
    orders = [bench.predict.rotated(names, repeat) for repeat in range(3)]
    for position in range(3):
        assert sorted(order[position] for order in orders) == sorted(names)
    assert [bench.predict.rotated(["a", "b"], r) for r in range(3)] == [
        ["a", "b"],
        ["b", "a"],
        ["a", "b"],
    ]


def test_padded_tokens_sorting_pads_less(bench):
    lengths = [3, 10, 2, 9]
    assert bench.predict.padded_tokens(lengths, 2, sort=False) == 2 * 10 + 2 * 9
    assert bench.predict.padded_tokens(lengths, 2, sort=True) == 2 * 3 + 2 * 10
    assert bench.predict.padded_tokens(lengths, 1, sort=False) == sum(lengths)


def test_the_table_gives_ratios_and_the_targets(bench):
    report = bench.predict_report
    names, batches = ["pipeline", "mlcl-text", "onnx"], [1, 32]
    seconds = {(name, b): [4.0, 2.0] for name in names for b in batches}
    seconds["onnx", 32] = [1.0, 1.0]  # 2× and 4× the pipeline's texts/s per repeat
    padded = {(name, b): 100 if name == "pipeline" else 50 for name in names for b in batches}
    memory = {("onnx", 32): {"peak_mib": 700.4, "after_imports_mib": 480.0}}
    table = report.results_table(
        names, batches, seconds, {1: 10, 32: 40}, padded, {1: 50, 32: 50}, memory
    )
    rows = {(row[0], row[1]): row for row in table[1:]}
    assert rows["mlcl-text (ONNX)", "32"][3:5] == ["40.0", "40.0–40.0"]
    assert rows["mlcl-text (ONNX)", "32"][7:] == ["700", "480"]
    assert rows["pipeline", "1"][7:] == ["–", "–"]
    ratio = rows["ratio mlcl-text (ONNX) / pipeline", "32"]
    assert ratio[3] == "3.00×" and ratio[4] == "per repeat 2.00–4.00× (median 3.00×)"
    assert ratio[6] == "2.00× fewer"
    assert len(table) == 1 + 2 * 5
    assert all(len(row) == len(table[0]) for row in table)
    onnx, pytorch = report.verdicts(names, batches, seconds)
    assert onnx.startswith("target: mlcl-text (ONNX) ≥ 2.00×") and ": met (3.00×" in onnx
    assert ": met (1.00×" in pytorch
    seconds["onnx", 32] = [3.0, 3.0]
    assert "NOT met" in report.verdicts(names, batches, seconds)[0]
    assert "not measured" in report.verdicts(["pipeline", "mlcl-text"], [1], seconds)[0]


@pytest.fixture
def folders(tmp_path, tiny_encoder_dir, tiny_tokenizer, small_tree):
    """The tiny model as the bench saves it: model folder, classifier and onnx exports."""
    pytest.importorskip("onnxruntime")
    model = MLCLModel.from_encoder(tiny_encoder_dir, small_tree, pooling="pooler", max_length=16)
    folders = {name: tmp_path / name for name in ("mlcl-text", "pipeline", "onnx")}
    model.save_pretrained(folders["mlcl-text"])
    tiny_tokenizer.save_pretrained(folders["mlcl-text"])
    export_model(model, folders["pipeline"], "classifier", tokenizer=tiny_tokenizer)
    export_model(model, folders["onnx"], "onnx", tokenizer=tiny_tokenizer)
    return folders


def test_the_three_paths_give_the_same_probabilities(bench, folders):
    load = bench.predict_memory.load_predictor
    paths = {name: load(name, folders[name], 2, 16, "cpu", threads=1) for name in folders}
    assert len({tuple(p.labels) for p in paths.values()}) == 1
    expected = paths["mlcl-text"].probabilities(TEXTS)
    assert expected.shape == (len(TEXTS), len(paths["mlcl-text"].labels))
    for name in ("pipeline", "onnx"):
        np.testing.assert_allclose(paths[name].probabilities(TEXTS), expected, atol=1e-4)
    assert bench.predict.check_probabilities(paths, TEXTS, "mlcl-text", "onnx").startswith(
        f"probability check on {len(TEXTS)} texts"
    )


def test_the_memory_worker_reports_its_own_peak(bench, folders, tmp_path):
    texts_file = tmp_path / "texts.json"
    texts_file.write_text('["gene editing", "x"]', encoding="utf-8")
    used = bench.predict_memory.measure_peak_memory(
        "onnx", folders["onnx"], texts_file, 2, 16, "cpu", threads=1
    )
    assert used["texts"] == 2
    assert 0 < used["after_imports_mib"] <= used["peak_mib"]
