"""``MLCLModel``: encoder → pooling → multi-label classifier, plus contrastive projection heads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers.utils import ModelOutput

from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.hierarchy import LabelTree
from mlcl_text.modeling.configuration import DEFAULT_MAX_LENGTH, MLCLConfig

ADAPTER_HEAD_FILE = "head.safetensors"
# config settings that from_adapter carries over (the label tree, heads and LoRA go separately)
_ADAPTER_CONFIG_KEYS = (
    "pooling",
    "classifier_dropout",
    "max_length",
    "max_segments",
    "segment_pooling",
    "restricted",
)


@dataclass
class MLCLOutput(ModelOutput):
    """Outputs of :class:`MLCLModel`.

    Attributes:
        loss: binary cross-entropy of ``logits`` against ``labels`` (when labels are given).
        logits: ``[B, num_labels]`` one logit per tree node (sigmoid for probabilities).
        embeddings: ``[B, hidden]`` pooled document vectors.
        projections: per head name, ``[B, out_dim]`` L2-normalised projections.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    embeddings: torch.Tensor | None = None
    projections: dict[str, torch.Tensor] | None = None


class ProjectionHead(nn.Module):
    """``z = normalize(W₂ ReLU(W₁ h))``: the SupCon projection head (Khosla et al., 2020)."""

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int):
        super().__init__()
        self.dense = nn.Linear(in_dim, hidden_dim)
        self.activation = nn.ReLU()
        self.out = nn.Linear(hidden_dim, out_dim)

    def forward(self, pooled: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.out(self.activation(self.dense(pooled))), dim=-1)


