"""Sweeps: the grid of recipes × shots × seeds, resuming, spec checks, table and plot."""

from __future__ import annotations

import csv
import json
import shutil

import pytest
import yaml

from mlcl_text.studies.sweep import SweepError, load_sweep_spec, run_sweep
from mlcl_text.training.recipe import RecipeError
from tests.helpers.sweeps import FakeTrainer, write_recipe, write_spec

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def spec(tmp_path):
    recipes = tmp_path / "recipes"
    return write_spec(
        tmp_path,
        recipes=[str(write_recipe(recipes, "bce")), str(write_recipe(recipes, "mlcl"))],
        shots=[1, 5, "full"],
        seeds=[0, 1],
        output_dir=str(tmp_path / "out"),
        overrides=["learning_rate=1e-3"],
        metrics=["micro_f1", "hier_f1"],
        split="test",
    )


def test_grid_table_and_plot(spec, tmp_path, capsys):
    train = FakeTrainer()
    out = run_sweep(spec, train=train)
    assert out == tmp_path / "out"
    assert train.calls == [
        (method, shots, seed)
        for method in ("bce", "mlcl")
        for shots in (1, 5, "full")
        for seed in (0, 1)
    ]
    cell = yaml.safe_load((out / "mlcl" / "5" / "seed1" / "recipe.yaml").read_text())
    assert cell["subset"] == {"method": "k_per_label", "k": 5, "seed": 1}
    assert (cell["seed"], cell["learning_rate"]) == (1, 1e-3)
    assert cell["output_dir"] == str(out / "mlcl" / "5" / "seed1")
    full = yaml.safe_load((out / "bce" / "full" / "seed0" / "recipe.yaml").read_text())
    assert full["subset"] is None and full["seed"] == 0

    with (out / "comparison.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["method"], r["shots"], r["runs"]) for r in rows] == [
        ("bce", "1", "2"),
        ("bce", "5", "2"),
        ("bce", "full", "2"),
        ("mlcl", "1", "2"),
        ("mlcl", "5", "2"),
        ("mlcl", "full", "2"),
    ]
    assert float(rows[4]["micro_f1_mean"]) == pytest.approx(0.605)
    assert float(rows[4]["micro_f1_std"]) == pytest.approx(0.01 / 2**0.5)
    assert rows[4]["hier_f1_missing"] == "2"  # the fake trainer writes no hier_f1
    markdown = (out / "comparison.md").read_text(encoding="utf-8")
    assert "| mlcl | 5 | 2 | 0.6050 ± 0.0071 | – |" in markdown
    assert (out / "metric_vs_shots.png").read_bytes()[:8] == PNG
    assert yaml.safe_load((out / "sweep.yaml").read_text())["seeds"] == [0, 1]
    printed = capsys.readouterr().out
    assert "[12/12] mlcl shots=full seed=1: training into" in printed
    assert "| mlcl | 5 | 2 | 0.6050 ± 0.0071 | – |" in printed


def test_resume_skips_finished_and_reruns_crashed(spec, tmp_path, capsys):
    out = tmp_path / "out"
    train = FakeTrainer(crash_on={("bce", 5, 1)})
    with pytest.raises(RuntimeError, match="simulated"):
        run_sweep(spec, train=train)
    assert len(train.calls) == 4  # stopped at the crashed cell
    assert not (out / "bce" / "5" / "seed1" / "metrics.json").exists()
    assert not (out / "comparison.md").exists()
    capsys.readouterr()

    again = FakeTrainer()
    run_sweep(spec, train=again)
    assert again.calls[0] == ("bce", 5, 1)  # the crashed cell runs again
    assert len(again.calls) == 12 - 3
    printed = capsys.readouterr().out
    assert printed.count(": skip, finished in") == 3
    assert "[1/12] bce shots=1 seed=0: skip" in printed

    third = FakeTrainer()
    run_sweep(spec, train=third)
    assert third.calls == []
    assert capsys.readouterr().out.count(": skip") == 12


def test_keep_going_runs_the_rest_then_reports(spec, tmp_path):
    out = tmp_path / "out"
    train = FakeTrainer(crash_on={("mlcl", 1, 0)})
    with pytest.raises(
        SweepError, match=r"1 of 12 cells failed: mlcl shots=1 seed=0 \(RuntimeError"
    ):
        run_sweep(spec, train=train, keep_going=True)
    assert len(train.calls) == 12
    rows = (out / "comparison.csv").read_text().splitlines()
    assert any(row.startswith("mlcl,1,1,") for row in rows)  # the table has what finished
    again = FakeTrainer()
    run_sweep(spec, train=again, keep_going=True)
    assert again.calls == [("mlcl", 1, 0)]


