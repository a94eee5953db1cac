#!/usr/bin/env python3
"""Build mlcl-text's packaged data set ``pypi`` from the PyPI JSON API.

Documents are the long descriptions of Python projects on PyPI (their README as published:
``info.description`` of ``https://pypi.org/pypi/<name>/json``), cleaned to plain text and cut
to their first 1,000 words; labels are the projects' ``Topic :: …`` trove classifiers, each
full classifier string one flat label (``Topic :: Scientific/Engineering :: Artificial
Intelligence``). A flat multi-label set of long documents with many labels.

Usage (needs the Python standard library and network access to pypi.org)::

    python scripts/build_pypi.py --cache=/tmp/mlcl-text-pypi-cache

It works in two separable steps:

1. **fetch** (skipped with ``--offline``): download the PyPI simple index
   (``https://pypi.org/simple/``, asking for its JSON form), choose the projects of a seeded,
   reproducible sample (:func:`sampled`) and download their JSON with a small thread pool (at
   most 8 requests at a time, with timeouts and retries). Every raw response goes into the
   cache folder (:func:`write_cache_entry`), so a rebuild never fetches a project twice.
2. **build**: read the index and the responses from the cache only and write into
   ``mlcl_text/data/pypi/``:

* ``pypi.jsonl.gz``: one JSON object a line, ``{"id", "labels", "license", "split", "text"}``
  (keys sorted), rows sorted by ``id`` (the normalised project name); ``license`` is the
  project's ``License :: OSI Approved :: …`` classifier. Byte-identical for identical inputs
  (gzip ``mtime`` 0, no file name, sorted rows and keys).
* ``metadata.json``: the sources (index size and checksum, sample, fetch dates), the document
  and label rules with their parameters, every count they produce, and statistics. Only
  ``build_date`` changes between runs from the same cache; it follows ``SOURCE_DATE_EPOCH``
  when that is set.
* ``README.md``: provenance, licence, build command, rules and statistics, every number taken
  from ``metadata.json``.

``--offline`` runs the build step alone on an existing cache: the same cache gives the same
files. The document rule is :func:`project_document` (text cleanup: :func:`clean_description`),
the label rule :func:`apply_label_rule` and the split rule :func:`split_of`.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as _dt
import gzip
import hashlib
import html
import http.client
import io
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from _build_common import (
    DATA_DIR,
    LABEL_SEP,
    build_date,
    by_frequency,
    data_file_entry,
    length_summary,
    markdown_table,
    min_median_max,
    percentile,
    rebuild_command,
    salted_split,
    sha256_bytes,
    split_counts,
    split_rule,
    word_count,
    write_jsonl_gz,
    write_metadata_and_readme,
)

NAME = "pypi"
DEFAULT_OUT = DATA_DIR / NAME
DATA_FILE = f"{NAME}.jsonl.gz"
DEFAULT_CACHE = Path("/tmp/mlcl-text-pypi-cache")

INDEX_URL = "https://pypi.org/simple/"
#: PEP 691: the JSON form of the simple index (a server may still answer with HTML).
INDEX_ACCEPT = "application/vnd.pypi.simple.v1+json"
PROJECT_URL = "https://pypi.org/pypi/{name}/json"
PROJECT_PAGE = "https://pypi.org/project/{name}/"
USER_AGENT = "mlcl-text-build-pypi/1 (research data set build; at most 8 concurrent requests)"
#: Requests at a time while fetching, by default and at most.
WORKERS = 8
MAX_WORKERS = 8
TIMEOUT_S = 30.0
#: Attempts per request (timeouts, connection errors, 429 and 5xx answers are retried).
ATTEMPTS = 4
RETRY_STATUSES = (429, 500, 502, 503, 504)
#: Answers that mean the project is gone (deleted, or never had a release).
GONE_STATUSES = (404, 410)

#: The sample: ``int(sha256(SAMPLE_SALT + name).hexdigest(), 16) < fraction * 2**256``.
SAMPLE_SALT = "mlcl-text/pypi/v1/sample:"
FRACTION = 0.035
SPLIT_SALT = "mlcl-text/pypi/v1:"

TOPIC_PREFIX = "Topic :: "
OSI_PREFIX = "License :: OSI Approved :: "
#: ``description_content_type`` values kept (their part before ``;``); an absent one means
#: reStructuredText (Core Metadata), and is kept too.
CONTENT_TYPES = ("text/markdown", "text/plain", "text/x-rst")
ABSENT = "(absent)"
#: Descriptions that stand for no description at all (setuptools wrote ``UNKNOWN``).
NO_DESCRIPTION = ("", "UNKNOWN", "None")
#: Texts with fewer words (white-space separated, after cleanup) are dropped.
MIN_WORDS = 150
#: Texts are cut after this many words.
MAX_WORDS = 1000
#: A label (a Topic classifier) needs this many documents.
MIN_DOCUMENTS = 10
#: The English test (:func:`looks_english`): the share of ASCII letters among all letters,
#: the share of frequent English words among the alphabetic words, and no more frequent
#: function words of other languages written in Latin letters than English ones. The English
#: words are no Python keywords (``and``, ``for``, ``if``, ``is`` … fill code in any language);
#: neither list holds short words that code, language codes or the other languages share
#: (``a``, ``de``, ``la``, ``in``).
MIN_ASCII_LETTERS = 0.9
MIN_ENGLISH_WORDS = 0.01
_ENGLISH_WORDS = (
    "the of to you that this are be by can your it will which have on at use we how when "
    "into also their our more all should has was these one using about what there"
)
ENGLISH_WORDS = frozenset(_ENGLISH_WORDS.split())
#: Spanish, French, German, Italian and Portuguese function words.
_OTHER_WORDS = (
    "que los las una para por les des une est pour dans sur avec und der ist mit für nicht "
    "auf sind che sono não uma"
)
OTHER_WORDS = frozenset(_OTHER_WORDS.split())
#: The packaged file must stay below this size.
MAX_FILE_BYTES = 8_000_000

_SPACE = re.compile(r"[^\S\n]+")
_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)
#: Markdown images, inline (``![alt](url "title")``) or by reference (``![alt][ref]``).
_MD_IMAGE = re.compile(r"!\[[^\]\n]*\](?:\([^)\n]*\)|\[[^\]\n]*\])")
#: A Markdown link left with no text once its image is gone (``[](url)``, ``[][ref]``).
_MD_EMPTY_LINK = re.compile(r"\[\s*\](?:\([^)\n]*\)|\[[^\]\n]*\])")
#: A Markdown link: its text stays, its target goes.
_MD_LINK = re.compile(r"\[([^\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+\"[^\"\n]*\")?\)")
#: A Markdown link reference definition line (``[ref]: https://…``).
_MD_LINK_DEF = re.compile(r"^ {0,3}\[[^\]\n]+\]:\s*\S+.*$", re.M)
#: A reStructuredText image or figure directive, plain or as a substitution definition,
#: with its indented option lines (``:target:``, ``:alt:`` …).
_RST_IMAGE = re.compile(
    r"^[ \t]*\.\.[ \t]+(?:\|(?P<sub>[^|\n]+)\|[ \t]+)?(?:image|figure)::[^\n]*"
    r"(?:\n[ \t]+:[^\n]*)*",
    re.M,
)
#: A reStructuredText hyperlink target line (``.. _name: https://…``).
_RST_TARGET = re.compile(r"^[ \t]*\.\.[ \t]+_[^\n]*:[ \t]*\S+[^\n]*$", re.M)
#: A reStructuredText link with an embedded target: ``\`text <url>\`_`` keeps ``text``.
_RST_LINK = re.compile(r"`([^`<\n]+?)\s*<[^>\n]+>`__?")
_URL = re.compile(r"(?:https?|ftp)://[^\s<>()\[\]\"']+")
#: A letter or digit (not ``_``): lines without one are markup (underlines, rules, borders).
_ALNUM = re.compile(r"[^\W_]")
_LETTERS = re.compile(r"[^\W\d_]")
_ALPHA_WORD = re.compile(r"[^\W\d_]+")
#: Elements whose content is never text.
_SKIPPED_ELEMENTS = ("script", "style", "svg", "math", "head", "title")
#: Elements that end a line.
_BLOCK_ELEMENT_NAMES = (
    "address article aside blockquote br dd details div dl dt figcaption figure footer form "
    "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot th "
    "thead tr ul"
)
_BLOCK_ELEMENTS = frozenset(_BLOCK_ELEMENT_NAMES.split())


# ---------------------------------------------------------------------- the index
def normalize_name(name: str) -> str:
    """A project name normalised as PEP 503 says: runs of ``-_.`` become ``-``, lower case."""
    return re.sub(r"[-_.]+", "-", name).lower()


_ANCHOR = re.compile(r"<a\b[^>]*>([^<]*)</a>", re.I)
_SERIAL_COMMENT = re.compile(r"<!--\s*SERIAL\s+(\d+)\s*-->")


def parse_index(body: bytes) -> tuple[list[str], int | None]:
    """The normalised project names of a simple index (sorted, unique) and its last serial.

    Reads the PEP 691 JSON form (``{"meta": {"_last-serial": …}, "projects": [{"name": …}]}``)
    and the PEP 503 HTML form (one ``<a>`` per project, the serial in a ``<!--SERIAL n-->``
    comment when there is one). ``None`` when the index states no serial.
    """
    text = body.decode("utf-8")
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        names = [project["name"] for project in data["projects"]]
        serial = data.get("meta", {}).get("_last-serial")
    else:
        names = [html.unescape(match) for match in _ANCHOR.findall(text)]
        found = _SERIAL_COMMENT.search(text)
        serial = int(found.group(1)) if found else None
    normalised = sorted({normalize_name(name.strip()) for name in names if name.strip()})
    return normalised, serial


def sample_threshold(fraction: float) -> int:
    """The hash bound of :func:`sampled`: ``int(fraction * 2**256)`` (exact: a power of 2)."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must lie in (0, 1], got {fraction}")
    return int(fraction * 2**256)


