"""``MLCLModel``: encoder → pooling → multi-label classifier, plus contrastive projection heads."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PreTrainedModel
from transformers.utils import ModelOutput

from mlcl_text.configuration import MLCLConfig
from mlcl_text.hierarchy import LabelTree
from mlcl_text.losses.multi_level import ContrastiveHeadSpec


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
        :class:`MLCLConfig` (``pooling``, ``max_segments``, ...).
        """
        encoder = AutoModel.from_pretrained(encoder_name_or_path)
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
        return model

    @property
    def tree(self) -> LabelTree:
        return self.config.tree

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
