"""The RCV1-v2 loader: LYRL2004 token files, qrels, the topic hierarchy, splits and bad files."""

from __future__ import annotations

import gzip
import json
import logging

import numpy as np
import pytest

from mlcl_text.data import DataError, available, load
from mlcl_text.data.rcv1 import iter_lyrl_tokens, read_rcv1_hierarchy

HIERARCHY = [
    ("None", "Root", "Root"),
    ("Root", "CCAT", "CORPORATE/INDUSTRIAL"),
    ("CCAT", "C15", "PERFORMANCE"),
    ("C15", "C151", "ACCOUNTS/EARNINGS"),
    ("C151", "C1511", "ANNUAL RESULTS"),
    ("C15", "C152", "COMMENT/FORECASTS"),
    ("CCAT", "C17", "FUNDING/CAPITAL"),
    ("C17", "C171", "SHARE CAPITAL"),
    ("Root", "ECAT", "ECONOMICS"),
    ("ECAT", "E11", "ECONOMIC PERFORMANCE"),
    ("ECAT", "E21", "GOVERNMENT FINANCE"),
    ("E21", "E212", "GOVERNMENT BORROWING"),
    ("Root", "GCAT", "GOVERNMENT/SOCIAL"),
    ("GCAT", "GCRIM", "CRIME, LAW ENFORCEMENT"),
    ("GCAT", "GDIP", "INTERNATIONAL RELATIONS"),
    ("Root", "MCAT", "MARKETS"),
    ("MCAT", "M13", "MONEY MARKETS"),
    ("M13", "M131", "INTERBANK MARKETS"),
    ("M13", "M132", "FOREX MARKETS"),
    ("MCAT", "M14", "COMMODITY MARKETS"),
    ("M14", "M141", "SOFT COMMODITIES"),
]
# Stemmed, stop-worded tokens in the style of the LYRL2004 files, by leaf topic.
WORDS = {
    "C1511": "compan report net profit year end result rise share dividend pct",
    "C152": "analyst expect earn forecast quarter outlook estim revis",
    "C171": "share issu right offer capit placement underwrit",
    "E11": "econom growth gdp quarter recess output expand",
    "E212": "govern bond auction treasur borrow debt yield",
    "GCRIM": "polic arrest court charg fraud trial judg",
    "GDIP": "minist talk foreign diplomat visit summit bilater",
    "M131": "interbank rate overnight money market liquid",
    "M132": "dollar yen mark forex trad currenc peso firm",
    "M141": "coffe cocoa sugar futur crop harvest tonn",
}
CLOSED = {  # leaf -> the leaf with its ancestors, in tree order
    "C1511": ["CCAT", "C15", "C151", "C1511"],
    "C152": ["CCAT", "C15", "C152"],
    "C171": ["CCAT", "C17", "C171"],
    "E11": ["ECAT", "E11"],
    "E212": ["ECAT", "E21", "E212"],
    "GCRIM": ["GCAT", "GCRIM"],
    "GDIP": ["GCAT", "GDIP"],
    "M131": ["MCAT", "M13", "M131"],
    "M132": ["MCAT", "M13", "M132"],
    "M141": ["MCAT", "M14", "M141"],
}
LEAVES = list(WORDS)
TRAIN_IDS = list(range(2286, 2316))  # 30 documents
TEST_IDS = [list(range(26151 + 10 * p, 26157 + 10 * p)) for p in range(4)]  # 6 per part
UNLABELLED = {2290, 2301, 26173}  # no qrels line: skipped (2 in train, 1 in test part 2)