def sampled(names: Iterable[str], fraction: float) -> list[str]:
    """The names with ``int(sha256(SAMPLE_SALT + name).hexdigest(), 16) < fraction * 2**256``,
    in the order given.

    Each name is in or out on its own hash, so the sample does not depend on the rest of the
    index, and the sample of a smaller fraction is a subset of a larger one's.
    """
    bound = sample_threshold(fraction)
    return [
        name
        for name in names
        if int(hashlib.sha256((SAMPLE_SALT + name).encode()).hexdigest(), 16) < bound
    ]


# ---------------------------------------------------------------------- the cache
#: ``<cache>/simple-index.gz`` holds the index's body, ``simple-index.json`` how it came.
INDEX_FILE = "simple-index.gz"
INDEX_INFO = "simple-index.json"


def project_cache_path(cache: Path, name: str, status: int = 200) -> Path:
    """``<cache>/json/<first two letters>/<name>.json.gz`` (``.gone.gz`` for a 404 or 410)."""
    suffix = ".json.gz" if status == 200 else ".gone.gz"
    return cache / "json" / name[:2] / f"{name}{suffix}"


def _write_gzip(path: Path, data: bytes, fetched: float) -> None:
    """``data`` gzip-compressed at ``path``, atomically; the gzip header's mtime is
    ``fetched`` (when the response came)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with gzip.GzipFile(
        filename="", mode="wb", fileobj=buffer, compresslevel=6, mtime=int(fetched)
    ) as out:
        out.write(data)
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    partial.write_bytes(buffer.getvalue())
    os.replace(partial, path)


def _gzip_mtime(data: bytes) -> int:
    return int.from_bytes(data[4:8], "little")


def write_cache_entry(cache: Path, name: str, status: int, body: bytes, fetched: float) -> Path:
    """Store the response to ``/pypi/<name>/json``: its raw body (status 200) or the fact that
    the project is gone (404, 410; the body is not kept)."""
    if status not in (200, *GONE_STATUSES):
        raise ValueError(f"only 200, 404 and 410 answers are cached, got {status}")
    path = project_cache_path(cache, name, status)
    _write_gzip(path, body if status == 200 else b"", fetched)
    return path


def is_cached(cache: Path, name: str) -> bool:
    """Whether the cache holds the response for ``name`` (its JSON, or that it is gone)."""
    return any(project_cache_path(cache, name, status).is_file() for status in (200, 404))


def read_cache_entry(cache: Path, name: str) -> tuple[str, bytes | None, int | None]:
    """``(state, body, fetched)`` of a project in the cache: state ``ok`` (with the raw body),
    ``gone`` or ``missing``; ``fetched`` is the response's Unix time."""
    path = project_cache_path(cache, name)
    if path.is_file():
        data = path.read_bytes()
        return "ok", gzip.decompress(data), _gzip_mtime(data)
    gone = project_cache_path(cache, name, 404)
    if gone.is_file():
        return "gone", None, _gzip_mtime(gone.read_bytes())
    return "missing", None, None


