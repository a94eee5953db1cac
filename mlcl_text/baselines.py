"""Baselines: the strongest simple alternatives, scored like trained models on the same documents.

Each baseline is fitted on the recipe's training split (its ``subset`` applied) and gives
probabilities ``[N, L]`` over every node of the label tree (``tree.names``; labels are the
loaders' ancestor-closed name lists, multi-hot by ``tree.encode`` exactly as training encodes
them) for the validation and test splits (cut to ``max_eval_samples``). These are scored by
:func:`mlcl_text.training.score_splits`, the function that scores trained models: thresholds
tuned on validation as the recipe says, validation and test at those thresholds and at 0.5.

``tfidf``
    Word uni- and bigram TF-IDF with sublinear term frequency
    (``TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))``) and one logistic regression
    per label (``OneVsRestClassifier(LogisticRegression(C=10))``), from scikit-learn. The
    classic linear text classifier (Joachims, ECML 1998; Salton & Buckley, IP&M 1988 for the
    weighting) that few-shot and multi-label studies keep as the bar to clear.
``frozen``
    A linear probe: the recipe's encoder (``model_name_or_path``) frozen in eval mode,
    documents embedded with the recipe's ``pooling`` (cls / mean / pooler), ``max_length``
    and ``max_segments`` exactly as :class:`~mlcl_text.modeling.MLCLModel` embeds them
    before fine-tuning, then ``StandardScaler`` and one-vs-rest ``LogisticRegression``
    (``C=1.0`` by default). It tells how much fine-tuning adds over the pretrained vectors
    (Alain & Bengio, "Understanding intermediate layers using linear classifier probes",
    2016; Reimers & Gurevych, Sentence-BERT, EMNLP 2019).
``setfit``
    SetFit (Tunstall et al., "Efficient Few-Shot Learning Without Prompts", 2022;
    https://github.com/huggingface/setfit): the recipe's encoder as a Sentence Transformer
    (the recipe's pooling and ``max_length``), fine-tuned contrastively on pairs of training
    documents with ``CosineSimilarityLoss``, then a logistic-regression head per label
    (``multi_target_strategy="one-vs-rest"``); probabilities from ``predict_proba``. In
    multi-label mode SetFit calls a pair positive when the two documents share at least one
    label (here: any tree node, ancestors included) and negative otherwise. SetFit's own
    default training settings are used unless options override them (``batch_size``,
    ``num_epochs``, ``num_iterations``, ``max_steps``, ``sampling_strategy``,
    ``body_learning_rate``, ``head_learning_rate``, ``warmup_proportion``, ``l2_weight``, ...:
    any field of ``setfit.TrainingArguments`` that takes a plain value; ``head_params`` for
    the ``LogisticRegression`` head). Needs the optional ``setfit`` package
    (``pip install 'mlcl-text[baselines]'``). A document longer than ``max_length`` tokens is
    truncated (SetFit has no segments).

Labels with one class only in the training split (never positive, as for tree nodes absent
from a few-shot subset, or always positive) cannot be learnt: no baseline fits them, and
their probability is the constant training frequency, clipped to
``[CONSTANT_CLIP, 1 - CONSTANT_CLIP]`` (so 0.0001 for a label never seen; the floor that
:mod:`mlcl_text.probe` gives such labels too). SetFit sees only the other labels, so an
always-positive label does not make every pair positive.

Everything is seeded from the recipe's ``seed`` (``recipe.training.get("seed", 42)``): the
same recipe gives the same scores (on the same hardware and library versions).

:func:`run_baseline` writes a run folder that :mod:`mlcl_text.compare` (``mlcl-text
compare``) reads like a training run: ``recipe.yaml`` (the recipe as run, ``output_dir`` set
to the folder), ``subset.json`` when a subset is used, ``thresholds.json`` and
``metrics.json`` with the keys training writes (``validation``, ``test``,
``validation@0.5``, ``test@0.5``, ``thresholds``) plus ``timing`` (``train_seconds``: the
fit, including loading the encoder and embedding the training split; ``predict_seconds``:
probabilities of the validation and test splits; both ``time.perf_counter`` wall time) and
``baseline`` (``name`` and the ``options`` as run, defaults included). No model weights are
written.
"""

