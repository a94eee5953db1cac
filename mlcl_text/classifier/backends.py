"""What runs a model for a :class:`~mlcl_text.classifier.Classifier`: probabilities and pooled
embeddings of texts, batched as :mod:`mlcl_text.modeling.inference` batches them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from mlcl_text.modeling.inference import embed_texts, length_sorted_batches, predict_probabilities
from mlcl_text.modeling.model import MLCLModel


class Backend(Protocol):
    """Runs one model on texts."""

    device: torch.device

    def probabilities(
        self, texts: Sequence[str], batch_size: int, max_length: int, progress: bool = False
    ) -> np.ndarray:  # [N, L]
        """Sigmoid probabilities, one column per label, in the order of ``texts``."""

    def embeddings(
        self, texts: Sequence[str], batch_size: int, max_length: int, progress: bool = False
    ) -> np.ndarray:  # [N, hidden]
        """Pooled document embeddings, in the order of ``texts``."""


class TorchBackend:
    """An :class:`~mlcl_text.modeling.model.MLCLModel` on a PyTorch device."""

    def __init__(self, model: MLCLModel, tokenizer: PreTrainedTokenizerBase):
        self.model = model.eval()
        self.tokenizer = tokenizer

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def probabilities(
        self, texts: Sequence[str], batch_size: int, max_length: int, progress: bool = False
    ) -> np.ndarray:
        return predict_probabilities(
            self.model, self.tokenizer, texts, batch_size, max_length, progress
        )

    def embeddings(
        self, texts: Sequence[str], batch_size: int, max_length: int, progress: bool = False
    ) -> np.ndarray:
        outputs = embed_texts(self.model, self.tokenizer, texts, batch_size, max_length, progress)
        return outputs["embeddings"]


class OnnxBackend:
    """The ``onnx`` export form (:mod:`mlcl_text.export.onnx`) on onnxruntime's CPU provider,
    batched as the PyTorch backend batches."""

    def __init__(
        self,
        session,
        tokenizer: PreTrainedTokenizerBase,
        max_segments: int = 1,
    ):
        self.session = session
        self.tokenizer = tokenizer
        self.max_segments = max_segments
        self.input_names = [given.name for given in session.get_inputs()]
        self.device = torch.device("cpu")  # the CPU execution provider

    def probabilities(
        self, texts: Sequence[str], batch_size: int, max_length: int, progress: bool = False
    ) -> np.ndarray:
        return self._run("probabilities", texts, batch_size, max_length, progress)

    def embeddings(
        self, texts: Sequence[str], batch_size: int, max_length: int, progress: bool = False
    ) -> np.ndarray:
        return self._run("embeddings", texts, batch_size, max_length, progress)

    def _run(
        self, output: str, texts: Sequence[str], batch_size: int, max_length: int, progress: bool
    ) -> np.ndarray:
        result = None
        for chosen, batch in length_sorted_batches(
            self.tokenizer, texts, max_length, self.max_segments, batch_size, progress
        ):
            feed = {name: batch[name].numpy() for name in self.input_names}
            values = self.session.run([output], feed)[0]
            if result is None:
                result = np.zeros((len(texts), values.shape[1]), dtype=np.float32)
            result[chosen] = values
        return result
