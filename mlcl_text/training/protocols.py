"""Training protocols: the stages a ``schedule`` chains, each a fresh :class:`MLCLTrainer`.

=====================  =====================================================================
``schedule``           stages
=====================  =====================================================================
``joint``              ``joint`` (BCE + heads) for the run's budget
``two_stage``          ``contrastive`` for the contrastive budget, then ``classifier`` on the
                       frozen encoder in eval mode for the run's budget (or, with
                       ``classifier_fit="logistic"``, a logistic-regression fit instead)
``pretrain_finetune``  ``contrastive``, then ``finetune`` (everything but the heads on BCE)
=====================  =====================================================================

Every stage has its own optimiser and learning-rate schedule (warm-up and decay over the
stage's own steps), so the classifier of a two-stage run never inherits the tail of a decayed
schedule. The contrastive stage trains at ``contrastive_stage_learning_rate`` (default
``learning_rate``) and does not evaluate or select checkpoints (there is no trained
classifier yet); the last stage evaluates and selects as the run's arguments say. With
``classifier_fit="logistic"`` the classifier is finally fitted by logistic regression on the
training set's pooled embeddings (:mod:`mlcl_text.training.probe`); with ``classifier_init="probe"`` it
is fitted so before the first stage that trains it (``joint``, ``classifier`` or
``finetune``), which then starts from that linear probe.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlcl_text.training.arguments import MLCLTrainingArguments
from mlcl_text.training.probe import fit_logistic_classifier
from mlcl_text.training.trainer import MLCLTrainer

CONTRASTIVE_STAGE_DIR = "contrastive-stage"


@dataclass
class ProtocolResult:
    """The last stage's trainer (its model is the trained model) and the whole run's logs."""

    trainer: MLCLTrainer
    log_history: list[dict[str, Any]] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)


def stage_plan(args: MLCLTrainingArguments, has_heads: bool) -> list[str]:
    """The stages ``args.schedule`` runs (a model without heads only ever trains jointly)."""
    schedule = args.schedule
    if schedule != "joint" and not has_heads:
        raise ValueError(f"schedule={schedule!r} needs contrastive heads")
    if schedule == "two_stage":
        logistic = args.classifier_fit == "logistic"
        return ["contrastive"] if logistic else ["contrastive", "classifier"]
    if schedule == "pretrain_finetune":
        return ["contrastive", "finetune"]
    return ["joint"]


def contrastive_stage_arguments(args: MLCLTrainingArguments) -> MLCLTrainingArguments:
    """The run's arguments with the contrastive stage's budget and learning rate, no
    evaluation, no checkpoint selection, and checkpoints (if any) in a sub-folder."""
    steps = args.contrastive_stage_steps
    return dataclasses.replace(
        args,
        max_steps=steps if steps >= 1 else -1,
        num_train_epochs=args.contrastive_stage_epochs if steps < 1 else args.num_train_epochs,
        learning_rate=args.contrastive_stage_learning_rate or args.learning_rate,
        eval_strategy="no",
        load_best_model_at_end=False,
        metric_for_best_model=None,
        early_stopping_patience=0,
        output_dir=str(Path(args.output_dir) / CONTRASTIVE_STAGE_DIR),
    )


def run_protocol(
    model: Any,
    args: MLCLTrainingArguments,
    train_dataset: Any,
    data_collator: Any,
    eval_dataset: Any = None,
    pos_weight: Any = None,
    callbacks: list | None = None,
    resume_from_checkpoint: str | bool | None = None,
) -> ProtocolResult:
    """Train ``model`` through the stages of ``args.schedule`` (module docstring).

    ``resume_from_checkpoint`` resumes the last stage; earlier stages run again (they are
    deterministic under the run's seed). Log entries carry their ``stage`` and steps counted
    over the whole run.
    """
    plan = stage_plan(args, bool(model.config.heads))
    history: list[dict[str, Any]] = []
    seconds: dict[str, float] = {}
    trainer = None
    steps_before = 0
    for position, stage in enumerate(plan):
        last = position == len(plan) - 1
        stage_args = contrastive_stage_arguments(args) if stage == "contrastive" else args
        if stage == "contrastive" and last:  # two_stage with a logistic fit: nothing evaluates
            stage_args = dataclasses.replace(stage_args, output_dir=args.output_dir)
        if stage != "contrastive" and args.classifier_init == "probe":
            started = time.perf_counter()
            _fit_classifier(model, args, train_dataset, data_collator)
            seconds["probe_init"] = time.perf_counter() - started
        trainer = MLCLTrainer(
            model=model,
            args=stage_args,
            train_dataset=train_dataset,
            eval_dataset=eval_dataset if stage_args.eval_strategy != "no" else None,
            data_collator=data_collator,
            pos_weight=pos_weight,
            stage=stage,
            callbacks=callbacks,
        )
        started = time.perf_counter()
        trainer.train(resume_from_checkpoint=resume_from_checkpoint if last else None)
        seconds[stage] = time.perf_counter() - started
        history.extend(
            {**entry, "stage": stage, "step": entry.get("step", 0) + steps_before}
            for entry in trainer.state.log_history
        )
        steps_before += trainer.state.global_step
    if args.classifier_fit == "logistic":
        started = time.perf_counter()
        _fit_classifier(
            trainer.accelerator.unwrap_model(trainer.model), args, train_dataset, data_collator
        )
        seconds["logistic_fit"] = time.perf_counter() - started
    return ProtocolResult(trainer, history, seconds)


def _fit_classifier(model: Any, args: MLCLTrainingArguments, dataset: Any, collator: Any) -> None:
    """The logistic fit of ``classifier_fit`` and ``classifier_init`` (:mod:`mlcl_text.training.probe`)."""
    fit_logistic_classifier(
        model,
        dataset,
        collator,
        c=args.classifier_fit_c,
        batch_size=args.per_device_eval_batch_size,
        seed=args.seed,
    )
