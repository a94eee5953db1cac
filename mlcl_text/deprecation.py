"""Old spellings of names that moved or were renamed, kept working with a warning.

A module whose names moved gets ``__getattr__ = moved_names(__name__, {...})``: each old
name still resolves, to its new home, and each use warns with a ``DeprecationWarning``
that names the new spelling.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["moved_names", "warn_renamed"]


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn (``DeprecationWarning``) that ``old`` is now spelled ``new``."""
    warnings.warn(f"{old} is deprecated; use {new}", DeprecationWarning, stacklevel=stacklevel)


def moved_names(module: str, moves: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving names that moved.

    ``moves`` maps an old name of ``module`` to its new home ``"package.module:name"``;
    other unknown names raise ``AttributeError`` as usual.
    """

    def __getattr__(name: str) -> Any:
        try:
            target = moves[name]
        except KeyError:
            raise AttributeError(f"module {module!r} has no attribute {name!r}") from None
        home, _, new = target.partition(":")
        warn_renamed(f"{module}.{name}", f"{home}.{new}")
        return getattr(importlib.import_module(home), new)

    return __getattr__
