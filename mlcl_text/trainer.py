"""``MLCLTrainer``: ``transformers.Trainer`` with the multi-head contrastive losses added."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from transformers import Trainer, TrainingArguments

from mlcl_text.losses.multi_level import MultiLevelContrastiveLoss

SCHEDULES = ("joint", "two_stage")


@dataclass
class MLCLTrainingArguments(TrainingArguments):
    """``TrainingArguments`` plus how the classification and contrastive losses combine.

    The training loss at step ``t`` is ``a_cls(t) · BCE + a_con(t) · Σ_h α_h 𝓛_h`` with

    * ``schedule="joint"`` (default): ``a_cls = classification_weight`` and
      ``a_con = contrastive_weight · min(1, t / contrastive_warmup_steps)``;
    * ``schedule="two_stage"`` (SupCon, Khosla et al. 2020): contrastive only for
      ``contrastive_stage_steps`` steps (``a_cls = 0``), then classification only
      (``a_con = 0``), with the encoder frozen in the second stage unless
      ``freeze_encoder_in_second_stage=False``.
    """

    contrastive_weight: float = field(
        default=1.0, metadata={"help": "Weight of the summed contrastive heads."}
    )
    classification_weight: float = field(default=1.0, metadata={"help": "Weight of the BCE loss."})
    contrastive_warmup_steps: int = field(
        default=0,
        metadata={"help": "Steps over which the contrastive weight ramps up linearly from 0."},
    )
    schedule: str = field(default="joint", metadata={"help": "'joint' or 'two_stage'."})
    contrastive_stage_steps: int = field(
        default=0,
        metadata={
            "help": "two_stage: steps of contrastive-only training before classifier training."
        },
    )
    freeze_encoder_in_second_stage: bool = field(
        default=True,
        metadata={
            "help": "two_stage: freeze the encoder and heads once classifier training starts."
        },
    )
    memory_size: int = field(
        default=0,
        metadata={"help": "Per-head memory of past projections used as extra contrast rows."},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.schedule == "two_stage" and self.contrastive_stage_steps < 1:
            raise ValueError("schedule='two_stage' needs contrastive_stage_steps >= 1")
        if min(self.contrastive_weight, self.classification_weight) < 0:
            raise ValueError("loss weights must be >= 0")


class MLCLTrainer(Trainer):
    """Trains an :class:`~mlcl_text.modeling.MLCLModel` on BCE plus its contrastive heads.

    The contrastive heads come from the model's config (``config.heads``, ``config.label_tree``);
    their losses run in float32 on the projections of each batch, gathered across processes
    under ``accelerate launch`` / ``torchrun``. Every component is logged, averaged over each
    logging window and over processes: ``loss_cls`` and ``loss_con/<head>`` in training,
    ``eval_loss_cls`` and ``eval_loss_con/<head>`` at evaluation.

    Args:
        pos_weight: optional ``[num_labels]`` positive-class weights for the BCE.
        *args, **kwargs: as for ``transformers.Trainer``.
    """

    # compute_loss returns a per-batch mean: the Trainer divides it by the accumulation steps
    loss_is_scaled_for_ga = False

    def __init__(self, *args: Any, pos_weight: torch.Tensor | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        config = self.model.config
        memory = getattr(self.args, "memory_size", 0)
        self.contrastive = (
            MultiLevelContrastiveLoss(config.head_specs, tree=config.tree, memory_size=memory)
            if config.heads
            else None
        )
        self.pos_weight = pos_weight
        self._component_sums: dict[str, dict[str, torch.Tensor]] = {"train": {}, "eval": {}}
        self._component_counts: dict[str, int] = defaultdict(int)
        self._encoder_frozen = False

    # ------------------------------------------------------------------ loss
    def loss_weights(self, step: int) -> tuple[float, float]:
        """``(a_cls, a_con)`` at optimisation step ``step`` (see :class:`MLCLTrainingArguments`)."""
        args = self.args
        a_cls = getattr(args, "classification_weight", 1.0)
        a_con = getattr(args, "contrastive_weight", 1.0)
        if getattr(args, "schedule", "joint") == "two_stage":
            return (0.0, a_con) if step < args.contrastive_stage_steps else (a_cls, 0.0)
        warmup = getattr(args, "contrastive_warmup_steps", 0)
        if warmup > 0:
            a_con *= min(1.0, step / warmup)
        return a_cls, a_con

    def compute_loss(
        self,
        model: nn.Module,
        inputs: dict[str, torch.Tensor | Any],
        return_outputs: bool = False,
        num_items_in_batch: torch.Tensor | int | None = None,
    ) -> torch.Tensor | tuple[torch.Tensor, Any]:
        inputs = dict(inputs)
        labels = inputs.pop("labels", None)
        if labels is None:
            raise ValueError("MLCLTrainer needs a 'labels' column of multi-hot float vectors")
        if model.training:
            self._apply_stage()
        outputs = model(**inputs)
        a_cls, a_con = self.loss_weights(self.state.global_step) if model.training else (1.0, 1.0)

        pos_weight = None if self.pos_weight is None else self.pos_weight.to(outputs.logits.device)
        loss_cls = nn.functional.binary_cross_entropy_with_logits(
            outputs.logits.float(), labels.float(), pos_weight=pos_weight
        )
        components = {"loss_cls": loss_cls.detach()}
        loss = a_cls * loss_cls
        if self.contrastive is not None:
            self.contrastive.to(outputs.logits.device).train(model.training)
            contrastive = self.contrastive(outputs.projections, labels)
            components.update(
                {f"loss_con/{name}": value for name, value in contrastive.components.items()}
            )
            # multiplying by an exact 0 keeps every head's parameters in the graph (DDP)
            loss = loss + a_con * contrastive.loss
        self._accumulate("train" if model.training else "eval", components)
        outputs.loss = loss
        return (loss, outputs) if return_outputs else loss

    def _apply_stage(self) -> None:
        """Freeze the encoder and heads when a two-stage run reaches its second stage."""
        args = self.args
        if (
            getattr(args, "schedule", "joint") != "two_stage"
            or not args.freeze_encoder_in_second_stage
            or self._encoder_frozen
            or self.state.global_step < args.contrastive_stage_steps
        ):
            return
        unwrapped = self.accelerator.unwrap_model(self.model)
        for module in (unwrapped.encoder, unwrapped.heads):
            for parameter in module.parameters():
                parameter.requires_grad_(False)
                parameter.grad = None
        self._encoder_frozen = True

    # ------------------------------------------------------------------ logging
    def _accumulate(self, split: str, components: dict[str, torch.Tensor]) -> None:
        sums = self._component_sums[split]
        for name, value in components.items():
            value = value.detach().float()
            sums[name] = sums[name] + value if name in sums else value.clone()
        self._component_counts[split] += 1

    def _flush(self, split: str) -> dict[str, float]:
        sums, count = self._component_sums[split], self._component_counts[split]
        if not count:
            return {}
        means = {}
        for name, total in sums.items():
            mean = self.accelerator.reduce(total / count, reduction="mean")
            means[name] = round(float(mean), 6)
        self._component_sums[split] = {}
        self._component_counts[split] = 0
        return means

    def log(self, logs: dict[str, float], start_time: float | None = None) -> None:
        if any(key.startswith("eval_") for key in logs):
            logs.update({f"eval_{name}": value for name, value in self._flush("eval").items()})
        elif "loss" in logs:
            logs.update(self._flush("train"))
        super().log(logs, start_time)
