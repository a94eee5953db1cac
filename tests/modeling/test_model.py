"""MLCLConfig and MLCLModel: construction, pooling, segments, heads, save/reload."""

from __future__ import annotations

import pytest
import torch
from transformers import AutoConfig, AutoModel, BertModel

from mlcl_text import MLCLConfig, MLCLModel
from mlcl_text.head_spec import ContrastiveHeadSpec

HEADS = [
    ContrastiveHeadSpec("domain", positives="all", level=1, out_dim=8),
    ContrastiveHeadSpec("labels", positives="sd", temperature=0.07, out_dim=16, hidden_dim=24),
]


def _inputs(batch=3, length=10, segments=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    shape = (batch, length) if segments is None else (batch, segments, length)
    ids = torch.randint(5, 99, shape, generator=g)
    mask = torch.ones_like(ids)
    mask[..., -3:] = 0  # some padding
    return ids, mask


@pytest.fixture
def model(tiny_encoder_dir, small_tree):
    torch.manual_seed(0)
    return MLCLModel.from_encoder(tiny_encoder_dir, small_tree, heads=HEADS).eval()


def test_config_derives_labels_from_tree(small_tree, model):
    config = model.config
    assert config.model_type == "mlcl"
    assert config.num_labels == len(small_tree) == 6
    assert config.id2label[5] == "Bio/Genetics/CRISPR"
    assert config.label2id["CS/ML"] == 1
    assert config.problem_type == "multi_label_classification"
    assert config.tree == small_tree
    assert [h.name for h in config.head_specs] == ["domain", "labels"]
    assert "embeddings" in config.keys_to_ignore_at_inference
    assert "projections" in config.keys_to_ignore_at_inference


def test_from_encoder_loads_the_pretrained_weights(tiny_encoder_dir, model):
    encoder = BertModel.from_pretrained(tiny_encoder_dir)
    for name, tensor in encoder.state_dict().items():
        if not name.startswith("pooler."):
            torch.testing.assert_close(model.encoder.state_dict()[name], tensor, msg=name)
    assert model.config.encoder_name_or_path == tiny_encoder_dir


def test_forward_outputs(model):
    ids, mask = _inputs()
    labels = torch.zeros(3, 6)
    labels[0, [0, 1]] = 1
    out = model(input_ids=ids, attention_mask=mask, labels=labels)
    assert out.logits.shape == (3, 6)
    assert out.embeddings.shape == (3, 32)
    assert out.projections["domain"].shape == (3, 8)
    assert out.projections["labels"].shape == (3, 16)
    for z in out.projections.values():
        torch.testing.assert_close(z.norm(dim=1), torch.ones(3))
    expected = torch.nn.functional.binary_cross_entropy_with_logits(out.logits, labels)
    torch.testing.assert_close(out.loss, expected)
    assert model(ids, mask).loss is None
    assert MLCLModel.accepts_loss_kwargs is False


@pytest.mark.parametrize("pooling", ["cls", "mean", "pooler"])
def test_pooling(tiny_encoder_dir, small_tree, pooling):
    model = MLCLModel.from_encoder(tiny_encoder_dir, small_tree, pooling=pooling).eval()
    ids, mask = _inputs()
    hidden = model.encoder(input_ids=ids, attention_mask=mask)
    expected = {
        "cls": hidden.last_hidden_state[:, 0],
        "mean": (hidden.last_hidden_state * mask[..., None]).sum(1) / mask.sum(1, keepdim=True),
        "pooler": hidden.pooler_output,
    }[pooling]
    torch.testing.assert_close(model.embed(ids, mask), expected)


@pytest.mark.parametrize("how", ["max", "mean"])
def test_segments_are_encoded_and_pooled_per_document(tiny_encoder_dir, small_tree, how):
    model = MLCLModel.from_encoder(
        tiny_encoder_dir, small_tree, pooling="mean", max_segments=3, segment_pooling=how
    ).eval()
    ids, mask = _inputs(batch=2, segments=3)
    mask[1, 2] = 0  # the second document has only two segments
    pooled = model.embed(ids, mask)
    for doc in range(2):
        vectors = torch.stack(
            [
                model.embed(ids[doc, k : k + 1], mask[doc, k : k + 1])[0]
                for k in range(3)
                if mask[doc, k].any()
            ]
        )
        expected = vectors.max(0).values if how == "max" else vectors.mean(0)
        torch.testing.assert_close(pooled[doc], expected, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="got 4 segments per document, the config allows 3"):
        model.embed(*_inputs(batch=1, segments=4))


def test_save_and_reload_gives_identical_logits(tmp_path, model):
    model.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").exists()
    assert not list(tmp_path.glob("*.bin"))
    ids, mask = _inputs()
    for reloaded in (MLCLModel.from_pretrained(tmp_path), AutoModel.from_pretrained(tmp_path)):
        reloaded.eval()
        assert isinstance(reloaded, MLCLModel)
        assert reloaded.config.tree == model.config.tree
        assert reloaded.config.heads == model.config.heads
        out, ref = reloaded(ids, mask), model(ids, mask)
        torch.testing.assert_close(out.logits, ref.logits, rtol=0, atol=0)
        for name in ref.projections:
            torch.testing.assert_close(out.projections[name], ref.projections[name], rtol=0, atol=0)
    assert isinstance(AutoConfig.from_pretrained(tmp_path), MLCLConfig)


def test_predict_with_consistent_decoding(model, small_tree):
    ids, mask = _inputs()
    with torch.no_grad():
        model.classifier.bias.copy_(torch.tensor([-9.0, 9.0, -9.0, 9.0, 9.0, 9.0]))
        model.classifier.weight.zero_()
    raw = model.predict(ids, mask)
    assert small_tree.decode(raw)[0] == ["CS/ML", "Bio", "Bio/Genetics", "Bio/Genetics/CRISPR"]
    decoded = model.predict(ids, mask, consistent=True)
    assert small_tree.decode(decoded)[0] == ["Bio", "Bio/Genetics", "Bio/Genetics/CRISPR"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pooling": "max"}, "pooling must be one of"),
        ({"segment_pooling": "sum"}, "segment_pooling must be one of"),
        ({"max_segments": 0}, "max_segments must be >= 1"),
        ({"heads": [{"name": "a"}, {"name": "a"}]}, "repeated: \\['a'\\]"),
        (
            {"heads": [{"name": "a", "colour": "red"}]},
            "unknown contrastive-head keys \\['colour'\\]",
        ),
    ],
)
def test_config_rejects_bad_settings(small_tree, kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLCLConfig(label_tree=small_tree.to_dict(), **kwargs)


def test_prior_bias_initialisation(model):
    frequencies = torch.tensor([0.5, 0.1, 0.0, 1.0, 0.25, 0.01])
    model.init_classifier_bias(frequencies)
    probabilities = torch.sigmoid(model.classifier.bias)
    torch.testing.assert_close(
        probabilities, frequencies.clamp(1e-4, 1 - 1e-4), rtol=1e-4, atol=1e-6
    )
    with pytest.raises(ValueError, match="3 label frequencies for 6 labels"):
        model.init_classifier_bias(torch.ones(3) / 2)
