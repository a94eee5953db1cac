"""The ``icd10cm`` build script on a tiny synthetic code table (text and label derivation,
the label rule, the cap, the split rule, byte-identical output), and the packaged
``icd10cm.jsonl.gz`` against its ``metadata.json``. Needs neither the network nor the
``simple_icd_10_cm`` package."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from mlcl_text.hierarchy import LabelTree
from tests.helpers.build_scripts import import_script

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ROOT / "mlcl_text" / "data" / "icd10cm"


build = import_script("build_icd10cm")
common = import_script("_build_common")
Code = build.Code

ALPHA = "Alpha diseases (A00-A19)"
FEVERS = "Alpha fevers (A00-A09)"
PAINS = "Alpha pains (A10-A19)"
BETA = "Beta disorders (B00-B09)"
FEVER_PATH = "Alpha diseases > Alpha fevers (A00-A09)"

CODES = [
    Code("A00", "Alpha fever", ALPHA, FEVERS),  # a category: not a document
    Code(
        "A00.0",
        "Alpha fever  due to X",
        ALPHA,
        FEVERS,
        (
            "Classical alpha fever",
            "Conditions classifiable to A01-A02",  # a cross-reference: dropped
            "classical  ALPHA fever",  # a repeat: dropped
        ),
    ),
    Code("A00.0XA", "Alpha fever due to X, initial encounter", ALPHA, FEVERS, extension=True),
    Code("A00.1", "Alpha fever, other", ALPHA, FEVERS, ("Any condition in I00 with fever",)),
    Code("A00.9", "Alpha fever, unspecified", ALPHA, FEVERS, ("Alpha fever, unspecified",)),
    Code("A00.90", "Alpha fever, unspecified", ALPHA, FEVERS),  # merged into A00.9
    Code("A10.0", "Alpha pain of head", ALPHA, PAINS, ("Vitamin B12 headache",)),
    Code("A10.1", "Alpha pain of foot", ALPHA, PAINS),
    Code("A10.2", "Unspecified pain", ALPHA, PAINS),  # same text as B00.2: both dropped
    Code("B00.0", "Beta disorder", BETA, BETA),
    Code("B00.1", "Beta disorder of the knee", BETA, BETA),
    Code("B00.2", "Unspecified pain", BETA, BETA),
]

EXPECTED_ROWS = [
    ("A00.0", "train", [FEVER_PATH], "Alpha fever due to X\nIncludes: Classical alpha fever"),
    ("A00.1", "train", [FEVER_PATH], "Alpha fever, other"),
    ("A00.9", "train", [FEVER_PATH], "Alpha fever, unspecified"),
    ("A10.0", "train", ["Alpha diseases"], "Alpha pain of head\nIncludes: Vitamin B12 headache"),
    ("A10.1", "test", ["Alpha diseases"], "Alpha pain of foot"),
]

SOURCE = {
    "package": "simple-icd-10-cm",
    "package_version": "0.0-test",
    "package_home": "https://example.invalid/simple_icd_10_cm",
    "package_licence": "MIT License",
    "package_copyright": "Copyright (c) test",
    "icd10cm_release_year": "2099",
    "icd10cm_release": "April 1, 2099",
    "files": {"codes.txt": {"sha256": "0" * 64, "bytes": 1}},
}


def reference_split(code: str) -> str:
    """The split rule as the data set's brief states it, written independently."""
    digest = hashlib.sha256(("mlcl-text/icd10cm/v1:" + code).encode()).hexdigest()
    bucket = int(digest, 16) % 100
    return "train" if bucket < 80 else "validation" if bucket < 90 else "test"


def closed_counts(rows) -> Counter:
    return Counter(p for row in rows for label in row.labels for p in common.prefixes(label))


