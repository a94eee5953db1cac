"""Make an encoder export loadable with ``SentenceTransformer(directory)``.

An *encoder export* is a plain Hugging Face folder: ``encoder.save_pretrained(directory)`` plus
the tokenizer's ``save_pretrained(directory)``. :func:`write_sentence_transformers_files` adds
the files of sentence-transformers' module format next to them, so that
``SentenceTransformer(directory)`` rebuilds ``MLCLModel.embed`` (pooling ``"cls"``, ``"mean"`` or
``"pooler"``) from the exported encoder, with no normalisation module.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path

from safetensors.torch import save as save_safetensors
from torch import nn
from transformers import PreTrainedModel

from mlcl_text.modeling.configuration import POOLINGS

__all__ = ["write_sentence_transformers_files"]

MODULES_FILE = "modules.json"
TRANSFORMER_CONFIG_FILE = "sentence_bert_config.json"
POOLING_DIR = "1_Pooling"
DENSE_DIR = "2_Dense"
# the classic ``sentence_transformers.models.*`` paths: what 2.x-5.x import directly and 6.x
# still resolves (it maps them onto its new module locations)
_TRANSFORMER_TYPE = "sentence_transformers.models.Transformer"
_POOLING_TYPE = "sentence_transformers.models.Pooling"
_DENSE_TYPE = "sentence_transformers.models.Dense"
_TANH = "torch.nn.modules.activation.Tanh"


def write_sentence_transformers_files(
    directory: str | os.PathLike,
    encoder: PreTrainedModel,
    pooling: str,
    max_seq_length: int | None = None,
) -> None:
    """Add sentence-transformers module files to the encoder export in ``directory``.

    The caller has already run ``encoder.save_pretrained(directory)`` and the tokenizer's
    ``save_pretrained(directory)``; this writes the module files of sentence-transformers'
    module format (``modules.json`` listing the modules in order, one folder per module with
    its ``config.json``, see https://sbert.net/docs/sentence_transformer/usage/custom_models.html)
    so that ``SentenceTransformer(directory)`` returns exactly ``MLCLModel.embed``'s vectors::

        directory/
            config.json, model.safetensors, tokenizer files   (already there: the encoder export)
            modules.json                 0: Transformer (path ""), 1: Pooling, [2: Dense]
            sentence_bert_config.json    {"max_seq_length": ..., "do_lower_case": false}
            1_Pooling/config.json        CLS-token pooling ("cls", "pooler") or mean pooling ("mean")
            2_Dense/config.json          only for "pooler": in/out features, bias, Tanh activation
            2_Dense/model.safetensors    only for "pooler": the pooler's weights as
                                         ``linear.weight`` and ``linear.bias``

    ``"pooler"`` (BERT's pooler: ``tanh(W h_CLS + b)``) becomes CLS pooling followed by a
    ``Dense`` module with Tanh activation that carries the pooler's weights; the encoder's own
    pooler is then unused by sentence-transformers. ``"mean"`` is the attention-masked mean of
    the token vectors and ``"cls"`` the first token's vector (right-padded inputs, as BERT-style
    tokenizers produce). No ``Normalize`` module is added, so the vectors are not L2-normalised.

    The files use the layout that sentence-transformers 2.x to 5.x write and 6.x still reads:
    module types ``sentence_transformers.models.*``, the pooling config with
    ``word_embedding_dimension`` and ``pooling_mode_*_token(s)`` flags (6.x converts these to
    its ``pooling_mode`` key) and, for ``Dense``, ``model.safetensors`` (read since
    sentence-transformers 2.3; older releases only read ``pytorch_model.bin``). When the
    encoder was built without its optional pooler (``add_pooling_layer=False``, as
    ``MLCLModel`` does for ``"cls"`` and ``"mean"``), ``sentence_bert_config.json`` passes
    ``model_args={"add_pooling_layer": false}`` so loading does not create a random one.

    Args:
        directory: the encoder export to complete.
        encoder: the exported encoder (for a LoRA model, ``merge_lora()`` first); it gives the
            hidden size and, for ``"pooler"``, the pooler's weights.
        pooling: ``"cls"``, ``"mean"`` or ``"pooler"``, as ``MLCLConfig.pooling``.
        max_seq_length: truncate inputs to this many tokens; ``None`` leaves it to
            sentence-transformers (the tokenizer's ``model_max_length`` capped at the encoder's
            ``max_position_embeddings``). Use the length the model was trained with.

    Raises:
        ValueError: unknown ``pooling``, a bad ``max_seq_length``, a PEFT-wrapped encoder, or
            ``"pooler"`` with an encoder that has no BERT-style pooler (dense + tanh).
        FileNotFoundError: ``directory`` holds no encoder export (no ``config.json``).
        FileExistsError: ``directory`` already has a ``modules.json``, or another file this
            would write exists with different content. Nothing is written then.
    """
    hidden_size = _checked_hidden_size(encoder, pooling, max_seq_length)
    directory = Path(directory)
    _check_directory(directory)
    files = _module_files(encoder, pooling, hidden_size, max_seq_length)
    for relative, content in files.items():
        path = directory / relative
        if path.exists() and (not path.is_file() or path.read_bytes() != content):
            raise FileExistsError(f"{path} already exists with different content")
    # modules.json last: a folder is only picked up as a sentence-transformers model once it
    # exists, so an interrupted call leaves no half-written model behind
    for relative, content in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _checked_hidden_size(encoder: PreTrainedModel, pooling: str, max_seq_length: int | None) -> int:
    """The encoder's hidden size, once ``pooling``, ``max_seq_length`` and the encoder (no
    PEFT wrapper) are checked; ``ValueError`` naming what is wrong."""
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
    if hasattr(encoder, "peft_config"):
        raise ValueError(
            "the encoder is wrapped with PEFT adapters; merge them first (MLCLModel.merge_lora()) "
            "and export the merged encoder"
        )
    hidden_size = getattr(encoder.config, "hidden_size", None)
    if not isinstance(hidden_size, int):
        raise ValueError(f"cannot tell the hidden size of {type(encoder).__name__} from its config")
    if max_seq_length is not None:
        limit = getattr(encoder.config, "max_position_embeddings", None)
        if isinstance(max_seq_length, bool) or not isinstance(max_seq_length, int):
            raise ValueError(f"max_seq_length must be an int or None, got {max_seq_length!r}")
        if max_seq_length < 1 or (isinstance(limit, int) and 0 < limit < max_seq_length):
            raise ValueError(
                f"max_seq_length must be between 1 and the encoder's max_position_embeddings "
                f"({limit}), got {max_seq_length}"
            )
    return hidden_size


def _check_directory(directory: Path) -> None:
    """``directory`` holds an encoder export and no sentence-transformers files yet."""
    if not (directory / "config.json").is_file():
        raise FileNotFoundError(
            f"{directory} holds no encoder export (no config.json): save the encoder and its "
            "tokenizer there first"
        )
    if (directory / MODULES_FILE).exists():
        raise FileExistsError(
            f"{directory / MODULES_FILE} already exists: the folder already has "
            "sentence-transformers files"
        )


def _module_files(
    encoder: PreTrainedModel, pooling: str, hidden_size: int, max_seq_length: int | None
) -> dict[str, bytes]:
    """Relative path → bytes of every file to write, ``modules.json`` last."""
    transformer_config: dict = {"max_seq_length": max_seq_length, "do_lower_case": False}
    if _built_without_pooler(encoder):
        transformer_config["model_args"] = {"add_pooling_layer": False}
    files = {
        TRANSFORMER_CONFIG_FILE: _json_bytes(transformer_config),
        f"{POOLING_DIR}/config.json": _json_bytes(
            {
                "word_embedding_dimension": hidden_size,
                "pooling_mode_cls_token": pooling in ("cls", "pooler"),
                "pooling_mode_mean_tokens": pooling == "mean",
                "pooling_mode_max_tokens": False,
                "pooling_mode_mean_sqrt_len_tokens": False,
            }
        ),
    }
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": _TRANSFORMER_TYPE},
        {"idx": 1, "name": "1", "path": POOLING_DIR, "type": _POOLING_TYPE},
    ]
    if pooling == "pooler":
        dense = _pooler_dense(encoder)
        files[f"{DENSE_DIR}/config.json"] = _json_bytes(
            {
                "in_features": dense.in_features,
                "out_features": dense.out_features,
                "bias": dense.bias is not None,
                "activation_function": _TANH,
            }
        )
        weights = {"linear.weight": dense.weight}
        if dense.bias is not None:
            weights["linear.bias"] = dense.bias
        files[f"{DENSE_DIR}/model.safetensors"] = save_safetensors(
            {name: t.detach().cpu().contiguous().clone() for name, t in weights.items()},
            metadata={"format": "pt"},
        )
        modules.append({"idx": 2, "name": "2", "path": DENSE_DIR, "type": _DENSE_TYPE})
    files[MODULES_FILE] = _json_bytes(modules)
    return files


def _pooler_dense(encoder: PreTrainedModel) -> nn.Linear:
    """The linear layer of a BERT-style pooler, ``tanh(dense(h[:, 0]))``.

    BERT, RoBERTa, XLM-R, MPNet and similar encoders keep it as ``pooler.dense`` +
    ``pooler.activation``; ALBERT as ``pooler`` + ``pooler_activation``.
    """
    name = type(encoder).__name__
    pooler = getattr(encoder, "pooler", None)
    if pooler is None:
        raise ValueError(
            f"pooling='pooler' needs the encoder's pooler, but this {name} has none (an "
            "architecture without one, or built with add_pooling_layer=False); export with "
            "pooling 'cls' or 'mean' instead"
        )
    if isinstance(pooler, nn.Linear):
        dense, activation = pooler, getattr(encoder, "pooler_activation", None)
    else:
        dense, activation = getattr(pooler, "dense", None), getattr(pooler, "activation", None)
    if not isinstance(dense, nn.Linear) or not isinstance(activation, nn.Tanh):
        raise ValueError(
            f"the pooler of this {name} ({type(pooler).__name__}) is not a BERT-style dense + tanh "
            "layer on the first token, which sentence-transformers' Dense module reproduces; "
            "export with pooling 'cls' or 'mean' instead"
        )
    return dense


def _built_without_pooler(encoder: PreTrainedModel) -> bool:
    """Whether the encoder class has an optional pooler that this instance was built without."""
    if getattr(encoder, "pooler", "absent") is not None:
        return False
    return "add_pooling_layer" in inspect.signature(type(encoder).__init__).parameters


def _json_bytes(value) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
