"""The WOS loader: archive layout, names from Data.xlsx, the split rule, the Hub path, bad files."""

from __future__ import annotations

import logging
import shutil
import sys

import numpy as np
import pytest
from datasets import Dataset, DatasetDict

from mlcl_text.data import DataError, available, load
from mlcl_text.data.splits import seeded_split
from mlcl_text.data.wos import WOS46985_SPLIT, wos_split_sizes

# (Y1, domain as written in Data.xlsx) and (Y2, area as written), trailing spaces included.
DOMAINS = {
    0: ("CS ", {0: "Computer vision ", 1: "Machine learning ", 2: "Bioinformatics "}),
    1: ("ECE ", {0: "Electricity ", 1: "Digital control "}),
    2: ("Psychology ", {0: "Attention ", 1: "Child abuse "}),
    3: ("MAE ", {0: "computer-aided design ", 1: "Fluid mechanics "}),
    4: ("Civil ", {0: "Green Building ", 1: "Water Pollution "}),
    5: ("Medical ", {0: "Alzheimer's Disease ", 1: "HIV/AIDS ", 2: "Genetics "}),
    6: ("biochemistry ", {0: "Molecular biology ", 1: "Genetics "}),
}
OPENINGS = [
    "We propose a novel approach to {area} that combines experimental data with a model.",
    "This study examines recent advances in {area} and reports results on a new benchmark.",
    "In this paper the role of {area} is analysed with a survey of 312 participants.",
]
# (YL1, YL2) of each document, in X.txt order: 3 per area, interleaved across areas.
PAIRS = [(d, a) for k in range(3) for d, (_, areas) in DOMAINS.items() for a in areas]


def _abstract(d: int, a: int, k: int) -> str:
    area = DOMAINS[d][1][a].strip().lower()
    return (
        OPENINGS[k].format(area=area)
        + " The proposed method improves accuracy by 12% over strong baselines,"
        " and we discuss implications for practice."
    )


def _overall_class(d: int, a: int) -> int:
    return sum(len(DOMAINS[i][1]) for i in range(d)) + a


def write_variant(folder, pairs=PAIRS):
    folder.mkdir(parents=True)
    counts: dict[tuple[int, int], int] = {}
    texts = []
    for d, a in pairs:
        counts[d, a] = counts.get((d, a), 0) + 1
        texts.append(_abstract(d, a, (counts[d, a] - 1) % len(OPENINGS)))
    (folder / "X.txt").write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    (folder / "Y.txt").write_text("".join(f"{_overall_class(d, a)}\n" for d, a in pairs))
    (folder / "YL1.txt").write_text("".join(f"{d}\n" for d, _ in pairs))
    (folder / "YL2.txt").write_text("".join(f"{a}\n" for _, a in pairs))
    return texts


def write_xlsx(path, pairs=PAIRS):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Y1", "Y2", "Y", "Domain", "area", "keywords", "Abstract"])
    for k, (d, a) in enumerate(pairs):
        domain, areas = DOMAINS[d]
        sheet.append(
            [d, a, _overall_class(d, a), domain, areas[a], "model; data", _abstract(d, a, k % 3)]
        )
    workbook.save(path)


@pytest.fixture
def wos_root(tmp_path):
    root = tmp_path / "WebOfScience"
    write_variant(root / "WOS46985")
    write_xlsx(root / "Data.xlsx")
    return root


def _all_rows(data):
    return [row for split in ("train", "validation", "test") for row in data[split]]


def test_names_tree_and_closed_labels(wos_root):
    assert "wos" in available()
    data, tree = load("wos", str(wos_root), split_sizes=(0.2, 0.2))
    assert tree.num_levels == 2
    assert tree.roots == ["CS", "ECE", "Psychology", "MAE", "Civil", "Medical", "biochemistry"]
    assert tree.children("CS") == ["CS/Computer vision", "CS/Machine learning", "CS/Bioinformatics"]
    # A slash inside an area name stays part of the area: depth 2 under its domain.
    assert tree.parent("Medical/HIV/AIDS") == "Medical" and tree.depth("Medical/HIV/AIDS") == 2
    # Area names that repeat across domains are distinct labels.
    assert tree.parent("Medical/Genetics") == "Medical"
    assert tree.parent("biochemistry/Genetics") == "biochemistry"
    assert len(tree) == 7 + 16

    rows = _all_rows(data)
    assert sorted(int(r["id"].split(":")[1]) for r in rows) == list(range(1, len(PAIRS) + 1))
    texts = (wos_root / "WOS46985" / "X.txt").read_text(encoding="utf-8").splitlines()
    for row in rows:
        line = int(row["id"].removeprefix("WOS46985:"))
        d, a = PAIRS[line - 1]
        domain, areas = DOMAINS[d]
        assert row["labels"] == [domain.strip(), f"{domain.strip()}/{areas[a].strip()}"]
        assert row["text"] == texts[line - 1]
        assert all(name in tree for name in row["labels"])
    multi_hot = tree.encode(r["labels"] for r in rows)
    assert tree.is_consistent(multi_hot)
    assert np.array_equal(tree.closure(multi_hot), multi_hot)


