"""A corpus of bad inputs through the CLI: each ends in one named error, and changes nothing.

Every case runs ``mlcl-text`` on a mistake a user makes and checks exit code 2, exactly one
``mlcl-text: error:`` line on stderr naming the culprit (file, row, key or label), no
traceback, and that an earlier finished run and the data files are byte for byte as before.
"""

from __future__ import annotations

import json

import pytest

from mlcl_text.cli.main import main
from tests.helpers.recipe_files import recipe

CASES = {
    # name: (recipe keys, extra CLI arguments, what the error must name)
    "a learning rate that is no number": ({"learning_rate": "fast"}, [], "learning_rate"),
    "a batch of zero": ({"per_device_train_batch_size": 0}, [], "per_device_train_batch_size"),
    "a head temperature of 0": (
        {"heads": [{"name": "top", "positives": "all", "level": 1, "temperature": 0}]},
        [],
        "head 'top': temperature must be > 0",
    ),
    "a model folder that does not exist": (
        {"model_name_or_path": "./no-such-model"},
        [],
        "'./no-such-model': no such folder",
    ),
    "an unknown key": ({"num_epochs": 3}, [], "unknown key 'num_epochs'"),
    "an empty data file": ({"dataset_path": "{bad}/empty"}, [], "train.jsonl: no rows"),
    "a byte that is not UTF-8": ({"dataset_path": "{bad}/latin1"}, [], "row 2: byte 0xe9"),
    "a label given twice in a hierarchy": (
        {"dataset_path": "{bad}/twice", "dataset_options": {"hierarchy": "{bad}/twice/h.json"}},
        [],
        "label 'ML' is given twice",
    ),
    "a one-document training split": ({"dataset_path": "{bad}/single"}, [], "holds 1 document"),
    "a label missing from the hierarchy": (
        {"dataset_path": "{bad}/unknown", "dataset_options": {"hierarchy": "{bad}/unknown/h.json"}},
        [],
        "unknown label 'Physics'",
    ),
    "a label missing from the hierarchy.json beside the data": (
        {"dataset_path": "{bad}/beside"},
        [],
        "beside/train.jsonl, row 2: unknown label 'Physics'",
    ),
    "one split file of a folder with validation/test files": (
        {"dataset_path": "{bad}/onesplit/train.jsonl"},
        [],
        "train.jsonl is one split file of a folder that holds validation/test files (test.jsonl)",
    ),
    "an empty label field": (
        {"dataset_path": "{bad}/nolabels"},
        [],
        "train.csv, row 3: empty label field",
    ),
    "labels joined by another separator": (
        {"dataset_path": "{bad}/joined"},
        [],
        "train.csv, row 4: label 'CS;Bio' is the labels 'CS' and 'Bio' joined by ';'",
    ),
    "a typo in dataset_options": (
        {"dataset_options": {"hierarchi": "{bad}/unknown/h.json"}},
        [],
        "unknown dataset_options key 'hierarchi' for data set 'files' (did you mean 'hierarchy'?)",
    ),
    "a head level deeper than the tree": (
        {"heads": [{"name": "deep", "positives": "all", "level": 3}]},
        [],
        "head 'deep': level 3, but the data's tree has 2 level(s)",
    ),
    "a head level of 0": (
        {"heads": [{"name": "zero", "positives": "all", "level": 0}]},
        [],
        "head 'zero': level is a tree depth >= 1",
    ),
    "a head on an unknown label": (
        {"heads": [{"name": "bio", "positives": "any", "labels": ["Physics"]}]},
        [],
        "head 'bio': unknown label 'Physics'",
    ),
    "a sampler level deeper than the tree": (
        {"batch_sampler": "labels", "samples_per_label": 2, "sampler_level": 4},
        [],
        "sampler_level 4 is not a level",
    ),
    "training into a finished run": ({"output_dir": "{earlier}"}, [], "already holds a run"),
    "resuming without a checkpoint": ({}, ["--resume"], "holds no checkpoint-* folder"),
    "a recipe file that does not exist": (
        None,
        ["{bad}/missing.yaml"],
        "missing.yaml does not exist",
    ),
    "a recipe with a YAML syntax error": (
        None,
        ["{bad}/broken.yaml"],
        "broken.yaml:3:14: not valid YAML: expected ',' or ']'",
    ),
}


