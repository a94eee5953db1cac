"""The data set registry: unknown options get a did-you-mean error (mlcl_text.data.registry)."""

from __future__ import annotations

import pytest

from mlcl_text.data import DataError, available, load
from mlcl_text.data.registry import did_you_mean, options_of


def test_did_you_mean_names_the_closest_known_word():
    assert did_you_mean("hierarchi", ["hierarchy", "seed"]) == " (did you mean 'hierarchy'?)"
    assert did_you_mean("zzz", ["hierarchy", "seed"]) == ""


def test_an_unknown_files_option_is_a_did_you_mean_error(tmp_path):
    (tmp_path / "train.jsonl").write_text('{"text": "a", "labels": ["x"]}\n')
    with pytest.raises(DataError) as info:
        load("files", str(tmp_path), hierarchi="h.json")
    message = str(info.value)
    assert message.startswith(
        "unknown dataset_options key 'hierarchi' for data set 'files' "
        "(did you mean 'hierarchy'?); its options: train, validation, test, hub_id,"
    )
    assert "\n" not in message


@pytest.mark.parametrize("name", available())
def test_every_loader_checks_its_options(name):
    known = options_of(name)
    assert known and "seed" in known  # every loader names its options (no **options)
    with pytest.raises(
        DataError,
        match=rf"unknown dataset_options key 'sead' for data set "
        rf"'{name}' \(did you mean 'seed'\?\)",
    ):
        load(name, None, sead=1)
