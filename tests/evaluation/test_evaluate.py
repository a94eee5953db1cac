"""evaluate_run on a tiny random model: metrics.json, report.md and valid PNG plots."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from datasets import Dataset
from sklearn.metrics import f1_score

pytest.importorskip("matplotlib")

from matplotlib.image import imread

from mlcl_text.evaluation.evaluate import EvaluationOptions, evaluate_run, format_summary
from mlcl_text.evaluation.figures import POOLED
from mlcl_text.evaluation.metrics import per_label_scores
from mlcl_text.evaluation.report import write_report
from mlcl_text.evaluation.thresholds import Thresholds
from mlcl_text.run_folder import LOG_HISTORY_FILE, PLOT_FILES, RunFolder

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

DOCUMENTS = [
    ("machine learning models classify documents", ["CS", "CS/ML"]),
    ("databases store records in tables", ["CS", "CS/DB"]),
    ("genetics studies genes and heredity", ["Bio", "Bio/Genetics"]),
    ("gene editing with crispr changes dna", ["Bio", "Bio/Genetics", "Bio/Genetics/CRISPR"]),
    ("neural networks learn representations", ["CS", "CS/ML"]),
    ("query optimisation speeds up databases", ["CS", "CS/DB"]),
    ("crispr databases of genes", ["CS", "CS/DB", "Bio", "Bio/Genetics"]),
    ("the patient was admitted with chest pain", []),
]
HISTORY = [
    {"loss": 2.0, "loss_cls": 0.7, "loss_con/a": 3.0, "loss_con/b": 2.0, "step": 1},
    {"loss": 1.5, "loss_cls": 0.6, "loss_con/a": 2.5, "loss_con/b": 1.8, "step": 2},
    {"eval_loss": 1.7, "eval_loss_cls": 0.65, "eval_loss_con/a": 2.7, "step": 2},
    {"train_loss": 1.75, "train_runtime": 1.0, "step": 2},
]


@pytest.fixture
def model(two_head_model):
    return two_head_model


@pytest.fixture
def split():
    texts, labels = zip(*(DOCUMENTS * 3), strict=True)
    return Dataset.from_dict({"text": list(texts), "labels": [list(x) for x in labels]})


def assert_png(path) -> None:
    with open(path, "rb") as handle:
        assert handle.read(8) == PNG_SIGNATURE
    image = imread(path)
    assert image.shape[0] > 0 and image.shape[1] > 0


def test_evaluate_run_writes_metrics_plots_and_report(
    tmp_path, model, tiny_tokenizer, split, small_tree
):
    out = tmp_path / "eval"
    train_counts = {"CS": 40, "CS/ML": 25, "CS/DB": 15, "Bio": 12, "Bio/Genetics": 12}
    result = evaluate_run(
        model,
        tiny_tokenizer,
        split,
        small_tree,
        out,
        thresholds=0.5,
        log_history=HISTORY,
        train_label_counts=train_counts,
        options=EvaluationOptions(
            batch_size=5,
            max_length=16,
            max_points=20,
            umap=False,
            model_name="tiny",
            dataset_name="synthetic",
        ),
    )
    expected = {k for k in PLOT_FILES if k != "embeddings_umap"}
    assert set(result["plots"]) == expected
    for key, plot in result["plots"].items():
        assert plot.path == out / "plots" / PLOT_FILES[key]
        assert_png(plot)

    # per-label F1 is scikit-learn's
    y_true = small_tree.encode(split["labels"])
    predicted = result["probabilities"] >= 0.5
    expected_f1 = f1_score(y_true, predicted, average=None, zero_division=0)
    np.testing.assert_allclose(result["per_label"]["f1"], expected_f1)
    assert result["per_label"]["frequency"].tolist() == [40, 25, 15, 12, 12, 0]
    assert result["per_label"]["frequency_source"] == "train"

    # the 2-D view: pooled embeddings plus one panel per head; the loss plot: one line per key
    views = result["plots"]["embeddings_pca"]
    assert views.panels == (f"{POOLED} (32-d)", "head a (8-d)", "head b (8-d)")
    losses = result["plots"]["loss_curves"]
    assert losses.panels == ("loss", "loss_cls", "loss_con/a", "loss_con/b")
    logged = {"loss", "loss_cls", "loss_con/a", "loss_con/b", "eval_loss", "eval_loss_cls"}
    assert sorted(losses.series) == sorted(logged | {"eval_loss_con/a"})

    # metrics.json is strict JSON with the flat scores and the per-label scores
    document = json.loads(
        (out / "metrics.json").read_text(), parse_constant=lambda c: pytest.fail(c)
    )
    assert document["split"] == "test" and document["num_documents"] == len(split)
    assert document["test"]["micro_f1"] == pytest.approx(result["metrics"]["micro_f1"])
    assert "metrics" not in document  # one copy of the scores, under the split's name
    assert set(document["per_label"]) == set(small_tree.names)
    assert document["per_label"]["CS"]["f1"] == pytest.approx(expected_f1[0])
    assert document["thresholds"]["global"] == 0.5

    # report.md: the scores table and a link to every PNG
    report = (out / "report.md").read_text()
    assert "| micro_f1 |" in report and "| level | labels | micro F1 | macro F1 |" in report
    assert "split `test`, 24 documents" in report
    links = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report))
    assert links == {f"plots/{PLOT_FILES[key]}" for key in expected}
    assert format_summary(result, "synthetic").startswith("synthetic/test (24 documents): micro_f1")


def test_evaluate_run_given_probabilities_and_per_label_thresholds(
    tmp_path, model, tiny_tokenizer, split, small_tree
):
    rng = np.random.default_rng(0)
    probabilities = rng.random((len(split), len(small_tree))).astype(np.float32)
    thresholds = Thresholds(0.5, np.linspace(0.3, 0.7, len(small_tree)))
    result = evaluate_run(
        model,
        tiny_tokenizer,
        split,
        small_tree,
        tmp_path,
        thresholds=thresholds,
        probabilities=probabilities,
        options=EvaluationOptions(max_length=16, max_points=5, umap=False, write_summary=False),
    )
    assert result["files"] == {} and not (tmp_path / "metrics.json").exists()
    assert "loss_curves" not in result["plots"]  # no log history
    assert result["per_label"]["frequency_source"] == "split"
    assert result["thresholds"]["per_label"] is True
    expected = f1_score(
        small_tree.encode(split["labels"]),
        probabilities >= thresholds.array(len(small_tree)).astype(np.float32),
        average=None,
        zero_division=0,
    )
    np.testing.assert_allclose(result["per_label"]["f1"], expected)
    assert any("per-label thresholds" in s for s in result["plots"]["precision_recall"].series)
    with pytest.raises(ValueError, match="do not match"):
        evaluate_run(
            model, tiny_tokenizer, split, small_tree, tmp_path, probabilities=probabilities[:3]
        )


def test_per_label_scores_match_sklearn():
    rng = np.random.default_rng(3)
    y = (rng.random((50, 7)) < 0.3).astype(int)
    y[:, 6] = 0  # a label without positives
    scores = rng.random((50, 7))
    result = per_label_scores(y, scores, 0.6)
    predicted = scores >= 0.6
    for name, metric in (("f1", f1_score),):
        np.testing.assert_allclose(
            result[name], metric(y, predicted, average=None, zero_division=0)
        )
    assert result["support"].tolist() == y.sum(axis=0).tolist()
    assert result["predicted"].tolist() == predicted.sum(axis=0).tolist()


def test_run_folder_log_history_from_a_checkpoint(tmp_path):
    assert RunFolder(tmp_path).log_history() is None
    for step, loss in ((5, 1.0), (10, 0.5)):
        folder = tmp_path / f"checkpoint-{step}"
        folder.mkdir()
        state = {"log_history": [{"loss": loss, "step": step}]}
        (folder / "trainer_state.json").write_text(json.dumps(state))
    assert RunFolder(tmp_path).log_history() == [{"loss": 0.5, "step": 10}]
    (tmp_path / LOG_HISTORY_FILE).write_text(json.dumps(HISTORY))
    assert RunFolder(tmp_path).log_history() == HISTORY


def test_training_report_links_figures(tmp_path, small_tree):
    recipe = {"model_name_or_path": "m", "dataset": "d", "heads": []}
    metrics = {"test": {"micro_f1": 0.5}}
    plain = write_report(tmp_path, recipe, {"test": 3}, small_tree, metrics, HISTORY)
    assert "## Figures" not in plain.read_text()
    figure = tmp_path / "plots" / "level_f1.png"
    path = write_report(
        tmp_path, recipe, {"test": 3}, small_tree, metrics, HISTORY, figures={"level": figure}
    )
    text = path.read_text()
    assert "| micro_f1 | 0.5000 |" in text and "| loss_con/a |" in text
    assert "![level](plots/level_f1.png)" in text


def test_evaluation_files_are_strict_json_that_compare_reads(
    tmp_path, model, tiny_tokenizer, split, small_tree, monkeypatch
):
    from mlcl_text.evaluation import scoring as split_scores
    from mlcl_text.evaluation.evaluate import split_metrics_document
    from mlcl_text.run_folder import write_json
    from mlcl_text.studies.compare import collect_runs
    from tests.helpers.strict_json import strict_loads

    scored = split_scores.evaluate_predictions

    def undefined_scores(*args, **kwargs):  # NaN, inf and NumPy scalars, as scoring gives them
        scores = scored(*args, **kwargs)
        return {**scores, "micro_auc": float("nan"), "p@5": np.float32(np.inf)}

    monkeypatch.setattr(split_scores, "evaluate_predictions", undefined_scores)
    out = tmp_path / "evaluation-test"
    result = evaluate_run(
        model,
        tiny_tokenizer,
        split,
        small_tree,
        out,
        options=EvaluationOptions(max_length=16, max_points=0, umap=False),
    )
    document = strict_loads((out / "metrics.json").read_text())
    assert document["test"]["micro_auc"] is None and document["test"]["p@5"] is None
    assert document["split"] == "test" and document["thresholds"]["global"] == 0.5
    flat = strict_loads(
        write_json(tmp_path / "metrics-test.json", split_metrics_document(result)).read_text()
    )
    assert flat["test"]["micro_f1"] == document["test"]["micro_f1"]
    assert "per_label" not in flat and "micro_f1" not in flat and flat["test"]["micro_auc"] is None
    (run,) = collect_runs([out])
    assert run.value("test", "micro_f1") == pytest.approx(result["metrics"]["micro_f1"])
    assert run.value("test", "micro_auc") is None


def test_score_split_then_write_its_files_is_what_evaluate_run_writes(
    tmp_path, model, tiny_tokenizer, split, small_tree
):
    from mlcl_text.evaluation.evaluate import write_split_summary
    from mlcl_text.evaluation.figures import write_split_figures
    from mlcl_text.evaluation.scoring import score_split

    rng = np.random.default_rng(1)
    probabilities = rng.random((len(split), len(small_tree)))
    scores = score_split(small_tree, split["labels"], probabilities, 0.4, split_name="validation")
    assert scores.num_documents == len(split) and scores.thresholds["global"] == 0.4
    assert scores.per_label["frequency_source"] == "split"
    figures = write_split_figures(scores, tmp_path / "a", small_tree)
    files = write_split_summary(scores, tmp_path / "a", small_tree, figures)
    assert "loss_curves" not in figures and files["report"].is_file()
    evaluate_run(
        model,
        tiny_tokenizer,
        split,
        small_tree,
        tmp_path / "b",
        thresholds=0.4,
        probabilities=probabilities,
        options=EvaluationOptions(split_name="validation", max_points=0, umap=False),
    )
    written = json.loads((tmp_path / "a" / "metrics.json").read_text())
    assert written == json.loads((tmp_path / "b" / "metrics.json").read_text())
    with pytest.raises(ValueError, match="do not match"):
        score_split(small_tree, split["labels"], probabilities[:2])
