"""The packaged ``pypi`` data set matches its metadata, and the build script's text cleanup,
document rule, label rule, sample and split rules, cache and offline build work on small
in-memory PyPI JSON responses, with no network."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

from tests.helpers.build_scripts import import_script

ROOT = Path(__file__).resolve().parents[2]
#: The packaged data set, read from the source tree (importing mlcl_text.data is slow).
DATA_DIR = ROOT / "mlcl_text" / "data" / "pypi"


build = import_script("build_pypi")
common = import_script("_build_common")


def _bucket_split(project_id: str) -> str:
    """The split rule as the data set's documentation states it, written independently."""
    digest = hashlib.sha256(("mlcl-text/pypi/v1:" + project_id).encode()).hexdigest()
    bucket = int(digest, 16) % 100
    return "train" if bucket < 80 else "validation" if bucket < 90 else "test"


# ---------------------------------------------------------------------- the packaged data
@pytest.fixture(scope="module")
def metadata():
    return json.loads((DATA_DIR / "metadata.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def packaged():
    data = (DATA_DIR / "pypi.jsonl.gz").read_bytes()
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    return data, lines


def test_packaged_file_is_small_and_matches_its_metadata(packaged, metadata):
    data, lines = packaged
    assert 0 < len(data) <= build.MAX_FILE_BYTES
    assert metadata["file"]["bytes"] == len(data)
    assert metadata["file"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert data[3] == 0  # gzip FLG: no file name
    assert data[4:8] == b"\0\0\0\0"  # gzip MTIME 0
    assert len(lines) == metadata["statistics"]["documents"]
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert "Written by `scripts/build_pypi.py`: edit the script and rebuild" in readme
    assert metadata["file"]["sha256"] in readme
    assert metadata["build_command"] in readme
    source = metadata["source"]
    assert source["sample"]["names"] <= source["index"]["names"]
    assert source["kept"] + sum(source["dropped"].values()) == source["sample"]["names"]


def test_packaged_rows_are_valid_and_splits_disjoint(packaged, metadata):
    _, lines = packaged
    rows = [json.loads(line) for line in lines]
    # keys sorted, compact separators: the builder's own serialisation
    assert lines == [common.row_json(build.Row(**row)) for row in rows]
    assert all(list(row) == ["id", "labels", "license", "split", "text"] for row in rows)
    ids = [row["id"] for row in rows]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert all(build.normalize_name(i) == i for i in ids)
    rule = metadata["document_rule"]
    frequency = Counter()
    by_split: dict[str, set[str]] = {"train": set(), "validation": set(), "test": set()}
    for row in rows:
        assert row["labels"] and row["labels"] == sorted(set(row["labels"]))
        for label in row["labels"]:
            assert label.startswith("Topic :: ") and " > " not in label
        assert all(
            part.startswith("License :: OSI Approved :: ") for part in row["license"].split("; ")
        )
        frequency.update(row["labels"])
        assert row["split"] == _bucket_split(row["id"])
        assert rule["min_words"] <= build.word_count(row["text"]) <= rule["max_words"]
        by_split[row["split"]].add(row["id"])
    minimum = metadata["label_rule"]["min_documents_per_label"]
    assert minimum == 10 and min(frequency.values()) >= minimum
    stats = metadata["statistics"]
    assert len(frequency) == stats["labels"] >= 100
    assert dict(frequency) == stats["label_frequencies"]
    assert len({row["text"] for row in rows}) == len(rows)
    for split, members in by_split.items():
        assert members, split
        assert len(members) == stats["splits"][split]
    assert len(by_split["train"]) > 4 * len(by_split["test"])
    assert stats["words_per_document"]["median"] >= 300  # the long documents of the collection


# ---------------------------------------------------------------------- text cleanup
MARKDOWN = """\
<!-- a comment
over two lines -->
<p align="center"><img src="https://example.org/logo.png" alt="Logo" width="200"></p>

# Tabulate&nbsp;Things

[![PyPI](https://img.shields.io/pypi/v/tabulate-things.svg)](https://pypi.org/project/x/)
[![Build](https://github.com/x/y/badge.svg)][ci] ![Coverage](https://codecov.io/x.svg)

Read the [documentation](https://x.readthedocs.io "Docs") or see https://example.org/more.
<details><summary>More</summary>Hidden <b>bold</b> text</details>
<script>alert("x")</script><style>p { color: red }</style>

---

```python
import things
```

[ci]: https://github.com/x/y/actions
"""

MARKDOWN_CLEAN = """\
# Tabulate Things
Read the documentation or see
More
Hidden bold text
```python
import things"""

RST = """\
Project Title
=============

.. image:: https://img.shields.io/pypi/v/x.svg
   :target: https://pypi.org/project/x/
   :alt: PyPI

.. |build| image:: https://ci.example.org/x.svg
    :target: https://ci.example.org/x

|build| |unknown| Read the `Docs <https://x.readthedocs.io>`_ now.

.. _home: https://example.org/

+-----+-----+
| a   | b   |
+-----+-----+
"""

RST_CLEAN = """\
Project Title
|unknown| Read the Docs now.
| a | b |"""


def test_clean_description_strips_html_badges_links_and_markup_lines():
    assert build.clean_description(MARKDOWN) == MARKDOWN_CLEAN
    assert build.clean_description(RST) == RST_CLEAN
    assert build.clean_description("a\r\nb &amp; c\rd") == "a\nb & c\nd"
    assert build.clean_description("x <your-token> y") == "x y"  # tag-like text goes too


def test_word_count_and_truncation_keep_lines():
    text = "one two three\nfour five\nsix"
    assert build.word_count(text) == 6
    assert build.truncate_words(text, 4) == "one two three\nfour"
    assert build.truncate_words(text, 5) == "one two three\nfour five"
    assert build.truncate_words(text, 6) == text
    assert build.truncate_words(text, 100) == text


ENGLISH = (
    "This library reads the configuration of your project and turns it into tables that you "
    "can use with the tools you have. "
)
GERMAN = (
    "Diese Bibliothek liest die Konfiguration deines Projekts und macht daraus Tabellen, die "
    "du mit deinen Werkzeugen verwenden kannst, sofern sie größer sind. "
)
SPANISH = (
    "Esta biblioteca lee la configuración de tu proyecto y la convierte en tablas que puedes "
    "usar con las herramientas para los datos que tienes. "
)
CHINESE = "这个库读取项目的配置并把它变成表格。" * 5 + " pip install things "


def test_looks_english():
    assert build.looks_english(ENGLISH * 3)
    assert not build.looks_english(GERMAN * 3)
    assert not build.looks_english(SPANISH * 3)
    assert not build.looks_english(ENGLISH + SPANISH * 3)  # an English line, then Spanish
    assert build.looks_english(ENGLISH * 3 + SPANISH)
    assert not build.looks_english(CHINESE)
    assert not build.looks_english("import os\nfor x in y: print(x) if x and not z")
    assert not build.looks_english("1234 5678")


# ---------------------------------------------------------------------- the document rule
def _long_text(name: str, repeat: int = 8) -> str:
    return f"# {name}\n\n" + (f"{name} is a tool. " + ENGLISH) * repeat


def payload(
    name: str,
    topics=("Topic :: Utilities",),
    licenses=("License :: OSI Approved :: MIT License",),
    description: str | None = None,
    content_type: str | None = "text/markdown",
    extra=(),
) -> dict:
    classifiers = [
        "Programming Language :: Python :: 3",
        *licenses,
        *topics,
        *extra,
    ]
    return {
        "info": {
            "name": name,
            "classifiers": classifiers,
            "description": _long_text(name) if description is None else description,
            "description_content_type": content_type,
        },
        "releases": {},
        "urls": [],
    }


def test_project_document_checks_its_rules_in_order():
    def reason(**kwargs) -> str:
        return build.project_document("p", payload("p", **kwargs))[1]

    assert reason() == "kept"
    assert reason(topics=()) == "no_topic_classifier"
    assert reason(topics=(), licenses=()) == "no_topic_classifier"
    assert reason(licenses=("License :: Other/Proprietary License",)) == (
        "no_osi_license_classifier"
    )
    assert reason(licenses=("License :: OSI Approved",)) == "no_osi_license_classifier"
    assert reason(description="UNKNOWN") == "no_description"
    assert reason(description=" ") == "no_description"
    assert reason(content_type="text/html") == "unsupported_content_type"
    assert reason(content_type=None) == "kept"  # reStructuredText by default
    assert reason(content_type="text/x-rst; charset=UTF-8") == "kept"
    assert reason(description="Too short. " + "word " * 100) == "too_short"
    badges = "".join(
        f"[![b{i}](https://img.shields.io/{i}.svg)](https://x/{i}) " for i in range(200)
    )
    assert reason(description=badges + ENGLISH) == "too_short"  # badges are no words
    assert reason(description=GERMAN * 10) == "not_english"
    # the test reads the text as shipped: English after the cut is English
    assert reason(description=ENGLISH * 40 + GERMAN * 100) == "kept"
    assert reason(description=GERMAN * 40 + ENGLISH * 100) == "not_english"
    assert build.project_document("p", {"info": None})[1] == "no_topic_classifier"


def test_project_document_text_labels_and_licence():
    document, outcome = build.project_document(
        "things",
        payload(
            "things",
            topics=("Topic :: Utilities", "Topic :: Software Development :: Libraries"),
            licenses=(
                "License :: OSI Approved :: MIT License",
                "License :: OSI Approved :: Apache Software License",
            ),
            content_type="text/markdown; charset=UTF-8; variant=GFM",
            extra=("Topic :: Utilities",),
        ),
        max_words=50,
    )
    assert outcome == "kept"
    assert document.labels == ["Topic :: Software Development :: Libraries", "Topic :: Utilities"]
    assert document.license == (
        "License :: OSI Approved :: Apache Software License; License :: OSI Approved :: MIT License"
    )
    assert document.content_type == "text/markdown"
    assert document.words == build.word_count(build.clean_description(_long_text("things")))
    assert build.word_count(document.text) == 50
    assert document.text.startswith("# things\nthings is a tool. This library reads")


# ---------------------------------------------------------------------- the label rule
def _document(name: str, labels: list[str], text: str | None = None):
    return build.Document(
        id=name,
        labels=labels,
        license="License :: OSI Approved :: MIT License",
        content_type="text/markdown",
        words=200,
        text=text or f"text of {name}",
    )


def test_label_rule_drops_duplicates_rare_labels_and_unlabelled_documents():
    common, rare = "Topic :: Utilities", "Topic :: Games/Entertainment :: Puzzle Games"
    documents = [
        _document("b", [common, rare]),
        _document("a", [common]),
        _document("c", [rare]),  # rare: three documents
        _document("d", [common], text="text of a"),  # a copy of a's README
        _document("e", [common, "Topic :: Odd > Label"]),
        _document("f", [rare, common]),
    ]
    rows, stats = build.apply_label_rule(documents, min_documents=4)
    assert [(r.id, r.labels) for r in rows] == [
        ("a", [common]),
        ("b", [common]),
        ("e", [common]),
        ("f", [common]),
    ]
    assert all(r.split == _bucket_split(r.id) for r in rows)
    assert rows[0].license == "License :: OSI Approved :: MIT License"
    assert stats["dropped_duplicate_text"] == 1
    assert stats["dropped_malformed_label_occurrences"] == 1
    assert stats["rare_labels"] == {rare: 3}
    assert stats["dropped_rare_label_occurrences"] == 3
    assert stats["dropped_no_label"] == 1  # c
    assert stats["rows"] == 4

    rows, stats = build.apply_label_rule(documents, min_documents=1)
    assert [r.id for r in rows] == ["a", "b", "c", "e", "f"]
    assert rows[1].labels == sorted([common, rare])
    assert "dropped_no_label" not in stats


def test_split_rule_matches_the_documented_formula_and_is_80_10_10():
    ids = [f"project-{i}" for i in range(5000)]
    splits = [build.split_of(i) for i in ids]
    assert splits == [_bucket_split(i) for i in ids]
    shares = {s: splits.count(s) / len(ids) for s in ("train", "validation", "test")}
    assert abs(shares["train"] - 0.8) < 0.03
    assert abs(shares["validation"] - 0.1) < 0.02
    assert abs(shares["test"] - 0.1) < 0.02


def test_row_json_has_sorted_keys_and_no_spaces():
    row = build.Row(id="x", labels=["Topic :: B"], license="L", split="train", text="é\nt")
    assert common.row_json(row) == (
        '{"id":"x","labels":["Topic :: B"],"license":"L","split":"train","text":"é\\nt"}'
    )


# ---------------------------------------------------------------------- index, sample, cache
def test_parse_index_reads_the_json_and_the_html_forms():
    as_json = {
        "meta": {"api-version": "1.1", "_last-serial": 42},
        "projects": [{"name": "Foo_Bar"}, {"name": "baz"}, {"name": "foo-bar"}],
    }
    assert build.parse_index(json.dumps(as_json).encode()) == (["baz", "foo-bar"], 42)
    as_html = (
        "<!DOCTYPE html><html><body>\n<a href='/simple/foo-bar/'>Foo.Bar</a>\n"
        '<a href="/simple/a-b/">A&amp;B</a>\n<a href="/simple/baz/">baz</a>\n'
        "</body></html>\n<!--SERIAL 7-->"
    )
    assert build.parse_index(as_html.encode()) == (["a&b", "baz", "foo-bar"], 7)
    assert build.parse_index(b"<html><a href='x/'>x</a></html>") == (["x"], None)
    assert build.normalize_name("Zope.Interface__x") == "zope-interface-x"


def test_sample_is_seeded_nested_and_follows_the_formula():
    names = [f"name-{i}" for i in range(2000)]
    small, large = build.sampled(names, 0.05), build.sampled(names, 0.2)
    assert set(small) < set(large) and small == build.sampled(names, 0.05)
    assert build.sampled(names, 1.0) == names
    assert abs(len(large) / len(names) - 0.2) < 0.04
    bound = 0.05 * 2**256
    expected = [
        n
        for n in names
        if int(hashlib.sha256(("mlcl-text/pypi/v1/sample:" + n).encode()).hexdigest(), 16) < bound
    ]
    assert small == expected
    with pytest.raises(ValueError):
        build.sampled(names, 0)


def test_cache_round_trip(tmp_path):
    body = json.dumps(payload("x")).encode()
    path = build.write_cache_entry(tmp_path, "x-y", 200, body, 946684800.5)
    assert path == tmp_path / "json" / "x-" / "x-y.json.gz"
    assert build.read_cache_entry(tmp_path, "x-y") == ("ok", body, 946684800)
    build.write_cache_entry(tmp_path, "gone", 404, b"ignored", 946684801)
    assert build.read_cache_entry(tmp_path, "gone") == ("gone", None, 946684801)
    assert build.read_cache_entry(tmp_path, "never") == ("missing", None, None)
    assert build.is_cached(tmp_path, "x-y") and build.is_cached(tmp_path, "gone")
    assert not build.is_cached(tmp_path, "never")
    assert not list(tmp_path.rglob("*.partial"))
    with pytest.raises(ValueError):
        build.write_cache_entry(tmp_path, "err", 500, b"", 0)


class _Response(io.BytesIO):
    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        super().__init__(body)
        self.headers = headers

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _http_error(url: str, code: int) -> urllib.error.HTTPError:
    return urllib.error.HTTPError(url, code, "error", {}, None)  # type: ignore[arg-type]


def test_http_get_retries_and_reports_gone_projects(monkeypatch):
    answers = [
        _http_error("u", 503),
        urllib.error.URLError("timed out"),
        _Response(gzip.compress(b'{"ok": 1}'), {"Content-Encoding": "gzip", "Content-Type": "j"}),
    ]
    requests, waits = [], []

    def urlopen(request, timeout):
        requests.append(request)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    assert build.http_get("https://pypi.org/pypi/x/json", sleep=waits.append) == (b'{"ok": 1}', "j")
    assert waits == [1.0, 2.0]
    assert requests[0].get_header("User-agent") == build.USER_AGENT

    def gone(request, timeout):
        raise _http_error(request.full_url, 404)

    monkeypatch.setattr(urllib.request, "urlopen", gone)
    with pytest.raises(build.Gone):
        build.http_get("https://pypi.org/pypi/x/json", sleep=waits.append)

    def failing(request, timeout):
        raise _http_error(request.full_url, 500)

    monkeypatch.setattr(urllib.request, "urlopen", failing)
    with pytest.raises(urllib.error.HTTPError):
        build.http_get("https://pypi.org/pypi/x/json", attempts=2, sleep=waits.append)


def test_fetch_projects_fills_the_cache_once(tmp_path, monkeypatch, capsys):
    calls = []

    def http_get(url, **kwargs):
        calls.append(url)
        if url.endswith("/gone/json"):
            raise build.Gone(url)
        if url.endswith("/broken/json"):
            raise urllib.error.URLError("down")
        return b'{"info": {}}', "application/json"

    monkeypatch.setattr(build, "http_get", http_get)
    names = ["a", "broken", "gone"]
    assert build.fetch_projects(tmp_path, names, workers=2) == Counter(
        cached=0, ok=1, gone=1, failed=1
    )
    assert build.read_cache_entry(tmp_path, "a")[0] == "ok"
    assert build.read_cache_entry(tmp_path, "gone")[0] == "gone"
    assert build.read_cache_entry(tmp_path, "broken")[0] == "missing"
    calls.clear()
    assert build.fetch_projects(tmp_path, names, workers=2)["cached"] == 2
    assert calls == ["https://pypi.org/pypi/broken/json"]  # only the failure is tried again
    with pytest.raises(ValueError):
        build.fetch_projects(tmp_path, names, workers=9)
    capsys.readouterr()


# ---------------------------------------------------------------------- the offline build
UTIL, LIBS, AI = (
    "Topic :: Utilities",
    "Topic :: Software Development :: Libraries",
    "Topic :: Scientific/Engineering :: Artificial Intelligence",
)
PROJECTS = {
    "alpha": payload("alpha", topics=(UTIL, LIBS)),
    "beta": payload("beta", topics=(UTIL,), content_type=None),
    "gamma": payload("gamma", topics=(LIBS, AI)),
    "delta": payload("delta", topics=(UTIL, LIBS)),
    "copy-of-alpha": payload(
        "copy", topics=(UTIL,), description=payload("alpha")["info"]["description"]
    ),
    "no-topic": payload("no-topic", topics=()),
    "proprietary": payload("proprietary", licenses=("License :: Other/Proprietary License",)),
    "short": payload("short", description="Short."),
    "german": payload("german", description=GERMAN * 10),
    "only-ai": payload("only-ai", topics=(AI,)),
}
INDEX_HTML = "<!DOCTYPE html><html><body>\n" + "".join(
    f'<a href="/simple/{name}/">{name}</a>\n' for name in [*PROJECTS, "gone", "not-fetched"]
)
OUTPUT_FILES = ("pypi.jsonl.gz", "metadata.json", "README.md")


def _write_cache(cache: Path) -> None:
    build.write_index_cache(cache, INDEX_HTML.encode(), "text/html", 946684800)
    for offset, (name, data) in enumerate(PROJECTS.items()):
        build.write_cache_entry(cache, name, 200, json.dumps(data).encode(), 946684800 + offset)
    build.write_cache_entry(cache, "gone", 404, b"", 946771200)


def test_offline_build_is_byte_identical_and_uses_no_network(tmp_path, capsys, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("the offline build must not use the network")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")
    cache = tmp_path / "cache"
    _write_cache(cache)
    outputs = []
    for run in ("a", "b"):
        out = tmp_path / run
        options = ["--offline", f"--cache={cache}", f"--out={out}", "--fraction=1"]
        assert build.main([*options, "--min-documents=2", "--max-words=120"]) == 0
        # the build command names the output folder; nothing else may differ
        outputs.append(
            [(out / name).read_bytes().replace(str(out).encode(), b"OUT") for name in OUTPUT_FILES]
        )
    capsys.readouterr()
    assert outputs[0] == outputs[1]
    data = outputs[0][0]
    assert data[3] == 0 and data[4:8] == b"\0\0\0\0"  # gzip: no file name, MTIME 0
    rows = [json.loads(line) for line in gzip.decompress(data).decode("utf-8").splitlines()]
    # only-ai: AI has 2 documents (gamma, only-ai), kept at --min-documents=2;
    # copy-of-alpha: a duplicate of alpha's text
    assert [(row["id"], row["labels"]) for row in rows] == [
        ("alpha", [LIBS, UTIL]),
        ("beta", [UTIL]),
        ("delta", [LIBS, UTIL]),
        ("gamma", [AI, LIBS]),
        ("only-ai", [AI]),
    ]
    expected_text = build.truncate_words(
        build.clean_description(PROJECTS["alpha"]["info"]["description"]), 120
    )
    assert rows[0] == {
        "id": "alpha",
        "labels": [LIBS, UTIL],
        "license": "License :: OSI Approved :: MIT License",
        "split": _bucket_split("alpha"),
        "text": expected_text,
    }
    meta = json.loads((tmp_path / "a" / "metadata.json").read_text(encoding="utf-8"))
    assert meta["build_date"] == "2000-01-01"
    assert meta["file"] == {
        "name": "pypi.jsonl.gz",
        "bytes": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "format": meta["file"]["format"],
    }
    source = meta["source"]
    assert source["index"]["names"] == len(PROJECTS) + 2
    assert source["index"]["content_type"] == "text/html"
    assert source["index"]["sha256"] == hashlib.sha256(INDEX_HTML.encode()).hexdigest()
    assert source["sample"] == {
        "rule": source["sample"]["rule"],
        "salt": "mlcl-text/pypi/v1/sample:",
        "fraction": 1.0,
        "names": len(PROJECTS) + 2,
    }
    assert source["responses"] == {
        "fetched_from": "2000-01-01T00:00:00Z",
        "fetched_to": "2000-01-02T00:00:00Z",
        "projects": len(PROJECTS),
        "gone": 1,
        "missing": 1,
    }
    assert source["kept"] == 6
    assert source["dropped"] == {
        "gone": 1,
        "missing": 1,
        "bad_json": 0,
        "no_topic_classifier": 1,
        "no_osi_license_classifier": 1,
        "no_description": 0,
        "unsupported_content_type": 0,
        "too_short": 1,
        "not_english": 1,
    }
    counts = meta["label_rule"]["counts"]
    assert counts["dropped_duplicate_text"] == 1
    assert counts["rare_labels"] == {}
    stats = meta["statistics"]
    assert stats["splits"] == {
        s: sum(row["split"] == s for row in rows) for s in ("train", "validation", "test")
    }
    assert stats["documents"] == 5 and stats["labels"] == 3
    assert stats["label_frequencies"] == {UTIL: 3, LIBS: 3, AI: 2}
    assert stats["documents_cut_at_max_words"] == 5
    assert stats["words_before_cut"]["median"] > 120
    assert stats["words_per_document"]["median"] == 120
    assert stats["content_types"] == {"text/markdown": 4, "(absent)": 1}
    readme = (tmp_path / "a" / "README.md").read_text(encoding="utf-8")
    assert "Written by `scripts/build_pypi.py`: edit the script and rebuild" in readme
    assert meta["file"]["sha256"] in readme and meta["build_command"] in readme
    assert "--fraction=1.0 --min-documents=2 --min-words=150 --max-words=120" in readme
    assert 'files("mlcl_text.data") / "pypi" / "pypi.jsonl.gz"' in readme
    assert "`Topic :: Utilities` | 3 |" in readme

    # a higher threshold drops the AI label, and only-ai with it
    out = tmp_path / "c"
    options = ["--offline", f"--cache={cache}", f"--out={out}", "--fraction=1"]
    assert build.main([*options, "--min-documents=3"]) == 0
    capsys.readouterr()
    meta = json.loads((out / "metadata.json").read_text(encoding="utf-8"))
    assert meta["label_rule"]["counts"]["rare_labels"] == {AI: 2}
    assert meta["label_rule"]["counts"]["dropped_no_label"] == 1
    assert meta["statistics"]["label_frequencies"] == {LIBS: 3, UTIL: 3}


def test_offline_build_needs_a_cached_index(tmp_path):
    with pytest.raises(FileNotFoundError, match="without --offline"):
        build.main(["--offline", f"--cache={tmp_path}", f"--out={tmp_path / 'out'}"])
