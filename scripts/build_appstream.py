#!/usr/bin/env python3
"""Build mlcl-text's packaged data set ``appstream`` from Debian's AppStream (DEP-11) metadata.

Documents are the English descriptions of desktop applications in Debian (name, summary and
the long description, flattened to plain text) and their labels are the application's
freedesktop.org menu categories (``Game``, ``Graphics``, ``Science``, ``LogicGame`` …): a
flat multi-label label set with longer documents than ``debtags``.

Usage (on a Debian bookworm machine with the ``appstream`` package's apt configuration,
``/etc/apt/apt.conf.d/50appstream``, which declares the ``DEP-11`` index target; needs the
Python standard library and PyYAML)::

    apt-get update -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=true
    python scripts/build_appstream.py

(The ``-o`` option only matters where another apt configuration file switches the target
off; with the stock configuration a plain ``apt-get update`` downloads it.)

It reads ``Components-amd64.yml.gz`` of ``bookworm main`` as ``apt-get update`` leaves it under
``/var/lib/apt/lists`` (plain, ``.gz``, ``.xz`` or ``.lz4``), plus the suite's ``InRelease``
for the release, its date and the index's checksum, and writes into
``mlcl_text/data/appstream/``:

* ``appstream.jsonl.gz``: one JSON object a line, ``{"id", "labels", "split", "text"}`` (keys
  sorted), rows sorted by ``id``; ``id`` is the AppStream component id. Byte-identical for
  identical inputs (gzip ``mtime`` 0, no file name, sorted rows and keys).
* ``metadata.json``: source release and index (with SHA-256), the document and label rules'
  parameters, every count they produce and the data set's statistics. Only ``build_date``
  changes between runs; it follows ``SOURCE_DATE_EPOCH`` when that is set.
* ``README.md``: provenance, licence, build command, rules and statistics, every number
  taken from ``metadata.json``.

DEP-11 is a multi-document YAML stream: a header document (``File: DEP-11``, ``Origin``,
``Time`` …), then one document per component. The document rule is
:func:`collect_documents`, the label rule :func:`apply_label_rule` and the split rule
:func:`split_of`.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from _build_common import (
    DATA_DIR,
    DEFAULT_ARCH,
    DEFAULT_COMPONENT,
    DEFAULT_LISTS,
    DEFAULT_SUITE,
    Row,
    build_date,
    by_frequency,
    data_file_entry,
    decompress,
    file_list,
    find_index,
    length_summary,
    listing,
    markdown_table,
    min_median_max,
    parse_release,
    read_index,
    rebuild_command,
    release_summary,
    salted_split,
    sha256_bytes,
    split_counts,
    split_rule,
    word_count,
    write_jsonl_gz,
    write_metadata_and_readme,
)

DEFAULT_OUT = DATA_DIR / "appstream"
DATA_FILE = "appstream.jsonl.gz"
#: The command that downloads the DEP-11 index (the ``-o`` option only matters where another
#: apt configuration file switches the index target off).
APT_UPDATE = "apt-get update -o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=true"

#: Component types kept. ``console-application`` only with a ``Categories`` field.
APPLICATION_TYPES = ("desktop-application", "console-application")
CONSOLE_TYPE = "console-application"
#: Locale keys of English text, in order of preference (``C`` is the untranslated original).
ENGLISH_KEYS = ("C", "en")
#: Freedesktop categories that say which toolkit or desktop an application is built for, or
#: how it runs, rather than what it does; a description rarely states them.
DROPPED_CATEGORIES: dict[str, str] = {
    "GTK": "the GUI toolkit the application is built with (GTK), not what it does",
    "Qt": "the GUI toolkit the application is built with (Qt), not what it does",
    "Motif": "the GUI toolkit the application is built with (Motif), not what it does",
    "Java": "the platform the application is written for (Java), not what it does",
    "GNOME": "the desktop environment the application belongs to (GNOME), not what it does",
    "KDE": "the desktop environment the application belongs to (KDE), not what it does",
    "XFCE": "the desktop environment the application belongs to (Xfce), not what it does",
    "DDE": "the desktop environment the application belongs to (Deepin), not what it does",
    "LXQt": "the desktop environment the application belongs to (LXQt), not what it does",
    "MATE": "the desktop environment the application belongs to (MATE), not what it does",
    "Cinnamon": "the desktop environment the application belongs to (Cinnamon), not what it does",
    "Pantheon": "the desktop environment the application belongs to (Pantheon), not what it does",
    "ConsoleOnly": "how the application runs (only inside a terminal), not what it does",
    "Core": (
        "a desktop's judgement that the application is essential to it (file manager, help "
        "browser …), not what it does"
    ),
    "Applet": "how the application is shown (as a panel applet), not what it does",
    "TrayIcon": "how the application is shown (as a system-tray icon), not what it does",
}
#: Prefix of vendor-specific, non-standard categories; they are dropped.
VENDOR_PREFIX = "X-"
#: A category name: letters, digits, ``_`` and ``-`` (so never `` > ``).
CATEGORY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
#: A category needs this many documents.
MIN_DOCUMENTS = 20
#: Shorter texts (in white-space separated words) are dropped.
MIN_WORDS = 20
SPLIT_SALT = "mlcl-text/appstream/v1:"
#: Description elements that start a line of the flattened text; ``li`` items get
#: ``LIST_PREFIX``.
BLOCK_TAGS = ("p", "li", "ul", "ol")
LIST_PREFIX = "- "
ABSENT = "(absent)"


# ---------------------------------------------------------------------- reading indexes
def release_checksums(release: Mapping[str, str]) -> dict[str, tuple[str, int]]:
    """``{path: (sha256, bytes)}`` from a release's ``SHA256`` field."""
    out: dict[str, tuple[str, int]] = {}
    for line in release.get("SHA256", "").split("\n"):
        parts = line.split()
        if len(parts) == 3:
            out[parts[2]] = (parts[0], int(parts[1]))
    return out


