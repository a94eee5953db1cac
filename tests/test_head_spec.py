"""``mlcl_text.head_spec``: head settings readable without importing the losses."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from mlcl_text.head_spec import HEAD_POSITIVES, HEAD_VIEWS, ContrastiveHeadSpec

LOADED_MODULES = (
    "import json, sys, importlib; importlib.import_module(sys.argv[1]); "
    "print(json.dumps(sorted(m for m in sys.modules if m.startswith('mlcl_text'))))"
)


def loaded_modules(module: str) -> list[str]:
    """The ``mlcl_text`` modules a fresh interpreter holds after importing ``module``."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES, module],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["mlcl_text.configuration", "mlcl_text.modeling"])
def test_the_configuration_and_model_do_not_import_the_losses(module):
    loaded = loaded_modules(module)
    assert "mlcl_text.head_spec" in loaded
    assert [m for m in loaded if m.startswith("mlcl_text.losses")] == []


def test_the_old_import_paths_name_the_same_spec():
    from mlcl_text import losses
    from mlcl_text.losses import multi_level

    assert losses.ContrastiveHeadSpec is multi_level.ContrastiveHeadSpec is ContrastiveHeadSpec
    assert (multi_level.HEAD_POSITIVES, multi_level.HEAD_VIEWS) == (HEAD_POSITIVES, HEAD_VIEWS)


def test_a_spec_round_trips_through_its_dict():
    spec = ContrastiveHeadSpec("codes", "sd", temperature=0.07, view="all", options={"x": 1})
    assert ContrastiveHeadSpec.from_dict(spec.to_dict()) == spec
    assert ContrastiveHeadSpec("codes", "sd").label_view == "leaves"
    with pytest.raises(ValueError, match="unknown contrastive-head keys"):
        ContrastiveHeadSpec.from_dict({"name": "h", "tau": 0.1})
