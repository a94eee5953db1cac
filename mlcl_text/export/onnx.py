"""The ``onnx`` export form: the classifier as one ONNX graph, run by onnxruntime.

The graph takes the tokenizer's ``input_ids``, ``attention_mask`` (and ``token_type_ids`` when
the tokenizer gives them), ``[batch, sequence]`` with both axes dynamic (``[batch, segments,
sequence]`` for a model that reads several segments per document), and returns
``probabilities`` (the sigmoid of the classifier's logits, ``[batch, labels]``) and the pooled
``embeddings`` (``[batch, hidden]``): pooling and sigmoid are inside the graph, so any
runtime with the tokenizer computes what the PyTorch model computes. The export is checked
on inputs of other batch sizes and lengths than the ones it was traced with: onnxruntime
must give the PyTorch probabilities to 1e-4, else :class:`NotExportableError`.

Exported with ``torch.onnx.export`` (TorchScript tracing, opset 17); ``onnx`` and
``onnxruntime`` come with the ``onnx`` extra (``pip install "mlcl-text[onnx]"``).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from mlcl_text.export.errors import NotExportableError
from mlcl_text.modeling.model import MLCLModel

ONNX_FILE = "model.onnx"
ONNX_OUTPUTS = ("probabilities", "embeddings")
OPSET = 17
TOLERANCE = 1e-4


class _ProbabilitiesAndEmbeddings(torch.nn.Module):
    """What the graph computes: ``(sigmoid(logits), pooled embeddings)``."""

    def __init__(self, model: MLCLModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        embeddings = self.model.embed(input_ids, attention_mask, token_type_ids)
        return torch.sigmoid(self.model.classifier(embeddings)), embeddings


def require_onnxruntime():
    """The ``onnxruntime`` module, or one clear error saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise NotExportableError(
            "ONNX needs onnx and onnxruntime: pip install 'mlcl-text[onnx]'"
        ) from None
    return onnxruntime


def onnx_input_names(tokenizer: PreTrainedTokenizerBase) -> list[str]:
    """The graph's inputs: what the tokenizer gives of ``input_ids``, ``attention_mask`` and
    ``token_type_ids``."""
    given = tokenizer.model_input_names
    names = ["input_ids", "attention_mask"]
    return [*names, "token_type_ids"] if "token_type_ids" in given else names


def write_onnx(model: MLCLModel, directory: Path, tokenizer: PreTrainedTokenizerBase) -> Path:
    """Trace ``model`` (eval mode, LoRA already merged) into ``directory/model.onnx`` and check
    it against the PyTorch model; returns the file."""
    require_onnxruntime()
    if model.has_lora:
        raise ValueError("merge the LoRA adapters first (model.merge_lora())")
    model = model.eval()
    names = onnx_input_names(tokenizer)
    segmented = model.config.max_segments > 1
    axes = {0: "batch", 1: "segments", 2: "sequence"} if segmented else {0: "batch", 1: "sequence"}
    path = directory / ONNX_FILE
    wrapper = _ProbabilitiesAndEmbeddings(model).eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer notes on shape-dependent Python branches
        torch.onnx.export(
            wrapper,
            tuple(_probe_inputs(model, names, batch=2, length=16).values()),
            str(path),
            input_names=names,
            output_names=list(ONNX_OUTPUTS),
            dynamic_axes={
                **{name: axes for name in names},
                **{name: {0: "batch"} for name in ONNX_OUTPUTS},
            },
            opset_version=OPSET,
            dynamo=False,
        )
    _verify(wrapper, path, names)
    return path


def _probe_inputs(
    model: MLCLModel, names: list[str], batch: int, length: int, seed: int = 0
) -> dict[str, torch.Tensor]:
    """Random token ids of one shape, the last row padded from half its length on."""
    generator = torch.Generator().manual_seed(seed)
    vocab = model.config.encoder.vocab_size
    segments = min(2, model.config.max_segments)
    shape = (batch, segments, length) if segments > 1 else (batch, length)
    ids = torch.randint(min(5, vocab - 1), vocab, shape, generator=generator)
    mask = torch.ones_like(ids)
    mask[-1, ..., length // 2 :] = 0
    inputs = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    return {name: inputs[name] for name in names}


def _verify(wrapper: torch.nn.Module, path: Path, names: list[str]) -> None:
    """onnxruntime's probabilities equal PyTorch's on shapes the graph was not traced with."""
    session = load_session(path)
    for seed, (batch, length) in enumerate(((1, 7), (3, 29), (5, 16))):
        inputs = _probe_inputs(wrapper.model, names, batch, length, seed=seed + 1)
        with torch.no_grad():
            expected = wrapper(*inputs.values())[0].numpy()
        got = session.run(["probabilities"], {k: v.numpy() for k, v in inputs.items()})[0]
        difference = float(np.abs(got - expected).max())
        if difference > TOLERANCE:
            path.unlink()
            raise NotExportableError(
                f"the ONNX graph computes different probabilities (max difference "
                f"{difference:.1e} at batch {batch}, length {length}); export form='full'"
            )


def load_session(path: str | Path, threads: int | None = None):
    """An onnxruntime ``InferenceSession`` of ``path`` on the CPU (``threads``: intra-op
    threads, default onnxruntime's)."""
    ort = require_onnxruntime()
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
