"""``MLCLConfig``: encoder, pooling, label tree, classifier and projection heads in one config."""

from __future__ import annotations

from typing import Any

from transformers import AutoConfig, PreTrainedConfig
from transformers.configuration_utils import SubConfigSpec

from mlcl_text.head_spec import ContrastiveHeadSpec, head_specs
from mlcl_text.hierarchy import LabelTree

POOLINGS = ("cls", "mean", "pooler")
SEGMENT_POOLINGS = ("max", "mean")
#: tokens per text when a recipe does not say (the recipes' ``max_length`` default)
DEFAULT_MAX_LENGTH = 128


class MLCLConfig(PreTrainedConfig):
    """Configuration of :class:`~mlcl_text.modeling.model.MLCLModel` (``model_type="mlcl"``).

    The encoder's own config is stored inside (``encoder``), so a saved model rebuilds its
    encoder without the original checkpoint; ``encoder_name_or_path`` records where it came
    from. The label tree (``LabelTree.to_dict()``) fixes the classifier's outputs: one per
    tree node, ``id2label`` in tree order.

    Args:
        encoder: the encoder's config (or its dict).
        encoder_name_or_path: Hub id or path the encoder weights came from (provenance).
        label_tree: ``LabelTree.to_dict()`` of the labels.
        pooling: ``"cls"`` (first token), ``"mean"`` (masked mean of tokens) or ``"pooler"``
            (the encoder's pooler output, as ``*ForSequenceClassification`` models use).
        heads: projection heads, each a :class:`~mlcl_text.head_spec.ContrastiveHeadSpec` dict.
        classifier_dropout: dropout before the classifier.
        max_length: tokens per text (per segment with ``max_segments`` > 1) the model was
            trained with; inference and every export truncate there.
        max_segments: split each text into up to this many ``max_length`` segments (1 = off).
        segment_pooling: ``"max"`` or ``"mean"`` over the segment vectors of a document.
        lora: optional LoRA settings for the encoder (``r``, ``alpha``, ``dropout``,
            ``target_modules``).
        restricted: the model was trained on restricted data (e.g. MIMIC): refuse public pushes.
    """

    model_type = "mlcl"
    sub_configs_defaults = {"encoder": SubConfigSpec(config_class=AutoConfig, model_type="bert")}  # noqa: RUF012
    keys_to_ignore_at_inference = ["embeddings", "projections"]  # noqa: RUF012

    encoder: PreTrainedConfig | dict | None = None
    encoder_name_or_path: str | None = None
    label_tree: dict | None = None
    pooling: str = "cls"
    heads: list | None = None
    classifier_dropout: float = 0.1
    max_length: int = DEFAULT_MAX_LENGTH
    max_segments: int = 1
    segment_pooling: str = "max"
    lora: dict | None = None
    restricted: bool = False

    def __post_init__(self, **kwargs: Any) -> None:
        kwargs.pop("num_labels", None)  # derived from the label tree
        super().__post_init__(**kwargs)
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        if self.segment_pooling not in SEGMENT_POOLINGS:
            raise ValueError(
                f"segment_pooling must be one of {SEGMENT_POOLINGS}, got {self.segment_pooling!r}"
            )
        if self.max_length < 8:
            raise ValueError(f"max_length must be at least 8 tokens, got {self.max_length}")
        if self.max_segments < 1:
            raise ValueError(f"max_segments must be >= 1, got {self.max_segments}")
        self.heads = [spec.to_dict() for spec in head_specs(self.heads or [])]
        if self.label_tree is not None:
            tree = self.tree
            self.id2label = dict(enumerate(tree.names))
            self.label2id = {name: i for i, name in enumerate(tree.names)}
            self.num_labels = len(tree)
        self.problem_type = "multi_label_classification"

    @property
    def tree(self) -> LabelTree:
        """The label tree (a flat tree of ``id2label`` when none was stored)."""
        if self.label_tree is not None:
            return LabelTree.from_dict(self.label_tree)
        return LabelTree.from_labels([self.id2label[i] for i in range(len(self.id2label))])

    @property
    def head_specs(self) -> list[ContrastiveHeadSpec]:
        return [ContrastiveHeadSpec.from_dict(h) for h in self.heads]
