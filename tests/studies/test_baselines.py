"""Baselines (TF-IDF, frozen encoder, SetFit): probabilities, seeds, single-class labels, run
folders that compare reads, the CLI command and sweep cells; on a tiny model and tiny data."""

from __future__ import annotations

import contextlib
import csv
import json
import sys

import numpy as np
import pytest
import yaml

from mlcl_text.cli.main import main
from mlcl_text.studies.baselines import (
    CONSTANT_CLIP,
    BaselineError,
    fit_predict,
    make_baseline,
    resolve_options,
    run_baseline,
)
from mlcl_text.studies.compare import collect_runs, compare_table, find_run_dirs, format_markdown
from mlcl_text.studies.sweep import SweepError, load_sweep_spec, run_sweep
from mlcl_text.training.recipe import load_recipe, recipe_from_dict
from mlcl_text.training.run import prepare_data
from tests.helpers.recipe_files import write_files_recipe, write_recipe

# imported now, not inside a capsys test: SetFit's log handler keeps the stderr it finds
with contextlib.suppress(ImportError):
    import setfit  # noqa: F401

TOPICS = {
    "CS/ML": "neural networks learn representations from data",
    "CS/DB": "query optimisation speeds up database systems",
    "Bio/Genetics": "gene editing with crispr changes dna sequences",
}
TINY_SETFIT = {"num_iterations": 1, "max_steps": 2, "batch_size": 4}


def _write_split(folder, split, rows):
    (folder / f"{split}.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8"
    )


@pytest.fixture
def data_dir(tmp_path):
    """Three topics; the label Bio/Protein is only in the test split: never positive in training."""
    folder = tmp_path / "data"
    folder.mkdir()
    for split, copies in (("train", 4), ("validation", 2), ("test", 2)):
        rows = [
            {"text": f"{text} {i}", "labels": [label]}
            for i in range(copies)
            for label, text in TOPICS.items()
        ]
        if split == "test":
            rows.append({"text": "proteins fold into shapes", "labels": ["Bio/Protein"]})
        _write_split(folder, split, rows)
    return folder


def _recipe(tmp_path, model_dir, data_dir, *overrides, **keys):
    path = write_files_recipe(tmp_path / "recipe.yaml", model_dir, data_dir, seed=7, **keys)
    return path, load_recipe(path, list(overrides))


# ---------------------------------------------------------------------------- probabilities


@pytest.mark.parametrize("name", ["tfidf", "frozen"])
def test_probabilities_shape_range_and_seed(name, tmp_path, model_dir, data_dir):
    _, recipe = _recipe(tmp_path, model_dir, data_dir)
    data, tree = prepare_data(recipe)
    probabilities, timing, options = fit_predict(name, recipe, data, tree)
    assert set(probabilities) == {"validation", "test"}
    for split, scores in probabilities.items():
        assert scores.shape == (len(data[split]), len(tree))
        assert np.isfinite(scores).all() and (scores >= 0).all() and (scores <= 1).all()
    assert timing["train_seconds"] > 0 and timing["predict_seconds"] > 0
    assert options == resolve_options(name)
    never = tree.index("Bio/Protein")  # not in the training split
    assert np.allclose(probabilities["test"][:, never], CONSTANT_CLIP)

    again, _, _ = fit_predict(name, recipe, data, tree)
    for split in probabilities:
        np.testing.assert_array_equal(again[split], probabilities[split])