def write_index_cache(cache: Path, body: bytes, content_type: str, fetched: float) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    _write_gzip(cache / INDEX_FILE, body, fetched)
    info = {
        "url": INDEX_URL,
        "accept": INDEX_ACCEPT,
        "content_type": content_type,
        "fetched": _utc(fetched),
        "bytes": len(body),
        "sha256": sha256_bytes(body),
    }
    (cache / INDEX_INFO).write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")


def read_index_cache(cache: Path) -> tuple[bytes, dict[str, Any]]:
    path = cache / INDEX_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no cached simple index at {path}: run without --offline to fetch it"
        )
    info = json.loads((cache / INDEX_INFO).read_text(encoding="utf-8"))
    return gzip.decompress(path.read_bytes()), info


def _utc(moment: float) -> str:
    return _dt.datetime.fromtimestamp(int(moment), tz=_dt.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


# ---------------------------------------------------------------------- fetching
class Gone(Exception):
    """The server answered 404 or 410."""


def http_get(
    url: str,
    *,
    accept: str = "application/json",
    timeout: float = TIMEOUT_S,
    attempts: int = ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bytes, str]:
    """``(body, content type)`` of a GET, with ``attempts`` tries: a timeout, a connection
    error or a 429/5xx answer waits (``Retry-After``, else 1, 2, 4 … seconds) and tries again.
    Raises :class:`Gone` on 404 and 410, the last error otherwise."""
    headers = {"Accept": accept, "Accept-Encoding": "gzip", "User-Agent": USER_AGENT}
    for attempt in range(attempts):
        wait = 2.0**attempt
        try:
            request = urllib.request.Request(url, headers=headers)
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read()
                if response.headers.get("Content-Encoding", "").lower() == "gzip":
                    body = gzip.decompress(body)
                return body, response.headers.get("Content-Type", "")
        except urllib.error.HTTPError as error:
            if error.code in GONE_STATUSES:
                raise Gone(url) from None
            if error.code not in RETRY_STATUSES or attempt == attempts - 1:
                raise
            retry_after = error.headers.get("Retry-After", "") if error.headers else ""
            if retry_after.isdigit():
                wait = min(float(retry_after), 60.0)
        except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException):
            if attempt == attempts - 1:
                raise
        sleep(wait)
    raise AssertionError("unreachable")


def fetch_index(cache: Path) -> None:
    """Download the simple index into the cache (once: a cached index is kept)."""
    if (cache / INDEX_FILE).is_file():
        return
    fetched = time.time()
    body, content_type = http_get(INDEX_URL, accept=INDEX_ACCEPT, timeout=120.0)
    write_index_cache(cache, body, content_type, fetched)


def _fetch_project(cache: Path, name: str) -> str:
    fetched = time.time()
    try:
        body, _ = http_get(PROJECT_URL.format(name=name))
    except Gone:
        write_cache_entry(cache, name, 404, b"", fetched)
        return "gone"
    write_cache_entry(cache, name, 200, body, fetched)
    return "ok"


