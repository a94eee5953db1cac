"""Reading JSON strictly: the run files must be standard JSON, without NaN or Infinity."""

from __future__ import annotations

import json


def strict_loads(text: str):
    """``json.loads`` that fails on NaN, Infinity and -Infinity."""

    def refuse(constant: str):
        raise AssertionError(f"not strict JSON: {constant}")

    return json.loads(text, parse_constant=refuse)
