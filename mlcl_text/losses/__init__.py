"""Supervised contrastive losses on one weighted-SupCon kernel (see :mod:`.kernel`)."""

from mlcl_text.losses.base import ContrastiveLoss
from mlcl_text.losses.citations import Citation
from mlcl_text.losses.hierarchical import HierarchicalContrastiveLoss
from mlcl_text.losses.kernel import weighted_supcon_loss
from mlcl_text.losses.memory import EmbeddingMemory
from mlcl_text.losses.mulsupcon import MulSupConLoss
from mlcl_text.losses.multi_level import MultiLevelContrastiveLoss, MultiLevelLossOutput
from mlcl_text.losses.multilabel_supcon import MultiLabelSupConLoss
from mlcl_text.losses.similarity_dissimilarity import SimilarityDissimilarityLoss
from mlcl_text.losses.supcon import SupConLoss
from mlcl_text.losses.views import LabelSubsetView, LabelView, LevelView

__all__ = [
    "Citation",
    "ContrastiveLoss",
    "EmbeddingMemory",
    "HierarchicalContrastiveLoss",
    "LabelSubsetView",
    "LabelView",
    "LevelView",
    "MulSupConLoss",
    "MultiLabelSupConLoss",
    "MultiLevelContrastiveLoss",
    "MultiLevelLossOutput",
    "SimilarityDissimilarityLoss",
    "SupConLoss",
    "weighted_supcon_loss",
]