from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlcl_text.recipes import Recipe, RecipeError
from mlcl_text.run_folder import METRICS_FILE, RECIPE_FILE, THRESHOLDS_FILE, write_metrics

__all__ = [
    "BASELINES",
    "CONSTANT_CLIP",
    "DEFAULT_OPTIONS",
    "METRICS_FILE",
    "BaselineError",
    "BaselineModel",
    "fit_predict",
    "make_baseline",
    "require_setfit",
    "resolve_options",
    "run_baseline",
]

logger = logging.getLogger(__name__)

BASELINES = ("tfidf", "frozen", "setfit")
#: Probabilities of single-class labels are kept this far from 0 and 1 (as mlcl_text.probe).
CONSTANT_CLIP = 1e-4
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
_SETFIT_RECORDED = (
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


# ---------------------------------------------------------------------------- options


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
        _setfit_arguments(resolved, seed=0)  # a bad value fails here, naming it
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


# ---------------------------------------------------------------------------- models


class BaselineModel:
    """A baseline's classifier: ``fit(texts, labels)`` then ``predict_proba(texts)``.

    ``labels`` is the multi-hot ``[N, L]`` matrix of the training texts. Labels with a single
    class there get their clipped training frequency (see the module docstring); the others
    are fitted by :meth:`_fit` on ``labels[:, varying]`` and predicted by :meth:`_predict`.
    """

    name = "baseline"

    def __init__(self, recipe: Recipe, options: Mapping[str, Any], seed: int):
        self.recipe = recipe
        self.options = dict(options)
        self.seed = seed
        self.varying: np.ndarray | None = None
        self.constant: np.ndarray | None = None

    def fit(self, texts: Sequence[str], labels: np.ndarray) -> BaselineModel:
        labels = np.asarray(labels, dtype=np.float64)
        if labels.ndim != 2 or len(labels) != len(texts):
            raise ValueError(f"labels must be [N={len(texts)}, L], got shape {labels.shape}")
        if not len(texts):
            raise BaselineError(f"the {self.name} baseline needs training documents: none given")
        positives = labels.sum(axis=0)
        self.varying = np.flatnonzero((positives > 0) & (positives < len(labels)))
        self.constant = np.clip(labels.mean(axis=0), CONSTANT_CLIP, 1.0 - CONSTANT_CLIP)
        single = labels.shape[1] - len(self.varying)
        if single:
            logger.info(
                "%s: %d of %d labels have one class in training: constant probabilities",
                self.name,
                single,
                labels.shape[1],
            )
        _seed_everything(self.seed)
        if len(self.varying):
            with _small_blas():
                self._fit(list(texts), (labels[:, self.varying] > 0.5).astype(np.int64))
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        if self.varying is None or self.constant is None:
            raise RuntimeError(f"the {self.name} baseline is not fitted")
        out = np.tile(self.constant, (len(texts), 1))
        if len(texts) and len(self.varying):
            with _small_blas():
                scores = np.asarray(self._predict(list(texts)), dtype=np.float64)
            out[:, self.varying] = _positive_columns(scores, len(self.varying))
        return out

    def recorded_options(self) -> dict[str, Any]:
        """The options as run, for ``metrics.json``."""
        return _json_ready(self.options)

    def _fit(self, texts: list[str], labels: np.ndarray) -> None:
        raise NotImplementedError

    def _predict(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class TfidfBaseline(BaselineModel):
    name = "tfidf"

    def _fit(self, texts, labels):
        from sklearn.feature_extraction.text import TfidfVectorizer

        o = self.options
        self.vectorizer = TfidfVectorizer(
            sublinear_tf=bool(o["sublinear_tf"]),
            ngram_range=tuple(o["ngram_range"]),
            min_df=o["min_df"],
            max_features=o["max_features"],
        )
        features = self.vectorizer.fit_transform(texts)
        self.classifier = _one_vs_rest(o["C"], o["max_iter"], self.seed).fit(features, labels)

    def _predict(self, texts):
        return self.classifier.predict_proba(self.vectorizer.transform(texts))


class FrozenEncoderBaseline(BaselineModel):
    name = "frozen"

    def __init__(self, recipe, options, seed, tree):
        super().__init__(recipe, options, seed)
        self.tree = tree

    def _fit(self, texts, labels):
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from transformers import AutoTokenizer

        from mlcl_text.modeling import MLCLModel

        recipe = self.recipe
        self.tokenizer = AutoTokenizer.from_pretrained(recipe.model_name_or_path)
        # the encoder (AutoModel) inside an MLCLModel: pooling and segments as in training
        self.model = MLCLModel.from_encoder(
            recipe.model_name_or_path,
            self.tree,
            pooling=recipe.pooling,
            max_segments=recipe.max_segments,
            segment_pooling=recipe.segment_pooling,
        )
        self.model.requires_grad_(False).eval().to(_device(recipe))
        self.classifier = make_pipeline(
            StandardScaler(), _one_vs_rest(self.options["C"], self.options["max_iter"], self.seed)
        ).fit(self._embed(texts), labels)

    def _predict(self, texts):
        return self.classifier.predict_proba(self._embed(texts))

    def _embed(self, texts: list[str]) -> np.ndarray:
        from mlcl_text.inference import embed_texts

        vectors = embed_texts(
            self.model,
            self.tokenizer,
            texts,
            batch_size=int(self.options["batch_size"]),
            max_length=self.recipe.max_length,
        )["embeddings"]
        return vectors.astype(np.float64)


class SetFitBaseline(BaselineModel):
    name = "setfit"

    def __init__(self, recipe, options, seed):
        super().__init__(recipe, options, seed)
        self.setfit = require_setfit()
        self.training_arguments = _setfit_arguments(self.options, seed)

    def _fit(self, texts, labels):
        from datasets import Dataset
        from transformers import AutoModel, AutoTokenizer

        from mlcl_text.sentence_transformers_files import write_sentence_transformers_files

        recipe = self.recipe
        with tempfile.TemporaryDirectory(prefix="mlcl-setfit-") as folder:
            body = Path(folder) / "body"
            # the encoder as a Sentence Transformer with the recipe's pooling and max_length
            encoder = AutoModel.from_pretrained(recipe.model_name_or_path)
            encoder.save_pretrained(body)
            AutoTokenizer.from_pretrained(recipe.model_name_or_path).save_pretrained(body)
            write_sentence_transformers_files(
                body, encoder, recipe.pooling, max_seq_length=recipe.max_length
            )
            del encoder
            _seed_everything(self.seed)
            self.model = self.setfit.SetFitModel.from_pretrained(
                str(body),
                multi_target_strategy="one-vs-rest",
                head_params=dict(self.options["head_params"]),
                device=_device(recipe),
            )
            trainer = self.setfit.Trainer(
                model=self.model,
                args=_setfit_arguments(self.options, self.seed, Path(folder) / "checkpoints"),
                train_dataset=Dataset.from_dict({"text": texts, "label": labels.tolist()}),
            )
            with warnings.catch_warnings():  # SetFit's own loaders pin memory, even on a CPU
                warnings.filterwarnings("ignore", message=".*'pin_memory' argument is set as true")
                trainer.train()

    def _predict(self, texts):
        return self.model.predict_proba(
            texts, batch_size=int(self.options["predict_batch_size"]), as_numpy=True
        )

    def recorded_options(self):
        settings = {k: getattr(self.training_arguments, k) for k in _SETFIT_RECORDED}
        settings["loss"] = getattr(settings["loss"], "__name__", str(settings["loss"]))
        return _json_ready({**self.options, **settings})  # the values as SetFit took them


def make_baseline(
    name: str, recipe: Recipe, tree=None, options: Mapping[str, Any] | None = None
) -> BaselineModel:
    """An unfitted baseline ``name`` for the recipe (``tree``: its label tree, for ``frozen``)."""
    resolved = resolve_options(name, options)
    seed = int(recipe.training.get("seed", 42))
    if name == "tfidf":
        return TfidfBaseline(recipe, resolved, seed)
    if name == "frozen":
        if tree is None:
            raise ValueError("the frozen baseline needs the label tree")
        return FrozenEncoderBaseline(recipe, resolved, seed, tree)
    return SetFitBaseline(recipe, resolved, seed)


# ---------------------------------------------------------------------------- runs


def fit_predict(
    name: str, recipe: Recipe, data, tree, options: Mapping[str, Any] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, float], dict[str, Any]]:
    """Fit baseline ``name`` on ``data["train"]`` and predict the non-empty validation and
    test splits: ``(probabilities by split, timing, options as run)``."""
    model = make_baseline(name, recipe, tree, options)
    train = data["train"]
    started = time.perf_counter()
    model.fit(list(train["text"]), tree.encode(train["labels"]))
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    probabilities = {
        split: model.predict_proba(list(data[split]["text"]))
        for split in ("validation", "test")
        if split in data and len(data[split])
    }
    predict_seconds = time.perf_counter() - started
    timing = {
        "train_seconds": round(train_seconds, 3),
        "predict_seconds": round(predict_seconds, 3),
    }
    return probabilities, timing, model.recorded_options()


def run_baseline(
    name: str, recipe: Recipe, output_dir: str | Path, options: dict | None = None
) -> dict[str, Any]:
    """Fit baseline ``name`` on the recipe's data, score it as training scores a model and
    write the run folder ``output_dir`` (see the module docstring); return its metrics."""
    from mlcl_text.training import prepare_data, score_splits

    resolve_options(name, options)  # a bad name or option fails before any work
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / METRICS_FILE).unlink(missing_ok=True)  # a crashed rerun must not look finished
    recipe = dataclasses.replace(
        recipe, training={**recipe.training, "output_dir": str(output_dir)}
    )
    data, tree = prepare_data(recipe, output_dir)
    recipe.save(output_dir / RECIPE_FILE)
    probabilities, timing, recorded = fit_predict(name, recipe, data, tree, options)
    truths = {split: tree.encode(data[split]["labels"]) for split in probabilities}
    thresholds, metrics = score_splits(recipe, tree, truths, probabilities)
    metrics["timing"] = timing
    metrics["baseline"] = {"name": name, "options": recorded}
    thresholds.save(output_dir / THRESHOLDS_FILE, labels=tree)
    write_metrics(output_dir, metrics)
    return metrics


# ---------------------------------------------------------------------------- helpers


def _setfit_arguments(options: Mapping[str, Any], seed: int, output_dir: Path | None = None):
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


def _one_vs_rest(c: float, max_iter: int, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(
        LogisticRegression(C=float(c), max_iter=int(max_iter), random_state=seed)
    )


def _positive_columns(scores: np.ndarray, width: int) -> np.ndarray:
    """Positive-class probabilities ``[N, width]``: a one-label fit is binary and gives
    ``[N, 2]`` (negative, positive) columns."""
    if scores.ndim == 2 and scores.shape[1] == width:
        return scores
    if width == 1 and scores.ndim == 2 and scores.shape[1] == 2:
        return scores[:, 1:]
    raise ValueError(f"expected probabilities of {width} labels, got shape {scores.shape}")


def _small_blas():
    """One BLAS thread: one-vs-rest fits many small logistic regressions, where threaded BLAS
    mostly waits (on a busy machine, ten to a hundred times slower). Torch keeps its threads."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _seed_everything(seed: int) -> None:
    from transformers import set_seed

    set_seed(seed)


def _device(recipe: Recipe) -> str:
    import torch

    if recipe.training.get("use_cpu") or not torch.cuda.is_available():
        return "cpu"
    return "cuda"


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
