"""A training budget counted in optimizer steps, so that one recipe fits data of any size.

A budget in epochs means something else on every data set: 4 epochs of batch 16 are 100
optimizer steps for 400 training documents and 28 for 100. A recipe's ``budget`` instead
asks for ``epochs`` passes over the training split, but never fewer than ``min_steps`` nor
more than ``max_steps`` optimizer steps, and evaluates (and saves) ``evaluations`` times
over the run, so early stopping and the best checkpoint work at the same resolution
whatever the data's size::

    budget: {epochs: 20, min_steps: 300, max_steps: 2000, evaluations: 20}

With ``N`` training documents, a batch of ``B`` documents per process, ``P`` processes and
``A`` gradient-accumulation steps, an epoch is ``S = max(1, ⌊⌈N / (B·P)⌉ / A⌋)`` optimizer
steps (as the ``Trainer`` counts them) and the run trains for
``T = min(max_steps, max(min_steps, ⌈epochs · S⌉))`` steps, evaluating every
``⌈T / evaluations⌉`` steps. ``early_stopping_patience`` then counts evaluations, and the
learning-rate schedule (warm-up, decay) spans the ``T`` steps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

#: training arguments that a budget sets, so a recipe with a budget may not set them too
BUDGET_ARGUMENTS = (
    "num_train_epochs",
    "max_steps",
    "eval_strategy",
    "eval_steps",
    "save_strategy",
    "save_steps",
)


class BudgetError(ValueError):
    """A ``budget`` mapping that cannot be used; the message names the key."""


@dataclass(frozen=True)
class TrainingBudget:
    """``epochs`` passes over the training split, clamped to ``[min_steps, max_steps]``
    optimizer steps, with ``evaluations`` evaluations (and checkpoints) spread over the run."""

    epochs: float
    min_steps: int
    max_steps: int
    evaluations: int

    @classmethod
    def from_dict(cls, mapping: Mapping[str, Any]) -> TrainingBudget:
        """Check a recipe's ``budget`` mapping: every key named, each a positive number
        (integers for the steps and evaluations), ``min_steps <= max_steps``."""
        if not isinstance(mapping, Mapping):
            raise BudgetError(f"budget must be a mapping of {_KEYS}, got {mapping!r}")
        missing = [key for key in _KEYS if key not in mapping]
        unknown = [key for key in mapping if key not in _KEYS]
        if unknown or missing:
            wrong = f"unknown key {unknown[0]!r}" if unknown else f"missing key {missing[0]!r}"
            raise BudgetError(f"budget: {wrong}; a budget has the keys {', '.join(_KEYS)}")
        for key in _KEYS:
            value = mapping[key]
            integer = key != "epochs"
            kind = int if integer else (int, float)
            if isinstance(value, bool) or not isinstance(value, kind) or not value > 0:
                what = "a positive integer" if integer else "a positive number"
                raise BudgetError(f"budget: {key} must be {what}, got {value!r}")
        budget = cls(**{key: mapping[key] for key in _KEYS})
        if budget.min_steps > budget.max_steps:
            raise BudgetError(
                f"budget: min_steps ({budget.min_steps}) is above max_steps ({budget.max_steps})"
            )
        return budget

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def plan(
        self, documents: int, batch_size: int, processes: int = 1, accumulation: int = 1
    ) -> BudgetPlan:
        """The steps this budget gives ``documents`` training documents (module docstring)."""
        if documents < 1:
            raise BudgetError(f"budget: the training split is empty ({documents} documents)")
        batches = math.ceil(documents / (batch_size * processes))
        steps_per_epoch = max(1, batches // accumulation)
        wanted = math.ceil(self.epochs * steps_per_epoch)
        steps = min(self.max_steps, max(self.min_steps, wanted))
        bound = "min_steps" if steps > wanted else "max_steps" if steps < wanted else "epochs"
        return BudgetPlan(
            budget=self,
            documents=documents,
            steps_per_epoch=steps_per_epoch,
            steps=steps,
            eval_steps=math.ceil(steps / self.evaluations),
            bound=bound,
        )


_KEYS = ("epochs", "min_steps", "max_steps", "evaluations")


@dataclass(frozen=True)
class BudgetPlan:
    """A budget resolved for one training split: ``steps`` optimizer steps, an evaluation
    every ``eval_steps``; ``bound`` says which of the budget's keys decided ``steps``."""

    budget: TrainingBudget
    documents: int
    steps_per_epoch: int
    steps: int
    eval_steps: int
    bound: str

    @property
    def epochs(self) -> float:
        """Passes over the training split that ``steps`` amount to."""
        return self.steps / self.steps_per_epoch

    def training_arguments(self) -> dict[str, Any]:
        """The ``TrainingArguments`` fields that carry out this plan."""
        return {
            "max_steps": self.steps,
            "eval_strategy": "steps",
            "eval_steps": self.eval_steps,
            "save_strategy": "steps",
            "save_steps": self.eval_steps,
        }

    def to_dict(self) -> dict[str, Any]:
        """``metrics.json``'s ``budget``: the recipe's budget and what it resolved to."""
        return {
            **self.budget.to_dict(),
            "documents": self.documents,
            "steps_per_epoch": self.steps_per_epoch,
            "steps": self.steps,
            "eval_steps": self.eval_steps,
            "bound_by": self.bound,
        }

    def describe(self) -> str:
        """One line for the start of training."""
        return (
            f"budget: {self.documents} training documents, {self.steps_per_epoch} steps an "
            f"epoch -> {self.steps} steps ({self.epochs:.1f} epochs, set by {self.bound}), "
            f"evaluated every {self.eval_steps} steps"
        )
