"""``MLCLTrainingArguments``: ``TrainingArguments`` plus the settings of an mlcl-text run.

Kept apart from :mod:`mlcl_text.training.trainer` so that recipes and other readers of the settings
validate them without importing the trainer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from transformers import TrainingArguments

from mlcl_text.training.sampling import SAMPLERS

SCHEDULES = ("joint", "two_stage", "pretrain_finetune")
BALANCES = ("none", "gradient")
CLASSIFIER_FITS = ("none", "logistic")
CLASSIFIER_INITS = ("random", "probe")
#: parameter groups of an MLCLModel, by the first part of the parameter's name
COMPONENTS = ("encoder", "classifier", "heads")


#: the lower bounds of this class's own numeric fields: name → (lowest value, whether the lowest
#: value itself is allowed). ``__post_init__`` checks them, and a recipe checks them with its
#: file and key (:mod:`mlcl_text.training.recipe`).
LOWER_BOUNDS: dict[str, tuple[float, bool]] = {
    "classifier_learning_rate": (0.0, False),
    "head_learning_rate": (0.0, False),
    "contrastive_stage_learning_rate": (0.0, False),
    "memory_size": (0, True),
    "contrastive_weight": (0.0, True),
    "classification_weight": (0.0, True),
    "contrastive_warmup_steps": (0, True),
    "contrastive_stage_steps": (0, True),
    "contrastive_stage_epochs": (0.0, True),
    "samples_per_label": (2, True),
    "early_stopping_patience": (0, True),
    "classifier_fit_c": (0.0, False),
}


def bound_error(name: str, value: object) -> str | None:
    """``"NAME must be >= LOW, got VALUE"`` when ``value`` is below ``name``'s bound
    (:data:`LOWER_BOUNDS`), else ``None`` (also for a name without a bound, or ``None``)."""
    bound = LOWER_BOUNDS.get(name)
    if bound is None or value is None or isinstance(value, bool):
        return None
    lowest, inclusive = bound
    if isinstance(value, int | float) and not (value >= lowest if inclusive else value > lowest):
        return f"{name} must be {'>=' if inclusive else '>'} {lowest:g}, got {value!r}"
    return None


@dataclass
class MLCLTrainingArguments(TrainingArguments):
    """``TrainingArguments`` plus how the classification and contrastive losses combine.

    The training loss of a ``joint`` run at step ``t`` is
    ``a_cls · BCE + a_con(t) · Σ_h α_h 𝓛_h`` with ``a_cls = classification_weight`` and
    ``a_con(t) = contrastive_weight · min(1, t / contrastive_warmup_steps)``. With
    ``contrastive_balance="gradient"``, ``a_con`` is instead set at every step so that the
    contrastive gradient at the pooled embeddings ``h`` has ``contrastive_weight`` times the
    norm of the classification gradient there:
    ``a_con = contrastive_weight · ‖∂(a_cls·BCE)/∂h‖ / ‖∂(Σ_h α_h 𝓛_h)/∂h‖`` (treated as a
    constant), so neither loss can swamp the other.

    ``schedule`` chains stages, each with its own optimiser and learning-rate schedule:

    * ``joint``: one stage as above;
    * ``two_stage`` (SupCon, Khosla et al. 2020): contrastive only for
      ``contrastive_stage_steps`` steps or ``contrastive_stage_epochs`` epochs at
      ``contrastive_stage_learning_rate``, then the classifier alone on the frozen encoder in
      eval mode for the run's own budget (``num_train_epochs`` / ``max_steps``), or fitted by
      logistic regression with ``classifier_fit="logistic"``;
    * ``pretrain_finetune``: the same contrastive stage, then everything but the heads
      fine-tuned on BCE for the run's own budget.

    ``classifier_fit="logistic"`` fits the classifier to convergence by logistic regression on
    the final encoder's pooled embeddings of the training set (after the last stage; in
    ``two_stage``, instead of the classifier stage). ``classifier_init="probe"`` fits it the same
    way *before* the first stage that trains it, on the embeddings of the encoder as that stage
    receives it, so that fine-tuning starts from a linear probe instead of a random classifier
    (LP-FT: Kumar et al., "Fine-Tuning can Distort Pretrained Features and Underperform
    Out-of-Distribution", ICLR 2022). ``contrastive_views=2`` feeds every
    document twice per contrastive step, with independent dropout noise (SimCSE, Gao et al.
    2021), so every anchor that has a label in a head's view has a positive.
    """

    contrastive_weight: float = field(
        default=1.0, metadata={"help": "Weight of the summed contrastive heads."}
    )
    classification_weight: float = field(default=1.0, metadata={"help": "Weight of the BCE loss."})
    contrastive_warmup_steps: int = field(
        default=0,
        metadata={"help": "Steps over which the contrastive weight ramps up linearly from 0."},
    )
    contrastive_balance: str = field(
        default="none",
        metadata={"help": "'gradient': scale the heads to contrastive_weight × BCE's gradient."},
    )
    log_component_gradients: bool = field(
        default=False,
        metadata={"help": "Log the gradient norm of each loss at the pooled embeddings."},
    )
    contrastive_views: int = field(
        default=1, metadata={"help": "1, or 2: two dropout views of every document."}
    )
    schedule: str = field(
        default="joint", metadata={"help": "'joint', 'two_stage' or 'pretrain_finetune'."}
    )
    contrastive_stage_steps: int = field(
        default=0, metadata={"help": "Steps of the contrastive stage (wins over epochs)."}
    )
    contrastive_stage_epochs: float = field(
        default=0.0, metadata={"help": "Epochs of the contrastive stage."}
    )
    contrastive_stage_learning_rate: float | None = field(
        default=None, metadata={"help": "Encoder learning rate of the contrastive stage."}
    )
    classifier_learning_rate: float | None = field(
        default=None, metadata={"help": "Learning rate of the classifier (default: learning_rate)."}
    )
    head_learning_rate: float | None = field(
        default=None,
        metadata={"help": "Learning rate of the projection heads (default: learning_rate)."},
    )
    classifier_fit: str = field(
        default="none",
        metadata={"help": "'logistic': fit the classifier by logistic regression at the end."},
    )
    classifier_fit_c: float = field(
        default=1.0, metadata={"help": "Inverse regularisation C of the logistic fits."}
    )
    classifier_init: str = field(
        default="random",
        metadata={"help": "'probe': start the classifier from a logistic fit (linear probe)."},
    )
    early_stopping_patience: int = field(
        default=0,
        metadata={"help": "Stop after this many evaluations without a better best metric."},
    )
    # transformers' default is False: a resumed run would forget how many evaluations went by
    # without a gain, and stop later than the run it continues
    restore_callback_states_from_checkpoint: bool = field(
        default=True,
        metadata={"help": "Resume restores the callbacks' state (early stopping's patience)."},
    )
    memory_size: int = field(
        default=0,
        metadata={"help": "Per-head memory of past projections used as extra contrast rows."},
    )
    batch_sampler: str = field(
        default="random",
        metadata={
            "help": "'random', or 'labels': batches of label groups (mlcl_text.training.sampling)."
        },
    )
    samples_per_label: int = field(
        default=4, metadata={"help": "Documents per drawn label of the 'labels' sampler (m)."}
    )
    sampler_level: int | None = field(
        default=None,
        metadata={"help": "Tree depth the 'labels' sampler draws from (default: finest labels)."},
    )

    def __post_init__(self) -> None:
        # select checkpoints by validation micro-F1, never by a loss that mixes in the heads
        if self.load_best_model_at_end and self.metric_for_best_model is None:
            self.metric_for_best_model = "micro_f1"
        super().__post_init__()
        if self.use_cpu or not _has_accelerator():  # pinned memory needs an accelerator
            self.dataloader_pin_memory = False
        for name, value, allowed in (
            ("schedule", self.schedule, SCHEDULES),
            ("contrastive_balance", self.contrastive_balance, BALANCES),
            ("classifier_fit", self.classifier_fit, CLASSIFIER_FITS),
            ("classifier_init", self.classifier_init, CLASSIFIER_INITS),
            ("batch_sampler", self.batch_sampler, SAMPLERS),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
        if self.schedule != "joint" and not (
            self.contrastive_stage_steps >= 1 or self.contrastive_stage_epochs > 0
        ):
            raise ValueError(
                f"schedule={self.schedule!r} needs contrastive_stage_steps >= 1 or "
                "contrastive_stage_epochs > 0"
            )
        if self.contrastive_views not in (1, 2):
            raise ValueError(f"contrastive_views must be 1 or 2, got {self.contrastive_views}")
        for name in LOWER_BOUNDS:
            if (error := bound_error(name, getattr(self, name))) is not None:
                raise ValueError(error)
        if (
            self.classifier_init == "probe"
            and self.schedule == "two_stage"
            and self.classifier_fit == "logistic"
        ):
            raise ValueError(
                "classifier_init='probe' has no stage to start: schedule='two_stage' with "
                "classifier_fit='logistic' never trains the classifier"
            )
        if self.batch_sampler == "labels" and (
            self.per_device_train_batch_size % self.samples_per_label
        ):
            raise ValueError(
                f"batch_sampler='labels' needs samples_per_label dividing "
                f"per_device_train_batch_size ({self.per_device_train_batch_size}), got "
                f"{self.samples_per_label}"
            )
        if self.early_stopping_patience and not self.load_best_model_at_end:
            raise ValueError("early_stopping_patience needs load_best_model_at_end: true")

    def component_learning_rate(self, component: str) -> float:
        """The peak learning rate of a parameter group (see :data:`COMPONENTS`)."""
        if component == "classifier" and self.classifier_learning_rate is not None:
            return self.classifier_learning_rate
        if component == "heads" and self.head_learning_rate is not None:
            return self.head_learning_rate
        return self.learning_rate


def _has_accelerator() -> bool:
    accelerator = getattr(torch, "accelerator", None)
    if accelerator is not None and hasattr(accelerator, "is_available"):
        return bool(accelerator.is_available())
    return torch.cuda.is_available()
