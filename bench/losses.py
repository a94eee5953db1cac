"""Forward+backward wall time of every contrastive loss against a softmax floor and a loop.

Run from the repository root::

    python bench/losses.py                       # N ∈ {64, 256, 1024}, L ∈ {10, 100, 1000}
    python bench/losses.py --sizes 1024 --labels 1000 --skip-loops
    python bench/losses.py --device cuda --dtype bfloat16 --markdown /tmp/losses-cuda.md

For every batch size N and label count L it times, on the same embeddings ``z`` [N, d]:

* ``floor``: ``s = z zᵀ / τ``, diagonal masked, ``logsumexp(s, 1).sum()`` and its backward —
  the cost no in-batch contrastive loss can avoid (one similarity matrix and one softmax);
* every loss of :mod:`mlcl_text.losses` on synthetic labels (see :func:`make_case`);
* a plain per-anchor Python loop of the same formula (``for i in range(N)`` on row vectors),
  only for N <= ``--loop-max-n``; each loop's value is checked against the loss's value.

Each entry is the median over ``--repeats`` timed blocks (after one warm-up call) of the
wall time of one forward+backward; fast calls are repeated inside a block so that a block
lasts at least ``--min-block-ms``. On CUDA every block is bracketed by synchronisations.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from mlcl_text import LabelTree
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.losses import (
    HierarchicalContrastiveLoss,
    MulSupConLoss,
    MultiLabelSupConLoss,
    MultiLevelContrastiveLoss,
    SimilarityDissimilarityLoss,
    SupConLoss,
)

TARGET_N, TARGET_L, TARGET_FACTOR = 1024, 1000, 2.0
# labels per sample: 1..5 with these probabilities; labels drawn by a Zipf(1.1) law over L
LABELS_PER_SAMPLE = (0.35, 0.30, 0.20, 0.10, 0.05)
ZIPF_EXPONENT = 1.1


# ---------------------------------------------------------------------------- synthetic data
def synthetic_tree(num_nodes: int) -> LabelTree:
    """A 3-level tree with exactly ``num_nodes`` labels: ≈10% roots, ≈30% middle, rest leaves.

    Middle node ``k`` hangs under root ``k mod roots`` and leaf ``k`` under middle
    ``k mod middles``, so every leaf is at depth 3.
    """
    if num_nodes < 3:
        raise ValueError(f"a 3-level tree needs at least 3 labels, got {num_nodes}")
    roots = max(1, num_nodes // 10)
    middles = max(1, min(num_nodes - roots - 1, (3 * num_nodes) // 10))
    leaves = num_nodes - roots - middles
    parents: list[tuple[str, str | None]] = [(f"r{k}", None) for k in range(roots)]
    parents += [(f"r{k % roots}/m{k}", f"r{k % roots}") for k in range(middles)]
    middle_names = [name for name, _ in parents[roots:]]
    parents += [
        (f"{middle_names[k % middles]}/l{k}", middle_names[k % middles]) for k in range(leaves)
    ]
    tree = LabelTree.from_parents(parents)
    assert len(tree) == num_nodes and tree.num_levels == 3
    return tree


def zipf_label_sets(rng: np.random.Generator, n: int, candidates: int) -> list[np.ndarray]:
    """``n`` label sets of 1–5 distinct ids in ``[0, candidates)``, ids Zipf-distributed."""
    p = 1.0 / np.arange(1, candidates + 1) ** ZIPF_EXPONENT
    p /= p.sum()
    sizes = rng.choice(len(LABELS_PER_SAMPLE), size=n, p=LABELS_PER_SAMPLE) + 1
    return [rng.choice(candidates, size=min(k, candidates), replace=False, p=p) for k in sizes]


@dataclass
class Case:
    """One (N, L) point: embeddings and every kind of label the losses take."""

    n: int
    num_labels: int
    tree: LabelTree
    class_ids: torch.Tensor  # [N] int64 in [0, L)
    flat: torch.Tensor  # [N, L] float32 multi-hot, 1–5 labels per row
    hier: torch.Tensor  # [N, L] float32 multi-hot over the tree's nodes, ancestor-closed
    z: torch.Tensor  # [N, d] float32 leaf (requires_grad), unit rows
    heads: list[torch.Tensor]  # three [N, d] float32 leaves for MLCL, unit rows


def make_case(n: int, num_labels: int, dim: int, device: torch.device, seed: int) -> Case:
    rng = np.random.default_rng([seed, n, num_labels])
    tree = synthetic_tree(num_labels)

    class_ids = np.array([s[0] for s in zipf_label_sets(rng, n, num_labels)])

    flat = np.zeros((n, num_labels), dtype=np.float32)
    for row, ids in enumerate(zipf_label_sets(rng, n, num_labels)):
        flat[row, ids] = 1.0

    leaf_ids = np.flatnonzero(tree.depths == 3)
    leaves = np.zeros((n, num_labels), dtype=np.float32)
    for row, ids in enumerate(zipf_label_sets(rng, n, len(leaf_ids))):
        leaves[row, leaf_ids[ids]] = 1.0
    hier = np.ascontiguousarray(tree.closure(leaves))  # row-major, as a collated batch is

    gen = torch.Generator().manual_seed(seed * 1_000_003 + n * 1009 + num_labels)

    def leaf() -> torch.Tensor:
        # unit rows, as a normalised projection head gives: the floor's logits stay in
        # [-1/τ, 1/τ] like the losses' (raw randn rows give |s| ~ 100 and CPU exp is ~10×
        # slower when exp(s - max) underflows, which would make the floor artificially slow)
        z = F.normalize(torch.randn(n, dim, generator=gen), dim=1)
        return z.to(device).requires_grad_()

    return Case(
        n=n,
        num_labels=num_labels,
        tree=tree,
        class_ids=torch.as_tensor(class_ids, dtype=torch.int64, device=device),
        flat=torch.as_tensor(flat, device=device),
        hier=torch.as_tensor(hier, device=device),
        z=leaf(),
        heads=[leaf() for _ in range(3)],
    )


# ---------------------------------------------------------------------------- loop references
# Paper-formula implementations: one anchor at a time, on row vectors, no [N, N] weights.
RowRule = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def row_any(a: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return ((labels * a).sum(1) > 0).float()


def row_all(a: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return ((labels == a).all(1) & (a.sum() > 0)).float()


def row_jaccard(a: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    inter = (labels * a).sum(1)
    union = ((labels + a) > 0).float().sum(1)
    return inter / union.clamp_min(1.0)


def row_sd(a: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    inter = (labels * a).sum(1)
    k_s = inter / a.sum().clamp_min(1.0)
    k_d = 1.0 / (1.0 + (labels * (1.0 - a)).sum(1))
    return k_s * k_d


def row_same_class(a: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return (labels == a).float()


def row_log_prob(z: torch.Tensor, i: int, tau: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``log p_i·`` over the contrast set, and the mask of the other samples."""
    s = z[i] @ z.T / tau
    others = torch.arange(z.shape[0], device=z.device) != i
    return s - torch.logsumexp(s[others], dim=0), others


