"""The helpers the data-set builders share (``scripts/_build_common.py``): split rule, row
serialisation, statistics, label paths, apt index reading and README parts, on small known
inputs."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import lzma
import math
import shlex
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.build_scripts import import_script

common = import_script("_build_common")

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------------- the split rule
def test_salted_split_is_the_documented_hash_and_deterministic():
    keys = [f"key-{i}" for i in range(2000)]
    for key in keys:
        digest = hashlib.sha256(f"salt/v1:{key}".encode()).digest()
        whole = int(digest.hex(), 16) % 100
        first8 = int.from_bytes(digest[:8], "big") % 100
        expected = ["train", "validation", "test"]
        assert common.salted_split(key, "salt/v1:") == expected[(whole >= 80) + (whole >= 90)]
        assert (
            common.salted_split(key, "salt/v1:", digest_bytes=8)
            == (expected[(first8 >= 80) + (first8 >= 90)])
        )
    assert [common.salted_split(k, "salt/v1:") for k in keys] == [
        common.salted_split(k, "salt/v1:") for k in reversed(keys)
    ][::-1]
    # another salt gives another assignment
    assert [common.salted_split(k, "a:") for k in keys] != [
        common.salted_split(k, "b:") for k in keys
    ]


@pytest.mark.parametrize("digest_bytes", [None, 8])
def test_salted_split_gives_the_bucket_fractions(digest_bytes):
    keys = [f"HP:{i:07d}" for i in range(20000)]
    shares = Counter(common.salted_split(k, "s:", digest_bytes=digest_bytes) for k in keys)
    assert abs(shares["train"] / len(keys) - 0.8) < 0.015
    assert abs(shares["validation"] / len(keys) - 0.1) < 0.01
    assert abs(shares["test"] / len(keys) - 0.1) < 0.01
    halves = Counter(common.salted_split(k, "s:", buckets=(50, 75)) for k in keys)
    assert abs(halves["train"] / len(keys) - 0.5) < 0.015
    assert abs(halves["validation"] / len(keys) - 0.25) < 0.015
    assert abs(halves["test"] / len(keys) - 0.25) < 0.015


@pytest.mark.parametrize(
    ("name", "digest_bytes"),
    [("hpo", None), ("icd10cm", None), ("appstream", None), ("pypi", None), ("debtags", 8)],
)
def test_split_rule_describes_the_packaged_data_sets_splits(name, digest_bytes):
    metadata = json.loads(
        (ROOT / "mlcl_text" / "data" / name / "metadata.json").read_text(encoding="utf-8")
    )
    salt = f"mlcl-text/{name}/v1:"
    assert common.split_rule(salt, digest_bytes=digest_bytes) == metadata["label_rule"]["split"]


# ---------------------------------------------------------------------- outputs
@dataclass
class _Row:
    id: str
    split: str
    labels: list[str]
    text: str


ROWS = [_Row("b", "train", ["X > Y"], "é\nzwei"), _Row("a", "test", ["X"], 'say "hi"')]


def test_row_json_is_compact_unescaped_with_sorted_or_field_ordered_keys():
    assert common.row_json(ROWS[0]) == (
        '{"id":"b","labels":["X > Y"],"split":"train","text":"é\\nzwei"}'
    )
    assert common.row_json(ROWS[0], sort_keys=False) == (
        '{"id":"b","split":"train","labels":["X > Y"],"text":"é\\nzwei"}'
    )
    assert common.row_json(common.Row("a", "test", ["X"], "t")) == (
        '{"id":"a","labels":["X"],"split":"test","text":"t"}'
    )


def test_write_jsonl_gz_is_byte_identical_across_writes(tmp_path, monkeypatch):
    first, second = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    common.write_jsonl_gz(ROWS, first)
    monkeypatch.setattr("time.time", lambda: 2_000_000_000.0)  # gzip would take its mtime here
    common.write_jsonl_gz(ROWS, second)
    data = first.read_bytes()
    assert data == second.read_bytes()
    assert data[3] == 0  # FLG: no file name
    assert data[4:8] == b"\0\0\0\0"  # MTIME 0
    lines = gzip.decompress(data).decode("utf-8").split("\n")
    assert lines == [common.row_json(row) for row in ROWS] + [""]
    common.write_jsonl_gz(ROWS, second, sort_keys=False)
    assert json.loads(gzip.decompress(second.read_bytes()).splitlines()[1]) == {
        "id": "a",
        "split": "test",
        "labels": ["X"],
        "text": 'say "hi"',
    }


def test_file_entry_metadata_and_readme(tmp_path):
    path = tmp_path / "x.jsonl.gz"
    path.write_bytes(b"abc")
    assert common.data_file_entry(path, "three bytes") == {
        "name": "x.jsonl.gz",
        "bytes": 3,
        "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "format": "three bytes",
    }
    assert common.sha256_file(path) == common.sha256_bytes(b"abc")
    common.write_metadata_and_readme(tmp_path, {"name": "ü", "n": [1]}, "# README\n")
    assert (tmp_path / "metadata.json").read_text(encoding="utf-8") == (
        '{\n  "name": "ü",\n  "n": [\n    1\n  ]\n}\n'
    )
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "# README\n"


def test_build_date_follows_source_date_epoch(monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")
    assert common.build_date() == "2000-01-01"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert len(common.build_date()) == 10


def test_rebuild_command_adds_out_only_when_not_the_default(tmp_path):
    default = tmp_path / "data"
    options = ["--lists=/var/lib/apt/lists", "--min-documents=20"]
    assert common.rebuild_command("python x.py", options, out=default, default_out=default) == (
        "python x.py --lists=/var/lib/apt/lists --min-documents=20"
    )
    other = tmp_path / "my out"
    assert common.rebuild_command("python x.py", options, out=other, default_out=default) == (
        f"python x.py --lists=/var/lib/apt/lists --min-documents=20 '--out={other}'"
    )
    assert options == ["--lists=/var/lib/apt/lists", "--min-documents=20"]  # not changed


# ---------------------------------------------------------------------- statistics
def test_percentile_is_nearest_rank():
    values = [40, 15, 50, 35, 20]  # unsorted on purpose
    assert [common.percentile(values, q) for q in (0, 5, 30, 40, 50, 100)] == [
        15,
        15,
        20,
        20,
        35,
        50,
    ]
    ten = list(range(1, 11))
    assert [common.percentile(ten, q) for q in (10, 50, 90)] == [1, 5, 9]
    assert common.percentile([], 50) == 0


def test_percentile_agrees_with_the_float_rank_formula_for_10_50_90():
    # The appstream and pypi builders computed the rank as ceil(q / 100 * n) in floating point;
    # for the percentiles the builders use that is the exact rank, at every size.
    for n in range(1, 2001):
        values = list(range(n))
        for q in (10, 50, 90):
            assert common.percentile(values, q) == math.ceil(q / 100 * n) - 1


def test_min_median_max_and_length_summary():
    assert common.min_median_max([10, 1, 3, 2]) == {"min": 1, "median": 2, "max": 10}
    assert common.min_median_max([10, 1, 3, 2], interpolate=True) == {
        "min": 1,
        "median": 2.5,
        "max": 10,
    }
    assert common.min_median_max([]) == {"min": 0, "median": 0, "max": 0}
    assert common.length_summary(list(range(1, 11))) == {
        "p10": 1,
        "median": 5,
        "p90": 9,
        "mean": 5.5,
    }
    assert common.length_summary([]) == {"p10": 0, "median": 0, "p90": 0, "mean": 0.0}


def test_split_counts_by_frequency_and_extremes():
    assert common.split_counts(["test", "train", "train"]) == {
        "train": 2,
        "validation": 0,
        "test": 1,
    }
    assert list(common.split_counts([])) == ["train", "validation", "test"]
    ranked = common.by_frequency(Counter({"b": 2, "a": 2, "c": 5, "d": 1}))
    assert list(ranked.items()) == [("c", 5), ("a", 2), ("b", 2), ("d", 1)]
    most, least = common.frequency_extremes(list(ranked.items()), 2)
    assert most == [["c", 5], ["a", 2]]
    assert least == [["d", 1], ["b", 2]]


def test_text_helpers():
    assert common.normalize_space("  a\n\tb   c \n") == "a b c"
    assert common.word_count(" one two\nthree ") == 3
    assert common.word_count("") == 0


# ---------------------------------------------------------------------- labels
def test_prefixes_and_most_specific_with_one_separator():
    assert common.prefixes("A > B > C") == ["A", "A > B", "A > B > C"]
    assert common.prefixes("A") == ["A"]
    labels = ["A > B", "A", "C", "A > B", "D > E"]
    assert common.most_specific(labels) == ["A > B", "C", "D > E"]
    assert common.closure(["A > B", "D > E"]) == ["A", "A > B", "D", "D > E"]


def test_prefixes_and_most_specific_with_several_separators():
    separators = ("::", ":")
    assert common.prefixes("devel::lang:python", separators) == [
        "devel",
        "devel::lang",
        "devel::lang:python",
    ]
    labels = ["devel::lang:python", "devel::lang", "devel", "use::editing"]
    assert common.most_specific(labels, separators) == ["devel::lang:python", "use::editing"]
    assert common.most_specific(labels) == sorted(labels)  # " > " splits none of them


def test_labels_by_depth_mean_per_depth_and_descendants():
    closed = [common.closure(labels) for labels in (["A > B"], ["A", "C"], ["C > D > E"])]
    frequency = Counter(label for labels in closed for label in labels)
    by_depth = common.labels_by_depth(frequency)
    assert {d: sorted(v) for d, v in by_depth.items()} == {
        1: ["A", "C"],
        2: ["A > B", "C > D"],
        3: ["C > D > E"],
    }
    assert common.mean_labels_per_depth(closed, sorted(by_depth)) == {
        "1": round(4 / 3, 3),  # A; A and C; C
        "2": round(2 / 3, 3),
        "3": round(1 / 3, 3),
    }
    assert common.descendant_count("C", frequency) == 2
    assert common.descendant_count("devel", ["devel::a", "devel::b:c", "develop"], "::") == 2


# ---------------------------------------------------------------------- apt indexes
INRELEASE = """-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