def parse_dep11(text: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The header and the component documents of a DEP-11 YAML stream.

    Parsed with PyYAML's base loader (the C one when PyYAML has libyaml): it builds plain
    dicts, lists and strings only, and leaves every scalar a string, so a name such as
    ``2048`` or ``On`` stays text instead of becoming a number or a boolean. Raises
    ``ValueError`` when the first document is not a DEP-11 header or a later one is not a
    mapping.
    """
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    documents = list(yaml.load_all(text, Loader=loader))
    if not documents or not isinstance(documents[0], dict) or documents[0].get("File") != "DEP-11":
        raise ValueError("not a DEP-11 stream: the first document has no 'File: DEP-11'")
    header, components = documents[0], documents[1:]
    for number, component in enumerate(components, start=2):
        if not isinstance(component, dict):
            raise ValueError(f"DEP-11 document {number} is not a mapping")
    return header, components


# ---------------------------------------------------------------------- text
def english(value: Any) -> str | None:
    """The English text of a localised DEP-11 field (``C``, else ``en``), or ``None``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for key in ENGLISH_KEYS:
            text = value.get(key)
            if isinstance(text, str) and text.strip():
                return text
    return None


class _Flattener(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._parts: list[str] = []
        self._prefix = ""

    def _flush(self) -> None:
        text = " ".join("".join(self._parts).split())
        if text:
            self.lines.append(self._prefix + text)
        self._parts, self._prefix = [], ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in BLOCK_TAGS:
            self._flush()
            if tag == "li":
                self._prefix = LIST_PREFIX
        elif tag == "br":
            self._parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in BLOCK_TAGS:
            self._flush()

    def handle_data(self, data: str) -> None:
        self._parts.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def flatten_markup(markup: str) -> str:
    """An AppStream description's markup as plain text.

    Every paragraph (``<p>``) becomes one line and every list item (``<li>``, in ``<ul>`` or
    ``<ol>``) one line starting with ``"- "``; inline elements (``<em>``, ``<code>``) keep their
    text only; character references (``&apos;`` …) are decoded; white space inside a line
    collapses to single spaces; empty lines are dropped. Text outside any element forms its own
    line.
    """
    parser = _Flattener()
    parser.feed(markup)
    parser.close()
    return "\n".join(parser.lines)


def one_line(text: str) -> str:
    """``text`` with its white space collapsed to single spaces."""
    return " ".join(text.split())


def document_text(name: str, summary: str, description: str) -> str:
    """``Name + ". " + Summary + "\\n" + description`` (name and summary on one line)."""
    return f"{one_line(name)}. {one_line(summary)}\n{flatten_markup(description)}"


# ---------------------------------------------------------------------- documents
@dataclass
class Document:
    """An application selected from the DEP-11 stream, before the label rule."""

    id: str
    type: str
    package: str
    categories: list[str]
    text: str
    metadata_license: str = ABSENT
    project_license: str = ABSENT


def _category_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def collect_documents(components: Iterable[Mapping[str, Any]]) -> tuple[list[Document], Counter]:
    """Select the applications of a DEP-11 stream, in file order.

    A component is kept when its ``Type`` is ``desktop-application``, or
    ``console-application`` with a non-empty ``Categories`` field, and it has an English
    (``C`` or ``en``) ``Name``, ``Summary`` and ``Description``. A component id seen again
    among the kept ones is skipped (the first in file order wins). The text is
    :func:`document_text`. Returns the documents and a counter of the components per type
    (``type:…``) and of what was skipped (``skipped:…``).
    """
    documents: list[Document] = []
    seen: set[str] = set()
    counts: Counter[str] = Counter()
    for component in components:
        kind = component.get("Type")
        counts[f"type:{kind}"] += 1
        if kind not in APPLICATION_TYPES:
            counts["skipped:not_an_application"] += 1
            continue
        categories = _category_list(component.get("Categories"))
        if kind == CONSOLE_TYPE and not categories:
            counts["skipped:console_application_without_categories"] += 1
            continue
        cid = component.get("ID")
        if not isinstance(cid, str) or not cid.strip():
            counts["skipped:no_id"] += 1
            continue
        name, summary = english(component.get("Name")), english(component.get("Summary"))
        description = english(component.get("Description"))
        if description is None:
            counts["skipped:no_english_description"] += 1
            continue
        if name is None or summary is None:
            counts["skipped:no_english_name_or_summary"] += 1
            continue
        if cid in seen:
            counts["skipped:repeated_id"] += 1
            continue
        seen.add(cid)
        documents.append(
            Document(
                id=cid,
                type=kind,
                package=str(component.get("Package", "")),
                categories=categories,
                text=document_text(name, summary, description),
                metadata_license=str(component.get("MetadataLicense") or ABSENT),
                project_license=str(component.get("ProjectLicense") or ABSENT),
            )
        )
    return documents, counts


# ---------------------------------------------------------------------- the label rule
def normalise_categories(values: Iterable[str]) -> list[str]:
    """Category names, split at ``;`` (a value such as ``"AudioVideo;"`` happens), stripped,
    without empty ones and repeats, in first-seen order."""
    out: list[str] = []
    for value in values:
        for part in value.split(";"):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


def apply_label_rule(
    documents: Sequence[Document],
    *,
    dropped_categories: Iterable[str] = tuple(DROPPED_CATEGORIES),
    min_documents: int = MIN_DOCUMENTS,
    min_words: int = MIN_WORDS,
) -> tuple[list[Row], dict[str, Any]]:
    """Turn selected documents into labelled rows, sorted by ``id``.

    In order:

    1. drop texts with fewer than ``min_words`` words;
    2. split category values at ``;`` (:func:`normalise_categories`);
    3. drop the categories in ``dropped_categories`` (toolkits, desktops, how an application
       runs), those starting with ``X-`` (vendor extensions) and malformed names (anything but
       letters, digits, ``_`` and ``-``);
    4. count the documents of every remaining category and drop categories with fewer than
       ``min_documents``;
    5. drop documents left without labels.

    The labels are flat: no category is an ancestor of another. Returns the rows and a dict
    of counts (``dropped_categories`` and ``rare_categories`` give, per category name, how
    many documents carried it).
    """
    dropped = set(dropped_categories)
    stats: Counter[str] = Counter(documents=len(documents))
    platform: Counter[str] = Counter()
    vendor: Counter[str] = Counter()
    malformed: Counter[str] = Counter()
    kept: list[tuple[Document, list[str]]] = []
    for document in documents:
        if word_count(document.text) < min_words:
            stats["dropped_short_text"] += 1
            continue
        labels = []
        raw = sum(len(value.split(";")) > 1 for value in document.categories)
        stats["category_values_split_at_semicolon"] += raw
        for category in normalise_categories(document.categories):
            if category in dropped:
                platform[category] += 1
            elif category.startswith(VENDOR_PREFIX):
                vendor[category] += 1
            elif not CATEGORY_NAME.fullmatch(category):
                malformed[category] += 1
            else:
                labels.append(category)
        kept.append((document, labels))

    frequency = Counter(label for _, labels in kept for label in labels)
    rare = {label: n for label, n in frequency.items() if n < min_documents}
    rows = []
    for document, labels in kept:
        final = sorted(label for label in labels if label not in rare)
        stats["dropped_rare_category_occurrences"] += len(labels) - len(final)
        if not final:
            stats["dropped_no_label"] += 1
            continue
        rows.append(
            Row(id=document.id, split=split_of(document.id), labels=final, text=document.text)
        )
    rows.sort(key=lambda row: row.id)
    stats["dropped_platform_category_occurrences"] = sum(platform.values())
    stats["dropped_vendor_category_occurrences"] = sum(vendor.values())
    stats["dropped_malformed_category_occurrences"] = sum(malformed.values())
    stats["categories_before_frequency_rule"] = len(frequency)
    stats["rare_categories_dropped"] = len(rare)
    stats["rows"] = len(rows)
    out: dict[str, Any] = dict(sorted(stats.items()))
    out["dropped_categories"] = by_frequency(platform)
    out["vendor_categories"] = by_frequency(vendor)
    out["malformed_categories"] = by_frequency(malformed)
    out["rare_categories"] = by_frequency(rare)
    return rows, out


def split_of(component_id: str) -> str:
    """``train`` / ``validation`` / ``test`` (80/10/10): :func:`salted_split` of the id with
    this data set's salt.

    ``bucket = int(sha256(SALT + id).hexdigest(), 16) % 100``; it depends on the id only, so a
    component stays in its split whatever the order of the index or the Debian snapshot.
    """
    return salted_split(component_id, SPLIT_SALT)


# ---------------------------------------------------------------------- outputs
def statistics(rows: Sequence[Row], documents: Sequence[Document] = ()) -> dict[str, Any]:
    """Counts per split, label frequencies, labels per document and text lengths.

    ``documents`` (the selected documents, by id) give the licence counts of the rows.
    """
    frequency = Counter(label for row in rows for label in row.labels)
    n = max(len(rows), 1)
    by_id = {d.id: d for d in documents}
    kept = [by_id[row.id] for row in rows if row.id in by_id]
    return {
        "documents": len(rows),
        "splits": split_counts(row.split for row in rows),
        "labels": len(frequency),
        "documents_per_label": min_median_max(frequency.values(), interpolate=True),
        "mean_labels_per_document": round(sum(len(r.labels) for r in rows) / n, 3),
        "max_labels_per_document": max((len(r.labels) for r in rows), default=0),
        "words_per_document": length_summary([word_count(row.text) for row in rows]),
        "label_frequencies": by_frequency(frequency),
        "duplicate_texts": len(rows) - len({row.text for row in rows}),
        **shared_descriptions(rows),
        "metadata_licenses": by_frequency(Counter(d.metadata_license for d in kept)),
        "project_licenses_top": dict(
            list(by_frequency(Counter(d.project_license for d in kept)).items())[:10]
        ),
    }


def shared_descriptions(rows: Sequence[Row]) -> dict[str, int]:
    """How many documents share their description (the text after the first line) with
    another document, in how many groups, and how many groups span more than one split."""
    groups: dict[str, list[Row]] = {}
    for row in rows:
        groups.setdefault(row.text.partition("\n")[2], []).append(row)
    shared = [group for group in groups.values() if len(group) > 1]
    return {
        "documents_sharing_their_description": sum(len(group) for group in shared),
        "shared_description_groups": len(shared),
        "shared_description_groups_across_splits": sum(
            len({row.split for row in group}) > 1 for group in shared
        ),
    }


def build_command(args: argparse.Namespace) -> str:
    """The command that rebuilds these outputs, every option spelled out."""
    options = [
        f"--lists={args.lists}",
        f"--suite={args.suite}",
        f"--component={args.component}",
        f"--arch={args.arch}",
        f"--min-documents={args.min_documents}",
        f"--min-words={args.min_words}",
    ]
    return rebuild_command(
        f"{APT_UPDATE} && python scripts/build_appstream.py",
        options,
        out=args.out,
        default_out=DEFAULT_OUT,
    )


def index_key(args: argparse.Namespace, path: Path) -> str:
    """The index's path as the release file lists it (``main/dep11/Components-amd64.yml.gz``)."""
    suffix = path.name.rpartition(f"Components-{args.arch}.yml")[2]
    return f"{args.component}/dep11/Components-{args.arch}.yml{suffix}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lists", type=Path, default=DEFAULT_LISTS, help="apt lists folder")
    parser.add_argument("--suite", default=DEFAULT_SUITE)
    parser.add_argument("--component", default=DEFAULT_COMPONENT)
    parser.add_argument("--arch", default=DEFAULT_ARCH)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--min-documents", type=int, default=MIN_DOCUMENTS)
    parser.add_argument("--min-words", type=int, default=MIN_WORDS)
    args = parser.parse_args(argv)

    dists = f"*_dists_{args.suite}_"
    inrelease = find_index(args.lists, f"{dists}InRelease", update_command=APT_UPDATE)
    index_path = find_index(
        args.lists,
        f"{dists}{args.component}_dep11_Components-{args.arch}.yml*",
        update_command=APT_UPDATE,
    )
    release = parse_release(read_index(inrelease), source=str(inrelease))
    checksums = release_checksums(release)
    compressed = index_path.read_bytes()
    raw = decompress(index_path)
    header, components = parse_dep11(raw.decode("utf-8"))

    documents, selection = collect_documents(components)
    rows, rule_stats = apply_label_rule(
        documents, min_documents=args.min_documents, min_words=args.min_words
    )
    stats = statistics(rows, documents)

    uncompressed_key = f"{args.component}/dep11/Components-{args.arch}.yml"
    listed = checksums.get(index_key(args, index_path))
    listed_plain = checksums.get(uncompressed_key)
    args.out.mkdir(parents=True, exist_ok=True)
    data_path = args.out / DATA_FILE
    write_jsonl_gz(rows, data_path)
    metadata = {
        "name": "appstream",
        "description": (
            "English descriptions of Debian's desktop applications (AppStream name, summary "
            "and description) labelled with their freedesktop.org menu categories; flat "
            "multi-label"
        ),
        "source": {
            "archive": "Debian",
            "suite": args.suite,
            "component": args.component,
            "architecture": args.arch,
            "release": release_summary(release),
            "files": {
                inrelease.name: {
                    "sha256": sha256_bytes(inrelease.read_bytes()),
                    "bytes": inrelease.stat().st_size,
                },
                index_path.name: {
                    "sha256": sha256_bytes(compressed),
                    "bytes": len(compressed),
                    "release_path": index_key(args, index_path),
                    "matches_release_checksum": listed
                    == (sha256_bytes(compressed), len(compressed)),
                    "uncompressed_sha256": sha256_bytes(raw),
                    "uncompressed_bytes": len(raw),
                    "uncompressed_matches_release_checksum": listed_plain
                    == (sha256_bytes(raw), len(raw)),
                },
            },
            "dep11_header": {k: str(v) for k, v in header.items()},
            "components": len(components),
            "component_types": {
                k.partition(":")[2]: v
                for k, v in sorted(selection.items(), key=lambda kv: (-kv[1], kv[0]))
                if k.startswith("type:")
            },
            "selected_applications": len(documents),
            "selected_by_type": dict(sorted(Counter(d.type for d in documents).items())),
            "skipped": {
                k.partition(":")[2]: v
                for k, v in sorted(selection.items())
                if k.startswith("skipped:")
            },
        },
        "build_date": build_date(),
        "build_command": build_command(args),
        "file": data_file_entry(
            data_path,
            "gzip-compressed JSON lines: id, labels, split, text (keys sorted); sorted by id",
        ),
        "document_rule": {
            "types": list(APPLICATION_TYPES),
            "console_application_needs_categories": True,
            "english_keys": list(ENGLISH_KEYS),
            "text": 'Name + ". " + Summary + "\\n" + flattened Description',
            "flattening": (
                "one line per `<p>`; one line per `<li>`, prefixed `- `; inline markup dropped, "
                "character references decoded, white space collapsed"
            ),
            "repeated_ids": "the first component in file order is kept",
            "min_words": args.min_words,
        },
        "label_rule": {
            "labels": "freedesktop.org menu categories, flat (no hierarchy)",
            "dropped_categories": DROPPED_CATEGORIES,
            "dropped_prefix": VENDOR_PREFIX,
            "category_name_pattern": CATEGORY_NAME.pattern,
            "min_documents_per_label": args.min_documents,
            "split": split_rule(SPLIT_SALT),
            "counts": rule_stats,
        },
        "statistics": stats,
    }
    write_metadata_and_readme(args.out, metadata, render_readme(metadata))
    summary = {k: v for k, v in stats.items() if k != "label_frequencies"}
    print(
        json.dumps(
            {"file": metadata["file"], "source": metadata["source"]["skipped"], **summary}, indent=2
        )
    )
    return 0


# ---------------------------------------------------------------------- README
def render_readme(meta: Mapping[str, Any]) -> str:
    """The data set's README, every number taken from ``meta``."""
    src, doc, rule, st = (
        meta["source"],
        meta["document_rule"],
        meta["label_rule"],
        meta["statistics"],
    )
    rel, c = src["release"], rule["counts"]
    files = file_list(src["files"])
    index = next(f for f in src["files"].values() if "release_path" in f)
    verified = (
        f"its SHA-256 and size match the `{index['release_path']}` entry of the InRelease file"
        if index["matches_release_checksum"]
        else f"its SHA-256 does not match the `{index['release_path']}` entry of the InRelease "
        "file (apt recompressed it)"
    )
    if index["uncompressed_matches_release_checksum"]:
        verified += "; its uncompressed content matches the uncompressed entry"
    skipped = src["skipped"]
    dropped = "\n".join(
        f"   - `{name}`: {why}." for name, why in rule["dropped_categories"].items()
    )
    types = ", ".join(f"{kind} {n:,}" for kind, n in src["component_types"].items())
    selected = ", ".join(f"{kind} {n:,}" for kind, n in src["selected_by_type"].items())
    splits = markdown_table(["split", "documents"], ([s, n] for s, n in st["splits"].items()))
    labels = markdown_table(
        ["label", "documents"], ([f"`{k}`", v] for k, v in st["label_frequencies"].items())
    )
    dpl, wpd = st["documents_per_label"], st["words_per_document"]
    meta_licenses = ", ".join(f"{name} {n:,}" for name, n in st["metadata_licenses"].items())
    project_licenses = ", ".join(f"{name} {n:,}" for name, n in st["project_licenses_top"].items())
    return f"""# appstream: Debian's desktop applications labelled with their menu categories

*Written by `scripts/build_appstream.py`: edit the script and rebuild, not this file.*

A flat multi-label data set: {st["documents"]:,} applications, {st["labels"]} labels, documents
of {wpd["median"]} words at the median. Each line of `appstream.jsonl.gz` is a JSON object with
the keys `id` (the AppStream component id), `labels` (sorted freedesktop.org categories),
`split` (`train`, `validation` or `test`) and `text`. Read it with no network:

```python
import gzip, json
from importlib.resources import files

path = files("mlcl_text.data") / "appstream" / "appstream.jsonl.gz"
with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
    rows = [json.loads(line) for line in lines]
```

## Provenance

- Archive: {rel["Origin"]} {rel["Codename"]} ({rel["Suite"]}, version {rel["Version"]}),
  component `{src["component"]}`, architecture `{src["architecture"]}`.
- Release file date: {rel["Date"]}.
- DEP-11 header: origin `{src["dep11_header"].get("Origin", "")}`, version
  {src["dep11_header"].get("Version", "")}, generated {src["dep11_header"].get("Time", "")}.
- Built on: {meta["build_date"]}.
- Files, as `apt-get update` left them in `/var/lib/apt/lists` (the `DEP-11` index target is
  declared by the `appstream` package's `/etc/apt/apt.conf.d/50appstream`):

{files}

  The index is the `{index["release_path"]}` of the archive: {verified}.
  Uncompressed: {index["uncompressed_bytes"]:,} bytes, SHA-256 `{index["uncompressed_sha256"]}`.

Build command:

```
{meta["build_command"]}
```

The build needs the Python standard library and PyYAML. The same inputs give a byte-identical
`appstream.jsonl.gz`: {meta["file"]["bytes"]:,} bytes, SHA-256 `{meta["file"]["sha256"]}`.
`metadata.json` holds every parameter and number quoted here.

## Licence

There is no single licence for this data set. The names, summaries and descriptions are
written by the upstream projects (in their AppStream MetaInfo files, or their `.desktop` files
for applications without one); Debian's appstream-generator collected them from the packages
of bookworm `main` and Debian publishes them in the archive's DEP-11 index. The AppStream
specification asks every MetaInfo file to put its metadata under one of a few permissive
licences (`metadata_license`: CC0-1.0, FSFAP, MIT, CC-BY-SA-3.0 …), but the DEP-11 records of
this index carry no `MetadataLicense` field: counted over the documents, {meta_licenses}.
Check the upstream MetaInfo file of an application for its metadata licence. For
information, the licences of the software itself (`ProjectLicense`, not the licence of the
text) on the documents, most frequent first: {project_licenses}. This copy is offered, like any
Debian mirror's indexes, for research and demonstration.

## Document rule

The index holds {src["components"]:,} components ({types}). Kept are the components of type
`desktop-application`, and `console-application` when it has categories, with an English
(`C`, else `en`) name, summary and description: {src["selected_applications"]:,} ({selected}).
Skipped: {skipped.get("not_an_application", 0):,} other types,
{skipped.get("console_application_without_categories", 0):,} console applications without
categories, {skipped.get("no_english_description", 0):,} without an English description,
{skipped.get("no_english_name_or_summary", 0):,} without an English name or summary, and
{skipped.get("repeated_id", 0):,} repeats of a component id (the first in file order is kept).

The text is `{doc["text"]}`: {doc["flattening"]}.
Texts under {doc["min_words"]} words are dropped: {c.get("dropped_short_text", 0):,}.

## Label rule

Labels are the freedesktop.org menu categories of the application, flat (no category is a
parent of another; `Game` and `LogicGame` are two labels). Category values are first split
at `;` (values split: {c.get("category_values_split_at_semicolon", 0)}, such as `"AudioVideo;"`).
Then:

1. Categories that say which toolkit or desktop an application is built for, or how it runs,
   rather than what it does, are dropped ({c.get("dropped_platform_category_occurrences", 0):,}
   occurrences: {listing(c["dropped_categories"].items())}):

{dropped}

2. Vendor categories (prefix `{rule["dropped_prefix"]}`) are dropped
   ({c.get("dropped_vendor_category_occurrences", 0):,} occurrences), and so are malformed
   names (not matching `{rule["category_name_pattern"]}`;
   {c.get("dropped_malformed_category_occurrences", 0):,} occurrences).
3. Of the {c.get("categories_before_frequency_rule", 0)} categories left, those with fewer than
   {rule["min_documents_per_label"]} documents are dropped: {c.get("rare_categories_dropped", 0)}
   categories, {c.get("dropped_rare_category_occurrences", 0):,} occurrences
   ({listing(c["rare_categories"].items())}).
4. Documents left without labels are dropped: {c.get("dropped_no_label", 0):,}.

Split: {rule["split"]}; that is 80/10/10 by component id, stable whatever the order of the
index or the Debian snapshot.

## Sizes

{splits}

Documents in all: {st["documents"]:,}. Text length in words: p10 {wpd["p10"]}, median
{wpd["median"]}, p90 {wpd["p90"]} (mean {wpd["mean"]}; nearest-rank percentiles). Documents
whose whole text equals another's: {st["duplicate_texts"]}. Documents whose description (the
text after the first line) equals another's: {st["documents_sharing_their_description"]}, in
{st["shared_description_groups"]} groups, {st["shared_description_groups_across_splits"]} of
them spanning more than one split (one upstream description shared by the several
applications of a package, e.g. a game collection): a near-duplicate between train and test
that the name and summary line tells apart.

## Label statistics

- Labels: {st["labels"]}.
- Documents per label: min {dpl["min"]}, median {dpl["median"]}, max {dpl["max"]}.
- Labels per document: {st["mean_labels_per_document"]} on average, at most
  {st["max_labels_per_document"]}.

{labels}
"""


if __name__ == "__main__":
    sys.exit(main())
