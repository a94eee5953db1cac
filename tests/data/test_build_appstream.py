"""The packaged ``appstream`` data set matches its metadata, and the build script's DEP-11
parsing, text flattening, document rule, label rule and split rule work on a small synthetic
``Components-amd64.yml`` and ``InRelease`` pair."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers.build_scripts import import_script

ROOT = Path(__file__).resolve().parents[2]
#: The packaged data set, read from the source tree (importing mlcl_text.data is slow).
DATA_DIR = ROOT / "mlcl_text" / "data" / "appstream"


build = import_script("build_appstream")
common = import_script("_build_common")


def _bucket_split(component_id: str) -> str:
    """The split rule as the data set's documentation states it, written independently."""
    digest = hashlib.sha256(("mlcl-text/appstream/v1:" + component_id).encode()).hexdigest()
    bucket = int(digest, 16) % 100
    return "train" if bucket < 80 else "validation" if bucket < 90 else "test"


# ---------------------------------------------------------------------- the packaged data
@pytest.fixture(scope="module")
def metadata():
    return json.loads((DATA_DIR / "metadata.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def packaged():
    data = (DATA_DIR / "appstream.jsonl.gz").read_bytes()
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    return data, lines


def test_packaged_file_is_small_and_matches_its_metadata(packaged, metadata):
    data, lines = packaged
    assert 0 < len(data) <= 6 * 10**6
    assert metadata["file"]["bytes"] == len(data)
    assert metadata["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert data[3] == 0  # gzip FLG: no file name
    assert data[4:8] == b"\0\0\0\0"  # gzip MTIME 0
    assert len(lines) == metadata["statistics"]["documents"]
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert "Written by `scripts/build_appstream.py`: edit the script and rebuild" in readme
    assert metadata["file"]["sha256"] in readme
    assert metadata["source"]["release"]["Codename"] == "bookworm"
    index = metadata["source"]["files"]
    assert any(name.endswith("_main_dep11_Components-amd64.yml.gz") for name in index)


def test_packaged_rows_are_valid_and_splits_disjoint(packaged, metadata):
    _, lines = packaged
    rows = [json.loads(line) for line in lines]
    # keys sorted, compact separators: the builder's own serialisation
    assert lines == [common.row_json(build.Row(**row)) for row in rows]
    assert all(list(row) == ["id", "labels", "split", "text"] for row in rows)
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    minimum = metadata["label_rule"]["min_documents_per_label"]
    dropped = set(metadata["label_rule"]["dropped_categories"])
    frequency = Counter()
    by_split: dict[str, set[str]] = {"train": set(), "validation": set(), "test": set()}
    for row in rows:
        assert row["labels"] and row["labels"] == sorted(set(row["labels"]))
        for label in row["labels"]:
            assert build.CATEGORY_NAME.fullmatch(label) and " > " not in label
            assert label not in dropped and not label.startswith("X-")
        frequency.update(row["labels"])
        assert row["split"] == _bucket_split(row["id"])
        assert build.word_count(row["text"]) >= metadata["document_rule"]["min_words"]
        assert "<p>" not in row["text"] and "<li>" not in row["text"]
        by_split[row["split"]].add(row["id"])
    assert min(frequency.values()) >= minimum
    stats = metadata["statistics"]
    assert len(frequency) == stats["labels"]
    assert dict(frequency) == stats["label_frequencies"]
    for split, members in by_split.items():
        assert members, split
        assert len(members) == stats["splits"][split]
    assert not by_split["train"] & by_split["validation"]
    assert not by_split["train"] & by_split["test"]
    assert not by_split["validation"] & by_split["test"]
    assert len(by_split["train"]) > 4 * len(by_split["test"])


# ---------------------------------------------------------------------- the build script
ALPHA_DESCRIPTION = (
    "<p>\\n     Alpha is a puzzle game where you slide numbered tiles\\n     on a board until "
    "they merge.\\n    </p>\\n<ul>\\n  <li>Four &apos;board&apos; sizes</li>\\n  <li>An "
    "<em>undo</em> button</li>\\n</ul>"
)
ALPHA_TEXT = (
    "Alpha. Slide tiles\n"
    "Alpha is a puzzle game where you slide numbered tiles on a board until they merge.\n"
    "- Four 'board' sizes\n"
    "- An undo button"
)
LONG = (
    "<p>This description has more than enough words to pass the length rule of the builder, "
    "which wants twenty of them.</p>"
)

DEP11 = f"""\
---
File: DEP-11
Version: '0.16'
Origin: debian-testsuite-main
Time: 20000101T000000
---
Type: desktop-application
ID: org.example.Alpha
Package: alpha
Name:
  C: Alpha
  de: Alpha
Summary:
  C: Slide tiles
Description:
  C: "{ALPHA_DESCRIPTION}"
  de: >-
    <p>Ein Spiel.</p>
ProjectLicense: GPL-3.0+
Categories:
- Game
- LogicGame
- GTK
- X-Alpha
---
Type: addon
ID: org.example.AlphaPlugin
Package: alpha-plugin
Extends:
- org.example.Alpha
Name:
  C: Alpha plugin
Summary:
  C: Adds things
Description:
  C: {LONG}
Categories:
- Game
---
Type: desktop-application
ID: org.example.Alpha
Package: alpha-again
Name:
  C: Alpha again
Summary:
  C: The same id a second time
Description:
  C: {LONG}
Categories:
- Game
---
Type: console-application
ID: org.example.Beta
Package: beta
Name:
  C: Beta
Summary:
  C: A console tool without categories
Description:
  C: {LONG}
---
Type: console-application
ID: org.example.Gamma
Package: gamma
Name:
  C: Gamma
Summary:
  en: English summary only under en
Description:
  en: >-
    <p>Gamma is a console puzzle in which numbered   blocks
    fall &amp; stack;</p>

    <ol>
      <li>first level</li>
      <li>second level with more words in it</li>
    </ol>
  de: <p>Deutsch.</p>
Categories:
- Game
- ConsoleOnly
- ' LogicGame;'
---
Type: desktop-application
ID: 2048.desktop
Package: game-2048
Name:
  C: 2048
Summary:
  C: yes
Description:
  C: {LONG}
Categories:
- Game
- Education
---
Type: desktop-application
ID: org.example.Short
Package: short
Name:
  C: Short
Summary:
  C: Too short
Description:
  C: <p>Not enough words here.</p>
Categories:
- Game
---
Type: desktop-application
ID: org.example.German
Package: german
Name:
  C: German
Summary:
  C: Description only in German
Description:
  de: {LONG}
Categories:
- Game
---
Type: desktop-application
ID: org.example.Rare
Package: rare
Name:
  C: Rare
Summary:
  C: A science tool
Description:
  C: {LONG}
Categories:
- Science
- GTK
"""

INRELEASE_TEMPLATE = """\
-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA256

Origin: Debian
Label: Debian
Suite: oldstable
Version: 12.99
Codename: bookworm
Date: Sat, 01 Jan 2000 00:00:00 UTC
SHA256:
 {plain_sha} {plain_bytes:>8} main/dep11/Components-amd64.yml
 {gz_sha} {gz_bytes:>8} main/dep11/Components-amd64.yml.gz
-----BEGIN PGP SIGNATURE-----

iQIzBAEBCAAdFiEE
-----END PGP SIGNATURE-----
"""


def test_flatten_markup_gives_one_line_per_paragraph_and_item():
    assert (
        build.flatten_markup(ALPHA_DESCRIPTION.replace("\\n", "\n")) == ALPHA_TEXT.split("\n", 1)[1]
    )
    assert build.flatten_markup("<p>a &lt;b&gt; &quot;c&quot;</p><p> </p>plain  tail") == (
        'a <b> "c"\nplain tail'
    )
    assert build.flatten_markup("<ol><li>x</li><li><code>y</code> z</li></ol>") == "- x\n- y z"
    assert build.document_text(" Name ", "Sum\n mary", "<p>Body</p>") == "Name. Sum mary\nBody"


def test_parse_dep11_keeps_scalars_as_text_and_needs_a_header():
    header, components = build.parse_dep11(DEP11)
    assert header["File"] == "DEP-11" and header["Origin"] == "debian-testsuite-main"
    assert len(components) == 9
    number = next(c for c in components if c["ID"] == "2048.desktop")
    assert number["Name"] == {"C": "2048"}  # not the integer 2048
    assert number["Summary"] == {"C": "yes"}  # not the boolean True
    assert components[0]["Categories"] == ["Game", "LogicGame", "GTK", "X-Alpha"]
    assert build.english(components[4]["Description"]).startswith("<p>Gamma is")
    assert build.english({"de": "x"}) is None
    with pytest.raises(ValueError, match="not a DEP-11 stream"):
        build.parse_dep11("---\nType: desktop-application\nID: x\n")


def test_document_rule_selects_applications_and_skips_repeated_ids():
    _, components = build.parse_dep11(DEP11)
    documents, counts = build.collect_documents(components)
    assert [d.id for d in documents] == [
        "org.example.Alpha",
        "org.example.Gamma",
        "2048.desktop",
        "org.example.Short",
        "org.example.Rare",
    ]
    assert documents[0].package == "alpha"  # the first org.example.Alpha wins
    assert documents[0].text == ALPHA_TEXT
    assert documents[0].project_license == "GPL-3.0+"
    assert documents[0].metadata_license == build.ABSENT
    assert documents[1].text == (
        "Gamma. English summary only under en\n"
        "Gamma is a console puzzle in which numbered blocks fall & stack;\n"
        "- first level\n"
        "- second level with more words in it"
    )
    assert documents[2].text.startswith("2048. yes\nThis description")
    skipped = {k: v for k, v in counts.items() if k.startswith("skipped:")}
    assert skipped == {
        "skipped:not_an_application": 1,
        "skipped:repeated_id": 1,
        "skipped:console_application_without_categories": 1,
        "skipped:no_english_description": 1,
    }
    assert counts["type:desktop-application"] == 6


def test_label_rule_drops_platform_vendor_and_rare_categories():
    _, components = build.parse_dep11(DEP11)
    documents, _ = build.collect_documents(components)
    rows, stats = build.apply_label_rule(documents, min_documents=2)
    assert [(r.id, r.labels) for r in rows] == [
        ("2048.desktop", ["Game"]),  # Education: 1 document
        ("org.example.Alpha", ["Game", "LogicGame"]),  # GTK, X-Alpha dropped
        ("org.example.Gamma", ["Game", "LogicGame"]),  # " LogicGame;" split, stripped
    ]
    assert all(r.split == _bucket_split(r.id) for r in rows)
    assert rows[1].text == ALPHA_TEXT
    assert stats["dropped_short_text"] == 1  # org.example.Short
    assert stats["dropped_no_label"] == 1  # org.example.Rare: Science is rare, GTK dropped
    assert stats["dropped_categories"] == {"GTK": 2, "ConsoleOnly": 1}
    assert stats["vendor_categories"] == {"X-Alpha": 1}
    assert stats["malformed_categories"] == {}
    assert stats["rare_categories"] == {"Education": 1, "Science": 1}
    assert stats["category_values_split_at_semicolon"] == 1
    assert stats["rows"] == 3

    # a lower threshold keeps Education and Science, so Rare keeps a label
    rows, stats = build.apply_label_rule(documents, min_documents=1)
    assert [r.id for r in rows] == [
        "2048.desktop",
        "org.example.Alpha",
        "org.example.Gamma",
        "org.example.Rare",
    ]
    assert rows[0].labels == ["Education", "Game"] and rows[3].labels == ["Science"]
    assert "dropped_no_label" not in stats


def test_split_rule_matches_the_documented_formula_and_is_80_10_10():
    ids = [f"org.example.App{i}" for i in range(5000)]
    splits = [build.split_of(i) for i in ids]
    assert splits == [_bucket_split(i) for i in ids]
    shares = {s: splits.count(s) / len(ids) for s in ("train", "validation", "test")}
    assert abs(shares["train"] - 0.8) < 0.03
    assert abs(shares["validation"] - 0.1) < 0.02
    assert abs(shares["test"] - 0.1) < 0.02


OUTPUT_FILES = ("appstream.jsonl.gz", "metadata.json", "README.md")


def _write_lists(lists: Path) -> None:
    lists.mkdir()
    plain = DEP11.encode("utf-8")
    compressed = gzip.compress(plain, mtime=0)
    prefix = "deb.debian.org_debian_dists_bookworm_"
    (lists / f"{prefix}main_dep11_Components-amd64.yml.gz").write_bytes(compressed)
    (lists / f"{prefix}InRelease").write_text(
        INRELEASE_TEMPLATE.format(
            plain_sha=hashlib.sha256(plain).hexdigest(),
            plain_bytes=len(plain),
            gz_sha=hashlib.sha256(compressed).hexdigest(),
            gz_bytes=len(compressed),
        ),
        encoding="utf-8",
    )
    # another suite's index must not be picked up
    (lists / "deb.debian.org_debian_dists_bookworm-updates_InRelease").write_text("x")


def test_build_end_to_end_is_byte_identical(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")
    lists = tmp_path / "lists"
    _write_lists(lists)
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        options = ["--lists", str(lists), "--out", str(out), "--min-documents", "2"]
        assert build.main(options) == 0
        # the build command names the output folder; nothing else may differ
        outputs.append(
            [(out / name).read_bytes().replace(str(out).encode(), b"OUT") for name in OUTPUT_FILES]
        )
    capsys.readouterr()
    assert outputs[0] == outputs[1]
    assert b"--out=OUT" in outputs[0][2]
    data = outputs[0][0]
    assert data[3] == 0 and data[4:8] == b"\0\0\0\0"  # gzip: no file name, MTIME 0
    rows = [json.loads(line) for line in gzip.decompress(data).decode("utf-8").splitlines()]
    assert [row["id"] for row in rows] == ["2048.desktop", "org.example.Alpha", "org.example.Gamma"]
    assert rows[1] == {
        "id": "org.example.Alpha",
        "labels": ["Game", "LogicGame"],
        "split": _bucket_split("org.example.Alpha"),
        "text": ALPHA_TEXT,
    }
    meta = json.loads((tmp_path / "a" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["build_date"] == "2000-01-01"
    assert meta["file"] == {
        "name": "appstream.jsonl.gz",
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "format": meta["file"]["format"],
    }
    index = meta["source"]["files"][
        "deb.debian.org_debian_dists_bookworm_main_dep11_Components-amd64.yml.gz"
    ]
    assert index["matches_release_checksum"] and index["uncompressed_matches_release_checksum"]
    assert meta["source"]["release"]["Version"] == "12.99"
    assert meta["source"]["skipped"]["repeated_id"] == 1
    assert meta["statistics"]["labels"] == 2
    assert meta["statistics"]["documents_per_label"] == {"min": 2, "median": 2.5, "max": 3}
    assert meta["statistics"]["metadata_licenses"] == {build.ABSENT: 3}
    assert meta["label_rule"]["counts"]["rare_categories"] == {"Education": 1, "Science": 1}
    readme = (tmp_path / "a" / "README.md").read_text(encoding="utf-8")
    assert "Written by `scripts/build_appstream.py`: edit the script and rebuild" in readme
    assert "--min-documents=2" in readme and "12.99" in readme
    assert meta["file"]["sha256"] in readme


def test_missing_index_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="DEP-11"):
        build.main(["--lists", str(tmp_path), "--out", str(tmp_path / "out")])
