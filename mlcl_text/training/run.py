"""Run a recipe: load data, take a subset, tokenise, build the model, train, evaluate, save.

The output folder receives the trained model and tokenizer (``save_pretrained``; a full
mlcl-text model), ``recipe.yaml`` (the recipe as run, overrides applied), the subset index
file when a subset was used, and ``thresholds.json`` (decision thresholds tuned on the validation split; 0.5 when there is none or
tuning is off) and ``metrics.json`` with the validation and test scores at those thresholds
(and at 0.5, under ``<split>@0.5``), and ``report.md`` summing these up for people.
"""

from __future__ import annotations

import logging
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import PartialState
from datasets import DatasetDict
from transformers import AutoTokenizer, set_seed

from mlcl_text.data import DataError, is_restricted, load
from mlcl_text.data.encoding import MultiLabelCollator, encode_dataset
from mlcl_text.evaluation.figures import sample_vectors, write_split_figures
from mlcl_text.evaluation.metrics import evaluate_predictions, scored_label_ids
from mlcl_text.evaluation.plots import loss_series, plot_loss_curves
from mlcl_text.evaluation.report import write_report
from mlcl_text.evaluation.scoring import score_split
from mlcl_text.evaluation.thresholds import Thresholds
from mlcl_text.hierarchy import LabelTree
from mlcl_text.modeling.hub import ensure_model_available
from mlcl_text.modeling.model import MLCLModel
from mlcl_text.run_folder import (
    CHECKPOINT_PATTERN,
    CONFIG_FILE,
    EVALUATION_DIR_PATTERN,
    LOG_HISTORY_FILE,
    METRICS_FILE,
    PLOT_FILES,
    PLOTS_DIR,
    RECIPE_FILE,
    REPORT_FILE,
    SPLIT_METRICS_PATTERN,
    SUBSET_FILE,
    THRESHOLDS_FILE,
    TRAINER_STATE_FILE,
    RunFolder,
    write_json,
    write_metrics,
)
from mlcl_text.training.coverage import BatchSetup, measure_coverage
from mlcl_text.training.protocols import CONTRASTIVE_STAGE_DIR, run_protocol
from mlcl_text.training.recipe import Recipe, RecipeError
from mlcl_text.training.trainer import MLCLTrainer, prediction_probabilities

logger = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    output_dir: Path
    metrics: dict[str, dict[str, float]]


def train_from_recipe(
    recipe: Recipe, overwrite: bool = False, resume: str | bool | None = None
) -> TrainingResult:
    """Train and evaluate as the recipe says; see the module docstring for what is written.

    An ``output_dir`` that already holds a run is refused (:class:`RunExistsError`) unless
    ``overwrite`` (the old run's files are replaced, its checkpoints and evaluations removed)
    or ``resume``: ``True`` continues from the latest ``checkpoint-*`` in ``output_dir``, a
    path from that checkpoint, with the same data order (the subset and the seed are the
    recipe's), optimiser, scheduler and sampler state. The recipe key
    ``resume_from_checkpoint`` means the same as ``resume``.
    """
    output_dir = recipe.output_dir
    resume = resume or recipe.training.get("resume_from_checkpoint") or None
    checkpoint = resolve_checkpoint(output_dir, resume) if resume else None
    main_process = PartialState().is_main_process  # under torchrun/accelerate only one writes
    if checkpoint is None:
        check_output_dir(output_dir, overwrite)
    data, tree, subset = load_recipe_data(recipe)
    check_split_sizes(data, recipe)
    check_heads_fit(recipe, tree)
    ensure_model_available(recipe.model_name_or_path)
    if main_process:  # the recipe and its data are valid: only now is the folder touched
        start_output_dir(recipe, subset, fresh=checkpoint is None)

    tokenizer = AutoTokenizer.from_pretrained(recipe.model_name_or_path)
    encoded = encode_dataset(data, tree, tokenizer, recipe.max_length, recipe.max_segments)
    has_validation = len(encoded["validation"]) > 0
    plan = recipe.budget_plan(len(encoded["train"]), processes=PartialState().num_processes)
    args = recipe.training_arguments(plan, **({} if has_validation else NO_VALIDATION))
    if main_process and plan is not None:
        print(plan.describe(), flush=True)
    if main_process and recipe.heads:
        for line in head_coverage_lines(recipe, tree, encoded["train"], args):
            print(line, flush=True)
    set_seed(args.seed)  # the classifier and heads start from the recipe's seed
    run = run_protocol(
        build_model(recipe, tree, encoded["train"]),
        args,
        resume_from_checkpoint=checkpoint,
        train_dataset=encoded["train"],
        data_collator=MultiLabelCollator(tokenizer),
        eval_dataset=encoded["validation"] if has_validation else None,
        pos_weight=balanced_pos_weight(encoded["train"])
        if recipe.pos_weight == "balanced"
        else None,
    )
    trainer, log_history = run.trainer, run.log_history
    save_final_model(trainer, tokenizer, output_dir, keep_checkpoints=recipe.keep_checkpoints)
    # every process predicts (predict gathers across processes); only the main one writes
    probabilities = {
        split: split_probabilities(trainer, encoded[split])
        for split in ("validation", "test")
        if len(encoded[split])
    }
    truths = {split: np.asarray(encoded[split]["labels"]) for split in probabilities}
    thresholds, metrics = score_splits(recipe, tree, truths, probabilities)
    metrics["timing"] = stage_timing(run.stage_seconds)
    if plan is not None:
        metrics["budget"] = plan.to_dict()
    if not trainer.is_world_process_zero():
        return TrainingResult(output_dir, metrics)
    write_json(output_dir / LOG_HISTORY_FILE, log_history)
    thresholds.save(output_dir / THRESHOLDS_FILE, labels=tree)
    write_metrics(output_dir, metrics)
    figures = run_figures(
        output_dir,
        trainer.model,
        tokenizer,
        data,
        tree,
        recipe,
        log_history,
        scored=(thresholds, metrics, probabilities),
    )
    sizes = {split: len(data[split]) for split in data}
    write_report(output_dir, recipe.to_dict(), sizes, tree, metrics, log_history, figures=figures)
    return TrainingResult(output_dir, metrics)