def fetch_projects(cache: Path, names: Sequence[str], *, workers: int = WORKERS) -> Counter:
    """Download the JSON of every name not yet in the cache, ``workers`` at a time; returns
    counts of ``ok``, ``gone`` and ``failed`` (a failure is reported and left out of the
    cache, so the next run tries it again)."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers must lie in 1..{MAX_WORKERS}, got {workers}")
    todo = [name for name in names if not is_cached(cache, name)]
    counts: Counter[str] = Counter(cached=len(names) - len(todo))
    start = time.monotonic()
    print(f"fetching {len(todo):,} of {len(names):,} projects", file=sys.stderr)
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_fetch_project, cache, name): name for name in todo}
        for done, future in enumerate(concurrent.futures.as_completed(futures), start=1):
            try:
                counts[future.result()] += 1
            except Exception as error:  # reported, retried by the next run
                counts["failed"] += 1
                print(f"failed: {futures[future]}: {error!r}", file=sys.stderr)
            if done % 1000 == 0 or done == len(todo):
                rate = done / max(time.monotonic() - start, 1e-9)
                print(f"  {done:,}/{len(todo):,} ({rate:.1f}/s) {dict(counts)}", file=sys.stderr)
    return counts


# ---------------------------------------------------------------------- text
class _TextExtractor(HTMLParser):
    """The text of HTML mixed into Markdown or reStructuredText: tags dropped (block elements
    end a line), the content of ``script``, ``style`` … dropped, character references
    decoded. Text outside any element passes through unchanged."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_ELEMENTS:
            self._skipping.append(tag)
        elif tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping and tag == self._skipping[-1]:
            self._skipping.pop()
        elif tag in _BLOCK_ELEMENTS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def strip_html(text: str) -> str:
    """``text`` without its HTML tags (see :class:`_TextExtractor`)."""
    parser = _TextExtractor()
    parser.feed(text)
    parser.close()
    return "".join(parser.parts)


def strip_rst_images(text: str) -> str:
    """``text`` without reStructuredText image and figure directives (with their options)
    and without the ``|name|`` references to the image substitutions it defines (badges)."""
    names = {m.group("sub") for m in _RST_IMAGE.finditer(text) if m.group("sub")}
    text = _RST_IMAGE.sub("", text)
    for name in sorted(names, key=len, reverse=True):
        text = re.sub(r"\|" + re.escape(name) + r"\|_{0,2}", "", text)
    return text


def clean_description(description: str) -> str:
    """A long description as plain text.

    In order: line ends normalised; HTML comments removed; reStructuredText image and figure
    directives (badges included) with their options and substitution references removed,
    hyperlink targets (``.. _name: url``) removed, ``\\`text <url>\\`_`` links reduced to their
    text; Markdown images (``![alt](url)``, ``![alt][ref]``) removed, the links left empty by
    them (``[](url)``) removed, other links (``[text](url)``) reduced to their text, link
    reference definitions removed; HTML tags stripped (block elements end a line, the content
    of ``script``/``style``/``svg`` dropped, character references decoded); bare URLs removed;
    white space within a line collapsed; lines without a letter or digit (underlines, rules,
    table borders, code fence markers) and empty lines dropped. Code blocks stay as text.
    """
    text = description.replace("\r\n", "\n").replace("\r", "\n")
    text = _HTML_COMMENT.sub(" ", text)
    text = strip_rst_images(text)
    text = _RST_TARGET.sub("", text)
    text = _RST_LINK.sub(r"\1", text)
    text = _MD_IMAGE.sub("", text)
    text = _MD_EMPTY_LINK.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_LINK_DEF.sub("", text)
    text = strip_html(text)
    text = _URL.sub("", text)
    lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if _ALNUM.search(line))


def truncate_words(text: str, max_words: int) -> str:
    """The first ``max_words`` white-space separated words of ``text``, lines kept."""
    out: list[str] = []
    left = max_words
    for line in text.split("\n"):
        words = line.split()
        if len(words) >= left:
            out.append(" ".join(words[:left]))
            break
        out.append(line)
        left -= len(words)
    return "\n".join(out)


def looks_english(text: str) -> bool:
    """Whether ``text`` reads as English: at least ``MIN_ASCII_LETTERS`` of its letters are
    ASCII, at least ``MIN_ENGLISH_WORDS`` of its alphabetic words (lower-cased) are among
    ``ENGLISH_WORDS`` (frequent English words), and no more of them are among ``OTHER_WORDS``
    (function words of other languages) than among ``ENGLISH_WORDS``."""
    letters = _LETTERS.findall(text)
    if not letters:
        return False
    ascii_share = sum(letter.isascii() for letter in letters) / len(letters)
    words = _ALPHA_WORD.findall(text.lower())
    english = sum(word in ENGLISH_WORDS for word in words)
    other = sum(word in OTHER_WORDS for word in words)
    return (
        ascii_share >= MIN_ASCII_LETTERS
        and english >= MIN_ENGLISH_WORDS * len(words)
        and english >= other
    )


# ---------------------------------------------------------------------- documents
@dataclass
class Document:
    """A project kept by the document rule, before the label rule."""

    id: str
    labels: list[str]
    license: str
    content_type: str
    words: int
    text: str


def content_type_of(info: Mapping[str, Any]) -> str:
    """``description_content_type`` without its parameters, lower case; ``ABSENT`` if none."""
    value = info.get("description_content_type") or ""
    return value.partition(";")[0].strip().lower() or ABSENT


def project_document(
    name: str,
    payload: Mapping[str, Any],
    *,
    min_words: int = MIN_WORDS,
    max_words: int = MAX_WORDS,
) -> tuple[Document | None, str]:
    """The document of one project's JSON, or ``None`` and why it is dropped.

    Checked in order (the reason is the first that fails): a ``Topic ::`` classifier
    (``no_topic_classifier``); a ``License :: OSI Approved ::`` classifier
    (``no_osi_license_classifier``); a description (``no_description``: empty or
    ``UNKNOWN``); a content type of Markdown, plain text or reStructuredText, or none
    (``unsupported_content_type``); at least ``min_words`` words once cleaned
    (:func:`clean_description`; ``too_short``); the cleaned description cut to ``max_words``
    words, the text, reads as English (:func:`looks_english`; ``not_english``). The licence
    is the OSI classifier (several are joined with ``"; "``, sorted).
    """
    info = payload.get("info") or {}
    classifiers = [c.strip() for c in info.get("classifiers") or [] if isinstance(c, str)]
    topics = sorted({c for c in classifiers if c.startswith(TOPIC_PREFIX)})
    if not topics:
        return None, "no_topic_classifier"
    licenses = sorted({c for c in classifiers if c.startswith(OSI_PREFIX)})
    if not licenses:
        return None, "no_osi_license_classifier"
    description = info.get("description")
    if not isinstance(description, str) or description.strip() in NO_DESCRIPTION:
        return None, "no_description"
    content_type = content_type_of(info)
    if content_type != ABSENT and content_type not in CONTENT_TYPES:
        return None, "unsupported_content_type"
    cleaned = clean_description(description)
    words = word_count(cleaned)
    if words < min_words:
        return None, "too_short"
    text = truncate_words(cleaned, max_words)
    if not looks_english(text):
        return None, "not_english"
    document = Document(
        id=name,
        labels=topics,
        license="; ".join(licenses),
        content_type=content_type,
        words=words,
        text=text,
    )
    return document, "kept"