# ---------------------------------------------------------------------- text and labels
def test_documents_text_and_their_counts():
    documents, stats = build.select_documents(CODES)
    assert [(d.id, d.chapter, d.block, d.text) for d in documents] == [
        (
            "A00.0",
            "Alpha diseases",
            FEVERS,
            "Alpha fever due to X\nIncludes: Classical alpha fever",
        ),
        ("A00.1", "Alpha diseases", FEVERS, "Alpha fever, other"),
        ("A00.9", "Alpha diseases", FEVERS, "Alpha fever, unspecified"),
        ("A10.0", "Alpha diseases", PAINS, "Alpha pain of head\nIncludes: Vitamin B12 headache"),
        ("A10.1", "Alpha diseases", PAINS, "Alpha pain of foot"),
        ("B00.0", "Beta disorders", BETA, "Beta disorder"),
        ("B00.1", "Beta disorders", BETA, "Beta disorder of the knee"),
    ]
    assert stats == {
        "codes_read": 12,
        "documents": 7,
        "documents_with_inclusion_terms": 2,
        "dropped_same_text_other_block": 2,  # A10.2, B00.2
        "dropped_term_cross_reference": 2,  # "classifiable to A01-A02", "in I00"
        "dropped_term_repeated": 2,  # a case variant; a term equal to the description
        "kept_terms": 2,
        "merged_duplicate_texts": 1,  # A00.90 into A00.9
        "skipped_7th_character_extension": 1,
        "skipped_category": 1,
    }
    # input order does not matter
    assert build.select_documents(CODES[::-1])[0] == documents


def test_cross_references_are_code_citations_only():
    for term in (
        "Conditions classifiable to C15-C26",
        "Any condition in I00 with pericarditis",
        "Any condition listed under K45 specified as gangrenous",
        "Rheumatic chorea with heart involvement of any type classifiable under I01.-",
        "Perineal laceration during delivery as in O70.0, also involving pelvic floor",
        "Conditions classifiable to C7A.022-C7A.025, C7A.029",
        "Conditions classifiable to C4A",
    ):
        assert build.is_cross_reference(term), term
    for term in (
        "Vitamin B12 deficiency",
        "G6PD deficiency anemia",
        "Influenza A/H5N1",
        "E. coli O157 with confirmation of Shiga toxin",
        "Anoctamin-5-related LGMD R12",
    ):
        assert not build.is_cross_reference(term), term
    # it would match a description such as this one, which is why descriptions are not filtered
    assert build.is_cross_reference("Fracture of T11-T12 vertebra")


def test_a_text_spelling_its_own_code_fails_loudly():
    for description in ("See A00.5 for details", "Alpha fever A005"):
        with pytest.raises(ValueError, match=r"A00\.5: its text spells its own code"):
            build.select_documents([Code("A00.5", description, ALPHA, FEVERS)])
    documents, _ = build.select_documents([Code("A00.5", "Unlike A00.50", ALPHA, FEVERS)])
    assert len(documents) == 1


def test_label_names():
    assert build.chapter_name("Certain infectious and parasitic diseases (A00-B99)") == (
        "Certain infectious and parasitic diseases"
    )
    assert build.chapter_name("Congenital malformations (Q00-QA0)") == "Congenital malformations"
    assert build.chapter_name("Pregnancy, childbirth and the puerperium (O00-O9A)") == (
        "Pregnancy, childbirth and the puerperium"
    )
    assert build.block_name("Intestinal infectious diseases  (A00-A09)") == (
        "Intestinal infectious diseases (A00-A09)"
    )
    with pytest.raises(ValueError, match="contains the label separator"):
        build.select_documents([Code("A00.1", "Fever", ALPHA, "Odd > block (A00-A09)")])
    with pytest.raises(ValueError, match="contains the label separator"):
        build.select_documents([Code("A00.1", "Fever", "Odd > chapter (A00-B99)", FEVERS)])
    with pytest.raises(ValueError, match="empty block name"):
        build.select_documents([Code("A00.1", "Fever", ALPHA, "  ")])