def mean_or_zero(terms: list[torch.Tensor], z: torch.Tensor) -> torch.Tensor:
    return torch.stack(terms).mean() if terms else z.sum() * 0.0


def loop_weighted(
    z: torch.Tensor, labels: torch.Tensor, rule: RowRule, tau: float, anchors: int
) -> torch.Tensor:
    """``mean_i −Σ_j W_ij log p_ij / Σ_j W_ij`` over anchors with a positive."""
    z = F.normalize(z.float(), dim=1)
    terms = []
    for i in range(anchors):
        log_prob, others = row_log_prob(z, i, tau)
        w = rule(labels[i], labels) * others
        total = w.sum()
        if total > 0:
            terms.append(-(w * log_prob).sum() / total)
    return mean_or_zero(terms, z)


def loop_mulsupcon(z: torch.Tensor, labels: torch.Tensor, tau: float, anchors: int) -> torch.Tensor:
    """One anchor per (sample, label): ``−mean_{p ∈ P_k(i)} log p_ip``, mean over pairs."""
    z = F.normalize(z.float(), dim=1)
    terms = []
    for i in range(anchors):
        log_prob, others = row_log_prob(z, i, tau)
        for k in torch.nonzero(labels[i]).flatten().tolist():
            positives = (labels[:, k] > 0) & others
            if positives.any():
                terms.append(-log_prob[positives].mean())
    return mean_or_zero(terms, z)