def _topics(doc):
    """Leaf topics of a document: one or two, deterministic."""
    first = LEAVES[doc % len(LEAVES)]
    return [first] if doc % 3 else [first, LEAVES[(doc // 3) % len(LEAVES)]]


def _tokens(doc):
    words = [w for leaf in _topics(doc) for w in WORDS[leaf].split()]
    rng = np.random.default_rng(doc)
    return [words[i] for i in rng.integers(0, len(words), size=int(rng.integers(12, 30)))]


def _token_file(docs):
    blocks = []
    for doc in docs:
        tokens = _tokens(doc)
        lines = [" ".join(tokens[i : i + 8]) for i in range(0, len(tokens), 8)]
        blocks.append("\n".join([f".I {doc}", ".W", *lines]) + "\n\n")
    return "".join(blocks)


def _qrels():
    lines = []
    for doc in sorted([*TRAIN_IDS, *(d for part in TEST_IDS for d in part)]):
        if doc in UNLABELLED:
            continue
        leaves = _topics(doc)
        # The real qrels list ancestors too; every 4th document lists only its leaves.
        topics = (
            leaves if doc % 4 == 0 else list(dict.fromkeys(t for x in leaves for t in CLOSED[x]))
        )
        lines += [f"{topic} {doc} 1" for topic in sorted(topics)]
    return "\n".join(lines) + "\n"


def _hierarchy():
    return "".join(
        f"parent: {p:<12} child: {c:<12} child-description: {d}\n" for p, c, d in HIERARCHY
    )


def write_rcv1(folder, gz=False):
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "lyrl2004_tokens_train.dat": _token_file(TRAIN_IDS),
        **{f"lyrl2004_tokens_test_pt{p}.dat": _token_file(ids) for p, ids in enumerate(TEST_IDS)},
        "rcv1-v2.topics.qrels": _qrels(),
        "rcv1.topics.hier.orig": _hierarchy(),
    }
    for name, text in files.items():
        if gz:
            with gzip.open(folder / f"{name}.gz", "wt", encoding="utf-8") as handle:
                handle.write(text)
        else:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def rcv1_dir(tmp_path):
    return write_rcv1(tmp_path / "rcv1")


def _load(folder, tmp_path, **options):
    options.setdefault("validation_size", 5)
    return load("rcv1", str(folder), cache_dir=str(tmp_path / "hf-cache"), **options)


def _expected_labels(doc):
    closed = {t for leaf in _topics(doc) for t in CLOSED[leaf]}
    return [name for name, _ in _tree_order() if name in closed]


def _tree_order():
    return [(c, p) for p, c, _ in HIERARCHY if c != "Root"]


def test_tree_labels_texts_and_sizes(rcv1_dir, tmp_path):
    assert "rcv1" in available()
    data, tree = _load(rcv1_dir, tmp_path)
    assert tree.names == [c for c, _ in _tree_order()]
    assert tree.roots == ["CCAT", "ECAT", "GCAT", "MCAT"]
    assert tree.num_levels == 4 and tree.ancestors("C1511") == ["CCAT", "C15", "C151"]

    kept_train = [d for d in TRAIN_IDS if d not in UNLABELLED]
    kept_test = [d for part in TEST_IDS for d in part if d not in UNLABELLED]
    assert len(data["train"]) == len(kept_train) - 5 and len(data["validation"]) == 5
    assert data["test"]["id"] == [str(d) for d in kept_test]
    for split in ("train", "validation", "test"):
        rows = data[split].to_list()
        for row in rows:
            doc = int(row["id"])
            assert row["labels"] == _expected_labels(doc)  # closed even for leaf-only qrels
            assert row["text"] == " ".join(_tokens(doc))
        assert tree.is_consistent(tree.encode(r["labels"] for r in rows))
    assert data["test"].features == data["train"].features

    info = json.loads(data["test"].info.description)
    assert info["label_descriptions"]["C151"] == "ACCOUNTS/EARNINGS"
    assert info["label_descriptions"]["GCRIM"] == "CRIME, LAW ENFORCEMENT"


def test_validation_rule(rcv1_dir, tmp_path):
    data, _ = _load(rcv1_dir, tmp_path, seed=7, validation_size=6)
    kept_train = [str(d) for d in TRAIN_IDS if d not in UNLABELLED]
    order = np.random.default_rng(7).permutation(len(kept_train))
    assert data["validation"]["id"] == [kept_train[i] for i in sorted(order[:6])]
    assert data["train"]["id"] == [kept_train[i] for i in sorted(order[6:])]
    with pytest.raises(ValueError, match="exceeds the 28 training documents"):
        _load(rcv1_dir, tmp_path, validation_size=29, include_test=False)


def test_gzipped_files_give_the_same_data(rcv1_dir, tmp_path):
    plain, plain_tree = _load(rcv1_dir, tmp_path)
    zipped, zipped_tree = _load(write_rcv1(tmp_path / "gz", gz=True), tmp_path)
    assert plain_tree == zipped_tree
    for split in ("train", "validation", "test"):
        assert plain[split].to_list() == zipped[split].to_list()


def test_skipped_documents_are_counted(rcv1_dir, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="mlcl_text.data.rcv1"):
        _load(rcv1_dir, tmp_path)
    messages = [r.getMessage() for r in caplog.records]
    assert any("tokens_train.dat: skipped 2 documents" in m for m in messages)
    assert any("tokens_test_pt2.dat: skipped 1 documents" in m for m in messages)


def test_test_parts_can_be_skipped(rcv1_dir, tmp_path):
    data, _ = _load(rcv1_dir, tmp_path, include_test=False)
    assert len(data["test"]) == 0 and data["test"].features == data["train"].features
    data, _ = _load(rcv1_dir, tmp_path, test_parts=(1, 3))
    assert data["test"]["id"] == [str(d) for d in TEST_IDS[1] + TEST_IDS[3]]
    (rcv1_dir / "lyrl2004_tokens_test_pt0.dat").unlink()  # not needed for parts 1 and 3
    assert len(_load(rcv1_dir, tmp_path, test_parts=(1,))[0]["test"]) == len(TEST_IDS[1])
    with pytest.raises(FileNotFoundError, match=r"lyrl2004_tokens_test_pt0\.dat"):
        _load(rcv1_dir, tmp_path)
    with pytest.raises(ValueError, match="test_parts"):
        _load(rcv1_dir, tmp_path, test_parts=(4,))


def test_changed_files_are_read_again(rcv1_dir, tmp_path):
    first, _ = _load(rcv1_dir, tmp_path, test_parts=(0,))
    part = rcv1_dir / "lyrl2004_tokens_test_pt0.dat"
    part.write_text(part.read_text().replace("\n.W\n", "\n.W\nextra\n"))
    second, _ = _load(rcv1_dir, tmp_path, test_parts=(0,))
    assert second["test"][0]["text"] == "extra " + first["test"][0]["text"]


def test_malformed_qrels_name_the_file_and_line(rcv1_dir, tmp_path):
    qrels = rcv1_dir / "rcv1-v2.topics.qrels"
    lines = qrels.read_text().splitlines()
    bad = [*lines[:2], "C15 2288", *lines[2:]]
    qrels.write_text("\n".join(bad) + "\n")
    with pytest.raises(DataError, match=r"rcv1-v2\.topics\.qrels, line 3: expected '<topic>"):
        _load(rcv1_dir, tmp_path)
    bad = [*lines[:4], "X99 2288 1", *lines[4:]]
    qrels.write_text("\n".join(bad) + "\n")
    with pytest.raises(DataError, match=r"qrels, line 5: topic 'X99' is not in the hierarchy"):
        _load(rcv1_dir, tmp_path)
    bad = [*lines[:1], "C15 doc2288 1", *lines[1:]]
    with gzip.open(rcv1_dir / "gz.qrels.gz", "wt") as handle:  # gzipped files report lines too
        handle.write("\n".join(bad) + "\n")
    qrels.unlink()
    (rcv1_dir / "gz.qrels.gz").rename(rcv1_dir / "rcv1-v2.topics.qrels.gz")
    with pytest.raises(DataError, match=r"qrels\.gz, line 2: document id 'doc2288'"):
        _load(rcv1_dir, tmp_path)


def test_malformed_token_and_hierarchy_files(rcv1_dir, tmp_path):
    train = rcv1_dir / "lyrl2004_tokens_train.dat"
    text = train.read_text()
    train.write_text(text.replace(".I 2288\n.W\n", ".I 2288\n", 1))
    line = text.splitlines().index(".I 2288") + 2
    with pytest.raises(DataError, match=rf"tokens_train\.dat, line {line}: expected '\.W'"):
        _load(rcv1_dir, tmp_path)
    train.write_text("stray tokens before any document\n" + text)
    with pytest.raises(DataError, match=r"tokens_train\.dat, line 1: text outside a document"):
        _load(rcv1_dir, tmp_path)
    train.write_text(text)

    hierarchy = rcv1_dir / "rcv1.topics.hier.orig"
    hierarchy.write_text(_hierarchy() + "parent: M14 child:\n")
    with pytest.raises(DataError, match=rf"hier\.orig, line {len(HIERARCHY) + 1}: expected"):
        _load(rcv1_dir, tmp_path)
    hierarchy.write_text(_hierarchy() + "parent: Q99 child: Q991 child-description: NOWHERE\n")
    with pytest.raises(DataError, match=r"hier\.orig: the topics do not form a tree"):
        _load(rcv1_dir, tmp_path)


def test_readers(rcv1_dir):
    tree, descriptions = read_rcv1_hierarchy(rcv1_dir / "rcv1.topics.hier.orig")
    assert len(tree) == len(HIERARCHY) - 1 and "Root" not in tree
    assert descriptions["E212"] == "GOVERNMENT BORROWING"
    docs = list(iter_lyrl_tokens(rcv1_dir / "lyrl2004_tokens_train.dat"))
    assert [d for _, d, _ in docs] == TRAIN_IDS
    assert docs[0] == (1, 2286, " ".join(_tokens(2286)))
    with pytest.raises(FileNotFoundError, match=r"rcv1-v2\.topics\.qrels"):
        (rcv1_dir / "rcv1-v2.topics.qrels").unlink()
        load("rcv1", str(rcv1_dir))


def test_a_corrupt_gzip_file_is_a_data_error(rcv1_dir, tmp_path):
    (rcv1_dir / "rcv1-v2.topics.qrels").unlink()
    (rcv1_dir / "rcv1-v2.topics.qrels.gz").write_bytes(b"C15 2286 1\n")  # not gzipped
    with pytest.raises(DataError, match=r"qrels\.gz, line 1: cannot be read"):
        _load(rcv1_dir, tmp_path)