# ---------------------------------------------------------------------- the label rule
def test_label_rule_truncates_rare_blocks_and_drops_rare_chapters():
    documents, _ = build.select_documents(CODES)
    rows, stats = build.apply_label_rule(documents, min_documents=3)
    assert [(r.id, r.split, r.labels, r.text) for r in rows] == EXPECTED_ROWS
    assert stats == {
        "chapters": 2,
        "blocks": 3,
        "documents": 7,
        "dropped_chapters": [["Beta disorders", 2]],
        "dropped_chapter_documents": 2,
        "truncated_blocks": [["Alpha diseases > Alpha pains (A10-A19)", 2]],
        "truncated_block_documents": 2,
        "capped_labels": [],
        "capped_documents_removed": 0,
        "rows": 5,
    }
    assert min(closed_counts(rows).values()) >= 3
    # one document fewer in the block: it is truncated too
    rows, stats = build.apply_label_rule(documents, min_documents=4)
    assert {tuple(r.labels) for r in rows} == {("Alpha diseases",)}
    assert stats["truncated_block_documents"] == 5
    # with min_documents=2 nothing is truncated or dropped
    rows, stats = build.apply_label_rule(documents, min_documents=2)
    assert len(rows) == 7 and not stats["truncated_blocks"] and not stats["dropped_chapters"]
    assert all(len(r.labels) == 1 and build.LABEL_SEP in r.labels[0] for r in rows)


def test_cap_keeps_the_smallest_hashes_per_label():
    big = [
        build.Document(f"A0{i // 10}.{i % 10}", "Alpha", FEVERS, f"Fever {i}") for i in range(30)
    ]
    small = [build.Document(f"A1{i}.0", "Alpha", PAINS, f"Pain {i}") for i in range(5)]

    def order(code: str) -> str:
        return hashlib.sha256(("mlcl-text/icd10cm/v1/cap:" + code).encode()).hexdigest()

    rows, stats = build.apply_label_rule(big + small, min_documents=3, max_per_block=8)
    kept = sorted(r.id for r in rows if r.labels == [f"Alpha > {FEVERS}"])
    assert kept == sorted(sorted((d.id for d in big), key=order)[:8])
    assert sorted(r.id for r in rows if r.labels == [f"Alpha > {PAINS}"]) == [d.id for d in small]
    assert stats["capped_labels"] == [[f"Alpha > {FEVERS}", 30]]
    assert stats["capped_documents_removed"] == 22 and stats["rows"] == 13
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    uncapped, _ = build.apply_label_rule(big + small, min_documents=3, max_per_block=0)
    assert len(uncapped) == 35
    with pytest.raises(ValueError, match="max_per_block must be 0"):
        build.apply_label_rule(big, min_documents=10, max_per_block=5)


def test_split_rule_follows_the_stated_formula():
    codes = [f"{letter}{i:02d}.{j}" for letter in "AKSZ" for i in range(100) for j in range(4)]
    splits = [build.split_of(code) for code in codes]
    assert splits == [reference_split(code) for code in codes]
    shares = Counter(splits)
    assert abs(shares["train"] / len(codes) - 0.8) < 0.03
    assert abs(shares["validation"] / len(codes) - 0.1) < 0.02
    assert {c: build.split_of(c) for c in ("A10.1", "C44.1192", "S52.521", "Z99.89")} == {
        "A10.1": "test",
        "C44.1192": "validation",
        "S52.521": "test",
        "Z99.89": "train",
    }


# ---------------------------------------------------------------------- outputs
def _args(out: Path, **options) -> argparse.Namespace:
    return build.parse_args(["--out", str(out), *(f"--{k}={v}" for k, v in options.items())])


