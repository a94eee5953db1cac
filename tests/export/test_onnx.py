"""The ``onnx`` export form: onnxruntime gives the PyTorch model's probabilities to 1e-4 on
real texts (longer than ``max_length`` too, several segments too), and
``Classifier.from_pretrained`` runs it."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from mlcl_text import Classifier, MLCLModel
from mlcl_text.cli.main import main
from mlcl_text.export.errors import NotExportableError
from mlcl_text.export.forms import export_model

pytest.importorskip("onnxruntime")

TEXTS = [
    "neural networks learn representations from data",
    "gene editing",
    "query optimisation speeds up database systems " * 12,  # longer than max_length
    "x",
]


@pytest.fixture
def run(tmp_path, model_dir, data_dir):
    from tests.helpers.recipe_files import recipe

    assert main(["train", str(recipe(tmp_path, model_dir, data_dir, max_steps=4))]) == 0
    return tmp_path / "run"


def test_the_onnx_export_of_a_run_predicts_as_the_run(run, tmp_path, capsys):
    out = tmp_path / "onnx"
    assert main(["export", str(run), "--form", "onnx", "--output", str(out)]) == 0
    assert {"model.onnx", "config.json", "thresholds.json", "README.md"} <= {
        p.name for p in out.iterdir()
    }
    assert "pip install 'mlcl-text[onnx]'" in (out / "README.md").read_text()
    expected, exported = Classifier.from_pretrained(run), Classifier.from_pretrained(out)
    assert exported.max_length == expected.max_length == 24
    np.testing.assert_allclose(
        exported.predict_proba(TEXTS), expected.predict_proba(TEXTS), atol=1e-4
    )
    np.testing.assert_allclose(exported.embed(TEXTS), expected.embed(TEXTS), atol=1e-4)
    np.testing.assert_allclose(exported.threshold, expected.threshold)
    assert exported.predict(TEXTS) == expected.predict(TEXTS) and exported.device.type == "cpu"
    with pytest.raises(ValueError, match="runs on the CPU here"):
        Classifier.from_pretrained(out, device="cuda")


@pytest.mark.parametrize(("pooling", "segments"), [("cls", 1), ("pooler", 1), ("mean", 3)])
def test_every_pooling_and_several_segments_export(
    pooling, segments, tmp_path, tiny_encoder_dir, tiny_tokenizer, small_tree
):
    model = MLCLModel.from_encoder(
        tiny_encoder_dir, small_tree, pooling=pooling, max_length=12, max_segments=segments
    )
    torch_dir, onnx_dir = tmp_path / "full", tmp_path / "onnx"
    export_model(model, torch_dir, "full", tokenizer=tiny_tokenizer)
    export_model(model, onnx_dir, "onnx", tokenizer=tiny_tokenizer)
    expected = Classifier.from_pretrained(torch_dir).predict_proba(TEXTS)
    got = Classifier.from_pretrained(onnx_dir, batch_size=3).predict_proba(TEXTS)
    np.testing.assert_allclose(got, expected, atol=1e-4)


def test_a_failed_export_leaves_nothing_and_onnxruntime_missing_is_one_line(
    tmp_path, tiny_encoder_dir, tiny_tokenizer, small_tree, monkeypatch
):
    model = MLCLModel.from_encoder(tiny_encoder_dir, small_tree, max_length=12)
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(NotExportableError, match=r"pip install 'mlcl-text\[onnx\]'"):
        export_model(model, tmp_path / "new", "onnx", tokenizer=tiny_tokenizer)
    assert not (tmp_path / "new").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NotExportableError):
        export_model(model, empty, "onnx", tokenizer=tiny_tokenizer)
    assert list(empty.iterdir()) == []
    with pytest.raises(ValueError, match="needs the tokenizer"):
        export_model(model, tmp_path / "other", "onnx")
