"""``ContrastiveHeadSpec``: what one MLCL head contrasts, as plain validated settings.

A small module of its own so that the model's configuration, the recipes and the model card
read head settings without importing the losses that train them
(:class:`~mlcl_text.losses.MultiLevelContrastiveLoss` builds one loss per spec).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

HEAD_POSITIVES = (
    "any",
    "all",
    "jaccard",
    "sd",
    "mulsupcon",
    "class",
    "himulcon",
    "hicone",
    "himulcone",
)
#: the rules of the hierarchical loss, which spans every level of the tree
HIERARCHICAL_POSITIVES = ("himulcon", "hicone", "himulcone")
HEAD_VIEWS = ("leaves", "all")


@dataclass
class ContrastiveHeadSpec:
    """What one MLCL head contrasts.

    Attributes:
        name: the head's name (its component is logged as ``loss_con/<name>``).
        positives: ``any`` | ``all`` | ``jaccard`` | ``sd`` | ``mulsupcon`` (multi-label rules),
            ``class`` (SupCon on ``[N]`` class ids), or ``himulcon`` | ``hicone`` |
            ``himulcone`` (the hierarchical loss over every level of the tree).
        level: restrict the labels to this tree depth (1 = roots) before the rule.
        labels: restrict the labels to these names (and their descendants) before the rule.
        view: without ``level`` or ``labels``, which of a document's labels the rule compares:
            ``leaves`` (its most specific labels: on ancestor-closed trees the codes without
            their chapters and categories) or ``all`` (the whole ancestor-closed set). Default:
            ``leaves`` for ``sd``, whose weights count the labels that differ, as the SD paper
            counts codes; ``all`` for the other rules.
        temperature: the head's τ.
        weight: the head's weight α in the total.
        out_dim: output size of the model's projection head for this loss (Linear–ReLU–Linear).
        hidden_dim: hidden size of that projection head (default: the encoder's hidden size).
        options: extra keyword arguments of the head's loss class (e.g. ``penalty`` of a
            hierarchical head).
    """

    name: str
    positives: str = "any"
    level: int | None = None
    labels: list[str] | None = None
    temperature: float = 0.1
    weight: float = 1.0
    out_dim: int = 128
    hidden_dim: int | None = None
    options: dict[str, Any] = field(default_factory=dict)
    view: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a contrastive head needs a name")
        if self.positives not in HEAD_POSITIVES:
            raise ValueError(
                f"head {self.name!r}: positives must be one of {HEAD_POSITIVES}, got {self.positives!r}"
            )
        if self.level is not None and (
            isinstance(self.level, bool) or not isinstance(self.level, int) or self.level < 1
        ):
            raise ValueError(
                f"head {self.name!r}: level is a tree depth >= 1 (1 = roots), got {self.level!r}"
            )
        if self.level is not None and self.labels is not None:
            raise ValueError(f"head {self.name!r}: give either level or labels, not both")
        if self.positives in HIERARCHICAL_POSITIVES and (
            self.level is not None or self.labels is not None
        ):
            raise ValueError(
                f"head {self.name!r}: {self.positives} spans every level; drop level/labels"
            )
        if self.view is not None:
            if self.view not in HEAD_VIEWS:
                raise ValueError(
                    f"head {self.name!r}: view must be one of {HEAD_VIEWS}, got {self.view!r}"
                )
            if self.level is not None or self.labels is not None:
                raise ValueError(f"head {self.name!r}: view applies without level or labels")
            if self.positives in HIERARCHICAL_POSITIVES or self.positives == "class":
                raise ValueError(f"head {self.name!r}: {self.positives} takes no view")
        for key in ("temperature", "weight"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"head {self.name!r}: {key} must be a number, got {value!r}")
        if not self.temperature > 0:
            raise ValueError(f"head {self.name!r}: temperature must be > 0, got {self.temperature}")
        if self.weight < 0:
            raise ValueError(f"head {self.name!r}: weight must be >= 0, got {self.weight}")
        if self.out_dim < 1 or (self.hidden_dim is not None and self.hidden_dim < 1):
            raise ValueError(f"head {self.name!r}: out_dim and hidden_dim must be >= 1")

    @property
    def label_view(self) -> str:
        """The view in effect without level or labels: ``view``, else its rule's default."""
        if self.view is not None:
            return self.view
        return "leaves" if self.positives == "sd" else "all"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ContrastiveHeadSpec:
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ValueError(f"unknown contrastive-head keys {sorted(unknown)} in {dict(data)!r}")
        return cls(**data)


def head_specs(
    heads: Iterable[ContrastiveHeadSpec | Mapping[str, Any]],
) -> list[ContrastiveHeadSpec]:
    """``heads`` (specs or their dicts) as specs, checked to have unique names."""
    specs = [
        h if isinstance(h, ContrastiveHeadSpec) else ContrastiveHeadSpec.from_dict(h) for h in heads
    ]
    names = [spec.name for spec in specs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"head names must be unique, repeated: {repeated}")
    return specs