def collect_documents(
    cache: Path,
    names: Iterable[str],
    *,
    min_words: int = MIN_WORDS,
    max_words: int = MAX_WORDS,
) -> tuple[list[Document], Counter, list[int]]:
    """The documents of the cached responses of ``names`` (never the network), the count of
    every outcome (``kept``, ``gone``, ``missing``, ``bad_json`` and the reasons of
    :func:`project_document`) and the fetch times of the responses read."""
    documents: list[Document] = []
    counts: Counter[str] = Counter()
    fetched: list[int] = []
    for name in names:
        state, body, moment = read_cache_entry(cache, name)
        if moment is not None:
            fetched.append(moment)
        if state != "ok":
            counts[state] += 1
            continue
        try:
            payload = json.loads(body)
        except ValueError:
            counts["bad_json"] += 1
            continue
        if not isinstance(payload, dict):
            counts["bad_json"] += 1
            continue
        document, outcome = project_document(
            name, payload, min_words=min_words, max_words=max_words
        )
        counts[outcome] += 1
        if document is not None:
            documents.append(document)
    return documents, counts, fetched


# ---------------------------------------------------------------------- the label rule
@dataclass
class Row:
    id: str
    labels: list[str]
    license: str
    split: str
    text: str


def apply_label_rule(
    documents: Sequence[Document], *, min_documents: int = MIN_DOCUMENTS
) -> tuple[list[Row], dict[str, Any]]:
    """Turn kept documents into labelled rows, sorted by ``id``.

    In order:

    1. drop a document whose text equals that of a document with a smaller ``id`` (forks and
       copies of one README; they would leak between the splits);
    2. drop labels containing the loader's separator ``" > "`` (none of PyPI's classifiers
       does) so that the labels stay flat;
    3. count the documents of every label and drop labels with fewer than ``min_documents``;
    4. drop documents left without labels.

    Returns the rows and a dict of counts (``rare_labels`` gives, per dropped label, how many
    documents carried it).
    """
    stats: Counter[str] = Counter(documents=len(documents))
    seen_texts: set[str] = set()
    unique: list[Document] = []
    for document in sorted(documents, key=lambda d: d.id):
        if document.text in seen_texts:
            stats["dropped_duplicate_text"] += 1
            continue
        seen_texts.add(document.text)
        unique.append(document)
    kept: list[tuple[Document, list[str]]] = []
    for document in unique:
        labels = [label for label in document.labels if LABEL_SEP not in label]
        stats["dropped_malformed_label_occurrences"] += len(document.labels) - len(labels)
        kept.append((document, labels))
    frequency = Counter(label for _, labels in kept for label in labels)
    rare = {label: n for label, n in frequency.items() if n < min_documents}
    rows = []
    for document, labels in kept:
        final = sorted(label for label in labels if label not in rare)
        stats["dropped_rare_label_occurrences"] += len(labels) - len(final)
        if not final:
            stats["dropped_no_label"] += 1
            continue
        rows.append(
            Row(
                id=document.id,
                labels=final,
                license=document.license,
                split=split_of(document.id),
                text=document.text,
            )
        )
    stats["labels_before_frequency_rule"] = len(frequency)
    stats["rare_labels_dropped"] = len(rare)
    stats["rows"] = len(rows)
    out: dict[str, Any] = dict(sorted(stats.items()))
    out["rare_labels"] = by_frequency(rare)
    return rows, out


def split_of(project_id: str) -> str:
    """``train`` / ``validation`` / ``test`` (80/10/10): :func:`salted_split` of the id with
    this data set's salt.

    ``bucket = int(sha256(SPLIT_SALT + id).hexdigest(), 16) % 100``; it depends on the id
    only, so a project stays in its split whatever the sample or the day of the fetch.
    """
    return salted_split(project_id, SPLIT_SALT)


# ---------------------------------------------------------------------- outputs
def statistics(
    rows: Sequence[Row], documents: Sequence[Document] = (), *, max_words: int = MAX_WORDS
) -> dict[str, Any]:
    """Counts per split, label frequencies, labels per document, text lengths and licences.

    ``documents`` (the kept documents, by id) give the lengths before the cut and the
    content types of the rows.
    """
    frequency = Counter(label for row in rows for label in row.labels)
    n = max(len(rows), 1)
    by_id = {d.id: d for d in documents}
    kept = [by_id[row.id] for row in rows if row.id in by_id]
    before = [d.words for d in kept]
    groups = Counter(" :: ".join(label.split(" :: ")[:2]) for label in frequency)
    return {
        "documents": len(rows),
        "splits": split_counts(row.split for row in rows),
        "labels": len(frequency),
        "documents_per_label": min_median_max(frequency.values(), interpolate=True),
        "mean_labels_per_document": round(sum(len(r.labels) for r in rows) / n, 3),
        "max_labels_per_document": max((len(r.labels) for r in rows), default=0),
        "documents_with_one_label": sum(len(r.labels) == 1 for r in rows),
        "words_per_document": length_summary([word_count(row.text) for row in rows]),
        "documents_cut_at_max_words": sum(d.words > max_words for d in kept),
        "words_before_cut": {
            "median": percentile(before, 50),
            "p90": percentile(before, 90),
            "max": max(before, default=0),
            "mean": round(sum(before) / n, 1),
        },
        "characters": sum(len(row.text) for row in rows),
        "label_frequencies": by_frequency(frequency),
        "labels_per_topic": by_frequency(groups),
        "duplicate_texts": len(rows) - len({row.text for row in rows}),
        "licenses": by_frequency(Counter(row.license for row in rows)),
        "content_types": by_frequency(Counter(d.content_type for d in kept)),
    }


