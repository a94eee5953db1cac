"""Export forms and the Hub push (with the Hub client intercepted: no network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from mlcl_text import MLCLModel
from mlcl_text.export.errors import NotExportableError
from mlcl_text.export.forms import export_model, push_to_hub
from mlcl_text.export.model_card import ModelCardInfo
from mlcl_text.head_spec import ContrastiveHeadSpec

HEADS = [
    ContrastiveHeadSpec("domain", positives="all", level=1, out_dim=8),
    ContrastiveHeadSpec("labels", positives="sd", temperature=0.07, out_dim=8),
]
TEXTS = ["gene editing with crispr", "query optimisation in databases", "neural networks learn"]


def _model(encoder_dir, tree, **kwargs) -> MLCLModel:
    torch.manual_seed(0)
    model = MLCLModel.from_encoder(encoder_dir, tree, heads=HEADS, **kwargs)
    with torch.no_grad():  # spread the probabilities so comparisons mean something
        model.classifier.weight.normal_(0, 1.0)
    return model.eval()


def _probabilities(model, tokenizer) -> torch.Tensor:
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        return torch.sigmoid(
            model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"]).logits
        )


def test_full_export_round_trip(tmp_path, tiny_encoder_dir, small_tree, tiny_tokenizer):
    model = _model(tiny_encoder_dir, small_tree)
    out = export_model(model, tmp_path / "full", "full", tokenizer=tiny_tokenizer)
    assert {"config.json", "model.safetensors", "README.md", "tokenizer.json"} <= {
        p.name for p in out.iterdir()
    }
    reloaded = MLCLModel.from_pretrained(out).eval()
    torch.testing.assert_close(
        _probabilities(reloaded, tiny_tokenizer), _probabilities(model, tiny_tokenizer)
    )
    assert reloaded.config.tree == small_tree


def test_export_refuses_a_non_empty_folder(tmp_path, tiny_encoder_dir, small_tree):
    (tmp_path / "keep.txt").write_text("user data")
    with pytest.raises(FileExistsError, match="not empty"):
        export_model(_model(tiny_encoder_dir, small_tree), tmp_path, "full")
    assert (tmp_path / "keep.txt").read_text() == "user data"


CHECK_WITHOUT_MLCL = textwrap.dedent(
    """
    import json, sys
    sys.modules["mlcl_text"] = None  # importing mlcl_text now fails
    from transformers import pipeline
    classifier = pipeline("text-classification", model=sys.argv[1], top_k=None, device="cpu")
    results = classifier(json.loads(sys.argv[2]))
    print(json.dumps([{item["label"]: item["score"] for item in row} for row in results]))
    """
)


def test_classifier_export_loads_and_agrees_without_mlcl_text(
    tmp_path, tiny_encoder_dir, small_tree, tiny_tokenizer
):
    model = _model(tiny_encoder_dir, small_tree, pooling="pooler")
    out = export_model(model, tmp_path / "clf", "classifier", tokenizer=tiny_tokenizer)
    config = json.loads((out / "config.json").read_text())
    assert config["problem_type"] == "multi_label_classification"
    assert config["id2label"]["5"] == "Bio/Genetics/CRISPR"
    assert config["model_type"] == "bert"

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": ""}
    done = subprocess.run(
        [sys.executable, "-c", CHECK_WITHOUT_MLCL, str(out), json.dumps(TEXTS)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    scores = json.loads(done.stdout.strip().splitlines()[-1])
    expected = _probabilities(model, tiny_tokenizer)
    for row, probabilities in zip(scores, expected, strict=True):
        got = torch.tensor([row[name] for name in small_tree.names])
        torch.testing.assert_close(got, probabilities, atol=1e-5, rtol=1e-4)


def test_classifier_export_merges_lora(tmp_path, tiny_encoder_dir, small_tree, tiny_tokenizer):
    model = _model(
        tiny_encoder_dir, small_tree, pooling="pooler", lora={"r": 2, "target_modules": ["query"]}
    )
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.3)
    expected = _probabilities(model, tiny_tokenizer)
    out = export_model(model, tmp_path / "clf", "classifier", tokenizer=tiny_tokenizer)
    from transformers import AutoModelForSequenceClassification

    standard = AutoModelForSequenceClassification.from_pretrained(out).eval()
    batch = tiny_tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        got = torch.sigmoid(standard(**batch).logits)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
    assert model.has_lora  # the given model was left as it was


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pooling": "mean"}, "pooling='mean' has no exact"),
        ({"pooling": "pooler", "max_segments": 2}, "segments"),
    ],
)
def test_classifier_export_refuses_what_it_cannot_reproduce(
    tmp_path, tiny_encoder_dir, small_tree, kwargs, message
):
    with pytest.raises(NotExportableError, match=message):
        export_model(_model(tiny_encoder_dir, small_tree, **kwargs), tmp_path / "x", "classifier")
    assert not (tmp_path / "x").exists()


class RecordingHubApi:
    """Stands in for huggingface_hub.HfApi: records what would be created and uploaded."""

    def __init__(self):
        self.created, self.uploads = [], []

    def create_repo(self, repo_id, private=None, exist_ok=False, token=None):
        self.created.append({"repo_id": repo_id, "private": private})

    def upload_folder(self, repo_id, folder_path, commit_message=None, token=None):
        folder = Path(folder_path)
        files = {
            str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()
        }
        self.uploads.append({"repo_id": repo_id, "files": files, "message": commit_message})
        return "commit-info"


def test_push_uploads_the_export_and_its_card(tiny_encoder_dir, small_tree, tiny_tokenizer):
    api = RecordingHubApi()
    info = ModelCardInfo(
        datasets=["debtags"], metrics={"micro_f1": 0.5}, training_settings={"learning_rate": 2e-5}
    )
    model = _model(tiny_encoder_dir, small_tree, pooling="pooler")
    result = push_to_hub(
        model,
        "someone/mlcl-demo",
        form="classifier",
        private=True,
        tokenizer=tiny_tokenizer,
        card_info=info,
        api=api,
    )
    assert result == "commit-info"
    assert api.created == [{"repo_id": "someone/mlcl-demo", "private": True}]
    (upload,) = api.uploads
    assert set(upload["files"]) == {
        "README.md",
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
    } | ({"special_tokens_map.json"} & set(upload["files"]))
    card = upload["files"]["README.md"].decode()
    assert card.startswith("---\n")
    for expected in (
        "pipeline_tag: text-classification",
        "- debtags",
        "| micro_f1 | 0.5 |",
        "| labels | sd | all labels | 0.07 | 1.0 | Huang et al. 2024 |",
        "| domain | all | level 1 | 0.1 | 1.0 | Khosla et al. 2020 |",
        "Labels: 6 in a tree of 3 levels (2 / 3 / 1 labels per level",
        'pipeline("text-classification", model="someone/mlcl-demo", top_k=None)',
        "arXiv 2410.13439",
        "| learning_rate | 2e-05 |",
    ):
        assert expected in card, expected


def test_restricted_models_refuse_public_pushes(tiny_encoder_dir, small_tree):
    model = _model(tiny_encoder_dir, small_tree, restricted=True)
    api = RecordingHubApi()
    with pytest.raises(PermissionError, match="restricted data"):
        push_to_hub(model, "someone/clinical", api=api)
    with pytest.raises(PermissionError, match="restricted data"):
        push_to_hub(model, "someone/clinical", private=False, data_use_agreement="  ", api=api)
    assert api.created == [] and api.uploads == []

    push_to_hub(model, "someone/clinical", private=True, api=api)
    push_to_hub(
        model, "someone/clinical", private=False, data_use_agreement="PhysioNet DUA 1.5.0", api=api
    )
    card = api.uploads[-1]["files"]["README.md"].decode()
    assert "## Data use" in card and "PhysioNet DUA 1.5.0" in card


@pytest.mark.parametrize("pooling", ["mean", "pooler"])
def test_encoder_export_loads_in_sentence_transformers(
    tmp_path, tiny_encoder_dir, small_tree, tiny_tokenizer, pooling
):
    sentence_transformers = pytest.importorskip("sentence_transformers")
    model = _model(tiny_encoder_dir, small_tree, pooling=pooling)
    out = export_model(model, tmp_path / "enc", "encoder", tokenizer=tiny_tokenizer)
    assert (out / "modules.json").exists() and (out / "README.md").exists()
    loaded = sentence_transformers.SentenceTransformer(str(out), device="cpu")
    got = loaded.encode(TEXTS, convert_to_tensor=True)
    batch = tiny_tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        expected = model.embed(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
    assert "library_name: sentence-transformers" in (out / "README.md").read_text()


def test_a_classifier_export_keeps_the_restricted_flag(tmp_path, tiny_encoder_dir, small_tree):
    model = _model(tiny_encoder_dir, small_tree, restricted=True, pooling="pooler")
    export_model(model, tmp_path / "classifier", form="classifier")
    config = json.loads((tmp_path / "classifier" / "config.json").read_text())
    assert config["restricted"] is True


def test_the_push_command_names_its_own_flags(
    tmp_path, tiny_encoder_dir, tiny_tokenizer, small_tree, capsys
):
    from mlcl_text.cli.main import main

    model = _model(tiny_encoder_dir, small_tree, restricted=True)
    model.save_pretrained(tmp_path / "run")
    tiny_tokenizer.save_pretrained(tmp_path / "run")
    assert main(["push", str(tmp_path / "run"), "--repo-id", "someone/clinical"]) == 2
    error = capsys.readouterr().err
    assert "--private" in error and "--data-use-agreement" in error and "private=True" not in error