@pytest.fixture
def setting(tmp_path, model_dir, data_dir):
    bad = tmp_path / "bad"
    files = {
        "empty/train.jsonl": b"",
        "latin1/train.jsonl": b'{"text": "fine", "labels": ["CS"]}\n{"text": "caf\xe9", "labels": ["CS"]}\n',
        "single/train.jsonl": b'{"text": "one", "labels": ["CS"]}\n',
        "twice/train.jsonl": b'{"text": "a", "labels": ["ML"]}\n' * 4,
        "twice/h.json": b'{"CS": null, "ML": "CS", "ML": "Bio", "Bio": null}',
        "unknown/train.jsonl": b'{"text": "a", "labels": ["ML"]}\n{"text": "b", "labels": ["Physics"]}\n',
        "unknown/h.json": b'{"CS": null, "ML": "CS"}',
        "beside/train.jsonl": b'{"text": "a", "labels": ["ML"]}\n{"text": "b", "labels": ["Physics"]}\n',
        "beside/hierarchy.json": b'{"CS": null, "ML": "CS"}',
        "onesplit/train.jsonl": b'{"text": "a", "labels": ["CS"]}\n' * 4,
        "onesplit/test.jsonl": b'{"text": "b", "labels": ["CS"]}\n',
        "nolabels/train.csv": b"text,labels\nfine,CS\nblank,\nfine too,Bio\n",
        "joined/train.csv": b"text,labels\na,CS\nb,Bio\nc,CS;Bio\n",
        "broken.yaml": b"model_name_or_path: m\nheads: [a, b\nlearning_rate: 1\n",
    }
    for name, content in files.items():
        (bad / name).parent.mkdir(parents=True, exist_ok=True)
        (bad / name).write_bytes(content)
    assert main(["train", str(recipe(tmp_path, model_dir, data_dir, "earlier"))]) == 0
    return {"bad": bad, "earlier": tmp_path / "earlier", "tmp": tmp_path}


def _snapshot(*folders) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for folder in folders for p in folder.rglob("*") if p.is_file()}


def _fill(value, setting):
    if isinstance(value, str):
        return value.format(bad=setting["bad"], earlier=setting["earlier"])
    if isinstance(value, dict):
        return {k: _fill(v, setting) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, setting) for v in value]
    return value


@pytest.mark.parametrize("case", list(CASES))
def test_each_bad_input_is_one_named_error_and_changes_nothing(
    case, setting, model_dir, data_dir, capsys
):
    keys, extra, culprit = (_fill(part, setting) for part in CASES[case])
    before = _snapshot(setting["earlier"], setting["bad"], data_dir)
    if keys is None:
        argv = ["train", *extra]
    else:
        path = recipe(setting["tmp"], model_dir, data_dir, "new", **keys)
        argv = ["train", str(path), *extra]
    capsys.readouterr()
    assert main(argv) == 2, case
    captured = capsys.readouterr()
    lines = [line for line in captured.err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("mlcl-text: error: "), captured.err
    assert culprit in lines[0], lines[0]
    assert "Traceback" not in captured.err + captured.out
    assert _snapshot(setting["earlier"], setting["bad"], data_dir) == before
    if keys is not None and "output_dir" not in keys:
        assert not (setting["tmp"] / "new").exists()  # nothing written for a failed run


def test_predict_and_evaluate_mistakes(setting, capsys):
    earlier = setting["earlier"]
    source = setting["bad"] / "docs.jsonl"
    source.write_text(json.dumps({"body": "no text column"}) + "\n")
    for argv, culprit in (
        (["predict", str(earlier), str(source)], "row 1: no column 'text'"),
        (["predict", str(earlier), str(source), "--output", "p.xlsx"], "write .jsonl or .csv"),
        (["predict", str(setting["bad"]), "-"], "no config.json"),
        (["evaluate", str(setting["bad"])], "no config.json"),
    ):
        capsys.readouterr()
        assert main(argv) == 2, argv
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1 and culprit in error, error
