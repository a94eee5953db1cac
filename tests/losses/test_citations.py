"""Every contrastive loss names the paper it implements."""

from __future__ import annotations

import pytest

from mlcl_text import losses
from mlcl_text.head_spec import HEAD_POSITIVES, ContrastiveHeadSpec
from mlcl_text.losses import Citation, ContrastiveLoss, MultiLevelContrastiveLoss
from mlcl_text.losses.multi_level import head_loss_class

LOSS_CLASSES = [
    value
    for value in vars(losses).values()
    if isinstance(value, type)
    and issubclass(value, ContrastiveLoss | MultiLevelContrastiveLoss)
    and value is not ContrastiveLoss
]


def test_the_package_exports_every_loss():
    assert len(LOSS_CLASSES) == 6


@pytest.mark.parametrize("loss_class", LOSS_CLASSES, ids=lambda c: c.__name__)
def test_every_loss_class_has_a_citation(loss_class):
    citation = loss_class.citation
    assert isinstance(citation, Citation)
    assert citation.short and citation.reference
    assert citation.arxiv or citation.bibtex
    if citation.bibtex:
        assert citation.bibtex.startswith("@") and citation.bibtex.endswith("}")


@pytest.mark.parametrize("positives", HEAD_POSITIVES)
def test_every_head_rule_maps_to_a_cited_loss(positives):
    loss_class = head_loss_class(ContrastiveHeadSpec("h", positives))
    assert loss_class in LOSS_CLASSES and loss_class.citation is not None


def test_the_papers_the_readme_names():
    assert losses.SupConLoss.citation.arxiv == "2004.11362"
    assert losses.SimilarityDissimilarityLoss.citation.arxiv == "2410.13439"
    assert losses.HierarchicalContrastiveLoss.citation.arxiv == "2204.13207"
    assert MultiLevelContrastiveLoss.citation.arxiv == "2502.02202"
    assert "AAAI 2024" in losses.MulSupConLoss.citation.reference
    # the ANY / ALL / Jaccard baselines are SupCon with multi-label positives
    assert losses.MultiLabelSupConLoss.citation is losses.SupConLoss.citation