@pytest.mark.parametrize("name", ["tfidf", "frozen"])
def test_single_class_labels_get_their_clipped_frequency(name, tmp_path, model_dir, data_dir):
    _, recipe = _recipe(tmp_path, model_dir, data_dir)
    data, tree = prepare_data(recipe)
    texts = list(data["train"]["text"])
    labels = np.zeros((len(texts), 4))
    labels[:, 0] = 1.0  # always positive
    labels[: len(texts) // 2, 2] = 1.0  # the only label with both classes
    labels[::3, 3] = 1.0
    labels[1::3, 3] = 1.0
    model = make_baseline(name, recipe, tree).fit(texts, labels)
    scores = model.predict_proba(["gene editing", "database systems", "unseen words"])
    assert scores.shape == (3, 4)
    assert np.allclose(scores[:, 0], 1 - CONSTANT_CLIP) and np.allclose(scores[:, 1], CONSTANT_CLIP)
    assert ((scores[:, 2:] > 0) & (scores[:, 2:] < 1)).all()

    one = labels[:, 2:3]  # a single varying label: fitted as one binary problem
    assert make_baseline(name, recipe, tree).fit(texts, one).predict_proba(texts).shape == (
        len(texts),
        1,
    )
    constant = make_baseline(name, recipe, tree).fit(texts, labels[:, :2])  # nothing to fit
    assert np.allclose(constant.predict_proba(["x"]), [[1 - CONSTANT_CLIP, CONSTANT_CLIP]])


def test_tfidf_separates_an_easy_set_well_above_chance(tmp_path):
    words = {
        "Science/Biology": "cell gene protein enzyme membrane organism",
        "Science/Physics": "quark photon momentum gravity particle field",
        "Arts/Music": "melody chord rhythm guitar symphony tempo",
        "Arts/Film": "director camera scene actor screenplay cinema",
    }
    rng = np.random.default_rng(0)
    folder = tmp_path / "easy"
    folder.mkdir()
    filler = ["the", "a", "of", "and", "with", "about", "some"]
    for split, copies in (("train", 6), ("validation", 6), ("test", 12)):
        rows = []
        for i in range(copies):
            for label, vocabulary in words.items():
                chosen = rng.choice(vocabulary.split(), size=3, replace=False).tolist()
                text = " ".join(rng.permutation([*chosen, *rng.choice(filler, 3).tolist()]))
                rows.append({"text": text, "labels": [label], "id": f"{split}-{label}-{i}"})
        _write_split(folder, split, rows)
    recipe_file = write_recipe(
        tmp_path / "easy.yaml",
        model_name_or_path="unused-by-tfidf",
        dataset="files",
        dataset_path=str(folder),
        dataset_options={"label_path_sep": "/"},
        output_dir=str(tmp_path / "easy-run"),
    )
    metrics = run_baseline("tfidf", load_recipe(recipe_file), tmp_path / "easy-tfidf")
    # chance: predicting every label gives micro-F1 2·(1/3)/(1 + 1/3) = 0.5 here
    assert metrics["test"]["micro_f1"] > 0.9, metrics["test"]
    assert metrics["test"]["macro_f1"] > 0.9, metrics["test"]


# ---------------------------------------------------------------------------- run folders


def test_run_folder_metrics_are_strict_json(tmp_path, model_dir, data_dir, monkeypatch):
    from mlcl_text.training import run as training
    from tests.helpers.strict_json import strict_loads

    scored = training.score_splits

    def undefined_scores(*args, **kwargs):  # NaN, inf and NumPy scalars, as scoring gives them
        thresholds, metrics = scored(*args, **kwargs)
        metrics["test"] = {**metrics["test"], "macro_auc": np.nan, "p@1": np.float32(np.inf)}
        return thresholds, metrics

    monkeypatch.setattr(training, "score_splits", undefined_scores)
    _, recipe = _recipe(tmp_path, model_dir, data_dir)
    run_baseline("tfidf", recipe, tmp_path / "tfidf")
    stored = strict_loads((tmp_path / "tfidf" / "metrics.json").read_text())
    assert stored["test"]["macro_auc"] is None and stored["test"]["p@1"] is None
    (run,) = collect_runs([tmp_path / "tfidf"])
    assert run.value("test", "macro_auc") is None and run.value("test", "micro_f1") is not None


def test_run_folder_reads_like_a_training_run(tmp_path, model_dir, data_dir):
    _, recipe = _recipe(
        tmp_path, model_dir, data_dir, "subset={method: k_per_label, k: 2, seed: 3}"
    )
    folder = tmp_path / "baselines" / "frozen"
    metrics = run_baseline("frozen", recipe, folder, {"C": 0.5})
    assert {p.name for p in folder.iterdir()} == {
        "metrics.json",
        "recipe.yaml",
        "subset.json",
        "thresholds.json",
    }
    stored = json.loads((folder / "metrics.json").read_text())
    assert stored == json.loads(json.dumps(metrics))
    assert set(stored) == {
        "validation",
        "test",
        "validation@0.5",
        "test@0.5",
        "thresholds",
        "timing",
        "baseline",
    }
    assert {"micro_f1", "macro_f1", "hier_f1", "p@5"} <= set(stored["test"])
    assert stored["baseline"] == {
        "name": "frozen",
        "options": {"C": 0.5, "max_iter": 5000, "batch_size": 32},
    }
    saved = yaml.safe_load((folder / "recipe.yaml").read_text())
    assert saved["output_dir"] == str(folder) and saved["seed"] == 7

    (run,) = collect_runs(find_run_dirs([tmp_path / "baselines"]))
    assert (run.method, run.shots, run.seed) == ("frozen", "2", 3)
    assert run.train_seconds == stored["timing"]["train_seconds"] > 0
    table = compare_table([run], metrics=("micro_f1",))
    assert table.timings == ("train_s",)
    assert "| method | shots | runs | micro_f1 | train_s |" in format_markdown(table)


# ---------------------------------------------------------------------------- CLI


def test_cli_baselines_end_to_end(tmp_path, model_dir, data_dir, capsys):
    recipe, _ = _recipe(tmp_path, model_dir, data_dir)
    out = tmp_path / "cmp"
    code = main(
        [
            "baselines",
            str(recipe),
            "--methods",
            "tfidf",
            "frozen",
            "--output-dir",
            str(out),
            "--set",
            "max_length=16",
            "--option",
            "tfidf.C=2",
        ]
    )
    assert code == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("tfidf: validation micro_f1 ")
    assert " macro_f1 " in printed[0] and "; test micro_f1 " in printed[0]
    assert "fit " in printed[0] and printed[0].endswith(str(out / "tfidf"))
    assert printed[1].startswith("frozen: validation micro_f1 ")
    tfidf = json.loads((out / "tfidf" / "metrics.json").read_text())
    assert tfidf["baseline"]["options"]["C"] == 2
    assert yaml.safe_load((out / "frozen" / "recipe.yaml").read_text())["max_length"] == 16

    assert main(["compare", str(out), "--output", str(tmp_path / "table")]) == 0
    assert "| tfidf | full | 1 |" in capsys.readouterr().out
    with (tmp_path / "table" / "comparison.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["method"] for r in rows] == ["frozen", "tfidf"]
    assert float(rows[0]["train_s_mean"]) > 0


def test_cli_default_output_dir(tmp_path, model_dir, data_dir):
    recipe, _ = _recipe(tmp_path, model_dir, data_dir)
    assert main(["baselines", str(recipe), "--methods", "tfidf"]) == 0
    assert (tmp_path / "run-baselines" / "tfidf" / "metrics.json").is_file()
    assert not (tmp_path / "run").exists()  # the training run's folder is not touched


def test_cli_runs_the_fast_baselines_and_never_overwrites_silently(
    tmp_path, model_dir, data_dir, capsys
):
    recipe, _ = _recipe(tmp_path, model_dir, data_dir)
    assert main(["baselines", str(recipe)]) == 0
    out = tmp_path / "run-baselines"
    assert sorted(p.name for p in out.iterdir()) == ["frozen", "tfidf"]  # no SetFit unasked
    before = (out / "tfidf" / "metrics.json").read_bytes()
    capsys.readouterr()
    assert main(["baselines", str(recipe), "--methods", "tfidf", "frozen"]) == 2
    err = capsys.readouterr().err
    assert "already holds the tfidf, frozen baseline runs: pass --overwrite" in err
    assert err.count("\n") == 1 and (out / "tfidf" / "metrics.json").read_bytes() == before
    assert main(["baselines", str(recipe), "--methods", "tfidf", "--overwrite"]) == 0


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--methods", "tfidf", "bm25"], "unknown baseline 'bm25'; choose from tfidf, frozen"),
        (["--methods", "tfidf", "--option", "tfidf.C"], "is not of the form METHOD.KEY=VALUE"),
        (["--methods", "tfidf", "--option", "frozen.C=1"], "is for 'frozen', which is not run"),
        (["--methods", "frozen", "--option", "frozen.c=1"], "unknown frozen option(s) 'c'"),
        (["--methods", "setfit", "--option", "setfit.seed=1"], "the recipe's seed"),
    ],
)
def test_cli_errors_are_one_line(argv, message, tmp_path, model_dir, data_dir, capsys):
    recipe, _ = _recipe(tmp_path, model_dir, data_dir)
    assert main(["baselines", str(recipe), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mlcl-text: error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert not (tmp_path / "run-baselines").exists()  # nothing ran


def test_setfit_missing_says_how_to_install(tmp_path, model_dir, data_dir, capsys, monkeypatch):
    recipe, _ = _recipe(tmp_path, model_dir, data_dir)
    monkeypatch.setitem(sys.modules, "setfit", None)  # import setfit raises ImportError
    with pytest.raises(BaselineError, match=r"pip install setfit"):
        resolve_options("setfit")
    assert main(["baselines", str(recipe), "--methods", "tfidf", "setfit"]) == 2
    err = capsys.readouterr().err
    assert "mlcl-text: error: the setfit baseline needs the setfit package" in err
    assert "mlcl-text[baselines]" in err
    assert not (tmp_path / "run-baselines").exists()  # checked before tfidf ran


# ---------------------------------------------------------------------------- sweeps


def _fake_train(recipe):
    recipe.output_dir.mkdir(parents=True, exist_ok=True)
    recipe.save(recipe.output_dir / "recipe.yaml")
    metrics = {"test": {"micro_f1": 0.5, "macro_f1": 0.4, "hier_f1": 0.6}}
    (recipe.output_dir / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")


def test_sweep_runs_baseline_cells_on_the_first_recipes_data(tmp_path, model_dir, data_dir, capsys):
    recipe, _ = _recipe(tmp_path, model_dir, data_dir)
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "recipes": [{"name": "mlcl", "path": str(recipe)}],
                "shots": [1, "full"],
                "seeds": [0, 1],
                "output_dir": str(tmp_path / "sweep"),
                "overrides": ["max_length=16"],
                "baselines": ["tfidf", {"name": "probe", "method": "frozen", "options": {"C": 2}}],
            }
        ),
        encoding="utf-8",
    )
    out = run_sweep(spec, train=_fake_train)
    printed = capsys.readouterr().out
    assert "[5/12] tfidf shots=1 seed=0: fitting baseline tfidf into" in printed
    cell = out / "probe" / "1" / "seed1"
    metrics = json.loads((cell / "metrics.json").read_text())
    assert metrics["baseline"] == {
        "name": "frozen",
        "options": {"C": 2, "max_iter": 5000, "batch_size": 32},
    }
    saved = yaml.safe_load((cell / "recipe.yaml").read_text())
    assert saved["subset"] == {"method": "k_per_label", "k": 1, "seed": 1}
    assert (saved["seed"], saved["max_length"], saved["output_dir"]) == (1, 16, str(cell))
    assert (cell / "subset.json").is_file()
    with (out / "comparison.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["method"], r["shots"], r["runs"]) for r in rows] == [
        ("mlcl", "1", "2"),
        ("mlcl", "full", "2"),
        ("tfidf", "1", "2"),
        ("tfidf", "full", "2"),
        ("probe", "1", "2"),
        ("probe", "full", "2"),
    ]
    assert rows[0]["train_s_mean"] == "" and float(rows[2]["train_s_mean"]) > 0
    assert yaml.safe_load((out / "sweep.yaml").read_text())["baselines"][1] == {
        "name": "probe",
        "method": "frozen",
        "options": {"C": 2},
    }

    calls = []
    run_sweep(spec, train=calls.append, baseline=lambda *args: calls.append(args))
    assert calls == []  # resumable: every cell is finished
    assert capsys.readouterr().out.count(": skip, finished in") == 12


