"""The columns every loader writes, and rows turned into a ``datasets.Dataset`` of them.

Every split of every data set has ``text`` (``str``), ``labels`` (``list[str]``, the label
names closed under ancestors) and ``id`` (``str``): :data:`FEATURES`. A data set with more
columns (the clinical loaders add ``subject_id``) extends it with :func:`features_with`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from datasets import Dataset, Features, List, Value
from datasets.features.features import FeatureType

__all__ = ["FEATURES", "features_with", "rows_to_dataset"]

FEATURES = Features(
    {"text": Value("string"), "labels": List(Value("string")), "id": Value("string")}
)


def features_with(**columns: FeatureType) -> Features:
    """:data:`FEATURES` followed by the extra ``columns`` (``subject_id=Value("int64")``)."""
    clash = sorted(set(columns) & set(FEATURES))
    if clash:
        raise ValueError(f"column(s) {', '.join(clash)} are already in the standard columns")
    return Features({**FEATURES, **columns})


def rows_to_dataset(rows: Sequence[Mapping[str, Any]], features: Features = FEATURES) -> Dataset:
    """A ``Dataset`` of ``rows`` (one mapping per document) with exactly ``features``' columns.

    Keys of a row that are not columns are left out; an empty ``rows`` gives an empty split
    that still has the schema.
    """
    return Dataset.from_dict(
        {column: [row[column] for row in rows] for column in features}, features=features
    )
