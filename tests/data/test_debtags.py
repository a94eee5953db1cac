"""The embedded debtags data set: the packaged file loads offline, and the build script's
parsing and label rule work on a small synthetic ``Packages`` + ``Translation-en`` pair."""

from __future__ import annotations

import gzip
import hashlib
import json
from importlib.resources import files

import numpy as np
import pytest

from mlcl_text.data import DataError, available, load
from mlcl_text.data.packaged import packaged_file
from tests.helpers.build_scripts import import_script

build = import_script("build_debtags")


@pytest.fixture(scope="module")
def debtags():
    return load("debtags")


@pytest.fixture(scope="module")
def metadata():
    text = (files("mlcl_text.data") / "debtags" / "metadata.json").read_text(encoding="utf-8")
    return json.loads(text)


# ---------------------------------------------------------------------- the packaged data
def test_packaged_file_is_small_and_matches_its_metadata(metadata):
    data = packaged_file("debtags").read_bytes()
    assert 0 < len(data) <= 10 * 2**20
    assert metadata["file"]["bytes"] == len(data)
    assert metadata["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert "debtags" in available()


def test_splits_are_non_empty_disjoint_and_as_built(debtags, metadata):
    dataset, _ = debtags
    assert list(dataset) == ["train", "validation", "test"]
    ids = {split: set(dataset[split]["id"]) for split in dataset}
    for split, members in ids.items():
        assert members, split
        assert len(members) == len(dataset[split])  # no id twice within a split
        assert len(dataset[split]) == metadata["statistics"]["splits"][split]
        assert dataset[split].column_names == ["text", "labels", "id"]
        assert all(build.split_of(name) == split for name in list(members)[:500])
    assert not ids["train"] & ids["validation"]
    assert not ids["train"] & ids["test"]
    assert not ids["validation"] & ids["test"]
    assert len(dataset["train"]) > 4 * len(dataset["test"])


def test_labels_are_tree_nodes_closed_under_ancestors(debtags, metadata):
    dataset, tree = debtags
    minimum = metadata["label_rule"]["min_documents_per_label"]
    counts = np.zeros(len(tree))
    for split in dataset:
        labels = dataset[split]["labels"]
        assert all(labels), f"a {split} document without labels"
        multi_hot = tree.encode(labels)  # raises on a label outside the tree
        assert tree.is_consistent(multi_hot)
        counts += multi_hot.sum(axis=0)
    assert counts.min() >= minimum  # the label rule's minimum, with descendants counted
    dropped = set(metadata["label_rule"]["dropped_facets"])
    assert not dropped & set(tree.roots)


def test_tree_is_facet_tag_subtag(debtags):
    _, tree = debtags
    assert tree.num_levels == 3
    assert tree.parent("devel::lang:python") == "devel::lang"
    assert tree.ancestors("devel::lang:python") == ["devel", "devel::lang"]
    for name, depth in zip(tree.names, tree.depths, strict=True):
        assert depth == len(build.prefixes(name, build.SEPARATORS))
        assert ("::" in name) == (depth > 1)
    assert all("::" not in root for root in tree.roots)


def test_max_train_subsamples_deterministically(debtags):
    full, _ = debtags
    small, tree = load("debtags", max_train=50, seed=3)
    again, _ = load("debtags", max_train=50, seed=3)
    other, _ = load("debtags", max_train=50, seed=4)
    assert len(small["train"]) == 50
    assert small["train"]["id"] == again["train"]["id"]
    assert small["train"]["id"] != other["train"]["id"]
    assert set(small["train"]["id"]) <= set(full["train"]["id"])
    assert small["test"]["id"] == full["test"]["id"]
    assert len(tree) == len(debtags[1])
    everything, _ = load("debtags", max_train=10**9)
    assert len(everything["train"]) == len(full["train"])
    with pytest.raises(ValueError, match="max_train"):
        load("debtags", max_train=-1)


# ---------------------------------------------------------------------- the build script
PACKAGES = """\
Package: alpha
Version: 1.0-1
Architecture: amd64
Description: Alpha text editor
Description-md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
Tag: devel::lang:python, role::program, use::editing,
 works-with::text
Section: editors
Priority: optional

Package: beta
Version: 2.0
Description: Beta editing library for Python
Description-md5: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
Tag: devel::TODO, devel::lang:python, implemented-in::python, suite::TODO,
 use::editing
Section: python

Package: gamma
Description: Gamma short only
Description-md5: 11111111111111111111111111111111
Tag: use::editing
Section: editors

Package: gamma2
Description: Gamma two tool
 Fallback long description from the Packages file itself.
Description-md5: 22222222222222222222222222222222
Tag: use::editing
Section: editors

Package: delta
Description: Delta has no debtags at all
Description-md5: dddddddddddddddddddddddddddddddd
Section: misc

Package: epsilon
Description: transitional package
Description-md5: eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
Tag: role::dummy, use::editing
Section: oldlibs

Package: eta
Description: Alpha text editor
Description-md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
Tag: game::toys, use::editing
Section: editors

Package: iota
Description: Iota shared library
Description-md5: 99999999999999999999999999999999
Tag: role::shared-lib
Section: libs

Package: kappa
Description: Kappa Perl module for editing
Description-md5: kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
Tag: devel::lang:perl, use::editing
Section: perl

Package: zeta
Description: Zeta CD editor
Description-md5: zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz
Tag: hardware::storage:cd, use::editing
Section: otherosfs
"""

TRANSLATION = """\
Package: alpha
Description-md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
Description-en: Alpha text editor
 Alpha edits plain text files with Python macros.<SPACES>
 .
 Features:
   * syntax highlighting
 .
 .
 This package contains the program.

Package: beta
Description-md5: bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb
Description-en: Beta editing library for Python
 Beta lets Python programs edit text buffers.

Package: delta
Description-md5: dddddddddddddddddddddddddddddddd
Description-en: Delta has no debtags at all
 It is skipped before its description matters.

Package: epsilon
Description-md5: eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee
Description-en: transitional package
 This is a transitional package. It can safely be removed.

Package: iota
Description-md5: 99999999999999999999999999999999
Description-en: Iota shared library
 This package contains the shared library of Iota, nothing else.

Package: kappa
Description-md5: kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk
Description-en: Kappa Perl module for editing
 Kappa::Edit edits files from Perl scripts.

Package: zeta
Description-md5: zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz
Description-en: Zeta CD editor
 Zeta edits the table of contents of compact discs.

Package: unrelated
Description-md5: ffffffffffffffffffffffffffffffff
Description-en: A translation without a package
 Ignored.
"""

INRELEASE = """\
-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

Origin: Debian
Label: Debian
Suite: oldstable
Version: 12.99
Codename: bookworm
Date: Sat, 01 Jan 2000 00:00:00 UTC
Description: a synthetic release
MD5Sum:
 0ed6d4c8891eb86358b94bb35d9e4da4  1484322 main/binary-amd64/Packages
-----BEGIN PGP SIGNATURE-----

abc
-----END PGP SIGNATURE-----
"""

TRANSLATION = TRANSLATION.replace("<SPACES>", "   \t")  # trailing white space, stripped

ALPHA_TEXT = (
    "Alpha text editor\n"
    "Alpha edits plain text files with Python macros.\n"
    "\n"
    "Features:\n"
    "  * syntax highlighting\n"
    "\n"
    "This package contains the program."
)
EXPECTED = [
    ("alpha", "train", ["devel::lang:python", "use::editing"], ALPHA_TEXT),
    (
        "beta",
        "train",
        ["devel::lang:python", "use::editing"],
        "Beta editing library for Python\nBeta lets Python programs edit text buffers.",
    ),
    (
        "gamma2",
        "train",
        ["use::editing"],
        "Gamma two tool\nFallback long description from the Packages file itself.",
    ),
    (
        "kappa",
        "validation",
        ["devel::lang", "use::editing"],
        "Kappa Perl module for editing\nKappa::Edit edits files from Perl scripts.",
    ),
    (
        "zeta",
        "test",
        ["use::editing"],
        "Zeta CD editor\nZeta edits the table of contents of compact discs.",
    ),
]


def test_parse_deb822_keeps_continuation_lines_and_stanzas():
    stanzas = build.parse_deb822(PACKAGES, source="Packages")
    assert [s["Package"] for s in stanzas] == [
        "alpha", "beta", "gamma", "gamma2", "delta", "epsilon", "eta", "iota", "kappa", "zeta",
    ]  # fmt: skip
    assert build.parse_tags(stanzas[0]["Tag"]) == [
        "devel::lang:python",
        "role::program",
        "use::editing",
        "works-with::text",
    ]
    assert "Tag" not in stanzas[4]
    translation = build.parse_deb822(TRANSLATION.replace("\n", "\r\n"), source="Translation-en")
    assert build.description_text(translation[0]["Description-en"]) == ALPHA_TEXT
    with pytest.raises(ValueError, match=r"Packages:2: not a 'Field: value' line"):
        build.parse_deb822("Package: x\nbroken line\n", source="Packages")
    with pytest.raises(ValueError, match="continuation line outside a field"):
        build.parse_deb822(" leading continuation\n")
    release = build.parse_release(INRELEASE)
    assert (release["Codename"], release["Version"]) == ("bookworm", "12.99")
    assert release["Date"] == "Sat, 01 Jan 2000 00:00:00 UTC"


def test_join_and_label_rule_give_the_expected_rows():
    packages, skipped = build.join_indexes(
        build.parse_deb822(PACKAGES), build.parse_deb822(TRANSLATION)
    )
    assert skipped == {"no Tag field": 1}
    by_name = {p.name: p for p in packages}
    assert not by_name["gamma"].translated and by_name["gamma"].text == "Gamma short only"
    assert by_name["alpha"].translated and by_name["eta"].text == ALPHA_TEXT

    rows, stats = build.apply_label_rule(packages, min_documents=2, min_text_chars=40)
    assert [(r.id, r.split, r.labels, r.text) for r in rows] == EXPECTED
    assert rows[0].section == "editors"
    assert {k: v for k, v in stats.items() if k != "most_truncated_tags"} == {
        "dropped_dummy_or_transitional": 1,  # epsilon
        "dropped_no_label": 1,  # iota: only role::shared-lib
        "dropped_short_text": 1,  # gamma: no translation, short description only
        "dropped_tag_facet": 4,  # role::program, implemented-in::python, suite::TODO, role::…
        "dropped_tag_placeholder": 1,  # devel::TODO
        "dropped_tag_rare": 3,  # works-with::text, game::toys, hardware::storage:cd
        "joined_packages": 9,
        "merged_duplicate_texts": 1,  # eta into alpha
        "rows": 5,
        "truncated_tag_rare": 1,  # devel::lang:perl → devel::lang
    }
    assert stats["most_truncated_tags"] == [["devel::lang:perl", "devel::lang", 1]]


def test_split_rule_is_stable_and_roughly_80_10_10():
    names = [f"package-{i}" for i in range(5000)]
    splits = [build.split_of(name) for name in names]
    assert splits == [build.split_of(name) for name in reversed(names)][::-1]
    shares = {s: splits.count(s) / len(names) for s in ("train", "validation", "test")}
    assert abs(shares["train"] - 0.8) < 0.03
    assert abs(shares["validation"] - 0.1) < 0.02


def test_build_end_to_end_is_deterministic_and_loads(tmp_path, capsys):
    lists = tmp_path / "lists"
    lists.mkdir()
    prefix = "deb.debian.org_debian_dists_bookworm_"
    (lists / f"{prefix}InRelease").write_text(INRELEASE, encoding="utf-8")
    (lists / f"{prefix}main_binary-amd64_Packages").write_text(PACKAGES, encoding="utf-8")
    (lists / f"{prefix}main_i18n_Translation-en.gz").write_bytes(
        gzip.compress(TRANSLATION.encode("utf-8"))
    )
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        options = ["--lists", str(lists), "--out", str(out), "--min-documents", "2"]
        assert build.main([*options, "--min-text-chars", "40"]) == 0
        outputs.append((out / "debtags.jsonl.gz").read_bytes())
    capsys.readouterr()
    assert outputs[0] == outputs[1]
    meta = json.loads((tmp_path / "a" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["source"]["release"]["Version"] == "12.99"
    assert meta["statistics"]["splits"] == {"train": 3, "validation": 1, "test": 1}
    assert meta["statistics"]["labels_per_level"] == {"1": 2, "2": 2, "3": 1}
    readme = (tmp_path / "a" / "README.md").read_text(encoding="utf-8")
    assert "--min-documents=2" in readme and "12.99" in readme

    for path in (tmp_path / "a", tmp_path / "a" / "debtags.jsonl.gz"):
        dataset, tree = load("debtags", str(path))
        assert dataset["validation"]["labels"] == [["devel", "devel::lang", "use", "use::editing"]]
        assert dataset["train"]["id"] == ["alpha", "beta", "gamma2"]
        assert dataset["train"]["text"][0] == ALPHA_TEXT
        assert sorted(tree.names) == sorted(
            ["devel", "devel::lang", "devel::lang:python", "use", "use::editing"]
        )


def test_bad_rebuilt_file_raises_data_error(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"id": "x", "split": "dev", "labels": ["a::b"], "text": "t"}))
    with pytest.raises(DataError, match=r"bad.jsonl:1: split must be one of"):
        load("debtags", str(path))
    with pytest.raises(FileNotFoundError):
        load("debtags", str(tmp_path / "missing.jsonl.gz"))
