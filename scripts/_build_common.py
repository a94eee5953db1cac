"""Helpers shared by the data-set builders ``scripts/build_<name>.py``.

The builders run as ``python scripts/build_<name>.py``, so ``scripts/`` is on ``sys.path`` and
they import these helpers with ``from _build_common import …``. Everything here needs only
the standard library (the ``lz4`` package, when installed, reads ``.lz4`` indexes) and is
deterministic: the same rows give the same bytes.

* apt indexes (``debtags``, ``appstream``): :func:`find_index`, :func:`read_index`,
  :func:`parse_deb822`, :func:`parse_release`;
* labels: :func:`prefixes`, :func:`most_specific`, :func:`closure`, :func:`labels_by_depth`;
* the split rule: :func:`salted_split` and its description :func:`split_rule`;
* outputs: :class:`Row`, :func:`write_jsonl_gz`, :func:`data_file_entry`,
  :func:`write_metadata_and_readme`, :func:`build_date`, :func:`rebuild_command`;
* text: :func:`normalize_space`, :func:`word_count`;
* statistics: :func:`split_counts`, :func:`by_frequency`, :func:`percentile`,
  :func:`min_median_max`, :func:`length_summary`, :func:`mean_labels_per_depth`,
  :func:`frequency_extremes`;
* README parts: :func:`markdown_table`, :func:`file_list`, :func:`listing`.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import shlex
import shutil
import statistics
import subprocess
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

#: The folder of the packaged data sets; each builder writes into ``DATA_DIR / <name>``.
DATA_DIR = Path(__file__).resolve().parents[1] / "mlcl_text" / "data"
#: The loader's label-path separator (``LabelTree.from_paths(labels, sep=" > ")``).
LABEL_SEP = " > "
#: The split names, in the order the metadata lists them.
SPLITS = ("train", "validation", "test")
#: ``(train, validation)`` upper bounds of the split bucket in 0..99; the rest is test.
SPLIT_BUCKETS = (80, 90)

#: Where ``apt-get update`` leaves the indexes, and the suite, component and architecture
#: the Debian builders read by default.
DEFAULT_LISTS = Path("/var/lib/apt/lists")
DEFAULT_SUITE = "bookworm"
DEFAULT_COMPONENT = "main"
DEFAULT_ARCH = "amd64"
#: The fields of a release file that the metadata records.
RELEASE_FIELDS = ("Origin", "Suite", "Codename", "Version", "Date")

_Key = TypeVar("_Key")
_WHITE_SPACE = re.compile(r"\s+")


# ---------------------------------------------------------------------- apt indexes
def find_index(lists: Path, pattern: str, *, update_command: str) -> Path:
    """The first file (in sorted order) of ``lists`` matching the glob ``pattern``.

    Raises ``FileNotFoundError`` saying to run ``update_command`` (the ``apt-get update``
    that downloads the index) when there is none.
    """
    found = sorted(lists.glob(pattern))
    if not found:
        raise FileNotFoundError(
            f"no file matching {pattern!r} in {lists}; run `{update_command}` first (see the "
            "module docstring)"
        )
    return found[0]


def decompress(path: Path) -> bytes:
    """The content of an apt index file: plain, ``.lz4``, ``.gz`` or ``.xz`` (by suffix)."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        return gzip.decompress(data)
    if path.suffix == ".xz":
        return lzma.decompress(data)
    if path.suffix == ".lz4":
        return _lz4_decompress(path, data)
    return data


def _lz4_decompress(path: Path, data: bytes) -> bytes:
    """``data`` (read from ``path``) decompressed by the ``lz4`` Python package, else by the
    ``lz4cat`` or ``apt-helper cat-file`` command."""
    try:
        import lz4.frame  # type: ignore[import-not-found]
    except ImportError:
        pass
    else:
        return lz4.frame.decompress(data)
    for command in (["lz4cat", str(path)], ["/usr/lib/apt/apt-helper", "cat-file", str(path)]):
        if shutil.which(command[0]):
            return subprocess.run(command, check=True, capture_output=True).stdout
    raise RuntimeError(
        f"cannot decompress {path}: install the lz4 Python package or the lz4 tool (lz4cat)"
    )


