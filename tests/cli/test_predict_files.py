"""mlcl-text predict on JSONL, CSV/TSV and Parquet files, with ids, --output and --top-k."""

from __future__ import annotations

import csv
import io
import json

import pytest

from mlcl_text.cli.main import main
from tests.helpers.recipe_files import recipe

TEXTS = ["neural networks learn\nrepresentations from data", "gene editing with crispr"]


@pytest.fixture
def run(tmp_path, model_dir, data_dir):
    assert main(["train", str(recipe(tmp_path, model_dir, data_dir))]) == 0
    return tmp_path / "run"


def _predict(capsys, *args) -> list[dict]:
    capsys.readouterr()
    assert main(["predict", *map(str, args)]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]


def test_jsonl_rows_keep_their_ids_and_line_breaks(run, tmp_path, capsys, monkeypatch):
    source = tmp_path / "docs.jsonl"
    source.write_text(
        "".join(json.dumps({"id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(TEXTS))
    )
    records = _predict(capsys, run, source, "--threshold", "0.0")
    assert [r["id"] for r in records] == ["d0", "d1"]
    assert records[0]["labels"] == ["Bio", "Bio/Genetics", "CS", "CS/DB", "CS/ML"]
    # the second text alone on stdin: the same probabilities, read by the same path
    monkeypatch.setattr("sys.stdin", io.StringIO(TEXTS[1] + "\n"))
    (alone,) = _predict(capsys, run, "-", "--threshold", "0.0")
    assert "id" not in alone and alone["labels"] == records[1]["labels"]
    for name, value in alone["probabilities"].items():  # padding in a batch moves the 6th digit
        assert value == pytest.approx(records[1]["probabilities"][name], abs=1e-5)


def test_csv_with_several_text_columns_top_k_and_a_csv_output(run, tmp_path, capsys):
    source = tmp_path / "docs.csv"
    with source.open("w", newline="", encoding="utf-8-sig") as handle:  # with a BOM
        writer = csv.writer(handle)
        writer.writerow(["id", "title", "body"])
        writer.writerow(["a", "Deep nets", TEXTS[0]])
        writer.writerow(["b", "Genes", TEXTS[1]])
    out = tmp_path / "predictions.csv"
    args = ["--text-column", "title", "--text-column", "body", "--top-k", "2", "--output", out]
    assert main(["predict", str(run), str(source), *map(str, args)]) == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["id"] for r in rows] == ["a", "b"]
    assert list(rows[0]) == ["id", "labels", "label_1", "probability_1", "label_2", "probability_2"]
    assert float(rows[0]["probability_1"]) >= float(rows[0]["probability_2"])
    # the joined columns are one document: the same as the JSON lines of the same file
    records = _predict(capsys, run, source, "--text-column", "title", "--text-column", "body")
    top = max(records[0]["probabilities"].items(), key=lambda item: item[1])
    assert (rows[0]["label_1"], float(rows[0]["probability_1"])) == top


def test_parquet_and_a_jsonl_output_with_every_label(run, tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"text": TEXTS}), source)
    out = tmp_path / "out" / "predictions.jsonl"
    assert main(["predict", str(run), str(source), "--output", str(out)]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 2 and len(records[0]["probabilities"]) == 5
    assert f"wrote 2 predictions to {out}" in capsys.readouterr().out


def test_bad_prediction_inputs_are_one_line_errors(run, tmp_path, capsys):
    source = tmp_path / "docs.jsonl"
    source.write_text(json.dumps({"body": "no text column"}) + "\n")
    assert main(["predict", str(run), str(source)]) == 2
    error = capsys.readouterr().err.strip()
    assert "docs.jsonl, row 1: no column 'text'" in error and "--text-column" in error
    assert len(error.splitlines()) == 1
    assert main(["predict", str(run), str(source), "--output", str(tmp_path / "p.xlsx")]) == 2
    assert "write .jsonl or .csv" in capsys.readouterr().err
    assert main(["predict", str(run), str(source), "--top-k", "0"]) == 2
    assert "argument --top-k: must be >= 1, got 0" in capsys.readouterr().err