def test_build_is_byte_identical_and_documented(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    outputs, metas = [], []
    for run, codes in (("a", CODES), ("b", CODES[::-1])):
        metas.append(build.build(codes, SOURCE, _args(tmp_path / run, **{"min-documents": 3})))
        outputs.append(
            [(tmp_path / run / f).read_bytes() for f in ("icd10cm.jsonl.gz", "metadata.json")]
        )
    assert outputs[0][0] == outputs[1][0]
    data, meta = outputs[0][0], metas[0]
    assert data[:2] == b"\x1f\x8b" and data[3] == 0 and data[4:8] == b"\0\0\0\0"  # no name, mtime 0
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [(r["id"], r["split"], r["labels"], r["text"]) for r in records] == EXPECTED_ROWS
    assert all(list(r) == ["id", "labels", "split", "text"] for r in records)
    assert lines == [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records]

    assert meta["build_date"] == "2026-01-01"
    assert meta["file"]["bytes"] == len(data)
    assert meta["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert meta["source"]["icd10cm_release_year"] == "2099"
    assert meta["label_rule"]["min_documents"] == 3 and meta["label_rule"]["max_per_block"] == 0
    assert meta["statistics"]["splits"] == {"train": 4, "validation": 0, "test": 1}
    assert meta["statistics"]["labels_per_depth"] == {"1": 1, "2": 1}
    assert meta["statistics"]["documents_per_label"] == {"min": 3, "median": 3, "max": 5}
    assert meta["statistics"]["words_per_text"]["median"] == 4
    on_disk = json.loads((tmp_path / "a" / "metadata.json").read_text(encoding="utf-8"))
    assert on_disk == meta

    readme = (tmp_path / "a" / "README.md").read_text(encoding="utf-8")
    assert readme == build.render_readme(meta)
    assert "Written by scripts/build_icd10cm.py: edit the script and rebuild, not this file." in (
        readme
    )
    assert "--min-documents=3 --max-per-block=0" in readme and meta["file"]["sha256"] in readme
    assert "`Beta disorders` (2)" in readme


# ---------------------------------------------------------------------- the packaged data
@pytest.fixture(scope="module")
def metadata():
    return json.loads((PACKAGED / "metadata.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def packaged_rows():
    data = (PACKAGED / "icd10cm.jsonl.gz").read_bytes()
    return data, gzip.decompress(data).decode("utf-8").splitlines()


def test_packaged_file_matches_its_metadata(metadata, packaged_rows):
    data, _ = packaged_rows
    assert 0 < len(data) <= 6 * 10**6
    assert metadata["file"]["bytes"] == len(data)
    assert metadata["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    readme = (PACKAGED / "README.md").read_text(encoding="utf-8")
    assert readme == build.render_readme(metadata)
    assert metadata["source"]["package_version"] == build.PACKAGE_VERSION
    assert metadata["source"]["files"]  # the data files read, with SHA-256 and bytes
    assert all(
        len(f["sha256"]) == 64 and f["bytes"] > 0 for f in metadata["source"]["files"].values()
    )


def test_packaged_rows_are_valid_and_splits_disjoint(metadata, packaged_rows):
    _, lines = packaged_rows
    rows = [json.loads(line) for line in lines]
    assert all(list(r) == ["id", "labels", "split", "text"] for r in rows)  # keys sorted
    assert lines[::10] == [common.row_json(build.Row(**r)) for r in rows[::10]]  # canonical
    ids = [r["id"] for r in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    by_split: dict[str, set[str]] = {"train": set(), "validation": set(), "test": set()}
    for r in rows:
        assert r["split"] == reference_split(r["id"])
        by_split[r["split"]].add(r["id"])
        assert build.code_chars(r["id"]) >= 4
        assert len(r["labels"]) == 1
        parts = r["labels"][0].split(" > ")
        assert 1 <= len(parts) <= 2 and all(p.strip() == p and p for p in parts)
        assert not parts[0].endswith(")")  # the chapter without its range
        assert r["text"].strip() and not build.mentions_code(r["text"], r["id"])
    assert all(by_split.values())
    assert not by_split["train"] & by_split["validation"]
    assert not by_split["train"] & by_split["test"]
    assert not by_split["validation"] & by_split["test"]
    stats = metadata["statistics"]
    assert {s: len(members) for s, members in by_split.items()} == stats["splits"]
    counts = Counter(p for r in rows for p in common.prefixes(r["labels"][0]))
    assert min(counts.values()) >= metadata["label_rule"]["min_documents"]
    depths = Counter(len(common.prefixes(label)) for label in counts)
    assert {str(d): n for d, n in depths.items()} == stats["labels_per_depth"]
    assert stats["documents"] == len(rows) == metadata["label_rule"]["counts"]["rows"]
    tree = LabelTree.from_paths(sorted({r["labels"][0] for r in rows}), sep=" > ")
    assert tree.num_levels == 2 and sorted(tree.names) == sorted(counts)