def build_command(args: argparse.Namespace) -> str:
    """The command that rebuilds these outputs, every option that matters spelled out."""
    options = [
        f"--cache={args.cache}",
        f"--fraction={args.fraction}",
        f"--min-documents={args.min_documents}",
        f"--min-words={args.min_words}",
        f"--max-words={args.max_words}",
    ]
    return rebuild_command(
        "python scripts/build_pypi.py", options, out=args.out, default_out=DEFAULT_OUT
    )


DROP_REASONS = (
    "gone",
    "missing",
    "bad_json",
    "no_topic_classifier",
    "no_osi_license_classifier",
    "no_description",
    "unsupported_content_type",
    "too_short",
    "not_english",
)


def build(args: argparse.Namespace) -> dict[str, Any]:
    """The build step: read the cache only, write the three outputs; returns the metadata."""
    body, index_info = read_index_cache(args.cache)
    names, serial = parse_index(body)
    chosen = sampled(names, args.fraction)
    documents, outcomes, fetched = collect_documents(
        args.cache, chosen, min_words=args.min_words, max_words=args.max_words
    )
    rows, rule_stats = apply_label_rule(documents, min_documents=args.min_documents)
    stats = statistics(rows, documents, max_words=args.max_words)

    args.out.mkdir(parents=True, exist_ok=True)
    data_path = args.out / DATA_FILE
    write_jsonl_gz(rows, data_path)
    data_file = data_file_entry(
        data_path,
        "gzip-compressed JSON lines: id, labels, license, split, text (keys sorted); sorted by id",
    )
    if data_file["bytes"] > MAX_FILE_BYTES:
        print(f"warning: {DATA_FILE} has {data_file['bytes']:,} bytes", file=sys.stderr)
    metadata = {
        "name": NAME,
        "description": (
            "Long descriptions (READMEs) of Python projects on PyPI labelled with their "
            "'Topic ::' trove classifiers, each full classifier one label; flat multi-label"
        ),
        "source": {
            "api": PROJECT_URL,
            "project_page": PROJECT_PAGE,
            "index": {
                "url": index_info["url"],
                "accept": index_info["accept"],
                "content_type": index_info["content_type"],
                "fetched": index_info["fetched"],
                "bytes": index_info["bytes"],
                "sha256": index_info["sha256"],
                "last_serial": serial,
                "names": len(names),
            },
            "sample": {
                "rule": "int(sha256(salt + normalised name).hexdigest(), 16) < fraction * 2**256",
                "salt": SAMPLE_SALT,
                "fraction": args.fraction,
                "names": len(chosen),
            },
            "responses": {
                "fetched_from": _utc(min(fetched)) if fetched else None,
                "fetched_to": _utc(max(fetched)) if fetched else None,
                "projects": outcomes.total() - outcomes["missing"] - outcomes["gone"],
                "gone": outcomes["gone"],
                "missing": outcomes["missing"],
            },
            "kept": outcomes["kept"],
            "dropped": {reason: outcomes[reason] for reason in DROP_REASONS},
        },
        "build_date": build_date(),
        "build_command": build_command(args),
        "file": data_file,
        "document_rule": {
            "id": "the project name normalised as PEP 503 says (lower case, runs of -_. as -)",
            "text": "info.description, cleaned (clean_description), cut to max_words words",
            "topic_prefix": TOPIC_PREFIX,
            "license_prefix": OSI_PREFIX,
            "content_types": [*CONTENT_TYPES, ABSENT],
            "no_description": list(NO_DESCRIPTION),
            "min_words": args.min_words,
            "max_words": args.max_words,
            "english": {
                "tested_on": "the text as shipped (after the cut to max_words)",
                "min_ascii_letter_share": MIN_ASCII_LETTERS,
                "min_english_word_share": MIN_ENGLISH_WORDS,
                "english_words": sorted(ENGLISH_WORDS),
                "other_words": sorted(OTHER_WORDS),
                "english_words_at_least_other_words": True,
            },
        },
        "label_rule": {
            "labels": "the project's 'Topic :: …' trove classifiers, each full string one "
            "flat label",
            "min_documents_per_label": args.min_documents,
            "split": split_rule(SPLIT_SALT),
            "counts": rule_stats,
        },
        "license": (
            "No single licence. Each description is © its authors and is distributed by them "
            "under the OSI-approved licence named by the project's classifier in the row's "
            "'license' field; the classifiers and other metadata come from PyPI's JSON API."
        ),
        "statistics": stats,
    }
    write_metadata_and_readme(args.out, metadata, render_readme(metadata))
    return metadata


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--cache", type=Path, default=DEFAULT_CACHE, help="folder of the raw responses"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--fraction", type=float, default=FRACTION, help="share of the index")
    parser.add_argument("--min-documents", type=int, default=MIN_DOCUMENTS)
    parser.add_argument("--min-words", type=int, default=MIN_WORDS)
    parser.add_argument("--max-words", type=int, default=MAX_WORDS)
    parser.add_argument(
        "--workers", type=int, default=WORKERS, help=f"requests at a time (1..{MAX_WORKERS})"
    )
    parser.add_argument(
        "--offline", action="store_true", help="no network: build from the cache only"
    )
    parser.add_argument(
        "--fetch-only", action="store_true", help="fill the cache, write nothing else"
    )
    args = parser.parse_args(argv)
    if not 0 < args.fraction <= 1:
        parser.error("--fraction must lie in (0, 1]")
    if not 1 <= args.workers <= MAX_WORKERS:
        parser.error(f"--workers must lie in 1..{MAX_WORKERS}")
    if args.offline and args.fetch_only:
        parser.error("--offline and --fetch-only exclude each other")

    if not args.offline:
        start = time.monotonic()
        fetch_index(args.cache)
        names, _ = parse_index(read_index_cache(args.cache)[0])
        counts = fetch_projects(args.cache, sampled(names, args.fraction), workers=args.workers)
        seconds = time.monotonic() - start
        print(json.dumps({"fetch": dict(counts), "seconds": round(seconds, 1)}), file=sys.stderr)
        if args.fetch_only:
            return 0
    metadata = build(args)
    summary = {k: v for k, v in metadata["statistics"].items() if k != "label_frequencies"}
    print(
        json.dumps(
            {
                "file": metadata["file"],
                "kept": metadata["source"]["kept"],
                "dropped": metadata["source"]["dropped"],
                "label_rule": {
                    k: v for k, v in metadata["label_rule"]["counts"].items() if k != "rare_labels"
                },
                **summary,
            },
            indent=2,
        )
    )
    return 0


