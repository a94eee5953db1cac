"""YAML recipes: one file per data set and method, flat keys grouped by comment headers.

A recipe holds model keys, data keys, loss keys and any ``TrainingArguments`` /
:class:`~mlcl_text.training.arguments.MLCLTrainingArguments` field (transformers 5 names)::

    # model
    model_name_or_path: bert-base-uncased
    pooling: pooler
    max_length: 512
    # data
    dataset: wos
    dataset_path: data/WebOfScience
    subset: {method: k_per_label, k: 5, seed: 0}
    # losses
    heads:
      - {name: domain, positives: all, level: 1, temperature: 0.1}
    # training
    output_dir: outputs/wos-mlcl
    learning_rate: 2.0e-5
    num_train_epochs: 10

Unknown keys are errors that name the key, the file and the closest known key. Command-line
overrides are ``key=value`` with a YAML value (``learning_rate=3e-5``,
``dataset_options.max_train=200``, ``heads=[]``).
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mlcl_text.data.registry import did_you_mean
from mlcl_text.evaluation.metrics import METRIC_LABELS
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.modeling.configuration import DEFAULT_MAX_LENGTH
from mlcl_text.training.arguments import MLCLTrainingArguments, bound_error
from mlcl_text.training.budget import BUDGET_ARGUMENTS, BudgetError, BudgetPlan, TrainingBudget
from mlcl_text.yaml_loader import parse_yaml, yaml_error_line


class RecipeError(ValueError):
    """A recipe that cannot be used; the message names the file and the key."""


@dataclass
class Recipe:
    """A parsed recipe (see the module docstring for the file format)."""

    # model
    model_name_or_path: str
    pooling: str = "cls"
    max_length: int = DEFAULT_MAX_LENGTH
    max_segments: int = 1
    segment_pooling: str = "max"
    classifier_dropout: float = 0.1
    classifier_bias_init: str = "prior"
    lora: dict | None = None
    # data
    dataset: str = "debtags"
    dataset_path: str | None = None
    dataset_options: dict[str, Any] = field(default_factory=dict)
    subset: dict[str, Any] | None = None
    max_eval_samples: int | None = None
    restricted: bool = False
    # losses
    heads: list[dict[str, Any]] = field(default_factory=list)
    pos_weight: str | None = None
    # evaluation: decision thresholds tuned on the validation split
    tune_thresholds: bool = True
    per_label_thresholds: bool = False
    threshold_metric: str = "micro_f1"
    metric_labels: str = "all"  # "leaves": flat scores on the leaves only (ICD codes)
    # training: the budget in optimizer steps (mlcl_text.training.budget), every other key as
    # TrainingArguments fields
    budget: dict[str, Any] | None = None
    # the checkpoint-* folders stay after training (resume, inspection); removed by default
    # once the final model is saved
    keep_checkpoints: bool = False
    training: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def head_specs(self) -> list[ContrastiveHeadSpec]:
        return [ContrastiveHeadSpec.from_dict(h) for h in self.heads]

    def training_budget(self) -> TrainingBudget | None:
        return None if self.budget is None else TrainingBudget.from_dict(self.budget)

    def budget_plan(self, documents: int, processes: int = 1) -> BudgetPlan | None:
        """The recipe's budget resolved for ``documents`` training documents on
        ``processes`` processes (``None`` without a budget)."""
        budget = self.training_budget()
        if budget is None:
            return None
        defaults = MLCLTrainingArguments.__dataclass_fields__
        return budget.plan(
            documents,
            self.training.get(
                "per_device_train_batch_size", defaults["per_device_train_batch_size"].default
            ),
            processes,
            self.training.get(
                "gradient_accumulation_steps", defaults["gradient_accumulation_steps"].default
            ),
        )

    def training_arguments(
        self, plan: BudgetPlan | None = None, **overrides: Any
    ) -> MLCLTrainingArguments:
        """The run's training arguments: the recipe's, then the ``plan`` of its budget (for a
        recipe with a budget and no plan, the plan of a one-document split, which checks the
        arguments fit together), then ``overrides``."""
        if plan is None and self.budget is not None:
            plan = self.budget_plan(documents=1)
        planned = plan.training_arguments() if plan is not None else {}
        return MLCLTrainingArguments(**{**self.training, **planned, **overrides})

    @property
    def output_dir(self) -> Path:
        return Path(self.training["output_dir"])

    def to_dict(self) -> dict[str, Any]:
        """Flat form, as in a recipe file."""
        flat = {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name not in ("training", "source")
        }
        return {**flat, **self.training}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(
            yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True), encoding="utf-8"
        )


RECIPE_KEYS = {f.name for f in dataclasses.fields(Recipe)} - {"training", "source"}
TRAINING_KEYS = {f.name for f in dataclasses.fields(MLCLTrainingArguments) if f.init}
POSITIVE_WEIGHTS = (None, "balanced")


def load_recipe(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> Recipe:
    """Read a recipe file and apply ``key=value`` overrides."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"recipe file {path} does not exist")
    try:
        content = parse_yaml(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise RecipeError(yaml_error_line(path, error)) from None
    if not isinstance(content, dict):
        raise RecipeError(f"{path}: a recipe is a mapping of keys to values")
    for override in overrides:
        apply_override(content, override, str(path))
    return recipe_from_dict(content, source=str(path))


def apply_override(content: dict[str, Any], override: str, source: str = "command line") -> None:
    """Set ``key=value`` (YAML value; dots reach into mappings) in ``content``."""
    key, sep, raw = override.partition("=")
    if not sep or not key.strip():
        raise RecipeError(f"override {override!r} is not of the form key=value")
    try:
        value = parse_yaml(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    *parents, last = key.strip().split(".")
    target = content
    for part in parents:
        target = target.setdefault(part, {})
        if not isinstance(target, dict):
            raise RecipeError(f"override {override!r}: {part!r} in {source} is not a mapping")
    target[last] = value


def recipe_from_dict(content: dict[str, Any], source: str | None = None) -> Recipe:
    """Validate flat recipe keys and split them into recipe fields and training arguments."""
    where = source or "recipe"
    unknown = [k for k in content if k not in RECIPE_KEYS and k not in TRAINING_KEYS]
    if unknown:
        key = unknown[0]
        hint = did_you_mean(key, RECIPE_KEYS | TRAINING_KEYS)
        renamed = {"warmup_ratio": " (transformers 5: use a float warmup_steps)"}.get(key, "")
        raise RecipeError(f"{where}: unknown key {key!r}{renamed or hint}")
    if "model_name_or_path" not in content:
        raise RecipeError(f"{where}: model_name_or_path is required")
    for key, value in content.items():
        _check_type(key, value, where)
        _check_range(key, value, where)
    _check_model_path(content["model_name_or_path"], where)
    fields = {k: v for k, v in content.items() if k in RECIPE_KEYS}
    training = {k: v for k, v in content.items() if k in TRAINING_KEYS}
    training.setdefault("output_dir", str(Path("outputs") / Path(source or "run").stem))
    recipe = Recipe(**fields, training=training, source=source)
    if recipe.classifier_bias_init not in ("prior", "zero"):
        raise RecipeError(
            f"{where}: classifier_bias_init must be 'prior' or 'zero', got {recipe.classifier_bias_init!r}"
        )
    if recipe.pos_weight not in POSITIVE_WEIGHTS:
        raise RecipeError(
            f"{where}: pos_weight must be one of {POSITIVE_WEIGHTS}, got {recipe.pos_weight!r}"
        )
    if recipe.metric_labels not in METRIC_LABELS:
        raise RecipeError(
            f"{where}: metric_labels must be one of {METRIC_LABELS}, got {recipe.metric_labels!r}"
        )
    if recipe.budget is not None:
        both = [key for key in BUDGET_ARGUMENTS if key in training]
        if both:
            raise RecipeError(
                f"{where}: budget sets {both[0]} from the training split's size; remove "
                f"{both[0]}, or the budget (--set budget=) to set the steps yourself"
            )
        try:
            recipe.training_budget()
        except BudgetError as error:
            raise RecipeError(f"{where}: {error}") from None
    try:
        recipe.head_specs()
        recipe.training_arguments()
    except (TypeError, ValueError) as error:
        raise RecipeError(f"{where}: {error}") from None
    return recipe


# ---------------------------------------------------------------------------- validation
#: key → (lowest value, whether the lowest value itself is allowed), for the keys that are not
#: MLCLTrainingArguments' own (those: arguments.LOWER_BOUNDS)
_LOWER_BOUNDS: dict[str, tuple[float, bool]] = {
    "learning_rate": (0.0, False),
    "num_train_epochs": (0.0, True),
    "per_device_train_batch_size": (1, True),
    "per_device_eval_batch_size": (1, True),
    "gradient_accumulation_steps": (1, True),
    "max_length": (8, True),
    "max_segments": (1, True),
    "max_eval_samples": (1, True),
    "weight_decay": (0.0, True),
    "classifier_dropout": (0.0, True),
    "warmup_steps": (0.0, True),
    "logging_steps": (0.0, False),
    "save_steps": (0.0, False),
    "eval_steps": (0.0, False),
    "save_total_limit": (1, True),
    "max_grad_norm": (0.0, True),
    "seed": (0, True),
    "dataloader_num_workers": (0, True),
    "max_steps": (-1, True),
    "eval_accumulation_steps": (1, True),
    "adam_beta1": (0.0, True),
    "adam_beta2": (0.0, True),
    "adam_epsilon": (0.0, False),
    "label_smoothing_factor": (0.0, True),
}
#: key → exclusive upper bound
_UPPER_BOUNDS: dict[str, float] = {
    "classifier_dropout": 1.0,
    "adam_beta1": 1.0,
    "adam_beta2": 1.0,
    "label_smoothing_factor": 1.0,
}


@functools.cache
def _type_hints() -> dict[str, Any]:
    return {**typing.get_type_hints(MLCLTrainingArguments), **typing.get_type_hints(Recipe)}


def _check_type(key: str, value: Any, where: str) -> None:
    """A value of the wrong type for its key (a bool, number, string, list or mapping, or
    ``None`` where the key allows it) is an error naming the key. Keys whose type is anything
    else (an enum given as its name, say) are left to their consumers."""
    expected = _type_hints().get(key)
    if expected is None:
        return
    members = (
        typing.get_args(expected)
        if isinstance(expected, types.UnionType) or typing.get_origin(expected) is typing.Union
        else (expected,)
    )
    allowed = {typing.get_origin(m) or m for m in members}
    if not allowed <= {bool, int, float, str, list, dict, type(None)}:
        return
    names = {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a mapping",
    }
    if value is None:
        ok = type(None) in allowed
    elif isinstance(value, bool):
        ok = bool in allowed
    elif isinstance(value, int):
        ok = bool(allowed & {int, float})
    else:
        ok = any(isinstance(value, t) for t in allowed - {bool, int, type(None)})
    if not ok:
        if value is None:
            raise RecipeError(f"{where}: {key} needs a value, got nothing")
        kind = " or ".join(names[t] for t in names if t in allowed)
        raise RecipeError(f"{where}: {key} must be {kind}, got {value!r}")


def _check_range(key: str, value: Any, where: str) -> None:
    if (error := bound_error(key, value)) is not None:
        raise RecipeError(f"{where}: {error}")
    bound = _LOWER_BOUNDS.get(key)
    if bound is None or value is None or isinstance(value, bool):
        return
    lowest, inclusive = bound
    if isinstance(value, int | float) and not (value >= lowest if inclusive else value > lowest):
        relation = ">=" if inclusive else ">"
        raise RecipeError(f"{where}: {key} must be {relation} {lowest:g}, got {value!r}")
    upper = _UPPER_BOUNDS.get(key)
    if upper is not None and isinstance(value, int | float) and value >= upper:
        raise RecipeError(f"{where}: {key} must be < {upper:g}, got {value!r}")


_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")


def _check_model_path(name: Any, where: str) -> None:
    """A local folder that exists, or a Hub id (``name`` or ``owner/name``)."""
    if not isinstance(name, str) or not name.strip():
        raise RecipeError(f"{where}: model_name_or_path must be a folder or a Hub id")
    path = Path(name).expanduser()
    looks_local = name.startswith(("/", "./", "../", "~", "\\")) or path.exists()
    if looks_local:
        if not path.is_dir():
            raise RecipeError(f"{where}: model_name_or_path {name!r}: no such folder")
        if not (path / "config.json").is_file():
            raise RecipeError(
                f"{where}: model_name_or_path {name!r} is a folder without config.json "
                "(not a saved model)"
            )
    elif not _HUB_ID.match(name):
        raise RecipeError(
            f"{where}: model_name_or_path {name!r} is neither a folder here nor a Hub id "
            "(owner/name)"
        )
