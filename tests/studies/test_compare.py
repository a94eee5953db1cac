"""Comparing runs: identity from the run folder, mean ± sample std per group, md/CSV/PNG."""

from __future__ import annotations

import csv
import json
import math

import pytest

from mlcl_text.studies.compare import (
    CompareError,
    collect_runs,
    compare_table,
    find_run_dirs,
    format_markdown,
    plot_metric_vs_shots,
    shots_sort_key,
    write_comparison,
)
from tests.helpers.sweeps import k, make_run, sweep_runs


def test_run_identity(tmp_path):
    cell = make_run(tmp_path / "sweep" / "mlcl" / "5" / "seed2", {"micro_f1": 0.5}, k(5, 2))
    plain = make_run(tmp_path / "wos-bce", {"micro_f1": 0.4}, seed=7)
    frac = make_run(
        tmp_path / "f", {}, {"method": "fraction", "fraction": 0.05, "seed": 1, "level": None}
    )
    named = make_run(tmp_path / "x", {}, k(1, 0))
    runs = collect_runs([cell, str(plain), f"mine={frac}", ("given", named)])
    assert [(r.method, r.shots, r.seed) for r in runs] == [
        ("mlcl", "5", 2),  # sweep layout <method>/<shots>/seed<S>
        ("wos-bce", "full", 7),  # no subset: training seed
        ("mine", "0.05", 1),
        ("given", "1", 0),
    ]
    assert runs[0].value("test", "micro_f1") == 0.5
    assert runs[0].value("test", "hier_f1") is None
    assert runs[0].value("validation", "micro_f1") is None


def test_missing_metrics_json_names_the_folder(tmp_path):
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    (crashed / "recipe.yaml").write_text("model_name_or_path: m\n")
    with pytest.raises(FileNotFoundError, match=r"crashed has no metrics\.json"):
        collect_runs([crashed])
    with pytest.raises(FileNotFoundError, match="nowhere does not exist"):
        collect_runs([tmp_path / "nowhere"])
    (crashed / "metrics.json").write_text("{not json")
    with pytest.raises(CompareError, match=r"metrics\.json: not readable JSON"):
        collect_runs([crashed])
    with pytest.raises(CompareError, match="no run folders"):
        collect_runs([])


def test_find_run_dirs_expands_folders(tmp_path):
    a = make_run(tmp_path / "s" / "bce" / "1" / "seed0", {})
    b = make_run(tmp_path / "s" / "bce" / "1" / "seed1", {})
    (tmp_path / "s" / "bce" / "5" / "seed0").mkdir(parents=True)  # crashed: skipped below
    single = make_run(tmp_path / "single", {})
    assert find_run_dirs([tmp_path / "s", single]) == [a, b, single]
    assert find_run_dirs([f"named={tmp_path / 's'}"]) == [("named", a), ("named", b)]
    runs = collect_runs(find_run_dirs([tmp_path / "s", f"other={single}"]))
    assert [r.method for r in runs] == ["bce", "bce", "other"]
    with pytest.raises(FileNotFoundError, match=r"seed0 has no metrics\.json and no run folder"):
        find_run_dirs([tmp_path / "s" / "bce" / "5" / "seed0"])


def test_an_evaluation_inside_a_run_is_part_of_the_run(tmp_path):
    run = make_run(tmp_path / "s" / "bce" / "1" / "seed0", {"micro_f1": 0.5})
    make_run(run / "evaluation-test", {"micro_f1": 0.5})
    other = make_run(tmp_path / "s" / "bce-other", {})
    assert find_run_dirs([tmp_path / "s"]) == [run, other]