class MLCLModel(PreTrainedModel):
    """A Hugging Face encoder with a multi-label classifier and MLCL projection heads.

    ``forward`` takes ``input_ids`` ``[B, T]`` or, for long documents split into segments,
    ``[B, K, T]`` (see ``MLCLConfig.max_segments``): the segments of all documents are
    encoded as one batch, pooled, and each document's segment vectors are max- or
    mean-pooled (empty, all-padding segments are ignored) into one document vector.

    Build one around a pretrained encoder with :meth:`from_encoder`; reload a trained one
    with ``MLCLModel.from_pretrained(path)`` or ``AutoModel.from_pretrained(path)``.
    """

    config_class = MLCLConfig
    base_model_prefix = "mlcl"
    main_input_name = "input_ids"
    supports_gradient_checkpointing = True
    # forward takes no **kwargs: the Trainer must scale the loss for gradient accumulation
    # itself (transformers#47688)
    accepts_loss_kwargs = False

    def __init__(self, config: MLCLConfig):
        super().__init__(config)
        self.encoder = _encoder_from_config(config)
        if config.lora is not None:
            self.encoder = _with_lora(self.encoder, config.lora)
        hidden = config.encoder.hidden_size
        self.dropout = nn.Dropout(config.classifier_dropout)
        self.classifier = nn.Linear(hidden, config.num_labels)
        self.heads = nn.ModuleDict(
            {
                spec.name: ProjectionHead(hidden, spec.hidden_dim or hidden, spec.out_dim)
                for spec in config.head_specs
            }
        )
        self.post_init()

    @classmethod
    def from_encoder(
        cls,
        encoder_name_or_path: str,
        tree: LabelTree,
        heads: list[ContrastiveHeadSpec | dict] | None = None,
        **config_kwargs,
    ) -> MLCLModel:
        """A new model around the pretrained encoder at ``encoder_name_or_path``.

        The classifier and heads start from random weights; ``config_kwargs`` go to
        :class:`MLCLConfig` (``pooling``, ``max_length``, ``max_segments``, ...). Without a
        ``max_length``, texts are truncated at 128 tokens or at the encoder's positions when it
        has fewer.
        """
        encoder = AutoModel.from_pretrained(encoder_name_or_path)
        lora = config_kwargs.pop("lora", None)
        positions = getattr(encoder.config, "max_position_embeddings", None) or DEFAULT_MAX_LENGTH
        config_kwargs.setdefault("max_length", min(DEFAULT_MAX_LENGTH, positions))
        config = MLCLConfig(
            encoder=encoder.config.to_dict(),
            encoder_name_or_path=str(encoder_name_or_path),
            label_tree=tree.to_dict(),
            heads=[
                h.to_dict() if isinstance(h, ContrastiveHeadSpec) else dict(h) for h in heads or []
            ],
            **config_kwargs,
        )
        model = cls(config)
        missing, unexpected = model.encoder.load_state_dict(encoder.state_dict(), strict=False)
        # a pooler is built only for pooling="pooler"; other mismatches are real errors
        missing = [k for k in missing if not k.startswith("pooler.")]
        unexpected = [k for k in unexpected if not k.startswith("pooler.")]
        if missing or unexpected:
            raise ValueError(
                f"the encoder at {encoder_name_or_path!r} does not match its config: "
                f"missing {missing[:5]}, unexpected {unexpected[:5]}"
            )
        if lora is not None:
            model.enable_lora(lora)
        return model

    # ------------------------------------------------------------------ LoRA (PEFT)
    def enable_lora(self, lora: dict) -> MLCLModel:
        """Wrap the encoder with LoRA adapters (``r``, ``alpha``, ``dropout``, ``target_modules``).

        The encoder's own weights are frozen; the adapters, the classifier and the heads train.
        """
        if self.config.lora is not None:
            raise ValueError("LoRA is already enabled on this model")
        self.encoder = _with_lora(self.encoder, lora)
        self.config.lora = dict(lora)
        return self

    @property
    def has_lora(self) -> bool:
        return self.config.lora is not None

    def merge_lora(self) -> MLCLModel:
        """Fold the LoRA adapters into the encoder weights (for export); a no-op without LoRA."""
        if self.has_lora:
            self.encoder = self.encoder.merge_and_unload()
            self.config.lora = None
        return self

    def save_adapter(self, directory: str | os.PathLike) -> None:
        """Save only what LoRA training changed: the encoder adapters (PEFT format, in
        ``directory/encoder_adapter``), the classifier and heads (``head.safetensors``) and the
        config. :meth:`from_adapter` rebuilds the model from these and the base encoder."""
        if not self.has_lora:
            raise ValueError("this model has no LoRA adapters; use save_pretrained")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.encoder.save_pretrained(directory / "encoder_adapter")
        head_state = {
            k: v.detach().contiguous().cpu()
            for k, v in self.state_dict().items()
            if not k.startswith("encoder.")
        }
        save_file(head_state, directory / ADAPTER_HEAD_FILE)
        self.config.save_pretrained(directory)

    @classmethod
    def from_adapter(
        cls, directory: str | os.PathLike, encoder_name_or_path: str | None = None
    ) -> MLCLModel:
        """Rebuild a model saved with :meth:`save_adapter` on top of its base encoder
        (``encoder_name_or_path`` or the one recorded in the config)."""
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        directory = Path(directory)
        config = MLCLConfig.from_pretrained(directory)
        base = encoder_name_or_path or config.encoder_name_or_path
        if not base:
            raise ValueError(
                f"{directory}: the config names no base encoder; pass encoder_name_or_path"
            )
        lora = config.lora
        if lora is None:
            raise ValueError(
                f"{directory}: the config has no LoRA settings; load it with from_pretrained"
            )
        model = cls.from_encoder(
            base,
            config.tree,
            heads=config.heads,
            lora=lora,
            **{key: getattr(config, key) for key in _ADAPTER_CONFIG_KEYS},
        )
        adapter = load_file(directory / "encoder_adapter" / "adapter_model.safetensors")
        result = set_peft_model_state_dict(model.encoder, adapter)
        if result.unexpected_keys:
            raise ValueError(
                f"{directory}: adapter weights do not fit the encoder: {result.unexpected_keys[:5]}"
            )
        missing, unexpected = model.load_state_dict(
            load_file(directory / ADAPTER_HEAD_FILE), strict=False
        )
        if unexpected or [k for k in missing if not k.startswith("encoder.")]:
            raise ValueError(
                f"{directory}: head weights do not fit: missing {missing[:5]}, unexpected {unexpected[:5]}"
            )
        return model

    @property
    def tree(self) -> LabelTree:
        return self.config.tree

    @torch.no_grad()
    def init_classifier_bias(
        self, label_frequencies: torch.Tensor | np.ndarray, floor: float = 1e-4
    ) -> None:
        """Start each label's sigmoid at its training frequency ``π``: ``b = log(π / (1 − π))``.

        With many rare labels a zero bias starts every probability at 0.5 and the first
        steps are spent pushing them all down; the prior initialisation (Lin et al., "Focal
        Loss for Dense Object Detection", ICCV 2017, §4.1) starts from the label frequencies.
        Frequencies are clipped to ``[floor, 1 − floor]``.
        """
        prior = torch.as_tensor(np.asarray(label_frequencies), dtype=torch.float32).clamp(
            floor, 1 - floor
        )
        if prior.shape != self.classifier.bias.shape:
            raise ValueError(
                f"{prior.numel()} label frequencies for {self.classifier.bias.numel()} labels"
            )
        self.classifier.bias.copy_(torch.log(prior / (1 - prior)).to(self.classifier.bias))

    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, nn.Linear) and not _inside(module, self.encoder):
            std = getattr(self.config.encoder, "initializer_range", 0.02)
            nn.init.normal_(module.weight, mean=0.0, std=std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif _inside(module, self.encoder) and isinstance(self.encoder, PreTrainedModel):
            self.encoder._init_weights(module)

    def forward(
        self,
        input_ids: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        return_dict: bool | None = None,
    ) -> MLCLOutput | tuple:
        embeddings = self.embed(input_ids, attention_mask, token_type_ids)
        logits = self.classifier(self.dropout(embeddings))
        projections = {name: head(embeddings) for name, head in self.heads.items()}
        loss = None
        if labels is not None:
            loss = nn.functional.binary_cross_entropy_with_logits(logits.float(), labels.float())
        output = MLCLOutput(
            loss=loss, logits=logits, embeddings=embeddings, projections=projections
        )
        return output if return_dict is not False else output.to_tuple()

    def embed(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Pooled document vectors ``[B, hidden]`` (segments pooled per document)."""
        if input_ids is None:
            raise ValueError("MLCLModel needs input_ids")
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        segmented = input_ids.ndim == 3
        if segmented:
            batch, segments, length = input_ids.shape
            if segments > self.config.max_segments:
                raise ValueError(
                    f"got {segments} segments per document, the config allows {self.config.max_segments}"
                )
            input_ids = input_ids.reshape(batch * segments, length)
            attention_mask = attention_mask.reshape(batch * segments, length)
            if token_type_ids is not None:
                token_type_ids = token_type_ids.reshape(batch * segments, length)
        encoder_inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:
            encoder_inputs["token_type_ids"] = token_type_ids
        outputs = self.encoder(**encoder_inputs, return_dict=True)
        pooled = self._pool(outputs, attention_mask)
        if not segmented:
            return pooled
        return _pool_segments(
            pooled.reshape(batch, segments, -1),
            attention_mask.reshape(batch, segments, length).any(dim=-1),
            self.config.segment_pooling,
        )

    def _pool(self, outputs, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.config.pooling == "pooler":
            if getattr(outputs, "pooler_output", None) is None:
                raise ValueError(
                    f"the encoder {type(self.encoder).__name__} has no pooler; use cls or mean"
                )
            return outputs.pooler_output
        hidden = outputs.last_hidden_state
        if self.config.pooling == "cls":
            return hidden[:, 0]
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1.0)

    @torch.no_grad()
    def predict(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor | None = None,
        token_type_ids: torch.Tensor | None = None,
        threshold: float | torch.Tensor = 0.5,
        consistent: bool = False,
    ) -> torch.Tensor:
        """0/1 predictions ``[B, num_labels]``; with ``consistent`` a label is predicted only
        when its parent is (:meth:`LabelTree.consistent_decoding`)."""
        logits = self(input_ids, attention_mask, token_type_ids).logits
        predicted = (torch.sigmoid(logits.float()) >= threshold).float()
        return self.tree.consistent_decoding(predicted) if consistent else predicted


def _encoder_from_config(config: MLCLConfig) -> nn.Module:
    encoder_config = config.encoder
    if not hasattr(encoder_config, "to_dict"):
        encoder_config = AutoConfig.for_model(**encoder_config)
    try:
        return AutoModel.from_config(encoder_config, add_pooling_layer=config.pooling == "pooler")
    except TypeError:  # encoders without an optional pooler (DistilBERT, ...)
        return AutoModel.from_config(encoder_config)


def _with_lora(encoder: nn.Module, lora: dict) -> nn.Module:
    from peft import LoraConfig, get_peft_model

    unknown = set(lora) - {"r", "alpha", "dropout", "target_modules"}
    if unknown:
        raise ValueError(
            f"unknown LoRA settings {sorted(unknown)}; use r, alpha, dropout, target_modules"
        )
    config = LoraConfig(
        r=int(lora.get("r", 8)),
        lora_alpha=float(lora.get("alpha", 16)),
        lora_dropout=float(lora.get("dropout", 0.0)),
        target_modules=lora.get("target_modules"),
        bias="none",
    )
    return get_peft_model(encoder, config)


def _inside(module: nn.Module, parent: nn.Module) -> bool:
    return any(m is module for m in parent.modules())


def _pool_segments(vectors: torch.Tensor, present: torch.Tensor, how: str) -> torch.Tensor:
    """Pool ``[B, K, H]`` segment vectors over the segments marked ``present`` ``[B, K]``."""
    mask = present.unsqueeze(-1)
    if how == "max":
        filled = vectors.masked_fill(~mask, torch.finfo(vectors.dtype).min)
        return filled.max(dim=1).values
    weights = mask.to(vectors.dtype)
    return (vectors * weights).sum(dim=1) / weights.sum(dim=1).clamp_min(1.0)


def load_trained_model(folder: str | os.PathLike, device: str = "cpu") -> MLCLModel:
    """The :class:`MLCLModel` saved in ``folder`` on ``device`` (``"auto"``: CUDA when
    available), without transformers' "Loading weights" progress bar."""
    from transformers.utils import logging as hf_logging

    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    shown = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return MLCLModel.from_pretrained(folder).to(device)
    finally:
        if shown:
            hf_logging.enable_progress_bar()
