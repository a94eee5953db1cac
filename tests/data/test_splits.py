"""Seeded index splits and the patient-disjoint split (mlcl_text.data.splits)."""

from __future__ import annotations

import numpy as np
import pytest

from mlcl_text.data.splits import check_fractions, patient_split, seeded_split


def test_seeded_split_follows_the_permutation_and_keeps_source_order():
    parts = seeded_split(10, n_validation=3, n_test=2, seed=5)
    order = np.random.default_rng(5).permutation(10)
    assert parts["test"].tolist() == sorted(order[:2])
    assert parts["validation"].tolist() == sorted(order[2:5])
    assert parts["train"].tolist() == sorted(order[5:])
    assert (
        seeded_split(10, n_validation=3, n_test=2, seed=5)["test"].tolist()
        == parts["test"].tolist()
    )
    assert seeded_split(4, n_validation=0, n_test=0, seed=0)["train"].tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize(("n_validation", "n_test"), [(6, 5), (-1, 0), (0, -2)])
def test_seeded_split_refuses_impossible_sizes(n_validation, n_test):
    with pytest.raises(
        ValueError, match=rf"cannot take {n_validation} \+ {n_test} held-out rows from 10"
    ):
        seeded_split(10, n_validation=n_validation, n_test=n_test, seed=0)


def test_patient_split_keeps_every_patient_in_one_split():
    subjects = [1, 1, 2, 3, 3, 3, 4, 5, 6, 6, 7, 8]
    parts = patient_split(subjects, seed=1, validation_fraction=0.25, test_fraction=0.25)
    assert sorted(np.concatenate(list(parts.values())).tolist()) == list(range(len(subjects)))
    patients = {s: set(np.asarray(subjects)[i].tolist()) for s, i in parts.items()}
    assert not patients["train"] & patients["test"]
    assert not patients["train"] & patients["validation"]
    assert not patients["validation"] & patients["test"]
    assert len(parts["test"]) >= 3 and len(parts["test"]) + len(parts["validation"]) >= 6
    again = patient_split(subjects, seed=1, validation_fraction=0.25, test_fraction=0.25)
    assert all(np.array_equal(parts[s], again[s]) for s in parts)


@pytest.mark.parametrize(("validation", "test"), [(0.5, 0.5), (-0.1, 0.1), (0.1, 1.0)])
def test_fractions_are_checked(validation, test):
    with pytest.raises(ValueError, match="must be in \\[0, 1\\) with a sum below 1"):
        check_fractions(validation, test)
    check_fractions(0.0, 0.0)
