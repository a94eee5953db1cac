#!/usr/bin/env python3
"""Build mlcl-text's embedded demo data set ``debtags`` from Debian's apt indexes.

Documents are Debian package descriptions (short description + long description) and their
labels are the package's debtags (``facet::tag`` values such as ``devel::lang:python`` or
``use::editing``): a real hierarchical multi-label label set, facet → tag → subtag.

Usage (on a Debian bookworm machine; needs only the Python standard library)::

    apt-get update -o Acquire::Languages=en
    python scripts/build_debtags.py

It reads ``Packages`` (``Package``, ``Tag``, ``Description``, ``Description-md5``,
``Section``) and ``Translation-en`` (``Package``, ``Description-md5``, ``Description-en``)
of ``bookworm main`` for ``amd64`` as ``apt-get update`` leaves them under
``/var/lib/apt/lists`` (plain, ``.lz4``, ``.gz`` or ``.xz``), plus the suite's ``InRelease``
for the release and its date, and writes into ``mlcl_text/data/debtags/``:

* ``debtags.jsonl.gz``: one JSON object a line, ``{"id", "split", "section", "labels",
  "text"}``, sorted by ``id``; ``labels`` are the document's most specific labels (the loader
  closes them under ancestors). Byte-identical for identical inputs (gzip ``mtime`` 0, no
  file name, sorted rows and keys).
* ``metadata.json``: source release and files (with SHA-256), the label rule's parameters,
  counts per split and label statistics. Only ``build_date`` changes between runs; it follows
  ``SOURCE_DATE_EPOCH`` when that is set.
* ``README.md``: provenance, licence, build command, label rule and statistics, every number
  taken from the build.

The label rule (see :func:`apply_label_rule`) and the split rule (see :func:`split_of`) are
documented in the generated README.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _build_common import (
    DATA_DIR,
    DEFAULT_ARCH,
    DEFAULT_COMPONENT,
    DEFAULT_LISTS,
    DEFAULT_SUITE,
    build_date,
    by_frequency,
    closure,
    data_file_entry,
    descendant_count,
    file_list,
    find_index,
    frequency_extremes,
    labels_by_depth,
    listing,
    markdown_table,
    mean_labels_per_depth,
    most_specific,
    parse_deb822,
    parse_release,
    prefixes,
    read_index,
    rebuild_command,
    release_summary,
    salted_split,
    sha256_file,
    split_counts,
    split_rule,
    write_jsonl_gz,
    write_metadata_and_readme,
)

DEFAULT_OUT = DATA_DIR / "debtags"
#: The command that downloads the indexes this script reads, English descriptions included.
APT_UPDATE = "apt-get update -o Acquire::Languages=en"

#: Facets whose tags say how a package is built or packaged, or which project it belongs
#: to, rather than what the software does or is about; a description rarely states them.
DROPPED_FACETS: dict[str, str] = {
    "role": (
        "the binary package's packaging role (program, shared-lib, devel-lib, documentation, "
        "app-data, …): which slice of a source package this is, not its subject; it would "
        "dominate the label set (it is on most packages) and be learned from boilerplate "
        "sentences such as 'This package contains the development files'"
    ),
    "implemented-in": (
        "the language the software is written in, mostly derived from dependencies; program "
        "descriptions rarely say it (for libraries devel::lang:* carries the language)"
    ),
    "uitoolkit": (
        "the GUI toolkit linked against (gtk, qt, ncurses, …), mostly derived from "
        "dependencies and rarely named in the description"
    ),
    "made-of": (
        "the file formats the package is made of (html, pdf, man, …): packaging content, "
        "not subject"
    ),
    "scope": "a subjective size class (utility, application, suite), not a subject",
    "suite": (
        "the project a package belongs to (gnu, debian, kde, …); status 'controversial' in "
        "the debtags vocabulary and often not stated in the description"
    ),
    "special": "service tags of the debtags project, not properties of the software",
    "secteam": "the security team's status tags, not properties of the software",
}
#: A tag (after truncation, counted with its descendants) needs this many documents.
MIN_DOCUMENTS = 20
#: Shorter texts (short + long description, in characters) are dropped.
MIN_TEXT_CHARS = 80
#: Packages carrying this tag are transitional or dummy packages whose description is
#: boilerplate ("transitional package, can be safely removed"); they are dropped.
DUMMY_TAG = "role::dummy"
#: Placeholder segment debtags uses for "to be decided"; such tags are dropped.
PLACEHOLDER = "TODO"
SPLIT_SALT = "mlcl-text/debtags/v1:"
#: The split bucket comes from the first 8 bytes of the digest (see :func:`split_of`).
SPLIT_DIGEST_BYTES = 8
SEPARATORS = ("::", ":")
_SEPARATOR = re.compile("|".join(re.escape(s) for s in sorted(SEPARATORS, key=len, reverse=True)))


# ---------------------------------------------------------------------- reading indexes
def parse_tags(value: str) -> list[str]:
    """The tags of a ``Tag`` field value (comma-separated, possibly over several lines)."""
    return [tag.strip() for tag in value.replace("\n", " ").split(",") if tag.strip()]


def description_text(value: str) -> str:
    """``short description + "\\n" + long description`` of a deb822 description value.

    The first line is the short description. Each continuation line loses its first space;
    a line holding only ``.`` becomes a blank line (a paragraph break). Trailing white space
    is removed from every line, runs of blank lines collapse to one, and blank lines at the
    end are dropped.
    """
    first, *rest = value.split("\n")
    lines = [first.strip()]
    for line in rest:
        body = line[1:] if line[:1] in (" ", "\t") else line
        body = body.rstrip()
        if body == ".":
            body = ""
        if body == "" and lines[-1] == "":
            continue
        lines.append(body)
    while len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return "\n".join(lines)


# ---------------------------------------------------------------------- joining
@dataclass
class Package:
    name: str
    section: str
    tags: list[str]
    text: str
    translated: bool


def join_indexes(
    packages: Iterable[Mapping[str, str]], translations: Iterable[Mapping[str, str]]
) -> tuple[list[Package], Counter[str]]:
    """Join ``Packages`` stanzas with ``Translation-en`` stanzas by ``Description-md5``.

    Only packages with a ``Tag`` field are kept. The text comes from the translation with the
    package's ``Description-md5``; a package without one falls back to its own
    ``Description`` field (in these indexes that is the short description only, so the
    length rule usually drops it). A package name seen twice keeps its first stanza.
    Returns the packages and counts of what was skipped.
    """
    by_md5: dict[str, str] = {}
    for stanza in translations:
        md5, description = stanza.get("Description-md5"), stanza.get("Description-en")
        if md5 and description is not None:
            by_md5.setdefault(md5, description)
    out: list[Package] = []
    seen: set[str] = set()
    skipped: Counter[str] = Counter()
    for stanza in packages:
        name = stanza.get("Package")
        if not name:
            skipped["stanza without Package"] += 1
            continue
        if name in seen:
            skipped["repeated package name"] += 1
            continue
        seen.add(name)
        if "Tag" not in stanza:
            skipped["no Tag field"] += 1
            continue
        description = by_md5.get(stanza.get("Description-md5", ""))
        translated = description is not None
        if description is None:
            description = stanza.get("Description")
        if description is None:
            skipped["no description"] += 1
            continue
        out.append(
            Package(
                name=name,
                section=stanza.get("Section", ""),
                tags=parse_tags(stanza["Tag"]),
                text=description_text(description),
                translated=translated,
            )
        )
    return out, skipped


# ---------------------------------------------------------------------- the label rule
@dataclass
class Row:
    id: str
    split: str
    section: str
    labels: list[str]
    text: str


def apply_label_rule(
    packages: Sequence[Package],
    *,
    dropped_facets: Iterable[str] = tuple(DROPPED_FACETS),
    min_documents: int = MIN_DOCUMENTS,
    min_text_chars: int = MIN_TEXT_CHARS,
) -> tuple[list[Row], dict[str, Any]]:
    """Turn joined packages into labelled rows, sorted by ``id``.

    In order:

    1. drop transitional/dummy packages (tagged ``role::dummy``);
    2. drop texts shorter than ``min_text_chars`` characters;
    3. drop tags of ``dropped_facets``, placeholder tags (a ``TODO`` segment) and malformed
       tags (without ``facet::``);
    4. merge identical texts into one row: its ``id`` is the smallest package name, its
       labels the union of theirs (identical descriptions, e.g. of a library and its
       variants, describe the same software, so every tag one of them carries applies);
    5. count every label with its descendants (``devel::lang`` counts the documents of all
       ``devel::lang:*``) and replace a label with fewer than ``min_documents`` documents
       by its deepest ancestor that has enough; drop it when none has (so
       ``devel::lang:ada`` becomes ``devel::lang``, and a rare facet disappears). Counting
       with descendants makes every label of the final tree reach ``min_documents``;
    6. drop rows left without labels.

    Returns the rows and a dict counting what each step removed (with the most often
    truncated tags under ``most_truncated_tags``: ``[tag, ancestor, documents]``).
    """
    dropped = set(dropped_facets)
    stats: Counter[str] = Counter(joined_packages=len(packages))
    by_text: dict[str, tuple[list[Package], set[str]]] = {}
    for package in packages:
        if DUMMY_TAG in package.tags:
            stats["dropped_dummy_or_transitional"] += 1
            continue
        if len(package.text) < min_text_chars:
            stats["dropped_short_text"] += 1
            continue
        labels = set()
        for tag in package.tags:
            facet, sep, _ = tag.partition("::")
            if not sep or not facet:
                stats["dropped_tag_malformed"] += 1
            elif facet in dropped:
                stats["dropped_tag_facet"] += 1
            elif PLACEHOLDER in _SEPARATOR.split(tag):
                stats["dropped_tag_placeholder"] += 1
            else:
                labels.add(tag)
        group = by_text.setdefault(package.text, ([], set()))
        group[0].append(package)
        group[1].update(labels)

    merged = []
    for text, (group, labels) in by_text.items():
        stats["merged_duplicate_texts"] += len(group) - 1
        names = sorted(p.name for p in group)
        first = min(group, key=lambda p: p.name)
        merged.append((names, first.section, labels, text))

    counts: Counter[str] = Counter()
    truncated: Counter[tuple[str, str]] = Counter()
    for _, _, labels, _ in merged:
        counts.update(closure(labels, SEPARATORS))
    rows = []
    for names, section, labels, text in merged:
        kept = set()
        for label in labels:
            enough = [p for p in prefixes(label, SEPARATORS) if counts[p] >= min_documents]
            if not enough:
                stats["dropped_tag_rare"] += 1
                continue
            if enough[-1] != label:
                stats["truncated_tag_rare"] += 1
                truncated[label, enough[-1]] += 1
            kept.add(enough[-1])
        if not kept:
            stats["dropped_no_label"] += 1
            continue
        rows.append(
            Row(
                id=names[0],
                split=split_of(names[0]),
                section=section,
                labels=most_specific(kept, SEPARATORS),
                text=text,
            )
        )
    rows.sort(key=lambda row: row.id)
    stats["rows"] = len(rows)
    out: dict[str, Any] = dict(sorted(stats.items()))
    out["most_truncated_tags"] = [
        [tag, ancestor, n] for (tag, ancestor), n in list(by_frequency(truncated).items())[:10]
    ]
    return rows, out


def split_of(name: str) -> str:
    """``train`` / ``validation`` / ``test`` (80/10/10): :func:`salted_split` of ``name``
    with this data set's salt, its bucket from the first 8 bytes of the digest.

    Depends on the package name only, so a package stays in its split whatever the order of
    the index or the Debian snapshot.
    """
    return salted_split(name, SPLIT_SALT, digest_bytes=SPLIT_DIGEST_BYTES)


# ---------------------------------------------------------------------- outputs
def statistics(rows: Sequence[Row], top: int = 15) -> dict[str, Any]:
    """Counts per split, labels per level, labels per document and label frequencies."""
    closed = [closure(row.labels, SEPARATORS) for row in rows]
    frequency = Counter(label for labels in closed for label in labels)
    by_level = labels_by_depth(frequency, SEPARATORS)
    n = max(len(rows), 1)
    most, least = frequency_extremes(list(by_frequency(frequency).items()), top)
    facets = sorted(by_level.get(1, []), key=lambda f: (-frequency[f], f))
    return {
        "documents": len(rows),
        "splits": split_counts(row.split for row in rows),
        "labels": len(frequency),
        "labels_per_level": {str(d): len(by_level[d]) for d in sorted(by_level)},
        "mean_labels_per_document": round(sum(map(len, closed)) / n, 3),
        "mean_most_specific_labels_per_document": round(sum(len(r.labels) for r in rows) / n, 3),
        "mean_labels_per_document_per_level": mean_labels_per_depth(
            closed, sorted(by_level), SEPARATORS
        ),
        "documents_with_a_level_3_label": sum(
            any(len(prefixes(x, SEPARATORS)) == 3 for x in c) for c in closed
        ),
        "facets": {
            f: {"documents": frequency[f], "labels": descendant_count(f, frequency, "::")}
            for f in facets
        },
        "most_frequent_labels": most,
        "least_frequent_labels": least,
        "mean_text_chars": round(sum(len(r.text) for r in rows) / n, 1),
        "median_text_chars": sorted(len(r.text) for r in rows)[len(rows) // 2] if rows else 0,
    }


def build_command(args: argparse.Namespace) -> str:
    """The command that rebuilds these outputs, every option spelled out."""
    options = [
        f"--lists={args.lists}",
        f"--suite={args.suite}",
        f"--component={args.component}",
        f"--arch={args.arch}",
        f"--min-documents={args.min_documents}",
        f"--min-text-chars={args.min_text_chars}",
    ]
    return rebuild_command(
        f"{APT_UPDATE} && python scripts/build_debtags.py",
        options,
        out=args.out,
        default_out=DEFAULT_OUT,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lists", type=Path, default=DEFAULT_LISTS, help="apt lists folder")
    parser.add_argument("--suite", default=DEFAULT_SUITE)
    parser.add_argument("--component", default=DEFAULT_COMPONENT)
    parser.add_argument("--arch", default=DEFAULT_ARCH)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--min-documents", type=int, default=MIN_DOCUMENTS)
    parser.add_argument("--min-text-chars", type=int, default=MIN_TEXT_CHARS)
    args = parser.parse_args(argv)

    dists = f"*_dists_{args.suite}_"
    inrelease = find_index(args.lists, f"{dists}InRelease", update_command=APT_UPDATE)
    packages_path = find_index(
        args.lists,
        f"{dists}{args.component}_binary-{args.arch}_Packages*",
        update_command=APT_UPDATE,
    )
    translation_path = find_index(
        args.lists, f"{dists}{args.component}_i18n_Translation-en*", update_command=APT_UPDATE
    )
    release = parse_release(read_index(inrelease), source=str(inrelease))
    packages = parse_deb822(read_index(packages_path), source=str(packages_path))
    translations = parse_deb822(read_index(translation_path), source=str(translation_path))

    joined, skipped = join_indexes(packages, translations)
    rows, rule_stats = apply_label_rule(
        joined, min_documents=args.min_documents, min_text_chars=args.min_text_chars
    )
    stats = statistics(rows)

    args.out.mkdir(parents=True, exist_ok=True)
    data_path = args.out / "debtags.jsonl.gz"
    write_jsonl_gz(rows, data_path, sort_keys=False)
    metadata = {
        "name": "debtags",
        "description": (
            "Debian package descriptions (short + long) labelled with their debtags, "
            "facet → tag → subtag"
        ),
        "source": {
            "archive": "Debian",
            "suite": args.suite,
            "component": args.component,
            "architecture": args.arch,
            "release": release_summary(release),
            "files": {
                path.name: {"sha256": sha256_file(path), "bytes": path.stat().st_size}
                for path in (inrelease, packages_path, translation_path)
            },
            "packages_stanzas": len(packages),
            "translation_stanzas": len(translations),
            "joined_tagged_packages": len(joined),
            "joined_without_translation": sum(not p.translated for p in joined),
            "skipped": dict(sorted(skipped.items())),
        },
        "build_date": build_date(),
        "build_command": build_command(args),
        "file": data_file_entry(
            data_path, "gzip-compressed JSON lines: id, split, section, labels, text; sorted by id"
        ),
        "label_rule": {
            "dropped_facets": DROPPED_FACETS,
            "min_documents_per_label": args.min_documents,
            "min_text_chars": args.min_text_chars,
            "dropped_packages_tagged": DUMMY_TAG,
            "placeholder_segment": PLACEHOLDER,
            "separators": list(SEPARATORS),
            "duplicate_texts": "merged: smallest package name as id, union of labels",
            "split": split_rule(SPLIT_SALT, digest_bytes=SPLIT_DIGEST_BYTES),
            "counts": rule_stats,
        },
        "statistics": stats,
    }
    write_metadata_and_readme(args.out, metadata, render_readme(metadata))
    print(
        json.dumps({"file": metadata["file"], "label_rule_counts": rule_stats, **stats}, indent=2)
    )
    return 0


# ---------------------------------------------------------------------- README
def render_readme(meta: Mapping[str, Any]) -> str:
    """The data set's README, every number taken from ``meta``."""
    src, rule, st, rel = (
        meta["source"],
        meta["label_rule"],
        meta["statistics"],
        meta["source"]["release"],
    )
    c = rule["counts"]
    files = file_list(src["files"])
    dropped = "\n".join(f"   - `{facet}`: {why}." for facet, why in rule["dropped_facets"].items())
    kept = markdown_table(
        ["facet", "documents", "labels below it"],
        ([f"`{f}`", v["documents"], v["labels"]] for f, v in st["facets"].items()),
    )
    per_level = markdown_table(
        ["level", "labels", "mean labels per document"],
        (
            [d, n, st["mean_labels_per_document_per_level"][d]]
            for d, n in st["labels_per_level"].items()
        ),
    )
    splits = markdown_table(["split", "documents"], ([s, n] for s, n in st["splits"].items()))
    truncated = ", ".join(
        f"`{tag}` → `{ancestor}` in {n} documents"
        for tag, ancestor, n in c["most_truncated_tags"][:3]
    )
    most = listing(st["most_frequent_labels"], empty="")
    least = listing(st["least_frequent_labels"], empty="")
    return f"""# debtags: Debian package descriptions labelled with debtags

*Written by `scripts/build_debtags.py`: edit the script and rebuild, not this file.*

Load it with no network:

```python
from mlcl_text.data import load

dataset, tree = load("debtags")  # the packaged file
dataset, tree = load("debtags", max_train=2000)  # a seeded subsample of train for demos
```

Each split has the columns `text` (short description, a newline, the long description),
`labels` (debtags closed under ancestors: `devel::lang:python` brings `devel` and
`devel::lang`) and `id` (the Debian package name). The label tree is
`LabelTree.from_paths(labels, sep=("::", ":"))`: facet → tag → subtag.

## Provenance

- Archive: {rel["Origin"]} {rel["Codename"]} ({rel["Suite"]}, version {rel["Version"]}),
  component `{src["component"]}`, architecture `{src["architecture"]}`.
- Release file date: {rel["Date"]}.
- Built on: {meta["build_date"]}.
- Indexes, as `apt-get update -o Acquire::Languages=en` left them in `/var/lib/apt/lists`:

{files}

`Packages` gives `Package`, `Tag` (the debtags), `Section` and `Description-md5`;
`Translation-en` gives the English description for that `Description-md5`.
Package stanzas: {src["packages_stanzas"]:,}; with debtags: {src["joined_tagged_packages"]:,};
of those without an English translation entry: {src["joined_without_translation"]:,}.

Build command:

```
{meta["build_command"]}
```

The build needs only the Python standard library (`lz4cat` or `apt-helper cat-file` read
`.lz4` indexes when the `lz4` Python package is absent). The same inputs give a
byte-identical `debtags.jsonl.gz`: {meta["file"]["bytes"]:,} bytes, SHA-256
`{meta["file"]["sha256"]}`. `metadata.json` holds every parameter and number quoted here.

## Licence

There is no single licence for this data set. The package descriptions are written by the
package maintainers and upstream authors and are distributed in the Debian archive as part of
each package's control data; each description is covered by the copyright and licence of its
package, all of them in Debian `main` and so free under the Debian Free Software Guidelines
(DFSG), but the licences differ from package to package (GPL, BSD, MIT, Apache, …). The
debtags were assigned by Debian contributors through the Debian debtags project
(https://wiki.debian.org/Debtags) and are published by Debian in the archive's `Packages`
indexes; we know of no separate licence statement for the tag data (the `debtags` package's
copyright file covers the debtags software, GPL-2, not the tags). This copy is offered, like
any Debian mirror's indexes, for research and demonstration; check the licence of the
packages concerned before another use.

## Label rule

Every document is one package (identical texts merged), labelled with its debtags after
this rule (the number after each step is what it removed):

1. Packages tagged `{rule["dropped_packages_tagged"]}` (transitional or dummy packages, whose
   description is boilerplate) are dropped: {c.get("dropped_dummy_or_transitional", 0):,} packages.
2. Texts shorter than {rule["min_text_chars"]} characters are dropped:
   {c.get("dropped_short_text", 0):,} packages.
3. Tags of these facets, which say how a package is built or packaged or which project it
   belongs to rather than what it does, are dropped: {c.get("dropped_tag_facet", 0):,} tags.

{dropped}

   Tags with a `{rule["placeholder_segment"]}` segment (debtags' "to be decided"
   placeholder) are dropped too: {c.get("dropped_tag_placeholder", 0):,} tags.
4. Identical texts are merged into one document; its `id` is the smallest package name and
   its labels are the union of theirs, since identical descriptions describe the same
   software: {c.get("merged_duplicate_texts", 0):,} packages merged into others.
5. Every label is counted with its descendants, and a label with fewer than
   {rule["min_documents_per_label"]} documents is replaced by its deepest ancestor that has
   enough (e.g. {truncated}), or dropped when none has:
   {c.get("truncated_tag_rare", 0):,} tags truncated, {c.get("dropped_tag_rare", 0):,} dropped.
   Every label of the tree therefore has at least {rule["min_documents_per_label"]} documents.
6. Documents left without labels are dropped: {c.get("dropped_no_label", 0):,} packages.

Split: {rule["split"]}; that is 80/10/10 by package name, stable whatever the order of the
index or the Debian snapshot.

## Sizes

{splits}

Documents in all: {st["documents"]:,}. Text length: {st["mean_text_chars"]:,} characters on
average, median {st["median_text_chars"]:,}.

## Label statistics

- Labels: {st["labels"]:,} on {len(st["labels_per_level"])} levels.
- Labels per document: {st["mean_labels_per_document"]} on average, ancestor-closed
  ({st["mean_most_specific_labels_per_document"]} most specific ones).
- Documents with a level-3 label: {st["documents_with_a_level_3_label"]:,}.

{per_level}

Facets kept, with the documents carrying them and the number of labels below them:

{kept}

Most frequent labels: {most}.

Least frequent labels: {least}.
"""


if __name__ == "__main__":
    sys.exit(main())
