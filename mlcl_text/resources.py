"""Folders that live at the repository's top level and ship inside the package.

``model_cards/`` and ``recipes/`` are installed as ``mlcl_text.model_cards`` and
``mlcl_text.bundled_recipes`` (see ``[tool.setuptools.package-dir]``). An editable install or
a source checkout reads the top-level folders directly.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

_TOP_LEVEL = Path(__file__).resolve().parents[1]


def bundled_dir(package: str, folder: str) -> Path:
    """``package``'s folder when installed as package data, else the top-level ``folder``."""
    try:
        return Path(str(files(package)))
    except ModuleNotFoundError:
        return _TOP_LEVEL / folder


def model_cards_dir() -> Path:
    return bundled_dir("mlcl_text.model_cards", "model_cards")


def recipes_dir() -> Path:
    return bundled_dir("mlcl_text.bundled_recipes", "recipes")