def loop_himulcone(
    z: torch.Tensor, labels: torch.Tensor, tree: LabelTree, tau: float, anchors: int
) -> torch.Tensor:
    """HiMulConE: per-level SupCon with exact level-path positives, max chain, λ_l = e^(1/l)."""
    z = F.normalize(z.float(), dim=1)
    levels = [tree.level_view(labels, depth) for depth in range(tree.num_levels, 0, -1)]
    terms: list[list[torch.Tensor]] = [[] for _ in levels]
    for i in range(anchors):
        log_prob, others = row_log_prob(z, i, tau)
        for level_terms, level_labels in zip(terms, levels, strict=True):
            w = row_all(level_labels[i], level_labels) * others
            total = w.sum()
            if total > 0:
                level_terms.append(-(w * log_prob).sum() / total)
    total_loss, running_max = z.sum() * 0.0, None
    for level, level_terms in enumerate(terms, start=1):
        value = mean_or_zero(level_terms, z)
        running_max = value if running_max is None else torch.maximum(running_max, value)
        total_loss = total_loss + math.exp(1.0 / level) * running_max
    return total_loss / len(levels)


def loop_mlcl(
    heads: Sequence[torch.Tensor], labels: torch.Tensor, tree: LabelTree, tau: float, anchors: int
) -> torch.Tensor:
    """The three MLCL heads of the benchmark: level-1 ALL, SD and ANY, summed."""
    roots = tree.level_view(labels, 1)
    return (
        loop_weighted(heads[0], roots, row_all, tau, anchors)
        + loop_weighted(heads[1], labels, row_sd, tau, anchors)
        + loop_weighted(heads[2], labels, row_any, tau, anchors)
    )


# ---------------------------------------------------------------------------- the entries
@dataclass
class Entry:
    name: str
    leaves: Callable[[Case], list[torch.Tensor]]
    loss: Callable[[Case, list[torch.Tensor]], torch.Tensor]  # library forward (or the floor)
    loop: Callable[[Case, list[torch.Tensor], int], torch.Tensor] | None  # loop, first K anchors


def floor(z: torch.Tensor, tau: float) -> torch.Tensor:
    s = z @ z.T / tau
    eye = torch.eye(s.shape[0], dtype=torch.bool, device=s.device)
    return torch.logsumexp(s.masked_fill(eye, float("-inf")), dim=1).sum()


def build_entries(case: Case, tau: float, device: torch.device) -> list[Entry]:
    def one(c: Case) -> list[torch.Tensor]:
        return [c.z]

    def three(c: Case) -> list[torch.Tensor]:
        return c.heads

    supcon = SupConLoss(tau).to(device)
    ml = {rule: MultiLabelSupConLoss(rule, tau).to(device) for rule in ("any", "all", "jaccard")}
    sd = SimilarityDissimilarityLoss(tau).to(device)
    mulsupcon = MulSupConLoss(tau).to(device)
    hier = HierarchicalContrastiveLoss(case.tree, mode="himulcone", temperature=tau).to(device)
    mlcl = MultiLevelContrastiveLoss(
        [
            ContrastiveHeadSpec("level1_all", "all", level=1, temperature=tau),
            ContrastiveHeadSpec("sd", "sd", temperature=tau, view="all"),  # the loop: whole sets
            ContrastiveHeadSpec("any", "any", temperature=tau),
        ],
        tree=case.tree,
    ).to(device)
    rows: dict[str, RowRule] = {"any": row_any, "all": row_all, "jaccard": row_jaccard}

    entries = [
        Entry("floor", one, lambda c, x: floor(x[0], tau), None),
        Entry(
            "SupCon",
            one,
            lambda c, x: supcon(x[0], c.class_ids),
            lambda c, x, k: loop_weighted(x[0], c.class_ids, row_same_class, tau, k),
        ),
    ]
    for rule, loss in ml.items():
        entries.append(
            Entry(
                f"MultiLabelSupCon-{rule}",
                one,
                lambda c, x, loss=loss: loss(x[0], c.flat),
                lambda c, x, k, rule=rule: loop_weighted(x[0], c.flat, rows[rule], tau, k),
            )
        )
    entries += [
        Entry(
            "SimilarityDissimilarity",
            one,
            lambda c, x: sd(x[0], c.flat),
            lambda c, x, k: loop_weighted(x[0], c.flat, row_sd, tau, k),
        ),
        Entry(
            "MulSupCon",
            one,
            lambda c, x: mulsupcon(x[0], c.flat),
            lambda c, x, k: loop_mulsupcon(x[0], c.flat, tau, k),
        ),
        Entry(
            "Hierarchical-himulcone",
            one,
            lambda c, x: hier(x[0], c.hier),
            lambda c, x, k: loop_himulcone(x[0], c.hier, c.tree, tau, k),
        ),
        Entry(
            "MLCL-3heads",
            three,
            lambda c, x: mlcl(list(x), c.hier).loss,
            lambda c, x, k: loop_mlcl(x, c.hier, c.tree, tau, k),
        ),
    ]
    return entries


