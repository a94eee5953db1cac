"""Model cards for exported models, rendered from the Jinja template in ``model_cards/``.

The card's facts come from the model itself (labels, hierarchy, heads, pooling, and the
papers of its heads' losses, each loss class's ``citation``) and from a
:class:`ModelCardInfo` the caller fills (datasets, metrics, training settings); it never
contains training text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard, ModelCardData

from mlcl_text.losses.multi_level import MultiLevelContrastiveLoss, head_loss_class
from mlcl_text.modeling.model import MLCLModel
from mlcl_text.resources import model_cards_dir

TEMPLATE = "mlcl_model.md"

FORM_DESCRIPTIONS = {
    "full": "a full mlcl-text model (`MLCLModel`: encoder, classifier, label tree and any "
    "contrastive projection heads; "
    "load it with `import mlcl_text` and `AutoModel.from_pretrained`)",
    "classifier": "a standard `AutoModelForSequenceClassification` checkpoint that loads with plain "
    "transformers, no mlcl-text needed",
    "encoder": "the fine-tuned encoder (`AutoModel`) with sentence-transformers module files",
    "onnx": "an ONNX graph of the classifier (token ids to probabilities, pooling and sigmoid "
    "inside) with its tokenizer, for onnxruntime or any ONNX runtime",
}

_CLASSIFIER_USAGE = """```python
from mlcl_text import Classifier

classifier = Classifier.from_pretrained("{repo}")
classifier.predict(["a text to label"])  # label names at the tuned thresholds
classifier.predict_proba(["a text to label"])  # probabilities; classifier.labels names them
```"""

USAGE = {
    "full": _CLASSIFIER_USAGE,
    "onnx": _CLASSIFIER_USAGE.replace(
        "```python\n", "```python\n# pip install 'mlcl-text[onnx]'\n", 1
    ),
    "classifier": """```python
from transformers import pipeline

classifier = pipeline("text-classification", model="{repo}", top_k=None)
scores = classifier("a text to label")
labels = [s["label"] for s in scores if s["score"] >= {threshold}]  # the tuned threshold
```""",
    "encoder": """```python
from sentence_transformers import SentenceTransformer

model = SentenceTransformer("{repo}")
embeddings = model.encode(["a text to embed"])
```""",
}


@dataclass
class ModelCardInfo:
    """What the model cannot tell about itself."""

    model_name: str | None = None
    datasets: list[str] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)
    threshold: float | None = None
    training_settings: dict[str, Any] = field(default_factory=dict)
    recipe: str | None = None
    language: str | list[str] | None = "en"
    license: str | None = None
    intended_use: str = (
        "Multi-label (and, with a label tree, hierarchical) classification of texts like those it "
        "was trained on. Tune the decision threshold on validation data from your own setting."
    )
    limitations: str = (
        "Predictions are only as good as the training labels and reflect their biases; labels "
        "rare in training are predicted less reliably. The model was not evaluated outside the "
        "data named above."
    )
    data_agreement: str | None = None
    figures: dict[str, str] = field(default_factory=dict)  # title -> path inside the export


def template_directory() -> Path:
    """The folder holding the card templates (``model_cards/``)."""
    return model_cards_dir()


def render_model_card(
    model: MLCLModel,
    info: ModelCardInfo | None = None,
    form: str = "full",
    repo_id: str | None = None,
) -> ModelCard:
    """The card of ``model`` exported as ``form`` (``full``, ``classifier`` or ``encoder``)."""
    if form not in FORM_DESCRIPTIONS:
        raise ValueError(f"form must be one of {tuple(FORM_DESCRIPTIONS)}, got {form!r}")
    info = info or ModelCardInfo()
    config = model.config
    tree = config.tree
    base_model = (
        config.encoder_name_or_path if _looks_like_hub_id(config.encoder_name_or_path) else None
    )
    name = info.model_name or (repo_id.split("/")[-1] if repo_id else "mlcl-text model")
    return ModelCard.from_template(
        _card_data(info, form, name, base_model, tree.num_levels, bool(config.head_specs)),
        template_path=str(template_directory() / TEMPLATE),
        model_name=name,
        summary=f"A multi-label text classifier over {len(tree)} labels trained with "
        + (
            "binary cross-entropy and supervised contrastive learning."
            if config.head_specs
            else "binary cross-entropy."
        ),
        form_description=FORM_DESCRIPTIONS[form],
        base_model=base_model,
        num_labels=len(tree),
        num_levels=tree.num_levels,
        level_sizes=" / ".join(str(len(tree.level_ids(d))) for d in range(1, tree.num_levels + 1)),
        label_examples=", ".join(f"`{n}`" for n in tree.names[:10])
        + (", …" if len(tree) > 10 else ""),
        threshold=info.threshold,
        pooling=config.pooling,
        max_segments=config.max_segments,
        segment_pooling=config.segment_pooling,
        usage=USAGE[form].format(
            repo=repo_id or "path/to/model",
            threshold=0.5 if info.threshold is None else round(info.threshold, 4),
        ),
        datasets=info.datasets,
        heads=_head_rows(config.head_specs),
        lora=config.lora,
        training_settings=info.training_settings,
        recipe=info.recipe,
        metrics={k: round(v, 4) if isinstance(v, float) else v for k, v in info.metrics.items()},
        figures=info.figures,
        intended_use=info.intended_use,
        limitations=info.limitations,
        restricted=config.restricted,
        data_agreement=info.data_agreement or "see the data set's licence",
        citations=_citations(config.head_specs),
    )


def _head_rows(head_specs) -> list[dict]:
    """One row of the card's table of contrastive heads per head."""
    return [
        {
            "name": spec.name,
            "positives": spec.positives,
            "view": f"level {spec.level}"
            if spec.level
            else ("label group" if spec.labels else "all labels"),
            "temperature": spec.temperature,
            "weight": spec.weight,
            "reference": head_loss_class(spec).citation.short,
        }
        for spec in head_specs
    ]


def _citations(head_specs) -> list[str]:
    """With contrastive heads: MLCL (several heads over one encoder) first, then each head's
    loss, each once; none for a model trained with binary cross-entropy alone."""
    if not head_specs:
        return []
    cited = sorted({head_loss_class(spec).citation.reference for spec in head_specs})
    return [MultiLevelContrastiveLoss.citation.reference, *cited]


def _card_data(
    info: ModelCardInfo,
    form: str,
    name: str,
    base_model: str | None,
    num_levels: int,
    contrastive: bool,
) -> ModelCardData:
    """The card's metadata (its YAML header): names, libraries, tags and metric names."""
    tags = ["mlcl-text", "text-classification", "multi-label-classification"]
    if contrastive:
        tags.append("contrastive-learning")
    if num_levels > 1:
        tags.append("hierarchical-classification")
    return ModelCardData(
        model_name=name,
        base_model=base_model,
        datasets=info.datasets or None,
        language=info.language,
        license=info.license,
        library_name="sentence-transformers" if form == "encoder" else "transformers",
        pipeline_tag="sentence-similarity" if form == "encoder" else "text-classification",
        tags=tags,
        metrics=sorted(info.metrics) or None,
    )


def _looks_like_hub_id(name: str | None) -> bool:
    """``owner/name`` or ``name`` that is not a local path."""
    if not name or Path(name).exists() or name.startswith((".", "/", "~")):
        return False
    return name.count("/") <= 1
