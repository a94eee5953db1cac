"""``Classifier``: a trained model, its tokenizer, label tree, tuned thresholds, input length
and decoding in one object, to label texts in a few lines::

    from mlcl_text import Classifier
    clf = Classifier.from_pretrained("outputs/demo")
    clf.predict(["a text", "another text"])   # label names per text

``mlcl-text predict`` is built on it, so both give the same labels.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

import numpy as np

from mlcl_text.classifier.backends import Backend, OnnxBackend, TorchBackend
from mlcl_text.classifier.sources import ModelSource, resolve_source
from mlcl_text.evaluation.thresholds import Thresholds
from mlcl_text.hierarchy import LabelTree

logger = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.5


class Classifier:
    """Labels texts as the model was trained and tuned to.

    Args:
        backend: what computes probabilities and embeddings (:mod:`mlcl_text.classifier.backends`).
        tree: the label tree; its names are the columns of :meth:`predict_proba`.
        thresholds: the decision thresholds training tuned on validation (``None``: 0.5).
        max_length: tokens per text (per segment for a model that reads several).
        consistent: keep a label only with all its ancestors (hierarchy-consistent decoding,
            as ``mlcl-text predict`` does by default); no effect on a flat label set.
        batch_size: texts per forward pass.
        progress: show a progress bar while predicting.
    """

    def __init__(
        self,
        backend: Backend,
        tree: LabelTree,
        thresholds: Thresholds | None,
        max_length: int,
        consistent: bool = True,
        batch_size: int = 32,
        progress: bool = False,
    ):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if max_length < 8:
            raise ValueError(f"max_length must be >= 8, got {max_length}")
        self.backend = backend
        self.tree = tree
        self.thresholds = thresholds
        self.max_length = max_length
        self.consistent = consistent
        self.batch_size = batch_size
        self.progress = progress

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        device: str = "auto",
        batch_size: int = 32,
        max_length: int | None = None,
        threshold: float | None = None,
        consistent: bool = True,
        progress: bool = False,
        revision: str | None = None,
        token: str | None = None,
    ) -> Classifier:
        """The classifier of a training run folder, one of its ``checkpoint-*`` folders, a
        ``full`` or ``onnx`` export (run on onnxruntime) or a Hub repository pushed by
        ``mlcl-text push``.

        ``device`` is ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda:1"``, ...;
        ``max_length`` overrides the length the model was trained with, ``threshold`` (one
        value for every label) the thresholds training tuned.
        """
        source = resolve_source(name_or_path, revision=revision, token=token)
        backend, config = _load_backend(source, device)
        thresholds = None
        if threshold is not None:
            thresholds = Thresholds(global_threshold=threshold)
        elif source.thresholds_file is not None:
            thresholds = Thresholds.load(source.thresholds_file, labels=config.tree)
        else:
            logger.warning(
                "%s has no thresholds.json: labels are predicted at probability >= %s",
                source.folder,
                DEFAULT_THRESHOLD,
            )
        return cls(
            backend,
            config.tree,
            thresholds,
            max_length or config.max_length,
            consistent=consistent,
            batch_size=batch_size,
            progress=progress,
        )

    @property
    def device(self):
        """The ``torch.device`` the model runs on (the CPU for an ONNX model)."""
        return self.backend.device

    @property
    def labels(self) -> list[str]:
        """The label names, in the column order of :meth:`predict_proba`."""
        return list(self.tree.names)

    @property
    def threshold(self) -> np.ndarray:
        """``[n_labels]`` decision thresholds: the tuned ones, else 0.5."""
        if self.thresholds is None:
            return np.full(len(self.tree), DEFAULT_THRESHOLD)
        return self.thresholds.array(len(self.tree))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``[n_texts, n_labels]`` probabilities; :attr:`labels` names the columns."""
        texts = _checked_texts(texts)
        if not texts:
            return np.zeros((0, len(self.tree)), dtype=np.float32)
        return self.backend.probabilities(texts, self.batch_size, self.max_length, self.progress)

    def predict(self, texts: Sequence[str]) -> list[list[str]]:
        """The label names of each text: probabilities at or above the tuned thresholds, with
        every ancestor of a kept label (unless ``consistent=False``)."""
        return self.decode(self.predict_proba(texts))

    def decode(self, probabilities: np.ndarray) -> list[list[str]]:
        """The label names of each row of ``probabilities`` (as :meth:`predict` decides)."""
        predicted = np.asarray(probabilities) >= self.threshold
        if self.consistent:
            predicted = self.tree.consistent_decoding(predicted)
        return self.tree.decode(predicted)

    def top_k(self, texts: Sequence[str], k: int) -> list[list[tuple[str, float]]]:
        """The ``k`` most probable labels of each text with their probabilities, highest
        first, whatever the thresholds."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        probabilities = self.predict_proba(texts)
        names = self.labels
        order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
        return [
            [(names[j], float(row[j])) for j in ranking]
            for row, ranking in zip(probabilities, order, strict=True)
        ]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """``[n_texts, hidden]`` pooled embeddings, the classifier's input."""
        texts = _checked_texts(texts)
        return self.backend.embeddings(texts, self.batch_size, self.max_length, self.progress)

    def __repr__(self) -> str:
        tuned = "tuned thresholds" if self.thresholds is not None else "threshold 0.5"
        return (
            f"Classifier({len(self.tree)} labels, max_length={self.max_length}, {tuned}, "
            f"consistent={self.consistent})"
        )


def _checked_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, got one string: wrap it in a list")
    texts = list(texts)
    for position, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{position}] is a {type(text).__name__}, not a string")
    return texts


def _load_backend(source: ModelSource, device: str):
    """``(backend, MLCLConfig)`` of ``source``: onnxruntime for an ``onnx`` export, else
    PyTorch on ``device``."""
    from transformers import AutoTokenizer

    from mlcl_text.modeling.configuration import MLCLConfig
    from mlcl_text.modeling.model import load_trained_model

    tokenizer = AutoTokenizer.from_pretrained(source.tokenizer_folder)
    if source.onnx_file is not None:
        from mlcl_text.export.onnx import load_session

        if device not in ("auto", "cpu"):
            raise ValueError(f"an ONNX model runs on the CPU here, not on device={device!r}")
        config = MLCLConfig.from_pretrained(source.folder)
        backend = OnnxBackend(load_session(source.onnx_file), tokenizer, config.max_segments)
        return backend, config
    model = load_trained_model(source.folder, device)
    return TorchBackend(model, tokenizer), model.config