def test_table_mean_and_sample_std(tmp_path):
    table = compare_table(sweep_runs(tmp_path))
    assert [(r.group["method"], r.group["shots"], r.runs) for r in table] == [
        ("mlcl", "5", 3),  # methods in the order the runs name them
        ("mlcl", "full", 1),
        ("bce", "1", 2),  # shots: examples per label ascending, full last
        ("bce", "5", 2),
    ]
    mlcl5 = table[0].cells
    assert mlcl5["micro_f1"].mean == pytest.approx(0.6)
    # sample std (ddof=1) by hand: deviations -0.1, 0, 0.1 → sqrt(0.02 / 2) = 0.1
    assert mlcl5["micro_f1"].std == pytest.approx(0.1)
    assert mlcl5["macro_f1"].mean == pytest.approx(0.5)
    assert mlcl5["macro_f1"].std == pytest.approx(math.sqrt((0.09 + 0.01 + 0.16) / 2))
    assert (mlcl5["micro_f1"].n, mlcl5["micro_f1"].missing) == (3, 0)
    full = table[1].cells["micro_f1"]
    assert (full.mean, full.std, full.n) == (0.9, None, 1)  # one run: no std
    bce1 = table[2].cells["hier_f1"]
    assert bce1.mean == pytest.approx(0.3) and bce1.std == pytest.approx(math.sqrt(0.02))


def test_missing_metrics_are_counted_not_fatal(tmp_path):
    table = compare_table(sweep_runs(tmp_path))
    mlcl5 = table[0].cells["hier_f1"]  # one of three runs lacks it
    assert (mlcl5.n, mlcl5.missing) == (2, 1)
    assert mlcl5.mean == pytest.approx(0.65)
    assert mlcl5.std == pytest.approx(math.sqrt(0.005))
    bce5 = table[3].cells["hier_f1"]  # null and NaN: missing in both runs
    assert (bce5.mean, bce5.std, bce5.n, bce5.missing) == (None, None, 0, 2)
    assert table.missing == {"hier_f1": 3}
    # a metric no run has, and a run without the split at all
    other = compare_table(sweep_runs(tmp_path / "b"), metrics=("micro_f1", "p@5"))
    assert all(row.cells["p@5"].mean is None for row in other)
    assert other.missing == {"p@5": 8}


def test_markdown_and_csv(tmp_path):
    table = compare_table(sweep_runs(tmp_path))
    text = format_markdown(table)
    lines = text.splitlines()
    assert "| method | shots | runs | micro_f1 | macro_f1 | hier_f1 |" in lines
    assert (
        "| mlcl | 5 | 3 | 0.6000 ± 0.1000 | 0.5000 ± 0.3606 | 0.6500 ± 0.0707 (n=2; 1 missing) |"
        in lines
    )
    assert "| mlcl | full | 1 | 0.9000 ± – | 0.8000 ± – | 0.9500 ± – |" in lines
    assert "| bce | 5 | 2 | 0.3500 ± 0.0707 | 0.1500 ± 0.0707 | – |" in lines
    assert "Missing: hier_f1 in 3 run(s)." in lines
    assert "Split: test" in text

    markdown, csv_path = write_comparison(table, tmp_path / "out")
    assert markdown.read_text(encoding="utf-8") == text
    assert (markdown.name, csv_path.name) == ("comparison.md", "comparison.csv")
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == [
        "method",
        "shots",
        "runs",
        *(
            f"{m}_{s}"
            for m in ("micro_f1", "macro_f1", "hier_f1")
            for s in ("mean", "std", "n", "missing")
        ),
    ]
    first = rows[0]
    assert (first["method"], first["shots"], first["runs"]) == ("mlcl", "5", "3")
    assert float(first["micro_f1_mean"]) == pytest.approx(0.6)
    assert float(first["micro_f1_std"]) == pytest.approx(0.1)
    assert (first["hier_f1_n"], first["hier_f1_missing"]) == ("2", "1")
    assert rows[1]["micro_f1_std"] == ""  # one run
    assert rows[3]["hier_f1_mean"] == "" and rows[3]["hier_f1_n"] == "0"