Origin: Debian
Codename: bookworm
Date: Sat, 01 Jan 2000 00:00:00 UTC
SHA256:
 0123 45 main/binary-amd64/Packages.xz
 abcd 6 main/i18n/Translation-en

-----BEGIN PGP SIGNATURE-----

xyz
-----END PGP SIGNATURE-----
"""


def test_parse_release_reads_the_signed_stanza():
    release = common.parse_release(INRELEASE)
    assert release["Codename"] == "bookworm"
    assert release["SHA256"] == (
        "\n 0123 45 main/binary-amd64/Packages.xz\n abcd 6 main/i18n/Translation-en"
    )
    assert common.release_summary(release) == {
        "Origin": "Debian",
        "Suite": "",
        "Codename": "bookworm",
        "Version": "",
        "Date": "Sat, 01 Jan 2000 00:00:00 UTC",
    }
    with pytest.raises(ValueError, match="no release stanza"):
        common.parse_release("\n\n", source="empty")


def test_parse_deb822_stanzas_and_errors():
    stanzas = common.parse_deb822("# comment\nA: 1\nB: x\n  y\n\n\nA: 2\n")
    assert stanzas == [{"A": "1", "B": "x\n  y"}, {"A": "2"}]
    with pytest.raises(ValueError, match="Packages:2: not a 'Field: value' line"):
        common.parse_deb822("A: 1\nbroken line\n", source="Packages")


def test_read_index_and_find_index(tmp_path):
    text = "Package: é\n"
    (tmp_path / "x_Packages").write_text(text, encoding="utf-8")
    (tmp_path / "y_Packages.gz").write_bytes(gzip.compress(text.encode()))
    (tmp_path / "z_Packages.xz").write_bytes(lzma.compress(text.encode()))
    for name in ("x_Packages", "y_Packages.gz", "z_Packages.xz"):
        assert common.read_index(tmp_path / name) == text
    found = common.find_index(tmp_path, "*_Packages*", update_command="apt-get update")
    assert found == tmp_path / "x_Packages"
    with pytest.raises(FileNotFoundError, match=r"run `apt-get update -o X=1` first"):
        common.find_index(tmp_path, "*_InRelease", update_command="apt-get update -o X=1")


# ---------------------------------------------------------------------- README parts
def test_markdown_table_file_list_and_listing():
    assert common.markdown_table(["a", "b"], [[1, "x"], ["`y`", 2.5]]) == (
        "| a | b |\n|---|---|\n| 1 | x |\n| `y` | 2.5 |"
    )
    assert common.file_list({"f.gz": {"sha256": "ab", "bytes": 12345}}) == (
        "  - `f.gz` (SHA-256 `ab`, 12,345 bytes)"
    )
    assert common.listing([["A", 3], ("B", 1)]) == "`A` (3), `B` (1)"
    assert common.listing({"A": 3}.items()) == "`A` (3)"
    assert common.listing([]) == "none"
    assert common.listing([], empty="") == ""


@pytest.mark.parametrize("name", ["appstream", "debtags", "hpo", "icd10cm", "pypi"])
def test_each_builder_gives_back_the_build_command_of_its_packaged_data(name):
    build = import_script(f"build_{name}")
    metadata = json.loads(
        (ROOT / "mlcl_text" / "data" / name / "metadata.json").read_text(encoding="utf-8")
    )
    command = metadata["build_command"]
    options = shlex.split(command.partition(f"python scripts/build_{name}.py")[2])
    args = argparse.Namespace(
        out=build.DEFAULT_OUT,
        **{key[2:].replace("-", "_"): value for key, value in (o.split("=", 1) for o in options)},
    )
    extra = {"default_obo": True} if name == "hpo" else {}
    assert build.build_command(args, **extra) == command
    assert "--out" not in command
