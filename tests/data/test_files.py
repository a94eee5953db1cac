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


# --- a hierarchy file beside the split files is used without being named ---


def _topic_folder(folder, labels=("ML", "DB")):
    folder.mkdir(exist_ok=True)
    for split in ("train", "validation", "test"):
        _write_jsonl(folder / f"{split}.jsonl", [{"text": f"t {x}", "labels": [x]} for x in labels])
    return folder


def test_a_hierarchy_json_beside_the_split_files_gives_the_tree(tmp_path):
    folder = _topic_folder(tmp_path / "data")
    (folder / "hierarchy.json").write_text(json.dumps({"CS": None, "ML": "CS", "DB": "CS"}))
    data, tree = load("files", str(folder))
    assert tree.num_levels == 2 and tree.parent("ML") == "CS"
    assert data["train"][0]["labels"] == ["CS", "ML"]
    # named explicitly, the same file gives the same tree
    _, named = load("files", str(folder), hierarchy=str(folder / "hierarchy.json"))
    assert named.names == tree.names
    # a lone training file finds the hierarchy beside it too
    (tmp_path / "lone").mkdir()
    _write_jsonl(tmp_path / "lone" / "train.jsonl", [{"text": "t", "labels": ["ML"]}] * 10)
    (tmp_path / "lone" / "hierarchy.tsv").write_text("CS\t\nML\tCS\n")
    _, lone = load("files", str(tmp_path / "lone" / "train.jsonl"))
    assert lone.parent("ML") == "CS"


def test_a_named_hierarchy_wins_over_the_one_beside_and_false_ignores_it(tmp_path):
    folder = _topic_folder(tmp_path / "data")
    (folder / "hierarchy.json").write_text(json.dumps({"CS": None, "ML": "CS", "DB": "CS"}))
    (tmp_path / "other.json").write_text(json.dumps({"AI": None, "ML": "AI", "DB": None}))
    _, tree = load("files", str(folder), hierarchy=str(tmp_path / "other.json"))
    assert tree.parent("ML") == "AI" and "CS" not in tree
    data, flat = load("files", str(folder), hierarchy=False)
    assert flat.num_levels == 1 and flat.names == ["DB", "ML"]
    assert data["train"][0]["labels"] == ["ML"]


def test_two_hierarchy_files_beside_the_split_files_are_an_error(tmp_path):
    folder = _topic_folder(tmp_path / "data")
    (folder / "hierarchy.json").write_text(json.dumps(["CS/ML"]))
    (folder / "hierarchy.tsv").write_text("CS/ML\n")
    with pytest.raises(DataError, match=r"several hierarchy files \(hierarchy\.json, hierarchy"):
        load("files", str(folder))
    _, tree = load("files", str(folder), hierarchy=False)  # or name one (here: none)
    assert tree.num_levels == 1
    with pytest.raises(DataError, match="hierarchy must be a file path or false, got True"):
        load("files", str(folder), hierarchy=True)


# --- a split file of a folder that holds the other splits ---


def test_one_split_file_of_a_folder_with_validation_and_test_files_is_an_error(tmp_path):
    folder = _topic_folder(tmp_path / "data")
    (folder / "validation.jsonl").rename(folder / "dev.jsonl")
    train = folder / "train.jsonl"
    with pytest.raises(DataError) as info:
        load("files", str(train))
    assert str(info.value) == (
        f"{train} is one split file of a folder that holds validation/test files "
        f"(dev.jsonl, test.jsonl): pass the folder {folder}"
    )
    # a split named explicitly is not a sibling left behind
    with pytest.raises(DataError, match=r"validation/test files \(dev\.jsonl\): pass the folder"):
        load("files", str(train), test=str(folder / "test.jsonl"))
    data, _ = load(
        "files", str(train), validation=str(folder / "dev.jsonl"), test=str(folder / "test.jsonl")
    )
    assert [len(data[s]) for s in ("train", "validation", "test")] == [2, 2, 2]


def test_a_lone_file_is_still_split(tmp_path):
    _write_jsonl(tmp_path / "train.jsonl", [{"text": f"t{i}", "labels": ["a"]} for i in range(20)])
    (tmp_path / "notes.jsonl").write_text("")  # not a split name
    data, _ = load("files", str(tmp_path / "train.jsonl"))
    assert [len(data[s]) for s in ("train", "validation", "test")] == [16, 2, 2]


# --- an empty label field ---


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("train.csv", "text,labels\nfine,a\nblank,\nfine too,b\n"),
        ("train.csv", "text,labels\nfine,a\nblank,  \nfine too,b\n"),
        ("train.csv", "text,labels\nfine,a\nno field\nfine too,b\n"),
        ("train.jsonl", '{"text": "fine", "labels": ["a"]}\n{"text": "x", "labels": ""}\n'),
        ("train.jsonl", '{"text": "fine", "labels": ["a"]}\n{"text": "x", "labels": null}\n'),
    ],
)
def test_an_empty_label_field_names_file_and_row(tmp_path, name, content):
    (tmp_path / name).write_text(content)
    row = 3 if name.endswith(".csv") else 2
    with pytest.raises(DataError, match=rf"{name}, row {row}: empty label field \(write \[\]"):
        load("files", str(tmp_path))