def test_path_may_be_the_variant_folder(wos_root):
    from_root = load("wos", str(wos_root))
    from_folder = load("wos", str(wos_root / "WOS46985"))
    assert from_root[1] == from_folder[1]
    for split in ("train", "validation", "test"):
        assert from_root[0][split].to_list() == from_folder[0][split].to_list()


def test_the_split_rule(wos_root):
    n = len(PAIRS)
    data, _ = load("wos", str(wos_root), split_sizes=(0.2, 0.1), seed=3)
    n_val, n_test = round(0.2 * n), round(0.1 * n)
    assert [len(data[s]) for s in ("train", "validation", "test")] == [
        n - n_val - n_test,
        n_val,
        n_test,
    ]
    order = np.random.default_rng(3).permutation(n)
    expected_test = [f"WOS46985:{i + 1}" for i in sorted(order[:n_test])]
    expected_val = [f"WOS46985:{i + 1}" for i in sorted(order[n_test : n_test + n_val])]
    assert data["test"]["id"] == expected_test
    assert data["validation"]["id"] == expected_val
    assert sorted(_id["id"] for _id in _all_rows(data)) == sorted(
        f"WOS46985:{i}" for i in range(1, n + 1)
    )
    # Counts work too, and another seed gives another split.
    counted, _ = load("wos", str(wos_root), split_sizes=(5, 4), seed=4)
    assert [len(counted[s]) for s in ("train", "validation", "test")] == [n - 9, 5, 4]
    assert counted["test"]["id"] != load("wos", str(wos_root), split_sizes=(5, 4))[0]["test"]["id"]


def test_wos46985_sizes_without_building_data():
    assert wos_split_sizes(46_985) == WOS46985_SPLIT == (30_070, 7_518, 9_397)
    parts = seeded_split(46_985, n_validation=7_518, n_test=9_397, seed=0)
    assert [len(parts[s]) for s in ("train", "validation", "test")] == [30_070, 7_518, 9_397]
    everything = np.concatenate([parts["train"], parts["validation"], parts["test"]])
    assert np.array_equal(np.sort(everything), np.arange(46_985))
    order = np.random.default_rng(0).permutation(46_985)
    assert np.array_equal(parts["test"], np.sort(order[:9_397]))
    assert np.array_equal(parts["validation"], np.sort(order[9_397:16_915]))
    # The smaller variants get the same proportions.
    assert wos_split_sizes(11_967) == (11_967 - 1_915 - 2_393, 1_915, 2_393)
    with pytest.raises(ValueError, match="exceed"):
        wos_split_sizes(10, (6, 5))
    with pytest.raises(ValueError, match="fraction"):
        wos_split_sizes(10, (1.5, 0.1))


def test_without_data_xlsx_names_are_ids(tmp_path, caplog):
    write_variant(tmp_path / "WOS46985")
    with caplog.at_level(logging.WARNING, logger="mlcl_text.data.wos"):
        data, tree = load("wos", str(tmp_path))
    assert "no Data.xlsx" in caplog.text
    assert tree.roots == [f"domain-{d}" for d in range(7)]
    assert "domain-5/area-1" in tree and tree.parent("domain-5/area-1") == "domain-5"
    row = next(r for r in _all_rows(data) if r["id"] == "WOS46985:1")
    assert row["labels"] == ["domain-0", "domain-0/area-0"]


def test_missing_openpyxl_is_a_clear_error(wos_root, monkeypatch):
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    with pytest.raises(ImportError, match="pip install openpyxl"):
        load("wos", str(wos_root))
    # Not needed when Data.xlsx is not read.
    _, tree = load("wos", str(wos_root), label_names="ids")
    assert "domain-0" in tree


def test_other_variants_use_ids_unless_asked(wos_root, caplog):
    pairs = [(d, a) for d, a in PAIRS if d in (1, 4, 6)]
    write_variant(wos_root / "WOS5736", pairs)
    with caplog.at_level(logging.WARNING, logger="mlcl_text.data.wos"):
        _, tree = load("wos", str(wos_root), variant="WOS5736")
    assert "label_names='xlsx'" in caplog.text
    assert tree.roots == ["domain-1", "domain-4", "domain-6"]
    data, tree = load("wos", str(wos_root), variant="WOS5736", label_names="xlsx")
    assert tree.roots == ["ECE", "Civil", "biochemistry"]
    assert all(r["id"].startswith("WOS5736:") for r in _all_rows(data))


def test_line_counts_must_agree(wos_root):
    yl2 = wos_root / "WOS46985" / "YL2.txt"
    yl2.write_text(yl2.read_text() + "1\n")
    n = len(PAIRS)
    with pytest.raises(DataError, match=rf"YL2\.txt: {n + 1} lines, but .*X\.txt has {n}"):
        load("wos", str(wos_root))