def test_grouping_and_split(tmp_path):
    runs = sweep_runs(tmp_path)
    by_method = compare_table(runs, metrics=("micro_f1",), group_by=("method",))
    assert [(r.group["method"], r.runs) for r in by_method] == [("mlcl", 4), ("bce", 4)]
    assert by_method[1].cells["micro_f1"].mean == pytest.approx(0.25)
    by_seed = compare_table(runs, metrics=("micro_f1",), group_by=("method", "shots", "seed"))
    assert len(by_seed) == 8 and all(row.runs == 1 for row in by_seed)
    assert [r.group["seed"] for r in by_seed][:3] == ["0", "1", "2"]
    assert "| method | shots | seed | runs | micro_f1 |" in format_markdown(by_seed)
    with pytest.raises(CompareError, match="cannot group by 'dataset'"):
        compare_table(runs, group_by=("method", "dataset"))
    with pytest.raises(CompareError, match="no run has scores for split 'validation'"):
        compare_table(runs, split="validation")


def test_other_split(tmp_path):
    runs = collect_runs(
        [
            make_run(tmp_path / "a", {"micro_f1": 0.1}, validation={"micro_f1": 0.3}),
            make_run(tmp_path / "b", {"micro_f1": 0.2}),
        ]
    )
    table = compare_table(runs, metrics=("micro_f1",), split="validation", group_by=("shots",))
    (row,) = table
    assert (row.runs, row.cells["micro_f1"].mean, row.cells["micro_f1"].missing) == (2, 0.3, 1)


def test_shots_order():
    labels = ["full", "10", "0.05", "1", "5", "0.5", "custom"]
    assert sorted(labels, key=shots_sort_key) == ["1", "5", "10", "0.05", "0.5", "custom", "full"]


def test_plot_is_a_png(tmp_path):
    runs = sweep_runs(tmp_path)
    path = plot_metric_vs_shots(compare_table(runs), tmp_path / "plots" / "metric_vs_shots.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(CompareError, match="grouped by method and shots"):
        plot_metric_vs_shots(compare_table(runs, group_by=("method",)), path)


def test_train_seconds_column_when_runs_record_their_fit_time(tmp_path):
    trained = make_run(tmp_path / "sweep" / "mlcl" / "5" / "seed0", {"micro_f1": 0.6}, k(5, 0))
    timed = []
    for seed, seconds in ((0, 2.0), (1, 4.0)):
        folder = make_run(
            tmp_path / "sweep" / "tfidf" / "5" / f"seed{seed}", {"micro_f1": 0.4}, k(5, seed)
        )
        metrics = json.loads((folder / "metrics.json").read_text())
        metrics["timing"] = {"train_seconds": seconds, "predict_seconds": 0.1}
        (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
        timed.append(folder)
    table = compare_table(collect_runs([trained, *timed]), metrics=("micro_f1",))
    assert (table.metrics, table.timings) == (("micro_f1",), ("train_s",))
    lines = format_markdown(table).splitlines()
    assert "| method | shots | runs | micro_f1 | train_s |" in lines
    assert "| tfidf | 5 | 2 | 0.4000 ± 0.0000 | 3.00 ± 1.41 |" in lines
    assert "| mlcl | 5 | 1 | 0.6000 ± – | – |" in lines
    assert not any(line.startswith("Missing:") for line in lines)  # a time is no metric
    _, csv_path = write_comparison(table, tmp_path / "out")
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = {row["method"]: row for row in csv.DictReader(handle)}
    assert float(rows["tfidf"]["train_s_mean"]) == 3.0
    assert float(rows["tfidf"]["train_s_std"]) == pytest.approx(math.sqrt(2))
    assert (rows["mlcl"]["train_s_mean"], rows["mlcl"]["train_s_missing"]) == ("", "1")
    assert plot_metric_vs_shots(table, tmp_path / "plot.png").is_file()  # times are not plotted

    untimed = compare_table(collect_runs([trained]), metrics=("micro_f1",))
    assert untimed.timings == () and "train_s" not in format_markdown(untimed)
