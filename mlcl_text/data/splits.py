"""Seeded splits of a data set's rows into train, validation and test.

Two rules, both reproducible from a seed:

* :func:`seeded_split` — ``numpy.random.default_rng(seed).permutation(n)``; the first
  ``n_test`` positions go to test, the next ``n_validation`` to validation, the rest to
  train (WOS, RCV1-v2's validation, the held-out splits of generic files);
* :func:`patient_split` — the same over patients, so that every admission of a patient is
  in one split (the clinical loaders without split files).

Both return each split's sorted row indices, so rows keep their order in the source.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["check_fractions", "patient_split", "seeded_split"]


def seeded_split(n: int, *, n_validation: int, n_test: int, seed: int) -> dict[str, np.ndarray]:
    """Indices of each split: ``permutation = numpy.random.default_rng(seed).permutation(n)``;
    ``permutation[:n_test]`` → test, the next ``n_validation`` → validation, the rest → train.

    Each split's indices are sorted, so rows keep their order in the source.
    """
    if n_validation < 0 or n_test < 0 or n_validation + n_test > n:
        raise ValueError(f"cannot take {n_validation} + {n_test} held-out rows from {n}")
    order = np.random.default_rng(seed).permutation(n)
    return {
        "train": np.sort(order[n_test + n_validation :]),
        "validation": np.sort(order[n_test : n_test + n_validation]),
        "test": np.sort(order[:n_test]),
    }


def check_fractions(validation_fraction: float, test_fraction: float) -> None:
    """Held-out fractions in ``[0, 1)`` with a sum below 1, else ``ValueError``."""
    if not (0 <= validation_fraction < 1 and 0 <= test_fraction < 1) or (
        validation_fraction + test_fraction >= 1
    ):
        raise ValueError(
            "validation_fraction and test_fraction must be in [0, 1) with a sum below 1, got "
            f"{validation_fraction} and {test_fraction}"
        )


def patient_split(
    subjects: Sequence[int], *, seed: int, validation_fraction: float, test_fraction: float
) -> dict[str, np.ndarray]:
    """Patient-disjoint split of admissions whose patients are ``subjects``.

    The rule: the distinct patient ids, sorted, are permuted by
    ``numpy.random.default_rng(seed).permutation``; walking that order, patients go to test
    until test holds at least ``round(test_fraction · n)`` admissions, then to validation
    until it holds ``round(validation_fraction · n)``, and the rest to train. Every
    admission of a patient is in one split. Returns each split's sorted admission indices.
    """
    check_fractions(validation_fraction, test_fraction)
    subjects = np.asarray(subjects, dtype=np.int64)
    patients, inverse, counts = np.unique(subjects, return_inverse=True, return_counts=True)
    order = np.random.default_rng(seed).permutation(len(patients))
    cumulative = np.cumsum(counts[order])
    n_test = round(test_fraction * len(subjects))
    n_held = n_test + round(validation_fraction * len(subjects))
    # first position whose running total reaches each target
    test_end = int(np.searchsorted(cumulative, n_test)) + 1 if n_test else 0
    held_end = max(test_end, int(np.searchsorted(cumulative, n_held)) + 1 if n_held else 0)
    split_of_patient = np.zeros(len(patients), dtype=np.int8)  # 0 train, 1 validation, 2 test
    split_of_patient[order[:test_end]] = 2
    split_of_patient[order[test_end:held_end]] = 1
    split_of_admission = split_of_patient[inverse]
    return {
        "train": np.flatnonzero(split_of_admission == 0),
        "validation": np.flatnonzero(split_of_admission == 1),
        "test": np.flatnonzero(split_of_admission == 2),
    }
