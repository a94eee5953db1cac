"""``mlcl_text.Classifier``: a run folder, a checkpoint, an export or a Hub id labels texts in
three lines, as ``mlcl-text predict`` labels them."""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from mlcl_text import Classifier
from mlcl_text.classifier.sources import ModelNotFoundError
from mlcl_text.cli.main import main
from mlcl_text.run_folder import RunFolderError
from tests.helpers.recipe_files import recipe

TEXTS = [
    "neural networks learn representations",
    "gene editing with crispr",
    "query optimisation in databases " * 20,  # longer than the trained max_length
]


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny_encoder_dir, tiny_tokenizer):
    """One trained run folder (max_length 24, thresholds tuned on validation) for the module."""
    import shutil as sh

    from tests.conftest import TOPICS

    tmp_path = tmp_path_factory.mktemp("classifier")
    model_dir = tmp_path / "tiny-model"
    sh.copytree(tiny_encoder_dir, model_dir)
    tiny_tokenizer.save_pretrained(model_dir)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for split, copies in (("train", 8), ("validation", 2), ("test", 2)):
        rows = [
            {"text": f"{t} {i}", "labels": [lab]}
            for i in range(copies)
            for lab, t in TOPICS.items()
        ]
        (data_dir / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["train", str(recipe(tmp_path, model_dir, data_dir, max_steps=6))]) == 0
    return tmp_path / "run"


def _cli_predictions(run, tmp_path, capsys, *args) -> list[dict]:
    source = tmp_path / "texts.txt"
    source.write_text("".join(text + "\n" for text in TEXTS), encoding="utf-8")
    capsys.readouterr()
    assert main(["predict", str(run), str(source), *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]


def test_three_lines_give_the_cli_labels_and_probabilities(run, tmp_path, capsys):
    clf = Classifier.from_pretrained(run)
    labels = clf.predict(TEXTS)
    records = _cli_predictions(run, tmp_path, capsys)
    assert labels == [record["labels"] for record in records]
    probabilities = clf.predict_proba(TEXTS)
    assert probabilities.shape == (len(TEXTS), len(clf.labels))
    for row, record in zip(probabilities, records, strict=True):
        assert list(record["probabilities"]) == clf.labels
        np.testing.assert_allclose(row, list(record["probabilities"].values()), atol=1e-5)


def test_the_tuned_thresholds_length_and_decoding_travel_with_the_run(run):
    clf = Classifier.from_pretrained(run)
    stored = json.loads((run / "thresholds.json").read_text())
    assert clf.threshold == pytest.approx(np.full(len(clf.labels), stored["global_threshold"]))
    assert clf.max_length == 24 and clf.consistent
    assert clf.labels == ["Bio", "Bio/Genetics", "CS", "CS/DB", "CS/ML"]
    for labels in clf.predict(TEXTS):  # every predicted child comes with its parent
        assert all(name.split("/")[0] in labels for name in labels if "/" in name), labels
    everything = Classifier.from_pretrained(run, threshold=0.0)
    assert everything.predict(TEXTS)[0] == everything.labels


def test_inconsistent_decoding_and_a_shorter_length_are_options(run):
    probabilities = Classifier.from_pretrained(run).predict_proba(TEXTS)
    short = Classifier.from_pretrained(run, max_length=8)
    assert short.max_length == 8
    assert not np.allclose(short.predict_proba(TEXTS)[2], probabilities[2])
    free = Classifier.from_pretrained(run, consistent=False)
    matrix = np.zeros((1, 5))
    matrix[0, 4] = 1.0  # a child without its parent
    assert free.decode(matrix) == [["CS/ML"]]
    assert Classifier.from_pretrained(run).decode(matrix) == [[]]


def test_top_k_and_embed(run):
    clf = Classifier.from_pretrained(run, batch_size=2, device="cpu")
    assert clf.device.type == "cpu"
    probabilities = clf.predict_proba(TEXTS)
    ranked = clf.top_k(TEXTS, 2)
    for row, best in zip(probabilities, ranked, strict=True):
        assert [p for _, p in best] == pytest.approx(sorted(row, reverse=True)[:2])
        assert [clf.labels.index(name) for name, _ in best] == list(
            np.argsort(-row, kind="stable")[:2]
        )
    embeddings = clf.embed(TEXTS)
    assert embeddings.shape == (3, 32) and np.isfinite(embeddings).all()
    assert clf.predict([]) == [] and clf.predict_proba([]).shape == (0, 5)


def test_a_checkpoint_reads_the_run_tokenizer_and_warns_about_thresholds(run, tmp_path, caplog):
    folder = run.parent / "run-copy"
    shutil.copytree(run, folder)
    checkpoint = folder / "checkpoint-6"
    checkpoint.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy2(folder / name, checkpoint / name)
    with caplog.at_level(logging.WARNING):
        clf = Classifier.from_pretrained(checkpoint)
    assert "no thresholds.json" in caplog.text
    assert clf.threshold == pytest.approx(np.full(5, 0.5))
    np.testing.assert_allclose(
        clf.predict_proba(TEXTS), Classifier.from_pretrained(folder).predict_proba(TEXTS), atol=1e-6
    )
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        (folder / name).unlink(missing_ok=True)
    with pytest.raises(ModelNotFoundError, match="has no tokenizer, nor has"):
        Classifier.from_pretrained(checkpoint)


def test_a_full_export_and_a_hub_repository_load(run, tmp_path, monkeypatch):
    export = tmp_path / "export"
    assert main(["export", str(run), "--form", "full", "--output", str(export)]) == 0
    expected = Classifier.from_pretrained(run)
    clf = Classifier.from_pretrained(export)
    assert clf.predict(TEXTS) == expected.predict(TEXTS) and clf.max_length == 24
    np.testing.assert_allclose(clf.threshold, expected.threshold)

    calls = []

    def fake_download(repo_id, revision=None, token=None):
        calls.append((repo_id, revision))
        return str(export)

    monkeypatch.setattr("huggingface_hub.snapshot_download", fake_download)
    hub = Classifier.from_pretrained("someone/model", revision="v1")
    assert calls == [("someone/model", "v1")] and hub.predict(TEXTS) == expected.predict(TEXTS)


def test_what_cannot_be_loaded_says_why_in_one_line(run, tmp_path, monkeypatch, tiny_encoder_dir):
    from huggingface_hub.errors import LocalEntryNotFoundError

    with pytest.raises(ModelNotFoundError, match="no such folder, and not a Hub repository id"):
        Classifier.from_pretrained(tmp_path / "missing" / "deeper" / "run")

    def offline(repo_id, revision=None, token=None):
        raise LocalEntryNotFoundError("cannot reach huggingface.co\nmore detail")

    monkeypatch.setattr("huggingface_hub.snapshot_download", offline)
    with pytest.raises(ModelNotFoundError) as error:
        Classifier.from_pretrained("someone/model")
    assert "\n" not in str(error.value) and "offline, pass the path of a local folder" in str(
        error.value
    )
    with pytest.raises(RunFolderError, match="holds a 'bert' model, not an mlcl-text model"):
        Classifier.from_pretrained(tiny_encoder_dir)
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        Classifier.from_pretrained(tmp_path)
    clf = Classifier.from_pretrained(run)
    with pytest.raises(TypeError, match="one string: wrap it in a list"):
        clf.predict("a single text")
    with pytest.raises(TypeError, match=r"texts\[1\] is a int"):
        clf.predict(["a", 3])
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        Classifier.from_pretrained(run, batch_size=0)