def test_finished_cell_with_a_changed_recipe_is_flagged(spec, capsys):
    run_sweep(spec, train=FakeTrainer())
    capsys.readouterr()
    run_sweep(spec, train=FakeTrainer(), overrides=["learning_rate=5e-5"])
    printed = capsys.readouterr().out
    assert printed.count("(its recipe.yaml differs in learning_rate)") == 12


def test_cli_overrides_and_fraction_shots(tmp_path):
    recipe = write_recipe(tmp_path / "r", "bce")
    spec = write_spec(
        tmp_path,
        recipes=[{"name": "baseline", "path": str(recipe)}],
        shots=[0.1],
        output_dir=str(tmp_path / "out"),
    )
    seen = []

    def train(recipe):
        seen.append(recipe)
        _fraction_metrics(recipe)

    run_sweep(spec, train=train, overrides=["num_train_epochs=2"])
    (recipe,) = seen
    assert recipe.subset == {"method": "fraction", "fraction": 0.1, "seed": 0}
    assert recipe.training["num_train_epochs"] == 2
    assert recipe.output_dir == tmp_path / "out" / "baseline" / "0.1" / "seed0"
    assert "| baseline | 0.1 | 1 |" in (tmp_path / "out" / "comparison.md").read_text()


def test_one_recipe_under_two_settings_with_its_own_overrides(tmp_path):
    recipe = write_recipe(tmp_path / "r", "bce")
    spec = write_spec(
        tmp_path,
        recipes=[
            {"name": "short", "path": str(recipe), "overrides": ["num_train_epochs=2"]},
            {"name": "long", "path": str(recipe), "overrides": ["num_train_epochs=8"]},
        ],
        shots=[0.1],
        output_dir=str(tmp_path / "out"),
        overrides=["num_train_epochs=1", "learning_rate=1e-3"],
        baselines=["tfidf"],
    )
    seen, fitted = [], []

    def train(recipe):
        seen.append(recipe)
        _fraction_metrics(recipe)

    def baseline(method, recipe, output_dir, options):
        fitted.append(recipe)
        _fraction_metrics(recipe)

    run_sweep(spec, train=train, baseline=baseline)
    assert [r.training["num_train_epochs"] for r in seen] == [2, 8]  # after the spec's own
    assert {r.training["learning_rate"] for r in seen} == {1e-3}
    assert fitted[0].training["num_train_epochs"] == 1  # a baseline takes the spec's alone
    written = yaml.safe_load((tmp_path / "out" / "sweep.yaml").read_text())
    assert written["recipes"][1] == {
        "name": "long",
        "path": str(recipe),
        "overrides": ["num_train_epochs=8"],
    }
    with pytest.raises(SweepError, match="sets 'seed', which the sweep sets"):
        load_sweep_spec(
            write_spec(
                tmp_path,
                name="bad.yaml",
                recipes=[{"path": str(recipe), "overrides": ["seed=1"]}],
                output_dir="o",
            )
        )