def test_an_explicit_empty_list_is_a_document_without_labels(tmp_path):
    (tmp_path / "train.csv").write_text("text,labels\nfine,a\nnone,[]\n")
    data, _ = load("files", str(tmp_path), holdout_fractions=(0.0, 0.0))
    assert data["train"]["labels"] == [["a"], []]
    _write_jsonl(
        tmp_path / "t.jsonl", [{"text": "x", "labels": ["a"]}, {"text": "y", "labels": []}]
    )
    data, _ = load("files", train=str(tmp_path / "t.jsonl"), holdout_fractions=(0.0, 0.0))
    assert data["train"]["labels"] == [["a"], []]


def test_skipping_counts_empty_label_fields(tmp_path, caplog):
    rows = "".join(f"text {i},{'a' if i % 3 else ''}\n" for i in range(12))
    (tmp_path / "train.csv").write_text("text,labels\n" + rows)
    with caplog.at_level(logging.WARNING):
        data, _ = load("files", str(tmp_path), on_error="skip", holdout_fractions=(0.0, 0.0))
    assert len(data["train"]) == 8
    assert "train.csv: skipped 4 rows (4 × empty labels)" in caplog.text


# --- labels joined by another separator than the label separator ---


@pytest.mark.parametrize("joined", ["A;B", "A|B", "A ; B"])
def test_labels_joined_by_another_separator_name_file_and_row(tmp_path, joined):
    (tmp_path / "train.csv").write_text(f'text,labels\none,A\ntwo,B\nthree,"{joined},C"\n')
    parts = [part.strip() for part in joined.replace("|", ";").split(";")]
    with pytest.raises(DataError) as info:
        load("files", str(tmp_path))
    assert str(info.value) == (
        f"{tmp_path / 'train.csv'}, row 4: label {joined!r} is the labels {parts[0]!r} and "
        f"{parts[1]!r} joined by {joined.strip('AB ')[0]!r} (the label separator is ',')"
    )


def test_a_joined_label_in_another_split_or_a_list_is_found(tmp_path):
    _write_jsonl(tmp_path / "train.jsonl", [{"text": "x", "labels": ["A"]}] * 4)
    _write_jsonl(tmp_path / "validation.jsonl", [{"text": "y", "labels": ["B"]}] * 2)
    _write_jsonl(tmp_path / "test.jsonl", [{"text": "z", "labels": ["A", "A,B"]}])
    with pytest.raises(
        DataError,
        match=r"test\.jsonl, row 1: label 'A,B' is the labels 'A' and 'B' joined by ',' "
        r"\(give them as separate items of the label list\)",
    ):
        load("files", str(tmp_path))


def test_a_label_holding_a_separator_whose_parts_are_not_all_labels_is_kept(tmp_path):
    (tmp_path / "train.csv").write_text(
        "text,labels\none,R&D\ntwo,Europe\nthree,R&D; Asia|Europe\nfour,A|B\n"
    )
    _, tree = load("files", str(tmp_path), holdout_fractions=(0.0, 0.0))
    assert "R&D; Asia|Europe" in tree and "A|B" in tree
    # a path separator is part of the label: "A|B" is B under A
    (tmp_path / "train.csv").write_text("text,labels\none,A\ntwo,A|B\n")
    _, tree = load("files", str(tmp_path), label_path_sep="|", holdout_fractions=(0.0, 0.0))
    assert tree.parent("A|B") == "A"


def test_a_joined_label_of_hierarchy_labels_is_named_as_joined(tmp_path, caplog):
    (tmp_path / "hierarchy.json").write_text(json.dumps({"CS": None, "ML": "CS", "DB": "CS"}))
    rows = "text,labels\n" + "fine,ML\n" * 9 + "joined,ML|DB\n"
    (tmp_path / "train.csv").write_text(rows)
    with pytest.raises(DataError, match=r"row 11: label 'ML\|DB' is the labels 'ML' and 'DB'"):
        load("files", str(tmp_path))
    with caplog.at_level(logging.WARNING):
        data, _ = load("files", str(tmp_path), on_error="skip")
    assert sum(len(data[s]) for s in data) == 9
    assert "skipped 1 rows (1 × labels joined by another separator)" in caplog.text


def test_skipping_drops_joined_labels_without_a_hierarchy(tmp_path, caplog):
    rows = "text,labels\n" + "".join(f"t{i},{'A' if i % 2 else 'B'}\n" for i in range(10))
    (tmp_path / "train.csv").write_text(rows + "joined,A;B\n")
    with caplog.at_level(logging.WARNING):
        data, tree = load("files", str(tmp_path), on_error="skip", holdout_fractions=(0.0, 0.0))
    assert len(data["train"]) == 10 and tree.names == ["A", "B"]
    assert "train.csv: skipped 1 rows (1 × labels joined by another separator)" in caplog.text