def read_index(path: str | os.PathLike[str]) -> str:
    """The text of an apt index file: plain, ``.lz4``, ``.gz`` or ``.xz``."""
    return decompress(Path(path)).decode("utf-8")


def parse_deb822(text: str, *, source: str = "<text>") -> list[dict[str, str]]:
    """Parse deb822 stanzas (``Packages``, ``Translation-en``, ``Release`` …).

    Stanzas are separated by blank lines (lines holding only white space count as blank).
    A field is ``Name: value``; a line starting with a space or a tab continues the previous
    field and is appended to its value after a newline, verbatim (leading white space kept),
    so multi-line values such as ``Description-en`` keep their layout. Lines starting with
    ``#`` are comments. The first line's value is stripped of surrounding white space.
    A malformed line raises ``ValueError`` naming ``source`` and the line number.
    """
    stanzas: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last: str | None = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            if current:
                stanzas.append(current)
            current, last = {}, None
            continue
        if line.startswith("#"):
            continue
        if line[0] in " \t":
            if last is None:
                raise ValueError(f"{source}:{number}: continuation line outside a field")
            current[last] += "\n" + line.rstrip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            raise ValueError(f"{source}:{number}: not a 'Field: value' line: {line[:80]!r}")
        last = name.strip()
        current[last] = value.strip()
    if current:
        stanzas.append(current)
    return stanzas


def parse_release(text: str, *, source: str = "<InRelease>") -> dict[str, str]:
    """The first stanza of a ``Release`` or (PGP-signed) ``InRelease`` file.

    Multi-line fields (``MD5Sum``, ``SHA256`` …) keep their continuation lines as
    :func:`parse_deb822` does: one per line, after a newline, with their leading space.
    """
    lines = text.split("\n")
    if lines and lines[0].startswith("-----BEGIN PGP SIGNED MESSAGE-----"):
        start = next((i for i, line in enumerate(lines) if not line.strip()), len(lines))
        end = next(
            (i for i, line in enumerate(lines) if line.startswith("-----BEGIN PGP SIGNATURE")),
            len(lines),
        )
        lines = lines[start + 1 : end]
    stanzas = parse_deb822("\n".join(lines), source=source)
    if not stanzas:
        raise ValueError(f"{source}: no release stanza")
    return stanzas[0]


def release_summary(release: Mapping[str, str]) -> dict[str, str]:
    """The :data:`RELEASE_FIELDS` of a parsed release file (``""`` for an absent one)."""
    return {field: release.get(field, "") for field in RELEASE_FIELDS}


