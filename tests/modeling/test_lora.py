"""LoRA through PEFT: what trains, adapter save/load, full save/load, merging."""

from __future__ import annotations

import pytest
import torch

from mlcl_text import MLCLModel
from mlcl_text.head_spec import ContrastiveHeadSpec

LORA = {"r": 4, "alpha": 8, "dropout": 0.0, "target_modules": ["query", "value"]}
HEADS = [ContrastiveHeadSpec("labels", positives="sd", out_dim=8)]


@pytest.fixture
def lora_model(tiny_encoder_dir, small_tree) -> MLCLModel:
    torch.manual_seed(0)
    model = MLCLModel.from_encoder(tiny_encoder_dir, small_tree, heads=HEADS, lora=LORA)
    # give the adapters non-zero weights, as after training (lora_B starts at zero)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0, 0.2)
    return model.eval()


def _inputs():
    g = torch.Generator().manual_seed(3)
    ids = torch.randint(5, 99, (3, 9), generator=g)
    return ids, torch.ones_like(ids)


def test_only_adapters_classifier_and_heads_train(lora_model):
    trainable = {name for name, p in lora_model.named_parameters() if p.requires_grad}
    assert trainable, "nothing would train"
    for name in trainable:
        assert "lora_" in name or name.startswith(("classifier.", "heads.")), name
    assert any(name.startswith("heads.labels.") for name in trainable)
    assert any("classifier.weight" in name for name in trainable)
    frozen = [name for name, p in lora_model.named_parameters() if not p.requires_grad]
    assert any("word_embeddings" in name for name in frozen)
    assert lora_model.config.lora == LORA


def test_adapter_save_and_load(tmp_path, lora_model, tiny_encoder_dir):
    lora_model.save_adapter(tmp_path)
    assert (tmp_path / "encoder_adapter" / "adapter_config.json").exists()
    adapter_bytes = sum(f.stat().st_size for f in tmp_path.rglob("*.safetensors"))
    full_bytes = sum(p.numel() * 4 for p in lora_model.parameters())
    assert adapter_bytes < full_bytes / 3
    reloaded = MLCLModel.from_adapter(tmp_path).eval()
    ids, mask = _inputs()
    torch.testing.assert_close(reloaded(ids, mask).logits, lora_model(ids, mask).logits)
    reloaded_again = MLCLModel.from_adapter(tmp_path, encoder_name_or_path=tiny_encoder_dir).eval()
    torch.testing.assert_close(reloaded_again(ids, mask).logits, lora_model(ids, mask).logits)


def test_full_save_and_reload_keeps_the_adapters(tmp_path, lora_model):
    lora_model.save_pretrained(tmp_path)
    reloaded = MLCLModel.from_pretrained(tmp_path).eval()
    assert reloaded.has_lora
    ids, mask = _inputs()
    torch.testing.assert_close(
        reloaded(ids, mask).logits, lora_model(ids, mask).logits, rtol=0, atol=0
    )


def test_merge_gives_the_same_outputs_without_peft(lora_model, tmp_path):
    ids, mask = _inputs()
    before = lora_model(ids, mask).logits
    merged = lora_model.merge_lora()
    assert not merged.has_lora
    assert not any("lora_" in name for name, _ in merged.named_parameters())
    torch.testing.assert_close(merged(ids, mask).logits, before, atol=1e-5, rtol=1e-5)
    merged.save_pretrained(tmp_path)
    torch.testing.assert_close(
        MLCLModel.from_pretrained(tmp_path).eval()(ids, mask).logits, before, atol=1e-5, rtol=1e-5
    )


def test_bad_lora_settings(tiny_encoder_dir, small_tree):
    with pytest.raises(ValueError, match=r"unknown LoRA settings \['rank'\]"):
        MLCLModel.from_encoder(tiny_encoder_dir, small_tree, lora={"rank": 4})
    model = MLCLModel.from_encoder(tiny_encoder_dir, small_tree)
    with pytest.raises(ValueError, match="no LoRA adapters"):
        model.save_adapter("unused")
