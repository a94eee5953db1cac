"""``mlcl_text.head_spec``: head settings readable without importing the losses."""

from __future__ import annotations

import pytest

from mlcl_text.head_spec import ContrastiveHeadSpec
from tests.helpers.fresh_interpreter import loaded_modules


@pytest.mark.parametrize("module", ["mlcl_text.configuration", "mlcl_text.modeling"])
def test_the_configuration_and_model_do_not_import_the_losses(module):
    loaded = loaded_modules(module)
    assert "mlcl_text.head_spec" in loaded
    assert [m for m in loaded if m.startswith("mlcl_text.losses")] == []


def test_a_spec_round_trips_through_its_dict():
    spec = ContrastiveHeadSpec("codes", "sd", temperature=0.07, view="all", options={"x": 1})
    assert ContrastiveHeadSpec.from_dict(spec.to_dict()) == spec
    assert ContrastiveHeadSpec("codes", "sd").label_view == "leaves"
    with pytest.raises(ValueError, match="unknown contrastive-head keys"):
        ContrastiveHeadSpec.from_dict({"name": "h", "tau": 0.1})
