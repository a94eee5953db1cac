"""Data sets as ``(DatasetDict, LabelTree)``: ``mlcl_text.data.load(name, path=None, **options)``."""

from mlcl_text.data import (
    files,  # noqa: F401  (registers "files")
    mimic3,  # noqa: F401  (registers "mimic3")
    mimic4,  # noqa: F401  (registers "mimic4")
    packaged,  # noqa: F401  (registers "debtags" and the other shipped data sets)
    rcv1,  # noqa: F401  (registers "rcv1")
    wos,  # noqa: F401  (registers "wos")
)
from mlcl_text.data.registry import SPLITS, DataError, available, is_restricted, load, register

__all__ = ["SPLITS", "DataError", "available", "is_restricted", "load", "register"]
