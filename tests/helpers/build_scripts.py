"""Import the data-set builders of ``scripts/`` (a folder of scripts, not a package)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def import_script(name: str) -> ModuleType:
    """``scripts/<name>.py`` imported as the top-level module ``name``.

    A builder runs as ``python scripts/build_<name>.py``, which puts ``scripts/`` on
    ``sys.path``, and imports its shared helpers with ``from _build_common import …``; the
    import here sees the same ``sys.path`` (``scripts/`` first, for the time of the import).
    The module stays in ``sys.modules``, where dataclasses look their module up.
    """
    sys.path.insert(0, str(SCRIPTS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(SCRIPTS))