# ---------------------------------------------------------------------- labels
@functools.cache
def _separator_pattern(separators: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression matching any of ``separators``, the longest first."""
    return re.compile("|".join(re.escape(s) for s in sorted(separators, key=len, reverse=True)))


def prefixes(label: str, separators: str | Sequence[str] = LABEL_SEP) -> list[str]:
    """The label's path from its root down to itself: ``"A > B"`` → ``["A", "A > B"]``.

    ``separators`` is one separator or several (``("::", ":")`` makes ``"devel::lang:python"``
    → ``["devel", "devel::lang", "devel::lang:python"]``); where two could match at the same
    place the longer one wins.
    """
    key = (separators,) if isinstance(separators, str) else tuple(separators)
    return [label[: m.start()] for m in _separator_pattern(key).finditer(label)] + [label]


def most_specific(labels: Iterable[str], separators: str | Sequence[str] = LABEL_SEP) -> list[str]:
    """Sorted labels without those that are an ancestor of another one in the set."""
    unique = set(labels)
    ancestors = {p for label in unique for p in prefixes(label, separators)[:-1]}
    return sorted(unique - ancestors)


def closure(labels: Iterable[str], separators: str | Sequence[str] = LABEL_SEP) -> list[str]:
    """Sorted labels together with all their ancestors (:func:`prefixes`)."""
    return sorted({p for label in labels for p in prefixes(label, separators)})


def labels_by_depth(
    labels: Iterable[str], separators: str | Sequence[str] = LABEL_SEP
) -> dict[int, list[str]]:
    """``{depth: labels}``, a root label at depth 1; depths and labels in first-seen order."""
    by_depth: dict[int, list[str]] = {}
    for label in labels:
        by_depth.setdefault(len(prefixes(label, separators)), []).append(label)
    return by_depth


def descendant_count(label: str, labels: Iterable[str], sep: str = LABEL_SEP) -> int:
    """How many of ``labels`` lie below ``label`` (start with ``label + sep``)."""
    return sum(1 for other in labels if other.startswith(label + sep))


# ---------------------------------------------------------------------- the split rule
def salted_split(
    key: str,
    salt: str,
    *,
    digest_bytes: int | None = None,
    buckets: tuple[int, int] = SPLIT_BUCKETS,
) -> str:
    """``train`` / ``validation`` / ``test`` from a salted SHA-256 of ``key``.

    ``bucket = int(sha256(salt + key).hexdigest(), 16) % 100``, or with ``digest_bytes`` the
    first ``digest_bytes`` bytes of the digest read big-endian, mod 100; below ``buckets[0]``
    is train, below ``buckets[1]`` validation, the rest test (80/10/10 by default). It depends
    on the key only, so a document keeps its split whatever else changes in the source.
    """
    digest = hashlib.sha256((salt + key).encode()).digest()
    bucket = int.from_bytes(digest[:digest_bytes], "big") % 100
    if bucket < buckets[0]:
        return "train"
    if bucket < buckets[1]:
        return "validation"
    return "test"


def split_rule(
    salt: str, *, digest_bytes: int | None = None, buckets: tuple[int, int] = SPLIT_BUCKETS
) -> str:
    """The metadata's description of :func:`salted_split` with these parameters."""
    if digest_bytes is None:
        bucket = f"int(sha256({salt!r} + id).hexdigest(), 16) % 100"
    else:
        bucket = f"sha256({salt!r} + id), first {digest_bytes} bytes big-endian mod 100"
    return f"{bucket}: < {buckets[0]} train, < {buckets[1]} validation, else test"


# ---------------------------------------------------------------------- outputs
@dataclass
class Row:
    """A row of a data set whose rows hold ``id``, ``labels``, ``split`` and ``text``."""

    id: str
    split: str
    labels: list[str]
    text: str


def row_json(row: Any, *, sort_keys: bool = True) -> str:
    """A dataclass row as one compact JSON line (no ASCII escapes); its keys sorted, or in
    field order with ``sort_keys=False``."""
    record = {field.name: getattr(row, field.name) for field in dataclasses.fields(row)}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), sort_keys=sort_keys)


def write_jsonl_gz(rows: Iterable[Any], path: Path, *, sort_keys: bool = True) -> None:
    """Gzip-compressed JSON lines (:func:`row_json`), byte-identical for identical rows: level
    9, no file name and ``mtime`` 0 in the gzip header."""
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, compresslevel=9, mtime=0) as out:
        for row in rows:
            out.write(row_json(row, sort_keys=sort_keys).encode("utf-8") + b"\n")
    path.write_bytes(buffer.getvalue())


def sha256_bytes(data: bytes) -> str:
    """The SHA-256 of ``data``, in hex."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """The SHA-256 of the file at ``path``, in hex."""
    return sha256_bytes(path.read_bytes())


def data_file_entry(path: Path, description: str) -> dict[str, Any]:
    """The metadata's ``file`` entry of a written data file: name, size, SHA-256, format."""
    data = path.read_bytes()
    return {
        "name": path.name,
        "bytes": len(data),
        "sha256": sha256_bytes(data),
        "format": description,
    }


