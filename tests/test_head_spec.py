"""``mlcl_text.head_spec``: head settings readable without importing the losses."""

from __future__ import annotations

import pytest

from mlcl_text.head_spec import ContrastiveHeadSpec


def test_a_spec_round_trips_through_its_dict():
    spec = ContrastiveHeadSpec("codes", "sd", temperature=0.07, view="all", options={"x": 1})
    assert ContrastiveHeadSpec.from_dict(spec.to_dict()) == spec
    assert ContrastiveHeadSpec("codes", "sd").label_view == "leaves"
    with pytest.raises(ValueError, match="unknown contrastive-head keys"):
        ContrastiveHeadSpec.from_dict({"name": "h", "tau": 0.1})