NO_VALIDATION = {
    "eval_strategy": "no",
    "load_best_model_at_end": False,
    "early_stopping_patience": 0,
}
"""Training arguments of a run without a validation split: no evaluation, no best model."""


def start_output_dir(recipe: Recipe, subset, fresh: bool) -> None:
    """Create ``output_dir`` (cleared of a previous run's files when ``fresh``, not when
    resuming) and write the recipe and the subset it trains on."""
    output_dir = recipe.output_dir
    if fresh:
        remove_stale_files(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    if subset is not None:
        subset.save(output_dir / SUBSET_FILE, overwrite=True)
    recipe.save(output_dir / RECIPE_FILE)


def build_model(recipe: Recipe, tree: LabelTree, encoded_train) -> MLCLModel:
    """The recipe's encoder, heads and classifier over ``tree``; with
    ``classifier_bias_init: prior`` the classifier's biases start at the training priors."""
    model = MLCLModel.from_encoder(
        recipe.model_name_or_path,
        tree,
        heads=recipe.head_specs(),
        pooling=recipe.pooling,
        max_length=recipe.max_length,
        max_segments=recipe.max_segments,
        segment_pooling=recipe.segment_pooling,
        classifier_dropout=recipe.classifier_dropout,
        lora=recipe.lora,
        restricted=recipe.restricted or is_restricted(recipe.dataset),
    )
    if recipe.classifier_bias_init == "prior":
        model.init_classifier_bias(
            np.asarray(encoded_train["labels"], dtype=np.float64).mean(axis=0)
        )
    return model


def stage_timing(stage_seconds: dict[str, float]) -> dict[str, float]:
    """``metrics.json``'s ``timing``: ``train_seconds`` (all stages) and each stage's seconds."""
    return {
        "train_seconds": round(sum(stage_seconds.values()), 3),
        **{f"{stage}_seconds": round(value, 3) for stage, value in stage_seconds.items()},
    }


def run_figures(
    output_dir: Path,
    model: MLCLModel,
    tokenizer,
    data: DatasetDict,
    tree: LabelTree,
    recipe: Recipe,
    log_history: list[dict[str, Any]],
    *,
    scored: tuple[Thresholds, dict[str, Any], dict[str, np.ndarray]],
) -> dict:
    """The figures of the run's report in ``output_dir/plots``: those of the test split
    (validation without one; :func:`~mlcl_text.evaluation.figures.write_split_figures`) from
    ``scored`` = :func:`score_splits`'s ``(thresholds, metrics)`` and the probabilities by
    split, else the loss curves alone when there is no evaluation split."""
    thresholds, metrics, probabilities = scored
    plotted = next((split for split in ("test", "validation") if split in probabilities), None)
    if plotted is None:
        if not loss_series(log_history):
            return {}
        path = output_dir / PLOTS_DIR / PLOT_FILES["loss_curves"]
        return {"loss_curves": plot_loss_curves(log_history, path)}
    split = data[plotted]
    scores = score_split(
        tree,
        split["labels"],
        probabilities[plotted],
        thresholds,
        split_name=plotted,
        train_label_counts=Counter(n for labels in data["train"]["labels"] for n in labels),
        metrics=metrics[plotted],
    )
    texts = [str(t) for t in split["text"]]
    vectors, groups = sample_vectors(
        model, tokenizer, texts, scores.y_true, tree, max_length=recipe.max_length
    )
    return write_split_figures(scores, output_dir, tree, log_history, vectors, groups)


def check_split_sizes(data: DatasetDict, recipe: Recipe) -> None:
    """A training split of fewer than two documents is an error; an empty validation split
    (nothing to tune thresholds or select checkpoints on) or test split is a warning."""
    where = recipe.source or "recipe"
    if len(data["train"]) < 2:
        raise DataError(
            f"{where}: the training split holds {len(data['train'])} document(s) after the "
            "subset; training needs at least 2"
        )
    if len(data["validation"]) == 0:
        logger.warning(
            "%s: no validation documents: the decision threshold stays at 0.5 and no "
            "checkpoint is selected",
            where,
        )
    if len(data["test"]) == 0:
        logger.warning("%s: no test documents: metrics.json has no test scores", where)


def check_heads_fit(recipe: Recipe, tree: LabelTree) -> None:
    """The recipe's heads and sampler level against the data's tree (levels that exist,
    label names that are in it): a :class:`RecipeError` naming the recipe and the head."""
    where = recipe.source or "recipe"
    level = recipe.training.get("sampler_level")
    if level is not None and not 1 <= level <= tree.num_levels:
        raise RecipeError(
            f"{where}: sampler_level {level} is not a level of the data's tree "
            f"(1..{tree.num_levels})"
        )
    for spec in recipe.head_specs():
        if spec.level is not None and spec.level > tree.num_levels:
            raise RecipeError(
                f"{where}: head {spec.name!r}: level {spec.level}, but the data's tree has "
                f"{tree.num_levels} level(s)"
            )
        unknown = [name for name in spec.labels or [] if name not in tree]
        if unknown:
            raise RecipeError(f"{where}: head {spec.name!r}: unknown label {unknown[0]!r}")


class RunExistsError(RecipeError):
    """The output folder already holds a run that training would overwrite."""


#: what a run leaves in its folder besides the model files (see the module docstring)
RUN_FILES = (METRICS_FILE, RECIPE_FILE, SUBSET_FILE, THRESHOLDS_FILE, REPORT_FILE)
#: folders and files of an earlier run that a new run would not replace but leave stale
STALE_PATTERNS = (
    CHECKPOINT_PATTERN,
    CONTRASTIVE_STAGE_DIR,
    EVALUATION_DIR_PATTERN,
    SPLIT_METRICS_PATTERN,
)


def check_output_dir(output_dir: Path, overwrite: bool) -> None:
    """Refuse an ``output_dir`` that holds a run (:class:`RunExistsError`) unless
    ``overwrite``; nothing is written."""
    found = sorted(
        {p.name for p in output_dir.glob(CHECKPOINT_PATTERN)}
        | {name for name in (*RUN_FILES, CONFIG_FILE) if (output_dir / name).exists()}
    )
    if found and not overwrite:
        raise RunExistsError(
            f"{output_dir} already holds a run ({', '.join(found[:4])}"
            f"{', ...' if len(found) > 4 else ''}): pass --overwrite to replace it, --resume to "
            "continue it, or --set output_dir=... for a new folder"
        )


def remove_stale_files(output_dir: Path) -> None:
    """Remove what an earlier run left that a new one would not replace: its checkpoints,
    its evaluations and its subset index."""
    for pattern in (*STALE_PATTERNS, SUBSET_FILE):
        for path in output_dir.glob(pattern):
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def resolve_checkpoint(output_dir: Path, resume: str | bool) -> str:
    """The checkpoint folder to resume from: ``resume`` itself, or with ``True`` the latest
    ``checkpoint-*`` of ``output_dir``; a :class:`RecipeError` when there is none."""
    if resume is True or str(resume).lower() == "true":
        checkpoints = RunFolder(output_dir).checkpoints()
        if not checkpoints:
            raise RecipeError(f"--resume: {output_dir} holds no checkpoint-* folder to resume from")
        path = checkpoints[0]
    else:
        path = Path(resume)
    if not (path / TRAINER_STATE_FILE).is_file():
        raise RecipeError(f"--resume: {path} is not a checkpoint folder (no {TRAINER_STATE_FILE})")
    missing = [name for name in RESUME_STATE_FILES if not (path / name).is_file()]
    if missing:
        raise RecipeError(
            f"--resume: {path} holds the weights only (no {', '.join(missing)}; the recipe has "
            "save_only_model: true), so the optimizer and learning-rate schedule cannot "
            "continue: train again with --overwrite"
        )
    return str(path)


#: what a checkpoint needs beyond the weights to continue training where it stopped
RESUME_STATE_FILES = ("optimizer.pt", "scheduler.pt")


def save_final_model(trainer, tokenizer, output_dir: Path, keep_checkpoints: bool) -> None:
    """The trained (best) model and its tokenizer in ``output_dir``; the ``checkpoint-*``
    folders removed unless ``keep_checkpoints`` (the main process writes)."""
    trainer.save_model(str(output_dir))
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(output_dir)
        if not keep_checkpoints:
            remove_checkpoints(output_dir)


def remove_checkpoints(output_dir: Path) -> None:
    """Remove the ``checkpoint-*`` folders of a finished run (its model is saved above them)."""
    for checkpoint in RunFolder(output_dir).checkpoints():
        shutil.rmtree(checkpoint)


def head_coverage_lines(recipe: Recipe, tree: LabelTree, train, args) -> list[str]:
    """One line per contrastive head (and level): the share of anchors with a positive in
    20 steps of this run's batches (:mod:`mlcl_text.training.coverage`, ``mlcl-text inspect``)."""
    setup = BatchSetup.from_arguments(args, processes=PartialState().num_processes)
    labels = np.asarray(train["labels"], dtype=np.float32)
    coverage = measure_coverage(recipe.head_specs(), tree, labels, setup, steps=20)
    return [setup.describe(), *(head.summary() for head in coverage)]


def prepare_data(recipe: Recipe, output_dir: Path | None = None) -> tuple[DatasetDict, LabelTree]:
    """The recipe's data (:func:`load_recipe_data`), the subset's index file saved as
    ``output_dir/subset.json`` when ``output_dir`` is given. Training and the baselines read
    data through this."""
    data, tree, subset = load_recipe_data(recipe)
    if subset is not None and output_dir is not None:
        subset.save(output_dir / SUBSET_FILE, overwrite=True)
    return data, tree


def load_recipe_data(recipe: Recipe) -> tuple[DatasetDict, LabelTree, Any]:
    """``(splits, tree, subset or None)``: the loader's splits, the training subset applied
    and the evaluation splits cut to ``max_eval_samples``; nothing is written."""
    data, tree = load(recipe.dataset, recipe.dataset_path, **recipe.dataset_options)
    subset = None
    if recipe.subset:
        from mlcl_text.data.subsets import make_subset

        subset = make_subset(dict(recipe.subset), data["train"], tree)
        data["train"] = subset.apply(data["train"])
        if subset.unreachable:
            logger.warning("labels below the requested count: %s", subset.unreachable)
    if recipe.max_eval_samples is not None:
        for split in ("validation", "test"):
            data[split] = data[split].select(range(min(recipe.max_eval_samples, len(data[split]))))
    return data, tree, subset


def score_splits(
    recipe: Recipe,
    tree: LabelTree,
    truths: dict[str, np.ndarray],
    probabilities: dict[str, np.ndarray],
) -> tuple[Thresholds, dict[str, Any]]:
    """Tune the decision thresholds on the validation split as the recipe says and score every
    split at them and at 0.5: ``(thresholds, metrics)`` in the shape of ``metrics.json``.
    Trained models and the baselines are scored by this one function."""
    scored = scored_label_ids(tree, recipe.metric_labels)
    thresholds = Thresholds()
    tuned = recipe.tune_thresholds and "validation" in probabilities
    if tuned:
        thresholds = Thresholds.tune(
            truths["validation"],
            probabilities["validation"],
            metric=recipe.threshold_metric,
            per_label=recipe.per_label_thresholds,
            scored_labels=scored,
        )
    metrics: dict[str, Any] = {}
    for split, scores in probabilities.items():
        truth = truths[split]
        metrics[split] = evaluate_predictions(
            truth, scores, tree=tree, threshold=thresholds.array(len(tree)), scored_labels=scored
        )
        metrics[f"{split}@0.5"] = evaluate_predictions(
            truth, scores, tree=tree, threshold=0.5, scored_labels=scored
        )
    metrics["thresholds"] = {
        "global": thresholds.global_threshold,
        "per_label": thresholds.per_label is not None,
        "tuned_on": "validation" if tuned else None,
    }
    return thresholds, metrics


def split_probabilities(trainer: MLCLTrainer, split) -> np.ndarray:
    """Sigmoid probabilities ``[N, L]`` of the trainer's model on an encoded split."""
    return prediction_probabilities(trainer.predict(split).predictions)


def balanced_pos_weight(split) -> torch.Tensor:
    """``negatives / positives`` per label (1 for labels without positives), for the BCE."""
    labels = np.asarray(split["labels"], dtype=np.float64)
    positives = labels.sum(axis=0)
    weight = np.where(positives > 0, (len(labels) - positives) / np.maximum(positives, 1), 1.0)
    return torch.tensor(weight, dtype=torch.float32)
