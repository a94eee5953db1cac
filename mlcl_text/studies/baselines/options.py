"""The baselines' names and options: defaults, checks, and SetFit's training arguments.

SetFit's options are the fields of ``setfit.TrainingArguments`` that take a plain value
(checked once setfit is imported), with SetFit's own defaults, and ``head_params`` for its
``LogisticRegression`` head; the output folder, reporting, checkpoints and the seed are set
by the baseline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlcl_text.training.recipe import RecipeError

BASELINES = ("tfidf", "frozen", "setfit")
SETFIT_INSTALL = "pip install setfit (1.2 or later; or pip install 'mlcl-text[baselines]')"

#: Options each baseline accepts, with their defaults. SetFit's are its ``TrainingArguments``
#: fields (checked once setfit is imported), whose defaults are SetFit's own.
DEFAULT_OPTIONS: dict[str, dict[str, Any]] = {
    "tfidf": {
        "C": 10.0,
        "max_iter": 1000,
        "ngram_range": [1, 2],
        "sublinear_tf": True,
        "min_df": 1,
        "max_features": None,
    },
    "frozen": {"C": 1.0, "max_iter": 5000, "batch_size": 32},
    "setfit": {"head_params": {}, "predict_batch_size": 32},
}
# set by the baseline itself: a temporary folder, no reporting, no checkpoints, the recipe's seed
_SETFIT_MANAGED = ("output_dir", "report_to", "save_strategy", "seed", "logging_dir", "run_name")
# callables that a YAML option cannot express
_SETFIT_CALLABLES = ("loss", "distance_metric")
# SetFit's settings recorded in metrics.json (with the user's other options)
SETFIT_RECORDED = (
    "batch_size",
    "num_epochs",
    "max_steps",
    "sampling_strategy",
    "num_iterations",
    "body_learning_rate",
    "head_learning_rate",
    "loss",
    "warmup_proportion",
    "l2_weight",
    "end_to_end",
    "use_amp",
)


class BaselineError(RecipeError):
    """A baseline that cannot run (unknown name or option, setfit missing); the message says why."""


def resolve_options(name: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The baseline's options: its defaults updated with ``options``.

    :class:`BaselineError` for an unknown baseline or option (naming the allowed ones) and,
    for ``setfit``, when the package is missing.
    """
    if name not in BASELINES:
        raise BaselineError(f"unknown baseline {name!r}; choose from {', '.join(BASELINES)}")
    options = dict(options or {})
    allowed = set(DEFAULT_OPTIONS[name])
    if name == "setfit":
        setfit = require_setfit()
        fields = {f.name for f in dataclasses.fields(setfit.TrainingArguments) if f.init}
        for key in options:
            if key in _SETFIT_MANAGED:
                why = "the recipe's seed" if key == "seed" else "the baseline sets it"
                raise BaselineError(f"setfit option {key!r} cannot be set ({why})")
            if key in _SETFIT_CALLABLES:
                raise BaselineError(
                    f"setfit option {key!r} takes a Python callable; use setfit directly for it"
                )
        allowed |= fields - set(_SETFIT_MANAGED) - set(_SETFIT_CALLABLES)
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise BaselineError(
            f"unknown {name} option(s) {', '.join(map(repr, unknown))}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    resolved = {**DEFAULT_OPTIONS[name], **options}
    if name == "setfit":
        setfit_arguments(resolved, seed=0)  # a bad value fails here, naming it
    return resolved


def require_setfit():
    """The ``setfit`` module, or :class:`BaselineError` saying how to install it."""
    try:
        import setfit
    except ImportError as error:
        missing = getattr(error, "name", None) == "setfit"
        reason = "is not installed" if missing else f"cannot be imported ({error})"
        raise BaselineError(
            f"the setfit baseline needs the setfit package, which {reason}: {SETFIT_INSTALL}"
        ) from None
    return setfit


def setfit_arguments(options: Mapping[str, Any], seed: int, output_dir: Path | None = None):
    """``setfit.TrainingArguments`` of the options (lists become SetFit's pairs of values):
    no reporting, no checkpoints, the given seed; BaselineError for a bad value."""
    setfit = require_setfit()
    arguments = {
        k: tuple(v) if isinstance(v, list) else v
        for k, v in options.items()
        if k not in DEFAULT_OPTIONS["setfit"]
    }
    try:
        return setfit.TrainingArguments(
            **arguments,
            output_dir=str(output_dir or "checkpoints"),
            report_to="none",
            save_strategy="no",
            seed=seed,
        )
    except (TypeError, ValueError) as error:
        raise BaselineError(f"setfit options {arguments}: {error}") from None