# ---------------------------------------------------------------------------- timing
def make_step(
    case: Case,
    entry: Entry,
    forward: Callable[[Case, list[torch.Tensor]], torch.Tensor],
    device: torch.device,
    amp_dtype: torch.dtype | None,
) -> Callable[[], None]:
    """One forward (under autocast) + backward into the float32 leaves."""
    leaves = entry.leaves(case)

    def step() -> None:
        for leaf in leaves:
            leaf.grad = None
        autocast = (
            torch.autocast(device.type, dtype=amp_dtype)
            if amp_dtype is not None
            else contextlib.nullcontext()
        )
        with autocast:
            inputs = [leaf.to(amp_dtype) for leaf in leaves] if amp_dtype else list(leaves)
            value = forward(case, inputs)
        value.backward()

    return step


def calibrate(step: Callable[[], None], sync: Callable[[], None], min_block: float) -> int:
    """Warm up ``step`` and return how many calls make a block of at least ``min_block`` s."""
    step()  # warm-up (allocator, lazy initialisation, sparse/one-hot paths)
    sync()
    start = time.perf_counter()
    step()
    sync()
    once = time.perf_counter() - start
    return max(1, min(1000, math.ceil(min_block / max(once, 1e-9))))


def time_block(step: Callable[[], None], number: int, sync: Callable[[], None]) -> float:
    """Seconds per call of ``number`` back-to-back calls."""
    sync()
    start = time.perf_counter()
    for _ in range(number):
        step()
    sync()
    return (time.perf_counter() - start) / number