# ---------------------------------------------------------------------- README
def _ranked_list(counter: Mapping[str, int], limit: int | None = None) -> str:
    items = list(counter.items())[:limit]
    return ", ".join(f"`{name}` {n:,}" for name, n in items) or "none"


def render_readme(meta: Mapping[str, Any]) -> str:
    """The data set's README, every number taken from ``meta``."""
    src, doc, rule, st = (
        meta["source"],
        meta["document_rule"],
        meta["label_rule"],
        meta["statistics"],
    )
    index, sample, responses, dropped = (
        src["index"],
        src["sample"],
        src["responses"],
        src["dropped"],
    )
    c = rule["counts"]
    english = doc["english"]
    serial = f", last serial {index['last_serial']:,}" if index["last_serial"] is not None else ""
    splits = markdown_table(
        ["split", "documents"], ([s, f"{n:,}"] for s, n in st["splits"].items())
    )
    labels = markdown_table(
        ["label", "documents"], ([f"`{k}`", f"{v:,}"] for k, v in st["label_frequencies"].items())
    )
    groups = markdown_table(
        ["classifier group", "labels"], ([f"`{k}`", v] for k, v in st["labels_per_topic"].items())
    )
    dpl, wpd, wbc = st["documents_per_label"], st["words_per_document"], st["words_before_cut"]
    content_types = _ranked_list(st["content_types"])
    licenses = _ranked_list(
        {name.replace(doc["license_prefix"], ""): n for name, n in st["licenses"].items()}, 10
    )
    english_words = " ".join(english["english_words"])
    other_words = " ".join(english["other_words"])
    rare = _ranked_list(c["rare_labels"], 15)
    more_rare = len(c["rare_labels"]) - min(len(c["rare_labels"]), 15)
    rare += f" and {more_rare} more (all in `metadata.json`)" if more_rare else ""
    return f"""# pypi: PyPI projects' long descriptions labelled with their Topic classifiers

*Written by `scripts/build_pypi.py`: edit the script and rebuild, not this file.*

A flat multi-label data set of long documents: {st["documents"]:,} Python projects,
{st["labels"]} labels, documents of {wpd["median"]} words at the median (cut at
{doc["max_words"]:,}). Each text is the project's long description (its README as published
on PyPI), cleaned to plain text; its labels are the project's `Topic :: …` trove classifiers,
each full classifier string one label (`Topic :: Scientific/Engineering :: Artificial
Intelligence`). Each line of `pypi.jsonl.gz` is a JSON object with the keys `id` (the
normalised project name: the project is `{src["project_page"]}`), `labels` (sorted
classifiers), `license` (the project's OSI licence classifier), `split` (`train`,
`validation` or `test`) and `text`. Read it with no network:

```python
import gzip, json
from importlib.resources import files

path = files("mlcl_text.data") / "pypi" / "pypi.jsonl.gz"
with path.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
    rows = [json.loads(line) for line in lines]
```

or as a `DatasetDict` and a flat `LabelTree` with `mlcl_text.data.load("pypi")`. The labels
are loaded flat: `Topic :: Software Development` and `Topic :: Software Development ::
Libraries` are two unrelated labels. Whoever wants the classifier hierarchy instead can build
it with `LabelTree.from_paths(labels, sep=" :: ")` (each label then comes with its parents,
`Topic` at the root).

## Provenance

- Source: the PyPI JSON API, `{src["api"]}`, one request per project; each project's
  `info.description`, `info.description_content_type` and `info.classifiers` (PyPI serves the
  metadata of the project's latest release).
- Project names: the PyPI simple index, `{index["url"]}` (asked for
  `{index["accept"]}`; it answered `{index["content_type"]}`), fetched {index["fetched"]}:
  {index["bytes"]:,} bytes, SHA-256 `{index["sha256"]}`{serial}; {index["names"]:,} project
  names, normalised as PEP 503 says and sorted.
- Sample: the names with `{sample["rule"]}`, salt `{sample["salt"]}`, fraction
  {sample["fraction"]}: {sample["names"]:,} names. Each name is in or out on its own hash, so
  the sample of a smaller fraction is part of a larger one's.
- Responses fetched from {responses["fetched_from"]} to {responses["fetched_to"]} (at most 8
  requests at a time, with timeouts and retries); the raw responses are kept in a local cache
  folder so a rebuild fetches nothing twice. Of the sampled names, {responses["projects"]:,}
  answered with their JSON, {responses["gone"]:,} were gone (404: deleted, or no release)
  and {responses["missing"]:,} could not be fetched.
- Built on: {meta["build_date"]}.

Build command (`--offline` rebuilds from the cache alone, with no network):

```
{meta["build_command"]}
```

The build needs the Python standard library only. The same cache gives a byte-identical
`pypi.jsonl.gz`: {meta["file"]["bytes"]:,} bytes, SHA-256 `{meta["file"]["sha256"]}`.
`metadata.json` holds every parameter and number quoted here. PyPI changes every day:
another day's fetch gives other projects, descriptions and classifiers.

## Licence

There is no single licence for this data set. Each description is © its authors; every kept
project declares an OSI-approved licence with a `License :: OSI Approved :: …` classifier,
and the row's `license` field names it (several are joined with `; `). The description is the
project's README as its authors published it with the package under that licence. Some of
these licences (MIT, BSD, Apache …) ask that copies keep the copyright notice and licence
text: they are found with the project, at `{src["project_page"]}`. The classifiers and other
metadata come from PyPI's JSON API. The licences of the documents, most frequent first
(without the `{doc["license_prefix"]}` prefix): {licenses}. This copy is offered for research and demonstration; check a project's own
licence before reusing its text for anything else.

## Document rule

A project is kept when, in this order (a dropped project counts under the first rule it
fails):

1. it has at least one `{doc["topic_prefix"]}…` classifier (dropped:
   {dropped["no_topic_classifier"]:,});
2. it has a `{doc["license_prefix"]}…` classifier (dropped:
   {dropped["no_osi_license_classifier"]:,});
3. it has a description, not empty and not `UNKNOWN` (dropped: {dropped["no_description"]:,});
4. its `description_content_type` is Markdown, plain text or reStructuredText, or absent (then
   reStructuredText, as Core Metadata says) (dropped: {dropped["unsupported_content_type"]:,});
5. the cleaned description has at least {doc["min_words"]} words (white-space separated)
   (dropped: {dropped["too_short"]:,});
6. its text (the cleaned description cut to {doc["max_words"]:,} words, as shipped) reads as
   English: at least {english["min_ascii_letter_share"]:.0%} of its letters are ASCII, at
   least {english["min_english_word_share"]:.0%} of its alphabetic words are frequent English
   words that are no Python keywords ({english_words}), and no more of its words are function
   words of Spanish, French, German, Italian or Portuguese ({other_words}) than of those
   English ones (dropped: {dropped["not_english"]:,}).

Kept: {src["kept"]:,}. (Responses that were not valid JSON: {dropped["bad_json"]:,}.)

The cleanup (`clean_description`): line ends normalised; HTML comments removed;
reStructuredText image and figure directives (badges) with their options and the `|name|`
references to them removed, hyperlink targets removed, `` `text <url>`_ `` links reduced to
their text; Markdown images (`![alt](url)`, `![alt][ref]`) and the links they leave empty
removed, other links reduced to their text, link definitions removed; HTML tags stripped
(their text kept, block elements ending a line; the content of `script`, `style` and `svg`
dropped; character references decoded); bare URLs removed; white space within a line
collapsed; lines without a letter or digit (section underlines, rules, table borders, code
fence markers) and empty lines dropped. Code blocks, headings (`#`) and emphasis (`**`) stay
as text. The text is then cut after its first {doc["max_words"]:,} words, to bound the file
size: {st["documents_cut_at_max_words"]:,} documents were cut (before the cut: median
{wbc["median"]} words, p90 {wbc["p90"]:,}, mean {wbc["mean"]:,}, longest {wbc["max"]:,}).

## Label rule

Labels are the project's `Topic :: …` trove classifiers, each full string one flat label.
Then:

1. a document whose text equals that of a document with a smaller id is dropped (forks and
   copies of one README, which would leak between the splits):
   {c.get("dropped_duplicate_text", 0):,};
2. of the {c.get("labels_before_frequency_rule", 0)} labels left, those with fewer than
   {rule["min_documents_per_label"]} documents are dropped: {c.get("rare_labels_dropped", 0)}
   labels, {c.get("dropped_rare_label_occurrences", 0):,} occurrences ({rare});
3. documents left without labels are dropped: {c.get("dropped_no_label", 0):,}.

Split: {rule["split"]}; that is 80/10/10 by project, stable whatever the sample or the day of
the fetch.

## Sizes

{splits}

Documents in all: {st["documents"]:,}. Text length in words: p10 {wpd["p10"]}, median
{wpd["median"]}, p90 {wpd["p90"]} (mean {wpd["mean"]}; nearest-rank percentiles);
{st["characters"]:,} characters in all. Documents whose whole text equals another's:
{st["duplicate_texts"]}. Content types of the descriptions: {content_types}.

## Label statistics

- Labels: {st["labels"]}.
- Documents per label: min {dpl["min"]}, median {dpl["median"]}, max {dpl["max"]}.
- Labels per document: {st["mean_labels_per_document"]} on average, at most
  {st["max_labels_per_document"]}; {st["documents_with_one_label"]:,} documents have one.

Labels per classifier group (the first two levels of the classifier):

{groups}

{labels}
"""


if __name__ == "__main__":
    sys.exit(main())
