"""What runs a model for a :class:`~mlcl_text.classifier.Classifier`: probabilities and pooled
embeddings of texts, batched as :mod:`mlcl_text.modeling.inference` batches them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from mlcl_text.modeling.inference import embed_texts, predict_probabilities
from mlcl_text.modeling.model import MLCLModel


class Backend(Protocol):
    """Runs one model on texts."""

    def probabilities(
        self, texts: Sequence[str], batch_size: int, max_length: int
    ) -> np.ndarray:  # [N, L]
        """Sigmoid probabilities, one column per label, in the order of ``texts``."""

    def embeddings(
        self, texts: Sequence[str], batch_size: int, max_length: int
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

    def probabilities(self, texts: Sequence[str], batch_size: int, max_length: int) -> np.ndarray:
        return predict_probabilities(self.model, self.tokenizer, texts, batch_size, max_length)

    def embeddings(self, texts: Sequence[str], batch_size: int, max_length: int) -> np.ndarray:
        return embed_texts(self.model, self.tokenizer, texts, batch_size, max_length)["embeddings"]
