"""The generic files loader: formats, label fields, hierarchy files, bad rows."""

from __future__ import annotations

import json
import logging

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlcl_text.data import DataError, available, load

ROWS = [
    {"id": "d1", "title": "Deep nets", "body": "Neural networks for vision.", "labels": ["CS/ML"]},
    {"id": "d2", "title": "Indexes", "body": "B-trees speed up queries.", "labels": ["CS/DB"]},
    {
        "id": "d3",
        "title": "CRISPR",
        "body": "Editing genes in cells.",
        "labels": ["Bio/Genetics", "CS/ML"],
    },
    {"id": "d4", "title": "Proteins", "body": "Folding of proteins.", "labels": ["Bio"]},
]


def _write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _write_csv(path, rows, delimiter=","):
    lines = [delimiter.join(["id", "title", "body", "labels"])]
    for r in rows:
        labels = "|".join(r["labels"])
        lines.append(
            delimiter.join(
                [r["id"], r["title"], f'"{r["body"]}"' if delimiter == "," else r["body"], labels]
            )
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_registry_lists_files():
    assert "files" in available()
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        load("nope")


@pytest.mark.parametrize("kind", ["jsonl", "csv", "tsv", "parquet"])
def test_formats_give_the_same_data(tmp_path, kind):
    for split in ("train", "validation", "test"):
        path = tmp_path / f"{split}.{kind}"
        if kind == "jsonl":
            _write_jsonl(path, ROWS)
        elif kind == "parquet":
            pq.write_table(pa.Table.from_pylist(ROWS), path)
        else:
            _write_csv(path, ROWS, delimiter="\t" if kind == "tsv" else ",")
    data, tree = load(
        "files",
        str(tmp_path),
        text_columns=["title", "body"],
        label_separator="|",
        label_path_sep="/",
    )
    assert set(data) == {"train", "validation", "test"}
    train = data["train"]
    assert train["id"] == ["d1", "d2", "d3", "d4"]
    assert train[0]["text"] == "Deep nets\n\nNeural networks for vision."
    # closed under ancestors, in tree order
    assert train[2]["labels"] == ["Bio", "Bio/Genetics", "CS", "CS/ML"]
    assert tree.num_levels == 2
    assert set(tree.names) == {"CS", "CS/ML", "CS/DB", "Bio", "Bio/Genetics"}


def test_flat_labels_and_json_list_strings(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('text,labels\nfirst text,"[""a"", ""b""]"\nsecond text,c\n', encoding="utf-8")
    data, tree = load("files", train=str(path), holdout_fractions=(0.0, 0.0))
    assert tree.num_levels == 1 and tree.names == ["a", "b", "c"]
    assert data["train"]["labels"] == [["a", "b"], ["c"]]
    assert len(data["validation"]) == 0


def test_missing_splits_are_carved_from_train_deterministically(tmp_path):
    rows = [{"text": f"text {i}", "labels": ["x" if i % 2 else "y"]} for i in range(50)]
    _write_jsonl(tmp_path / "train.jsonl", rows)
    first, _ = load("files", str(tmp_path), holdout_fractions=(0.2, 0.1), seed=3)
    again, _ = load("files", str(tmp_path), holdout_fractions=(0.2, 0.1), seed=3)
    other, _ = load("files", str(tmp_path), holdout_fractions=(0.2, 0.1), seed=4)
    assert [len(first[s]) for s in ("train", "validation", "test")] == [35, 10, 5]
    assert first["test"]["text"] == again["test"]["text"] != other["test"]["text"]
    assert not set(first["train"]["text"]) & set(first["test"]["text"])


@pytest.mark.parametrize("form", ["json_parents", "json_paths", "tsv_parents", "tsv_paths"])
def test_hierarchy_files(tmp_path, form):
    hierarchy = {
        "json_parents": (
            "h.json",
            json.dumps({"CS": None, "ML": "CS", "DB": "CS", "Bio": None, "Genetics": "Bio"}),
        ),
        "json_paths": ("h.json", json.dumps(["CS/ML", "CS/DB", "Bio/Genetics"])),
        "tsv_parents": ("h.tsv", "CS\t\nML\tCS\nDB\tCS\nBio\t\nGenetics\tBio\n"),
        "tsv_paths": ("h.tsv", "CS/ML\nCS/DB\nBio/Genetics\n"),
    }[form]
    (tmp_path / hierarchy[0]).write_text(hierarchy[1], encoding="utf-8")
    leaf = "ML" if "parents" in form else "CS/ML"
    _write_jsonl(tmp_path / "train.jsonl", [{"text": "a text", "labels": [leaf]}] * 10)
    data, tree = load("files", str(tmp_path), hierarchy=str(tmp_path / hierarchy[0]))
    assert tree.num_levels == 2
    assert data["train"][0]["labels"] == [tree.parent(leaf), leaf]


def test_bad_rows_name_file_row_and_reason(tmp_path):
    (tmp_path / "h.json").write_text(json.dumps(["CS/ML"]), encoding="utf-8")
    path = tmp_path / "train.jsonl"
    good = {"text": "ok", "labels": ["CS/ML"]}
    cases = [
        ({"text": "  ", "labels": ["CS/ML"]}, "row 2: empty text"),
        ({"text": "x", "labels": ["CS/AI"]}, "row 2: unknown label 'CS/AI'"),
        ({"text": "x", "labels": "[broken"}, "row 2: malformed label list"),
        ({"text": "x", "labels": [1, 2]}, "row 2: malformed label field"),
        ({"text": "x"}, r"row 2: missing column\(s\) \['labels'\]"),
    ]
    for bad, message in cases:
        _write_jsonl(path, [good, bad, good])
        with pytest.raises(DataError, match=rf"train\.jsonl, row 2: {message.split(': ', 1)[1]}"):
            load("files", str(tmp_path), hierarchy=str(tmp_path / "h.json"))


def test_skipping_bad_rows_counts_them(tmp_path, caplog):
    rows = [
        {"text": "ok", "labels": ["a"]},
        {"text": "", "labels": ["a"]},
        {"text": "x", "labels": [3]},
    ] + [{"text": f"fine {i}", "labels": ["b"]} for i in range(7)]
    _write_jsonl(tmp_path / "train.jsonl", rows)
    with caplog.at_level(logging.WARNING):
        data, _ = load("files", str(tmp_path), on_error="skip", holdout_fractions=(0.0, 0.0))
    assert len(data["train"]) == 8
    assert (
        "skipped 2 rows" in caplog.text
        and "empty text" in caplog.text
        and "malformed labels" in caplog.text
    )


def test_on_error_must_be_raise_or_skip(tmp_path):
    _write_jsonl(tmp_path / "train.jsonl", [{"text": "ok", "labels": ["a"]}])
    with pytest.raises(ValueError, match="on_error must be 'raise' or 'skip', got 'warn'"):
        load("files", str(tmp_path), on_error="warn")


def test_bad_files(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load("files", str(tmp_path / "missing"))
    (tmp_path / "train.txt").write_text("x")
    with pytest.raises(DataError, match=r"unsupported file type '\.txt'"):
        load("files", train=str(tmp_path / "train.txt"))
    (tmp_path / "bad.jsonl").write_text('{"text": "a", "labels": ["x"]}\nnot json\n')
    with pytest.raises(DataError, match=r"bad\.jsonl, row 2: not a JSON object"):
        load("files", train=str(tmp_path / "bad.jsonl"))
    (tmp_path / "h.tsv").write_text("a\tb\tc\n")
    with pytest.raises(DataError, match=r"h\.tsv, row 1: expected 'child<TAB>parent'"):
        load("files", train=str(tmp_path / "bad.jsonl"), hierarchy=str(tmp_path / "h.tsv"))


def test_hub_dataset(monkeypatch):
    from datasets import Dataset, DatasetDict

    fake = DatasetDict(
        {
            "train": Dataset.from_list([{"text": f"t{i}", "labels": ["a"]} for i in range(5)]),
            "dev": Dataset.from_list([{"text": "v", "labels": ["b"]}]),
            "test": Dataset.from_list([{"text": "w", "labels": ["a", "b"]}]),
        }
    )
    monkeypatch.setattr("datasets.load_dataset", lambda hub_id: fake)
    data, tree = load("files", hub_id="someone/data")
    assert [len(data[s]) for s in ("train", "validation", "test")] == [5, 1, 1]
    assert tree.names == ["a", "b"]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl"])
def test_a_byte_order_mark_is_read(tmp_path, suffix):
    """Spreadsheet programs write UTF-8 files with a leading byte-order mark."""
    path = tmp_path / f"train{suffix}"
    if suffix == ".jsonl":
        _write_jsonl(path, ROWS)
    else:
        _write_csv(path, ROWS, delimiter="\t" if suffix == ".tsv" else ",")
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    data, _ = load("files", train=str(path), text_columns=["title", "body"])
    assert data["train"][0]["id"] == "d1" and len(data["train"]) + len(data["validation"]) + len(
        data["test"]
    ) == len(ROWS)


def test_a_byte_that_is_not_utf8_names_file_row_and_column(tmp_path):
    path = tmp_path / "train.jsonl"
    _write_jsonl(path, ROWS)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"CRISPR", b"CRISPR \xe9")  # Latin-1 é
    path.write_bytes(b"\n".join(lines))
    column = lines[2].index(b"\xe9") + 1
    with pytest.raises(DataError, match=rf"train\.jsonl, row 3: byte 0xe9 at column {column} "):
        load("files", train=str(path))


def test_a_line_separator_inside_a_json_string_stays_in_the_text(tmp_path):
    rows = [{"text": "first\u2028second", "labels": ["a"]}] * 10
    (tmp_path / "train.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    data, _ = load("files", str(tmp_path))
    assert data["train"][0]["text"] == "first\u2028second"


def test_a_label_given_twice_in_a_json_hierarchy_is_an_error(tmp_path):
    (tmp_path / "h.json").write_text('{"CS": null, "ML": "CS", "ML": "Bio", "Bio": null}')
    _write_jsonl(tmp_path / "train.jsonl", [{"text": "a text", "labels": ["ML"]}] * 10)
    with pytest.raises(DataError, match=r"h\.json: label 'ML' is given twice"):
        load("files", str(tmp_path), hierarchy=str(tmp_path / "h.json"))
