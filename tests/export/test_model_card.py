"""Model cards cite the papers of the losses a model's heads train with."""

from __future__ import annotations

import pytest
from transformers import BertConfig

from mlcl_text import LabelTree, MLCLConfig, MLCLModel
from mlcl_text.export.model_card import render_model_card
from mlcl_text.losses import (
    Citation,
    HierarchicalContrastiveLoss,
    MulSupConLoss,
    MultiLevelContrastiveLoss,
    SimilarityDissimilarityLoss,
    SupConLoss,
)

TREE = LabelTree.from_paths(["CS/ML", "CS/DB", "Bio/Gen"])
ENCODER = BertConfig(
    vocab_size=50, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=16
).to_dict()
PAPERS = {
    "supcon": SupConLoss.citation,
    "sd": SimilarityDissimilarityLoss.citation,
    "mulsupcon": MulSupConLoss.citation,
    "hierarchical": HierarchicalContrastiveLoss.citation,
}


def card_for(*heads: dict) -> str:
    model = MLCLModel(MLCLConfig(encoder=ENCODER, label_tree=TREE.to_dict(), heads=list(heads)))
    return str(render_model_card(model, repo_id="someone/model"))


def citations(card: str) -> list[str]:
    section = card.split("## Citations", 1)[1]
    return [line[2:] for line in section.splitlines() if line.startswith("- ")]


def test_a_card_with_an_sd_head_cites_the_sd_paper():
    card = card_for({"name": "codes", "positives": "sd"})
    assert citations(card) == [
        MultiLevelContrastiveLoss.citation.reference,
        SimilarityDissimilarityLoss.citation.reference,
    ]
    assert "arXiv 2410.13439" in card
    assert "| codes | sd | all labels | 0.1 | 1.0 | Huang et al. 2024 |" in card


def test_a_bce_only_card_cites_no_contrastive_loss_paper():
    card = card_for()
    assert "## Citations" not in card and MultiLevelContrastiveLoss.citation.reference not in card
    assert "trained with binary cross-entropy." in card and "contrastive-learning" not in card
    assert "supervised contrastive learning" not in card
    for paper in PAPERS.values():
        assert paper.reference not in card and paper.short not in card


@pytest.mark.parametrize(
    ("positives", "paper"),
    [
        ("any", "supcon"),
        ("all", "supcon"),
        ("jaccard", "supcon"),
        ("mulsupcon", "mulsupcon"),
        ("himulcon", "hierarchical"),
        ("hicone", "hierarchical"),
        ("himulcone", "hierarchical"),
    ],
)
def test_each_rule_cites_its_loss_once(positives, paper):
    card = card_for({"name": "a", "positives": positives}, {"name": "b", "positives": positives})
    assert citations(card) == [
        MultiLevelContrastiveLoss.citation.reference,
        PAPERS[paper].reference,
    ]


def test_the_card_reads_the_citation_from_the_loss_class(monkeypatch):
    monkeypatch.setattr(
        SimilarityDissimilarityLoss, "citation", Citation("Someone 2030", "Someone, A Loss, 2030")
    )
    card = card_for({"name": "codes", "positives": "sd"})
    assert "Someone, A Loss, 2030" in citations(card)
    assert "| Someone 2030 |" in card and "2410.13439" not in card


def test_the_usage_of_a_classifier_export_applies_the_tuned_threshold():
    from mlcl_text.export.model_card import ModelCardInfo

    model = MLCLModel(MLCLConfig(encoder=ENCODER, label_tree=TREE.to_dict(), pooling="pooler"))
    card = str(render_model_card(model, ModelCardInfo(threshold=0.35), form="classifier"))
    assert 'if s["score"] >= 0.35]  # the tuned threshold' in card
    untuned = str(render_model_card(model, form="classifier"))
    assert 'if s["score"] >= 0.5]' in untuned
    assert "Classifier.from_pretrained" in str(render_model_card(model, form="full"))