@pytest.mark.parametrize(
    ("baselines", "message"),
    [
        (["bm25"], "unknown baseline 'bm25'"),
        ([{"name": "x", "method": "tfidf", "options": {"alpha": 1}}], "unknown tfidf option"),
        ([{"name": "x"}], "a baselines item is a method name or"),
        (["tfidf", "tfidf"], "two methods are named 'tfidf'"),
        ([{"name": "bce", "method": "tfidf"}], "two methods are named 'bce'"),
        ([{"name": "a/b", "method": "tfidf"}], "cannot name a baseline"),
    ],
)
def test_sweep_baseline_errors(baselines, message, tmp_path):
    recipe = write_recipe(tmp_path / "bce.yaml", model_name_or_path="tiny", dataset="files")
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        yaml.safe_dump({"recipes": [str(recipe)], "output_dir": "o", "baselines": baselines}),
        encoding="utf-8",
    )
    with pytest.raises(SweepError, match=message):
        load_sweep_spec(spec)


# ---------------------------------------------------------------------------- SetFit


def test_setfit_tiny_run_is_seeded(tmp_path, model_dir, data_dir, monkeypatch):
    pytest.importorskip("setfit")
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")  # SetFit's default output_dir is ./checkpoints
    _, recipe = _recipe(tmp_path, model_dir, data_dir, "pooling=mean")
    data, tree = prepare_data(recipe)
    first, timing, options = fit_predict("setfit", recipe, data, tree, TINY_SETFIT)
    assert options["num_iterations"] == 1 and options["max_steps"] == 2
    assert options["batch_size"] == [4, 4]  # SetFit's (embedding, classifier) pair
    assert options["loss"] == "CosineSimilarityLoss"
    assert options["sampling_strategy"] == "oversampling"  # SetFit's default, kept
    assert timing["train_seconds"] > 0 and timing["predict_seconds"] > 0
    scores = first["test"]
    assert scores.shape == (len(data["test"]), len(tree))
    assert ((scores >= 0) & (scores <= 1)).all()
    assert np.allclose(scores[:, tree.index("Bio/Protein")], CONSTANT_CLIP)

    second, _, _ = fit_predict("setfit", recipe, data, tree, TINY_SETFIT)
    for split in ("validation", "test"):
        np.testing.assert_array_equal(first[split], second[split])
    other, _, _ = fit_predict(
        "setfit",
        load_recipe(tmp_path / "recipe.yaml", ["pooling=mean", "seed=8"]),
        data,
        tree,
        TINY_SETFIT,
    )
    assert not np.array_equal(other["test"], scores)  # the seed is what makes them equal
    assert not any((tmp_path / "cwd").iterdir())  # no checkpoints, no runs/ logs


def test_setfit_defaults_are_setfits_own():
    setfit = pytest.importorskip("setfit")
    options = resolve_options("setfit")
    assert options == {"head_params": {}, "predict_batch_size": 32}
    with pytest.raises(BaselineError, match="warmup_proportion"):
        resolve_options("setfit", {"warmup_proportion": 2.0})
    with pytest.raises(BaselineError, match="takes a Python callable"):
        resolve_options("setfit", {"loss": "SupConLoss"})
    model = make_baseline("setfit", recipe_from_dict({"model_name_or_path": "unused"}))
    defaults = setfit.TrainingArguments()
    assert model.training_arguments.num_epochs == defaults.num_epochs == (1, 16)
    assert model.training_arguments.num_iterations is None
    assert model.training_arguments.report_to == ["none"]
