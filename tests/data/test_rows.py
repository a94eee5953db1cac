"""The standard columns of every loader and rows turned into a Dataset (mlcl_text.data.rows)."""

from __future__ import annotations

import pytest
from datasets import Value

from mlcl_text.data.rows import FEATURES, features_with, rows_to_dataset


def test_rows_become_a_dataset_with_exactly_the_standard_columns():
    rows = [
        {"text": "a", "labels": ["CS", "CS/ML"], "id": "1", "split": "train"},
        {"text": "b", "labels": [], "id": "2", "split": "train"},
    ]
    data = rows_to_dataset(rows)
    assert data.features == FEATURES and data.column_names == ["text", "labels", "id"]
    assert data[0] == {"text": "a", "labels": ["CS", "CS/ML"], "id": "1"}  # "split" left out
    assert data[1]["labels"] == []


def test_an_empty_split_keeps_the_schema():
    empty = rows_to_dataset([])
    assert len(empty) == 0 and empty.features == FEATURES


def test_extra_columns_extend_the_schema():
    features = features_with(subject_id=Value("int64"))
    assert list(features) == ["text", "labels", "id", "subject_id"]
    data = rows_to_dataset([{"text": "a", "labels": ["x"], "id": "7", "subject_id": 3}], features)
    assert data.features["subject_id"] == Value("int64") and data[0]["subject_id"] == 3
    with pytest.raises(ValueError, match="id are already in the standard columns"):
        features_with(id=Value("int64"))
    with pytest.raises(KeyError, match="subject_id"):
        rows_to_dataset([{"text": "a", "labels": [], "id": "7"}], features)
