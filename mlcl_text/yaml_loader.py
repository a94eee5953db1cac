"""The project's YAML dialect, for recipes, sweep specs and a run's ``recipe.yaml``.

YAML 1.2 scalars on PyYAML (a YAML 1.1 parser): ``1e-3`` is a float and only
``true``/``false`` are booleans, so ``save_strategy: no`` stays the string ``"no"``. A syntax
error becomes one line naming the file, line and column (:func:`yaml_error_line`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

__all__ = ["parse_yaml", "yaml_error_line"]


class _Loader(yaml.SafeLoader):
    """YAML 1.2 scalars: ``1e-3`` is a float and only ``true``/``false`` are booleans (YAML 1.1
    reads ``1e-3`` as a string and ``no``, as in ``save_strategy: no``, as ``False``)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
        |\.[0-9_]+(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


def parse_yaml(text: str) -> Any:
    """Parse recipe YAML (floats such as ``3e-5`` included)."""
    return yaml.load(text, Loader=_Loader)


def yaml_error_line(path: str | Path, error: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: ``PATH:LINE:COLUMN: not valid YAML: PROBLEM``, with
    where the enclosing construct began (PyYAML's own message spans several lines)."""
    mark = getattr(error, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context, start = getattr(error, "context", None), getattr(error, "context_mark", None)
    if context and start is not None:
        problem += f" ({context} that began at line {start.line + 1}, column {start.column + 1})"
    return f"{where}: not valid YAML: {problem}"
