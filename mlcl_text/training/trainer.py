"""``MLCLTrainer``: ``transformers.Trainer`` with the multi-head contrastive losses added.

One trainer runs one *stage* of a training protocol (:mod:`mlcl_text.training.protocols` chains them):

* ``joint``: BCE and the contrastive heads together (the default);
* ``contrastive``: the heads only; the classifier is frozen;
* ``classifier``: the classifier only, on a frozen encoder kept in eval mode (no dropout), so
  it fits the very embeddings it will be used on;
* ``finetune``: everything but the heads, on BCE only.

Each parameter group gets its own learning rate (``classifier_learning_rate``,
``head_learning_rate``; the encoder takes ``learning_rate``) under the same warm-up and decay.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.special import expit
from torch import nn
from transformers import EarlyStoppingCallback, EvalPrediction, Trainer

from mlcl_text.evaluation.metrics import evaluate_predictions
from mlcl_text.evaluation.thresholds import tune_global_threshold
from mlcl_text.losses.multi_level import MultiLevelContrastiveLoss
from mlcl_text.run_folder import TRAINING_ARGS_FILE, write_json
from mlcl_text.training.arguments import COMPONENTS, MLCLTrainingArguments
from mlcl_text.training.progress import use_readable_output
from mlcl_text.training.sampling import LabelBatchSampler, sampling_view

#: the Trainer's pickled training arguments, replaced by TRAINING_ARGS_FILE in every saved folder
PICKLED_ARGUMENTS = "training_args.bin"
STAGES = ("joint", "contrastive", "classifier", "finetune")

__all__ = [
    "PICKLED_ARGUMENTS",
    "STAGES",
    "MLCLTrainer",
    "parameter_component",
    "prediction_probabilities",
    "validation_scores",
]


def parameter_component(name: str) -> str:
    """``encoder``, ``classifier`` or ``heads`` for a parameter name of an MLCLModel (wrapped
    by DDP or not); anything else counts as encoder."""
    parts = [p for p in name.split(".") if p not in ("module", "_orig_mod")]
    return parts[0] if parts and parts[0] in ("classifier", "heads") else "encoder"


def prediction_probabilities(predictions: np.ndarray | tuple) -> np.ndarray:
    """``[N, L]`` float64 sigmoid probabilities of the logits a ``Trainer`` prediction holds
    (the first of its outputs when it holds several); ``expit`` does not overflow."""
    logits = predictions[0] if isinstance(predictions, tuple) else predictions
    return expit(np.asarray(logits, dtype=np.float64))


def validation_scores(tree_size: int) -> Any:
    """``compute_metrics`` for model selection: micro- and macro-F1 of the validation split
    (:func:`mlcl_text.evaluation.metrics.evaluate_predictions`, as ``metrics.json`` scores them) at the
    global threshold that maximises its micro-F1, the threshold training then stores."""

    def compute(prediction: EvalPrediction) -> dict[str, float]:
        scores = prediction_probabilities(prediction.predictions)
        truth = (np.asarray(prediction.label_ids) > 0.5).astype(np.float32)
        if scores.shape != truth.shape or scores.shape[1] != tree_size:
            raise ValueError(f"predictions {scores.shape} do not match labels {truth.shape}")
        threshold = tune_global_threshold(truth, scores, metric="micro_f1")
        scored = evaluate_predictions(truth, scores, threshold=threshold)
        return {
            "micro_f1": scored["micro_f1"],
            "macro_f1": scored["macro_f1"],
            "threshold": float(threshold),
        }

    return compute


class MLCLTrainer(Trainer):
    """Trains an :class:`~mlcl_text.modeling.model.MLCLModel` on BCE plus its contrastive heads.

    The contrastive heads come from the model's config (``config.heads``, ``config.label_tree``);
    their losses run in float32 on the projections of each batch, gathered across processes
    under ``accelerate launch`` / ``torchrun``. Every component is logged, averaged over each
    logging window and over processes: ``loss_cls`` and ``loss_con/<head>`` in training,
    ``eval_loss_cls`` and ``eval_loss_con/<head>`` at evaluation. ``eval_loss`` is the
    classification loss alone; evaluation also reports ``eval_micro_f1`` / ``eval_macro_f1``
    at the tuned threshold (:func:`validation_scores`), the default selection metric.

    Args:
        pos_weight: optional ``[num_labels]`` positive-class weights for the BCE.
        stage: ``joint`` | ``contrastive`` | ``classifier`` | ``finetune`` (module docstring);
            the parameters outside the stage are frozen when the trainer is built.
        *args, **kwargs: as for ``transformers.Trainer``.
    """

    # compute_loss returns a per-batch mean: the Trainer divides it by the accumulation steps
    loss_is_scaled_for_ga = False

    def __init__(
        self,
        *args: Any,
        pos_weight: torch.Tensor | None = None,
        stage: str = "joint",
        **kwargs: Any,
    ):
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, got {stage!r}")
        given = kwargs.get("args", args[1] if len(args) > 1 else None)
        if not isinstance(given, MLCLTrainingArguments):
            raise TypeError(
                f"MLCLTrainer needs args=MLCLTrainingArguments(...), got {type(given).__name__}"
            )
        model = kwargs.get("model", args[0] if args else None)
        if model is not None:
            _set_stage_trainable(model, stage)
        super().__init__(*args, **kwargs)
        use_readable_output(self, stage)
        self.stage = stage
        config = self.model.config
        if self.compute_metrics is None:
            self.compute_metrics = validation_scores(config.num_labels)
        memory = self.args.memory_size
        self.contrastive = (
            MultiLevelContrastiveLoss(config.head_specs, tree=config.tree, memory_size=memory)
            if config.heads and stage in ("joint", "contrastive")
            else None
        )
        if stage == "contrastive" and self.contrastive is None:
            raise ValueError("a contrastive stage needs a model with projection heads")
        self.pos_weight = pos_weight
        patience = self.args.early_stopping_patience
        if patience:
            self.add_callback(EarlyStoppingCallback(early_stopping_patience=patience))
        self._component_sums: dict[str, dict[str, torch.Tensor]] = {"train": {}, "eval": {}}
        self._component_counts: dict[str, int] = defaultdict(int)

    # ------------------------------------------------------------------ batches
    def _get_train_sampler(self, train_dataset=None) -> torch.utils.data.Sampler | None:
        """The Trainer's sampler, or a :class:`~mlcl_text.training.sampling.LabelBatchSampler` with
        ``batch_sampler="labels"``."""
        if self.args.batch_sampler != "labels":
            return super()._get_train_sampler(train_dataset)
        dataset = self.train_dataset if train_dataset is None else train_dataset
        matrix = sampling_view(
            np.asarray(dataset["labels"]), self.model.config.tree, self.args.sampler_level
        )
        return LabelBatchSampler(
            matrix,
            batch_size=self.args.per_device_train_batch_size,
            per_label=self.args.samples_per_label,
            seed=self.args.seed,
            num_replicas=self.args.world_size,
        )

    # ------------------------------------------------------------------ saving
    def _save(self, output_dir: str | None = None, state_dict: dict | None = None) -> None:
        """As the Trainer saves (the final model and every checkpoint), with the training
        arguments as ``training_args.json`` instead of a pickle (``training_args.bin``): a run
        folder holds nothing that runs code when it is read."""
        super()._save(output_dir, state_dict)
        folder = Path(output_dir if output_dir is not None else self.args.output_dir)
        (folder / PICKLED_ARGUMENTS).unlink(missing_ok=True)
        if self.args.should_save:
            write_json(folder / TRAINING_ARGS_FILE, self.args.to_dict())

    # ------------------------------------------------------------------ optimiser
    def create_optimizer(self, model: nn.Module | None = None) -> torch.optim.Optimizer:
        """AdamW (or ``optim``) with one parameter group per component and weight-decay class,
        each at its component's learning rate."""
        if self.optimizer is not None:
            return self.optimizer
        opt_model = self.model if model is None else model
        decay = set(self.get_decay_parameter_names(opt_model))
        groups: dict[tuple[str, bool], list[nn.Parameter]] = defaultdict(list)
        for name, parameter in opt_model.named_parameters():
            if parameter.requires_grad:
                groups[(parameter_component(name), name in decay)].append(parameter)
        args = self.args
        rate = args.component_learning_rate
        parameter_groups = [
            {
                "params": params,
                "lr": rate(component),
                "weight_decay": args.weight_decay if decays else 0.0,
                "name": f"{component}{'' if decays else '/no_decay'}",
            }
            for (component, decays), params in sorted(
                groups.items(), key=lambda item: (COMPONENTS.index(item[0][0]), not item[0][1])
            )
        ]
        optimizer_cls, optimizer_kwargs = self.get_optimizer_cls_and_kwargs(args, opt_model)
        self.optimizer = optimizer_cls(parameter_groups, **optimizer_kwargs)
        return self.optimizer

    # ------------------------------------------------------------------ loss
    def loss_weights(self, step: int) -> tuple[float, float]:
        """``(a_cls, a_con)`` at optimisation step ``step`` before any gradient balancing."""
        args = self.args
        a_cls, a_con = args.classification_weight, args.contrastive_weight
        if self.stage == "contrastive":
            return 0.0, a_con
        if self.stage in ("classifier", "finetune"):
            return a_cls, 0.0
        warmup = args.contrastive_warmup_steps
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
        training = model.training
        if training and self.stage == "classifier":
            self.accelerator.unwrap_model(model).encoder.eval()  # no dropout on frozen features
        a_cls, a_con = self.loss_weights(self.state.global_step) if training else (1.0, 1.0)
        views = self.args.contrastive_views if training else 1
        if self.contrastive is not None and views == 2:
            inputs = {k: torch.cat([v, v]) if torch.is_tensor(v) else v for k, v in inputs.items()}
            labels = torch.cat([labels, labels])
        outputs = model(**inputs)

        pos_weight = None if self.pos_weight is None else self.pos_weight.to(outputs.logits.device)
        # without a classification weight the classifier is frozen: BCE is only logged
        logits = outputs.logits if a_cls > 0 or not training else outputs.logits.detach()
        loss_cls = nn.functional.binary_cross_entropy_with_logits(
            logits.float(), labels.float(), pos_weight=pos_weight
        )
        components = {"loss_cls": loss_cls.detach()}
        loss = a_cls * loss_cls if training else loss_cls
        if self.contrastive is not None:
            self.contrastive.to(outputs.logits.device).train(training)
            contrastive = self.contrastive(outputs.projections, labels)
            components.update(
                {f"loss_con/{name}": value for name, value in contrastive.components.items()}
            )
            if training:
                a_con = self._balanced_weight(
                    outputs.embeddings, a_cls * loss_cls, contrastive.loss, a_con, components
                )
                # multiplying by an exact 0 keeps every head's parameters in the graph (DDP)
                loss = loss + a_con * contrastive.loss
        self._accumulate("train" if training else "eval", components)
        outputs.loss = loss
        return (loss, outputs) if return_outputs else loss

    def _balanced_weight(
        self,
        embeddings: torch.Tensor,
        classification: torch.Tensor,
        contrastive: torch.Tensor,
        a_con: float,
        components: dict[str, torch.Tensor],
    ) -> float | torch.Tensor:
        """``a_con``, rescaled by the gradient norms at the pooled embeddings when balancing
        (see :class:`MLCLTrainingArguments`); the norms are logged as ``grad_norm/cls`` and
        ``grad_norm/con`` when balancing or ``log_component_gradients`` is on."""
        balance = self.args.contrastive_balance == "gradient"
        if not (balance or self.args.log_component_gradients):
            return a_con
        if self.stage != "joint" or not embeddings.requires_grad:
            return a_con
        norms = []
        for value in (classification, contrastive):
            if not value.requires_grad:
                norms.append(embeddings.new_zeros(()))
                continue
            (gradient,) = torch.autograd.grad(
                value, embeddings, retain_graph=True, allow_unused=True
            )
            norms.append(
                embeddings.new_zeros(()) if gradient is None else gradient.detach().float().norm()
            )
        norm_cls, norm_con = norms
        components["grad_norm/cls"] = norm_cls
        components["grad_norm/con"] = norm_con
        if not balance:
            return a_con
        scale = torch.where(norm_con > 0, norm_cls / norm_con.clamp_min(1e-12), 0.0)
        weight = a_con * scale
        components["contrastive_scale"] = weight.detach()
        return weight.detach()

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
            if self.optimizer is not None:
                for group in self.optimizer.param_groups:
                    name = group.get("name", "")
                    if not name.endswith("/no_decay"):
                        logs[f"learning_rate/{name}"] = group["lr"]
        super().log(logs, start_time)


def _set_stage_trainable(model: nn.Module, stage: str) -> None:
    """Freeze what the stage does not train. What was trainable before the first stage (LoRA
    freezes the encoder's own weights) is remembered on the model, so a later stage thaws
    only that."""
    base = getattr(model, "_mlcl_trainable", None)
    if base is None:
        base = {name: p.requires_grad for name, p in model.named_parameters()}
        model._mlcl_trainable = base
    allowed = {
        "joint": COMPONENTS,
        "contrastive": ("encoder", "heads"),
        "classifier": ("classifier",),
        "finetune": ("encoder", "classifier"),
    }[stage]
    for name, parameter in model.named_parameters():
        trainable = base.get(name, parameter.requires_grad) and (
            parameter_component(name) in allowed
        )
        parameter.requires_grad_(trainable)
        if not trainable:
            parameter.grad = None
