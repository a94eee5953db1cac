"""The summary across data sets: per-set means, differences to references, worst set, time."""

from __future__ import annotations

import csv
import json

import pytest

from mlcl_text.cli.main import main
from mlcl_text.studies.compare import CompareError, collect_runs, find_run_dirs
from mlcl_text.studies.compare.across import across_sets, format_across_markdown, write_across
from tests.helpers.sweeps import k, make_run

#: set → method → (micro-F1 per seed, fit seconds per seed)
SCORES = {
    "small": {
        "bce": ([0.60, 0.64], [10.0, 14.0]),
        "setfit": ([0.58, 0.58], [60.0, 60.0]),
        "tfidf": ([0.40, 0.42], [1.0, 1.0]),
    },
    "large": {
        "bce": ([0.70, 0.70], [30.0, 30.0]),
        "setfit": ([0.74, 0.72], [90.0, 90.0]),
        "tfidf": ([0.66, 0.66], [2.0, 2.0]),
        "frozen": ([0.50], [3.0]),
    },
}


def write_study(root):
    for name, methods in SCORES.items():
        for method, (scores, seconds) in methods.items():
            for seed, (score, time) in enumerate(zip(scores, seconds, strict=True)):
                folder = make_run(root / name / method / "5" / f"seed{seed}", subset=k(5, seed))
                metrics = {
                    "test": {"micro_f1": score},
                    "timing": {"train_seconds": time},
                }
                (folder / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    return {name: collect_runs(find_run_dirs([root / name])) for name in SCORES}


def test_differences_worst_set_and_time_ratio(tmp_path):
    summary = across_sets(write_study(tmp_path))
    rows = {row.method: row for row in summary.rows}
    assert summary.sets == ("small", "large")
    bce = rows["bce"]
    assert bce.per_set["small"].mean == pytest.approx(0.62)
    assert bce.mean == pytest.approx((0.62 + 0.70) / 2)
    assert bce.worst_std == pytest.approx(bce.per_set["small"].std)
    versus_setfit = bce.differences["setfit"]
    # small: 0.62 - 0.58 = +0.04; large: 0.70 - 0.73 = -0.03
    assert versus_setfit.mean == pytest.approx(0.005)
    assert (versus_setfit.worst, versus_setfit.worst_set) == (pytest.approx(-0.03), "large")
    assert versus_setfit.time_ratio == pytest.approx((12 / 60 + 30 / 90) / 2)
    assert bce.differences["tfidf"].mean == pytest.approx((0.21 + 0.04) / 2)
    assert "setfit" not in rows["setfit"].differences
    frozen = rows["frozen"]  # scored on one set only: no mean over the sets
    assert frozen.mean is None and frozen.per_set["small"].n == 0
    assert frozen.differences["setfit"].sets == 1


def test_markdown_csv_and_the_command(tmp_path, capsys):
    summary = across_sets(write_study(tmp_path / "study"))
    lines = format_across_markdown(summary).splitlines()
    header = "| method | shots | small | large | mean | largest sd | Δ setfit | worst Δ setfit"
    assert lines[2].startswith(header)
    bce = next(line for line in lines if line.startswith("| bce |"))
    assert "| 62.0 ± 2.8 (2) | 70.0 ± 0.0 (2) | 66.0 | 2.8 | +0.5 | -3.0 (large) | 0.27× |" in bce
    markdown, table = write_across(summary, tmp_path / "out")
    assert markdown.read_text(encoding="utf-8") == format_across_markdown(summary)
    with table.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["method"], r["set"]) for r in rows} >= {("bce", "small"), ("frozen", "large")}
    assert any(r["method"] == "frozen" and r["set"] == "small" and r["runs"] == "0" for r in rows)

    folders = [f"{name}={tmp_path / 'study' / name}" for name in SCORES]
    assert main(["compare", "--across-sets", *folders, "--output", str(tmp_path / "cli")]) == 0
    printed = capsys.readouterr().out
    assert bce in printed.splitlines()
    assert (tmp_path / "cli" / "across-sets.md").is_file()


def test_bad_requests_end_in_one_line(tmp_path, capsys):
    runs = write_study(tmp_path / "study")
    with pytest.raises(CompareError, match="reference method 'sft' has no runs"):
        across_sets(runs, references=("sft",))
    with pytest.raises(CompareError, match="no data sets"):
        across_sets({})
    folder = str(tmp_path / "study" / "small")
    assert main(["compare", folder, "--reference", "tfidf"]) == 2
    assert "--reference needs --across-sets" in capsys.readouterr().err
    assert main(["compare", "--across-sets", f"a={folder}", f"a={folder}"]) == 2
    assert "data set 'a' is given twice" in capsys.readouterr().err
