"""Build time and closure time of LabelTree for large label sets.

Run: python bench/hierarchy.py [--labels 1000 10000 50000] [--repeats 5]
Prints a table (median seconds over the repeats) and how it was run.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time

import numpy as np
import torch

from mlcl_text.hierarchy import LabelTree


def random_parents(n: int, seed: int = 0) -> dict[str, str | None]:
    rng = np.random.default_rng(seed)
    return {f"n{i}": (f"n{int(rng.integers(0, i))}" if i else None) for i in range(n)}


def icd_like_paths(n: int) -> list[str]:
    """Three levels: chapter / category / code, about 20 codes per category."""
    return [f"C{i // 400}/K{i // 20}/D{i}" for i in range(n)]


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=int, nargs="+", default=[1_000, 10_000, 50_000])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(
        f"# LabelTree benchmark — python {platform.python_version()}, numpy {np.__version__}, "
        f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
        f"median of {args.repeats}"
    )
    print(f"{'labels':>8} {'from_parents s':>15} {'from_paths s':>13} {'closure 1k rows s':>18}")
    for n in args.labels:
        parents = random_parents(n)
        paths = icd_like_paths(n)
        tree = LabelTree.from_parents(parents)
        y = np.zeros((1000, len(tree)), dtype=np.float32)
        rng = np.random.default_rng(1)
        y[np.repeat(np.arange(1000), 5), rng.integers(0, len(tree), 5000)] = 1
        t_parents = median_seconds(lambda p=parents: LabelTree.from_parents(p), args.repeats)
        t_paths = median_seconds(lambda p=paths: LabelTree.from_paths(p), args.repeats)
        t_closure = median_seconds(lambda t=tree, m=y: t.closure(m), args.repeats)
        print(f"{n:>8} {t_parents:>15.4f} {t_paths:>13.4f} {t_closure:>18.4f}")


if __name__ == "__main__":
    main()
