"""The dataset registry: ``load(name, path=None, **options) -> (DatasetDict, LabelTree)``.

Every loader returns a ``datasets.DatasetDict`` with the splits ``train``, ``validation`` and
``test``, each with a ``text`` column (``str``) and a ``labels`` column (``list[str]``: the
document's label names, closed under ancestors, so every name is a node of the tree), and
the :class:`~mlcl_text.hierarchy.LabelTree` of the data set.

A loader's options are its keyword arguments (a recipe's ``dataset_options``); an unknown
option is a :class:`DataError` naming it and the closest known one (:func:`did_you_mean`).
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable
from typing import Any

from datasets import DatasetDict

from mlcl_text.hierarchy import LabelTree

Loader = Callable[..., tuple[DatasetDict, LabelTree]]

_LOADERS: dict[str, Loader] = {}
#: Data sets under a data-use agreement (clinical notes): models trained on them are marked
#: ``restricted`` whatever the recipe says, so a public Hub push needs a named agreement.
RESTRICTED: set[str] = set()
SPLITS = ("train", "validation", "test")
#: What a loader does with a bad row (``on_error=``): raise a :class:`DataError` naming it, or
#: skip it and report the skipped rows, counted by reason, in one warning.
ON_ERROR = ("raise", "skip")


class DataError(ValueError):
    """Bad input data; the message names the file, row and reason.

    ``reason`` is a short category ("empty text", "unknown label", ...) for skip counts.
    """

    def __init__(self, message: str, reason: str | None = None):
        super().__init__(message)
        self.reason = reason or message


def did_you_mean(word: object, known: Iterable[str]) -> str:
    """``" (did you mean 'x'?)"`` naming the one of ``known`` closest to ``word`` (``difflib``),
    or ``""`` when none is close: the hint of every unknown-key error (data set options here,
    recipe keys in :mod:`mlcl_text.training.recipe`)."""
    guess = difflib.get_close_matches(str(word), sorted(known), n=1)
    return f" (did you mean {guess[0]!r}?)" if guess else ""


def check_on_error(on_error: object) -> str:
    """``on_error`` when it is one of :data:`ON_ERROR`, else a ``ValueError`` saying so."""
    if not isinstance(on_error, str) or on_error not in ON_ERROR:
        raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    return on_error


def register(name: str, *, restricted: bool = False) -> Callable[[Loader], Loader]:
    """Decorator: make a loader available as ``load(name, ...)``; ``restricted`` marks a data
    set under a data-use agreement (see :data:`RESTRICTED`)."""

    def add(loader: Loader) -> Loader:
        if name in _LOADERS:
            raise ValueError(f"a data set named {name!r} is already registered")
        _LOADERS[name] = loader
        if restricted:
            RESTRICTED.add(name)
        return loader

    return add


def available() -> list[str]:
    """Names that :func:`load` accepts."""
    return sorted(_LOADERS)


def is_restricted(name: str) -> bool:
    """Whether the data set ``name`` is under a data-use agreement (MIMIC)."""
    return name in RESTRICTED


def options_of(name: str) -> list[str] | None:
    """The option names the loader ``name`` takes (its keyword arguments after ``path``), or
    ``None`` when it takes any (``**options``)."""
    parameters = list(inspect.signature(_LOADERS[name]).parameters.values())[1:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return [
        p.name
        for p in parameters
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]


def load(name: str, path: str | None = None, **options: Any) -> tuple[DatasetDict, LabelTree]:
    """Load the data set ``name`` (see :func:`available`) from ``path`` with its ``options``.

    An option the loader does not take is a :class:`DataError` naming it, the closest known
    option and the loader's options.
    """
    try:
        loader = _LOADERS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}; available: {', '.join(available())}") from None
    known = options_of(name)
    unknown = [key for key in options if known is not None and key not in known]
    if unknown:
        key = unknown[0]
        raise DataError(
            f"unknown dataset_options key {key!r} for data set {name!r}"
            f"{did_you_mean(key, known)}; its options: {', '.join(known)}"
        )
    return loader(path, **options)
