"""pyproject.toml ships every subpackage and the model-card templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlcl_text.export.model_card import TEMPLATE, template_directory

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def test_every_subpackage_is_listed():
    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "mlcl_text").rglob("__init__.py")
    } | {"mlcl_text.model_cards", "mlcl_text.bundled_recipes"}
    assert found == listed


def test_model_card_template_is_found():
    assert (template_directory() / TEMPLATE).is_file()