class OtherLoad:
    """CPU time that *other* processes used on this machine since the last :meth:`start`.

    Read from ``/proc/stat`` (all CPUs) less ``/proc/self/stat`` (this process), in clock
    ticks; a shared machine shows up as a share of the CPUs' capacity > 0. Off Linux it
    reports nothing and no round is ever discarded.
    """

    def __init__(self) -> None:
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.cpus = os.cpu_count() or 1
        self.available = self._read() is not None
        self.rounds = 0
        self.discarded = 0
        self.kept_noisy = 0

    @staticmethod
    def _read() -> tuple[int, int] | None:
        try:
            with open("/proc/stat") as stat:
                fields = [int(v) for v in stat.readline().split()[1:]]
            with open("/proc/self/stat") as own:
                mine = own.read().rsplit(")", 1)[1].split()
        except (OSError, ValueError, IndexError):
            return None
        busy = sum(fields[:3]) + sum(fields[5:8])  # user nice system irq softirq steal
        return busy, int(mine[11]) + int(mine[12])  # utime + stime of all threads

    def start(self) -> None:
        self._start = self._read(), time.perf_counter()

    def busy(self, max_share: float) -> bool:
        """Whether others used more than ``max_share`` of the CPUs since :meth:`start`.

        Counters tick at ``SC_CLK_TCK`` (usually 100 Hz), so two ticks of slack are allowed.
        """
        (begin, began), now = self._start, self._read()
        if begin is None or now is None:
            return False
        others = (now[0] - begin[0]) - (now[1] - begin[1])
        capacity = (time.perf_counter() - began) * self.cpus * self.tick
        return others > 2 + max_share * capacity

    def wait_quiet(self, max_share: float, timeout: float = 30.0) -> None:
        """Sleep in 0.5 s steps until others stay under ``max_share`` (or ``timeout``)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            self.start()
            time.sleep(0.5)
            if not self.busy(max_share):
                return

    def summary(self, max_other_share: float) -> str:
        if not self.available:
            return "other processes' CPU use not monitored (no /proc)"
        return (
            f"{self.rounds} timing rounds; {self.discarded} discarded and re-run because other "
            f"processes used > {max_other_share:.0%} of the CPUs; {self.kept_noisy} such rounds "
            "kept after the retries ran out"
        )


def median_times(
    steps: Sequence[Callable[[], None]],
    repeats: int,
    sync: Callable[[], None],
    min_block: float,
    load: OtherLoad,
    max_other_share: float,
) -> list[float]:
    """Median seconds per call of every step, timed round-robin.

    Every round times one block of each step in turn, so a slow period of the machine hits
    all entries of an (N, L) point alike and the ratios to the floor stay meaningful. A
    round during which other processes used more than ``max_other_share`` of the CPUs is
    thrown away and run again once the machine is quiet (waiting up to 30 s), at most
    ``2 * repeats`` times per call; after that noisy rounds are kept and counted in
    ``load.kept_noisy``. Calibration and warm-up are not checked.
    """
    numbers = [calibrate(step, sync, min_block) for step in steps]
    times: list[list[float]] = [[] for _ in steps]
    retries = 2 * repeats
    while len(times[0]) < repeats:
        load.start()
        block = [
            time_block(step, number, sync) for step, number in zip(steps, numbers, strict=True)
        ]
        load.rounds += 1
        if load.busy(max_other_share):
            if retries > 0:
                load.discarded += 1
                retries -= 1
                load.wait_quiet(max_other_share)
                continue
            load.kept_noisy += 1
        for out, seconds in zip(times, block, strict=True):
            out.append(seconds)
    return [statistics.median(t) for t in times]


@dataclass
class Row:
    n: int
    num_labels: int
    name: str
    ms: float
    floor_ms: float
    loop_ms: float | None  # None: not run
    loop_anchors: int | None


def check_loop(case: Case, entry: Entry) -> float:
    """Relative difference of loop and library values (float32, full loop)."""
    with torch.no_grad():
        leaves = entry.leaves(case)
        library = float(entry.loss(case, list(leaves)))
        loop = float(entry.loop(case, list(leaves), case.n))
    return abs(library - loop) / max(abs(library), 1e-12)


# ---------------------------------------------------------------------------- reporting
def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def header_lines(args: argparse.Namespace, device: torch.device) -> list[str]:
    cores = f", {torch.get_num_threads()} torch threads"
    loops = (
        "skipped (--skip-loops)"
        if args.skip_loops
        else f"N <= {args.loop_max_n}, "
        + (f"first {args.loop_anchors} anchors only" if args.loop_anchors else "all N anchors")
        + f", median of {args.loop_repeats} runs"
    )
    return [
        f"mlcl_text loss benchmark — {datetime.datetime.now().astimezone():%Y-%m-%d %H:%M %Z}",
        f"torch {torch.__version__}, python {platform.python_version()}, "
        f"device {device.type}: {device_name(device)}{cores}",
        f"autocast dtype {args.dtype} (losses compute in float32), d = {args.dim}, "
        f"τ = {args.tau}, repeats = {args.repeats} (median; blocks >= {args.min_block_ms} ms), "
        f"seed = {args.seed}",
        "labels: 1–5 per sample (p = "
        + "/".join(f"{p:g}" for p in LABELS_PER_SAMPLE)
        + f"), Zipf({ZIPF_EXPONENT}) over L; hierarchy: 3-level tree of L nodes, leaves "
        "sampled the same way and closed upwards; MLCL: heads level-1 ALL, SD, ANY on 3 [N, d] "
        "embeddings",
        f"loop reference: {loops}",
        f"machine at start: {load_average()} on {os.cpu_count()} CPUs",
        "×floor = time / floor time (same N, L, run); ×loop = loop time / loss time",
    ]


def format_table(rows: list[Row], loop_anchors: int | None) -> list[list[str]]:
    loop_col = f"loop ms per {loop_anchors} anchors" if loop_anchors else "loop ms"
    speedup_col = f"×loop ({loop_anchors}-anchor loop / loss)" if loop_anchors else "×loop"
    table = [["N", "L", "loss", "time ms", "×floor", loop_col, speedup_col]]
    for r in rows:
        loop_ms = "—" if r.loop_ms is None else f"{r.loop_ms:.1f}"
        speedup = "—" if r.loop_ms is None else f"{r.loop_ms / r.ms:.0f}×"
        table.append(
            [
                str(r.n),
                str(r.num_labels),
                r.name,
                f"{r.ms:.3f}" if r.ms < 1 else f"{r.ms:.2f}",
                f"{r.ms / r.floor_ms:.2f}",
                loop_ms,
                speedup,
            ]
        )
    return table


def render_text(table: list[list[str]]) -> str:
    widths = [max(len(row[c]) for row in table) for c in range(len(table[0]))]
    left = {2}
    lines = []
    for k, row in enumerate(table):
        cells = [
            cell.ljust(widths[c]) if c in left else cell.rjust(widths[c])
            for c, cell in enumerate(row)
        ]
        lines.append("  ".join(cells).rstrip())
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_markdown(table: list[list[str]]) -> str:
    align = ["---:", "---:", ":---", "---:", "---:", "---:", "---:"]
    lines = ["| " + " | ".join(table[0]) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
    return "\n".join(lines)


# MLCL contrasts one embedding set per head, each needing its own similarity matrix and
# softmax: its floor is that many floors, and the target is judged per embedding set.
EMBEDDING_SETS = {"MLCL-3heads": 3}


def floor_multiple(row: Row) -> float:
    """Loss time over the floor time of as many embedding sets as the loss contrasts."""
    return row.ms / (EMBEDDING_SETS.get(row.name, 1) * row.floor_ms)


def _verdict_entry(row: Row) -> str:
    sets = EMBEDDING_SETS.get(row.name, 1)
    if sets == 1:
        return f"{row.name} ({floor_multiple(row):.2f}×)"
    return f"{row.name} ({floor_multiple(row):.2f}× per embedding set, {row.ms / row.floor_ms:.2f}× one floor)"


def target_verdict(rows: list[Row]) -> str:
    at_target = [
        r for r in rows if r.n == TARGET_N and r.num_labels == TARGET_L and r.name != "floor"
    ]
    if not at_target:
        return (
            f"target (every loss within {TARGET_FACTOR:g}× of the floor at N={TARGET_N}, "
            f"L={TARGET_L}): not measured in this run"
        )
    meets = [_verdict_entry(r) for r in at_target if floor_multiple(r) <= TARGET_FACTOR]
    misses = [_verdict_entry(r) for r in at_target if floor_multiple(r) > TARGET_FACTOR]
    return (
        f"target ≤ {TARGET_FACTOR:g}× floor at N={TARGET_N}, L={TARGET_L}: "
        f"meet: {', '.join(meets) or 'none'}; miss: {', '.join(misses) or 'none'}"
    )


# ---------------------------------------------------------------------------- main
def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=[64, 256, 1024], help="batch sizes N"
    )
    parser.add_argument(
        "--labels", type=int, nargs="+", default=[10, 100, 1000], help="label counts L"
    )
    parser.add_argument("--dim", type=int, default=128, help="embedding width d")
    parser.add_argument("--repeats", type=int, default=7, help="timed blocks per entry (median)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument(
        "--dtype",
        choices=("float32", "bfloat16", "float16"),
        default="float32",
        help="autocast dtype of the forward (float32: no autocast)",
    )
    parser.add_argument("--tau", type=float, default=0.1, help="temperature of every loss")
    parser.add_argument("--skip-loops", action="store_true", help="do not run the loop references")
    parser.add_argument("--loop-max-n", type=int, default=256, help="run loops only for N <= this")
    parser.add_argument(
        "--loop-anchors",
        type=int,
        default=None,
        help="loop over only the first K anchors (column says so); default all",
    )
    parser.add_argument(
        "--loop-repeats", type=int, default=3, help="timed runs per loop reference (median)"
    )
    parser.add_argument(
        "--min-block-ms",
        type=float,
        default=20.0,
        help="repeat fast calls inside a timed block to last at least this",
    )
    parser.add_argument(
        "--max-other-share",
        type=float,
        default=0.1,
        help="re-run a timing round when other processes used more than this share of the CPUs",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--markdown", metavar="PATH", help="also write the report as markdown")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: CUDA is not available")
    amp_dtype = None if args.dtype == "float32" else getattr(torch, args.dtype)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    header = header_lines(args, device)
    print("\n".join(header), flush=True)
    started = time.perf_counter()
    rows: list[Row] = []
    load = OtherLoad()
    worst_check: tuple[float, str] = (0.0, "")
    for n in args.sizes:
        for num_labels in args.labels:
            case = make_case(n, num_labels, args.dim, device, args.seed)
            entries = build_entries(case, args.tau, device)
            run_loops = not args.skip_loops and n <= args.loop_max_n
            anchors = min(n, args.loop_anchors or n)
            steps = [make_step(case, e, e.loss, device, amp_dtype) for e in entries]
            seconds = median_times(
                steps, args.repeats, sync, args.min_block_ms / 1e3, load, args.max_other_share
            )
            floor_ms = 1e3 * seconds[0]
            for entry, second in zip(entries, seconds, strict=True):
                ms = 1e3 * second
                loop_ms = None
                if run_loops and entry.loop is not None:
                    if anchors == n:
                        diff = check_loop(case, entry)
                        if diff > 1e-4:
                            print(f"WARNING: loop and {entry.name} differ by {diff:.2e} (rel)")
                        where = f"{entry.name} N={n} L={num_labels}"
                        worst_check = max(worst_check, (diff, where))

                    def loop_forward(c, x, entry=entry, anchors=anchors):
                        return entry.loop(c, x, anchors)

                    loop_step = make_step(case, entry, loop_forward, device, amp_dtype)
                    loop_ms = (
                        1e3
                        * median_times(
                            [loop_step], args.loop_repeats, sync, 0.0, load, args.max_other_share
                        )[0]
                    )
                rows.append(Row(n, num_labels, entry.name, ms, floor_ms, loop_ms, anchors))
                loop_text = "" if loop_ms is None else f"   loop {loop_ms:9.1f} ms"
                print(
                    f"  N={n:5d} L={num_labels:5d} {entry.name:24s} {ms:9.3f} ms"
                    f"  {ms / floor_ms:6.2f}× floor{loop_text}",
                    flush=True,
                )
    elapsed = time.perf_counter() - started

    table = format_table(rows, args.loop_anchors)
    verdict = target_verdict(rows)
    check = (
        f"loop references agree with the losses: max relative difference {worst_check[0]:.1e} "
        f"({worst_check[1]}), float32, full loops"
        if worst_check[1]
        else "loop references not checked (no full loop ran)"
    )
    print()
    print("\n".join(header))
    print()
    print(render_text(table))
    print()
    print(check)
    print(f"total benchmark time {elapsed:.0f} s; {load_average()}")
    print(load.summary(args.max_other_share))
    print(verdict)
    if args.markdown:
        with open(args.markdown, "w", encoding="utf-8") as out:
            out.write("\n".join(f"- {line}" for line in header) + "\n\n")
            out.write(render_markdown(table) + "\n\n")
            out.write(
                f"{check}; total benchmark time {elapsed:.0f} s; {load_average()}; "
                f"{load.summary(args.max_other_share)}.\n\n"
                f"**{verdict}**\n"
            )


if __name__ == "__main__":
    main()