def test_bad_ids_and_unknown_pairs(wos_root):
    yl1 = wos_root / "WOS46985" / "YL1.txt"
    original = yl1.read_text()
    lines = original.splitlines()
    lines[4] = "two"
    yl1.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"YL1\.txt, line 5: expected an integer"):
        load("wos", str(wos_root))
    lines[4] = "9"  # a domain id that Data.xlsx does not have
    yl1.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match=r"YL2\.txt, line 5: \(YL1, YL2\) = \(9, \d\) has no row"):
        load("wos", str(wos_root))


def test_inconsistent_data_xlsx_names_the_row(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    write_variant(tmp_path / "WOS46985")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Y1", "Y2", "Y", "Domain", "area", "keywords", "Abstract"])
    sheet.append([0, 0, 0, "CS ", "Computer vision ", "k", "a"])
    sheet.append([0, 1, 1, "Computer Science", "Machine learning", "k", "a"])
    workbook.save(tmp_path / "Data.xlsx")
    with pytest.raises(DataError, match=r"Data\.xlsx, row 3: domain id Y1=0 is named"):
        load("wos", str(tmp_path))


def test_meta_data_folder_and_missing_variant(tmp_path):
    write_variant(tmp_path / "WOS46985")
    (tmp_path / "Meta-data").mkdir()
    write_xlsx(tmp_path / "Meta-data" / "Data.xlsx")
    _, tree = load("wos", str(tmp_path))
    assert tree.roots[0] == "CS"
    with pytest.raises(FileNotFoundError, match=r"variant folders found .*: WOS46985"):
        load("wos", str(tmp_path), variant="WOS11967")
    shutil.rmtree(tmp_path / "WOS46985")
    with pytest.raises(FileNotFoundError):
        load("wos", str(tmp_path / "nowhere"))


def test_hub_id_with_hdltex_columns(monkeypatch):
    calls = []
    hub = DatasetDict(
        {
            "train": Dataset.from_dict(
                {
                    "input_data": [_abstract(d, a, 0) for d, a in PAIRS],
                    "label": [_overall_class(d, a) for d, a in PAIRS],
                    "label_level_1": [d for d, _ in PAIRS],
                    "label_level_2": [a for _, a in PAIRS],
                }
            )
        }
    )

    def fake_load_dataset(*args, **kwargs):
        calls.append((args, kwargs))
        return hub

    monkeypatch.setattr("datasets.load_dataset", fake_load_dataset)
    data, tree = load("wos", hub_id="HDLTex/web_of_science", hub_config="WOS46985")
    assert calls == [(("HDLTex/web_of_science", "WOS46985"), {})]
    assert tree.roots == [f"domain-{d}" for d in range(7)] and tree.num_levels == 2
    sizes = wos_split_sizes(len(PAIRS))
    assert tuple(len(data[s]) for s in ("train", "validation", "test")) == sizes
    rows = _all_rows(data)
    assert tree.is_consistent(tree.encode(r["labels"] for r in rows))
    first = next(r for r in rows if r["id"] == "HDLTex/web_of_science[train]:1")
    assert first["labels"] == ["domain-0", "domain-0/area-0"]


def test_hub_id_with_named_columns_keeps_its_splits(monkeypatch):
    def split(rows):
        return Dataset.from_dict(
            {
                "text": [f"An abstract about {area.strip()}." for _, area in rows],
                "Domain": [domain for domain, _ in rows],
                "area": [area for _, area in rows],
            }
        )

    hub = DatasetDict(
        {
            "train": split([("CS ", "Machine learning "), ("Medical", "HIV/AIDS")]),
            "validation": split([("CS", "Computer vision")]),
            "test": split([("Medical", "Genetics")]),
        }
    )
    monkeypatch.setattr("datasets.load_dataset", lambda *args, **kwargs: hub)
    data, tree = load("wos", hub_id="someone/wos")
    assert [len(data[s]) for s in ("train", "validation", "test")] == [2, 1, 1]
    assert tree.roots == ["CS", "Medical"]
    assert tree.parent("Medical/HIV/AIDS") == "Medical"
    assert data["train"][0]["labels"] == ["CS", "CS/Machine learning"]
    assert data["test"][0]["id"] == "someone/wos[test]:1"


def test_hub_without_label_columns_is_an_error(monkeypatch):
    hub = DatasetDict({"train": Dataset.from_dict({"text": ["a"], "topic": ["b"]})})
    monkeypatch.setattr("datasets.load_dataset", lambda *args, **kwargs: hub)
    with pytest.raises(DataError, match=r"someone/wos\[train\]: expected a 'labels' column"):
        load("wos", hub_id="someone/wos")


def test_undecodable_abstract_names_the_line(wos_root):
    x_file = wos_root / "WOS46985" / "X.txt"
    lines = x_file.read_bytes().split(b"\n")
    lines[2] = b"Caf\xe9 culture and attention"  # Latin-1, not UTF-8
    x_file.write_bytes(b"\n".join(lines))
    with pytest.raises(DataError, match=r"X\.txt, line 3: not valid UTF-8"):
        load("wos", str(wos_root))