def _fraction_metrics(recipe):
    recipe.output_dir.mkdir(parents=True, exist_ok=True)
    recipe.save(recipe.output_dir / "recipe.yaml")
    metrics = {"test": {"micro_f1": 0.5, "macro_f1": 0.4, "hier_f1": 0.6}}
    (recipe.output_dir / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")


def test_recipe_paths_relative_to_the_spec(tmp_path, monkeypatch):
    write_recipe(tmp_path / "specs" / "recipes", "bce")
    spec = write_spec(
        tmp_path / "specs", recipes=["recipes/bce.yaml"], output_dir="sweeps/x", seeds=[3]
    )
    monkeypatch.chdir(tmp_path)
    loaded = load_sweep_spec(spec)
    assert loaded.recipes == {"bce": tmp_path / "specs" / "recipes" / "bce.yaml"}
    assert [str(c) for c in loaded.cells()] == ["bce shots=full seed=3"]
    assert loaded.cells()[0].output_dir.as_posix() == "sweeps/x/bce/full/seed3"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            {"recipes": ["R"], "output_dir": "o", "seed": [0], "shot": [1]},
            r"unknown key\(s\) 'seed' \(did you mean 'seeds'\?\), 'shot' \(did you mean 'shots'\?\)",
        ),
        (
            {"recipes": ["R"], "output_dir": "o", "colour": "red"},
            r"unknown key\(s\) 'colour'; allowed: recipes, shots",
        ),
        ({"output_dir": "o"}, "'recipes' is required"),
        ({"recipes": ["R"]}, "'output_dir' is required"),
        ({"recipes": ["R"], "output_dir": "o", "shots": [0]}, "shots are positive integers.*got 0"),
        ({"recipes": ["R"], "output_dir": "o", "shots": ["all"]}, "got 'all'"),
        ({"recipes": ["R"], "output_dir": "o", "shots": [5, 5]}, "shots lists 5 twice"),
        ({"recipes": ["R"], "output_dir": "o", "seeds": [0, 0]}, "seeds repeat"),
        ({"recipes": ["R"], "output_dir": "o", "seeds": ["a"]}, "seeds are a non-empty list"),
        ({"recipes": ["R"], "output_dir": "o", "split": "train"}, "split must be one of"),
        (
            {"recipes": ["R"], "output_dir": "o", "overrides": ["seed=3"]},
            "sets 'seed', which the sweep sets",
        ),
        ({"recipes": ["R"], "output_dir": "o", "overrides": ["subset.k=3"]}, "sets 'subset.k'"),
        ({"recipes": ["R"], "output_dir": "o", "overrides": ["lr"]}, "not of the form key=value"),
        ({"recipes": ["R", "R"], "output_dir": "o"}, "two recipes are named 'bce'"),
        (
            {"recipes": ["missing.yaml"], "output_dir": "o"},
            "recipe file missing.yaml does not exist",
        ),
        (
            {"recipes": [{"name": "a", "file": "R"}], "output_dir": "o"},
            "a recipes item is a path or",
        ),
        ({"recipes": ["R"], "output_dir": "o", "metrics": []}, "names no metric"),
    ],
)
def test_spec_errors(tmp_path, content, message):
    recipe = str(write_recipe(tmp_path / "r", "bce"))
    content = json.loads(json.dumps(content).replace('"R"', json.dumps(recipe)))
    spec = write_spec(tmp_path, **content)
    with pytest.raises(SweepError, match=message):
        load_sweep_spec(spec)


def test_bad_recipe_key_fails_before_any_training(tmp_path):
    recipe = write_recipe(tmp_path / "r", "bce")
    spec = write_spec(tmp_path, recipes=[str(recipe)], output_dir=str(tmp_path / "o"))
    calls = []
    with pytest.raises(RecipeError, match="unknown key 'learning_rat'"):
        run_sweep(spec, train=calls.append, overrides=["learning_rat=1e-3"])
    assert calls == []
    with pytest.raises(FileNotFoundError, match=r"sweep spec .*nope\.yaml does not exist"):
        load_sweep_spec(tmp_path / "nope.yaml")


# ---------------------------------------------------------------------------- one real cell

TOPICS = {
    "CS/ML": "neural networks learn representations from data",
    "CS/DB": "query optimisation speeds up database systems",
    "Bio/Genetics": "gene editing with crispr changes dna sequences",
}


def test_real_training_cell(tmp_path, tiny_encoder_dir, tiny_tokenizer):
    model = tmp_path / "tiny-model"
    shutil.copytree(tiny_encoder_dir, model)
    tiny_tokenizer.save_pretrained(model)
    data = tmp_path / "data"
    data.mkdir()
    for split, copies in (("train", 4), ("validation", 2), ("test", 2)):
        rows = [
            {"text": f"{text} {i}", "labels": [label]}
            for i in range(copies)
            for label, text in TOPICS.items()
        ]
        (data / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    recipe = write_recipe(
        tmp_path / "r",
        "mlcl",
        model_name_or_path=str(model),
        max_length=24,
        dataset_path=str(data),
        dataset_options={"label_path_sep": "/"},
        heads=[{"name": "top", "positives": "all", "level": 1, "out_dim": 8}],
        max_steps=2,
        per_device_train_batch_size=4,
        save_strategy="no",
        disable_tqdm=True,
    )
    spec = write_spec(tmp_path, recipes=[str(recipe)], shots=[1], output_dir=str(tmp_path / "o"))
    out = run_sweep(spec)
    cell = out / "mlcl" / "1" / "seed0"
    assert {"metrics.json", "recipe.yaml", "subset.json", "report.md"} <= {
        p.name for p in cell.iterdir()
    }
    assert len(json.loads((cell / "subset.json").read_text())["indices"]) >= 1
    rows = list(csv.DictReader((out / "comparison.csv").open(encoding="utf-8", newline="")))
    assert [(r["method"], r["shots"], r["runs"]) for r in rows] == [("mlcl", "1", "1")]
    assert 0.0 <= float(rows[0]["hier_f1_mean"]) <= 1.0
    assert (out / "metric_vs_shots.png").read_bytes()[:8] == PNG