def write_metadata_and_readme(out: Path, metadata: Mapping[str, Any], readme: str) -> None:
    """``out/metadata.json`` (indented, UTF-8, with a final newline) and ``out/README.md``."""
    (out / "metadata.json").write_text(
        json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    (out / "README.md").write_text(readme, encoding="utf-8")


def build_date() -> str:
    """Today's UTC date, ``YYYY-MM-DD``, or that of ``SOURCE_DATE_EPOCH`` when it is set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (
        _dt.datetime.fromtimestamp(int(epoch), tz=_dt.timezone.utc)
        if epoch
        else _dt.datetime.now(tz=_dt.timezone.utc)
    )
    return moment.strftime("%Y-%m-%d")


def rebuild_command(command: str, options: Sequence[str], *, out: Path, default_out: Path) -> str:
    """``command`` followed by ``options``, shell-quoted, and ``--out=…`` when ``out`` is not
    the builder's default output folder."""
    if out.resolve() != default_out:
        options = [*options, f"--out={out}"]
    return f"{command} {shlex.join(options)}"


# ---------------------------------------------------------------------- text
def normalize_space(text: str) -> str:
    """Runs of white space (newlines included) as single spaces, stripped."""
    return _WHITE_SPACE.sub(" ", text).strip()


def word_count(text: str) -> int:
    """The number of white-space separated words of ``text``."""
    return len(text.split())


# ---------------------------------------------------------------------- statistics
def split_counts(splits: Iterable[str]) -> dict[str, int]:
    """``{split: rows}`` for every split name of :data:`SPLITS`, in that order."""
    counts = Counter(splits)
    return {split: counts.get(split, 0) for split in SPLITS}


def by_frequency(counts: Mapping[_Key, int]) -> dict[_Key, int]:
    """``counts`` sorted by count, largest first, then by key."""
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def percentile(values: Iterable[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0..100) of ``values``: the value at rank
    ``ceil(n q / 100)`` (at least 1) in sorted order; 0 when there are none."""
    ordered = sorted(values)
    if not ordered:
        return 0
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n q / 100), at least 1
    return ordered[int(rank) - 1]


def min_median_max(values: Iterable[float], *, interpolate: bool = False) -> dict[str, float]:
    """``{"min", "median", "max"}`` of ``values`` (all 0 when there are none).

    The median is the nearest-rank :func:`percentile` 50, a value of ``values``; with
    ``interpolate`` it is :func:`statistics.median` (the mean of the two middle values when
    there is an even number of them).
    """
    ordered = sorted(values)
    if not ordered:
        return {"min": 0, "median": 0, "max": 0}
    median = statistics.median(ordered) if interpolate else percentile(ordered, 50)
    return {"min": ordered[0], "median": median, "max": ordered[-1]}


def length_summary(lengths: Sequence[int]) -> dict[str, float]:
    """``{"p10", "median", "p90", "mean"}`` of text lengths: nearest-rank percentiles and the
    mean rounded to one decimal (0 when there are none)."""
    return {
        "p10": percentile(lengths, 10),
        "median": percentile(lengths, 50),
        "p90": percentile(lengths, 90),
        "mean": round(sum(lengths) / max(len(lengths), 1), 1),
    }


def mean_labels_per_depth(
    closed: Sequence[Sequence[str]],
    depths: Iterable[int],
    separators: str | Sequence[str] = LABEL_SEP,
) -> dict[str, float]:
    """``{str(depth): mean labels of that depth per document}`` over the documents' label
    sets ``closed`` (closed under ancestors), rounded to three decimals."""
    n = max(len(closed), 1)
    return {
        str(d): round(
            sum(sum(len(prefixes(x, separators)) == d for x in labels) for labels in closed) / n,
            3,
        )
        for d in depths
    }


def frequency_extremes(
    ranked: Sequence[tuple[str, int]], top: int
) -> tuple[list[list[Any]], list[list[Any]]]:
    """The first ``top`` and, reversed, the last ``top`` ``[label, count]`` pairs of
    ``ranked`` (pairs sorted most frequent first): the most and the least frequent labels."""
    most = [[label, count] for label, count in ranked[:top]]
    least = [[label, count] for label, count in ranked[-top:][::-1]]
    return most, least


# ---------------------------------------------------------------------- README
def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A Markdown table: the header, a ``|---|`` rule and one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def file_list(files: Mapping[str, Mapping[str, Any]]) -> str:
    """A Markdown list of source files, ``{name: {"sha256", "bytes", …}}``, each with its
    SHA-256 and size."""
    return "\n".join(
        f"  - `{name}` (SHA-256 `{f['sha256']}`, {f['bytes']:,} bytes)" for name, f in files.items()
    )


def listing(pairs: Iterable[Sequence[Any]], *, empty: str = "none") -> str:
    """The ``(name, count)`` pairs as ``name (count)``, each name in backticks, joined by
    ``", "``; ``empty`` when there are none."""
    return ", ".join(f"`{name}` ({n})" for name, n in pairs) or empty
