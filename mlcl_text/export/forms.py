"""Export a trained model as a full model, a standard classifier or an encoder; push to the Hub.

Forms:

* ``full``: the :class:`~mlcl_text.modeling.model.MLCLModel` (encoder, classifier, heads, label
  tree), reloadable with ``import mlcl_text`` and ``AutoModel.from_pretrained``.
* ``classifier``: a standard ``AutoModelForSequenceClassification`` checkpoint
  (``problem_type="multi_label_classification"``, ``id2label``/``label2id``) that plain
  transformers loads without mlcl-text, giving the same probabilities. Only models whose
  computation the standard class reproduces exactly are exported: ``pooling="pooler"`` and
  no segments, on an encoder whose ``*ForSequenceClassification`` puts a linear classifier
  on the pooler output (BERT and its descendants: ClinicalBERT, MiniLM, ...). Anything else
  raises rather than writing a checkpoint that computes different probabilities.
* ``encoder``: the fine-tuned encoder (``AutoModel``) with sentence-transformers module
  files, so ``SentenceTransformer(path)`` gives the model's pooled embeddings.
* ``onnx``: one ONNX graph from token ids to probabilities and pooled embeddings (any pooling,
  segments too; :mod:`mlcl_text.export.onnx`) with the model's config and tokenizer:
  ``Classifier.from_pretrained(path)`` runs it on onnxruntime, and any ONNX runtime can.

LoRA adapters are merged into the encoder for every form (on a copy: the given model is
left as it is). Exports never write into a non-empty folder.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from huggingface_hub import HfApi
from transformers import AutoModelForSequenceClassification, PreTrainedTokenizerBase

from mlcl_text.evaluation.thresholds import Thresholds
from mlcl_text.export.errors import NotExportableError
from mlcl_text.export.model_card import ModelCardInfo, render_model_card
from mlcl_text.export.onnx import write_onnx
from mlcl_text.export.sentence_transformers import write_sentence_transformers_files
from mlcl_text.modeling.configuration import MLCLConfig
from mlcl_text.modeling.model import MLCLModel
from mlcl_text.run_folder import PLOTS_DIR, THRESHOLDS_FILE

FORMS = ("full", "classifier", "encoder", "onnx")


def export_model(
    model: MLCLModel,
    directory: str | os.PathLike,
    form: str = "full",
    tokenizer: PreTrainedTokenizerBase | None = None,
    card_info: ModelCardInfo | None = None,
    repo_id: str | None = None,
    thresholds: Thresholds | None = None,
    figures_dir: str | os.PathLike | None = None,
) -> Path:
    """Write ``model`` in ``form`` to ``directory`` (new or empty) with tokenizer, tuned
    decision thresholds (``thresholds.json``) and card. The evaluation plots in
    ``figures_dir`` (a training run's ``plots/``) are copied to ``directory/plots`` and shown
    in the card's evaluation section."""
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    directory = Path(directory)
    if directory.exists() and any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty; export into a new folder")
    if form == "classifier":
        check_classifier_exportable(model)
    if form == "onnx" and tokenizer is None:
        raise ValueError("form='onnx' needs the tokenizer: its inputs are the graph's inputs")
    created = not directory.exists()
    try:
        return _write_form(
            model, directory, form, tokenizer, card_info, repo_id, thresholds, figures_dir
        )
    except BaseException:  # nothing half-written is left: the folder was new or empty
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        else:
            for child in directory.iterdir():
                if child.is_dir():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        raise


def _write_form(
    model: MLCLModel,
    directory: Path,
    form: str,
    tokenizer: PreTrainedTokenizerBase | None,
    card_info: ModelCardInfo | None,
    repo_id: str | None,
    thresholds: Thresholds | None,
    figures_dir: str | os.PathLike | None,
) -> Path:
    merged = copy.deepcopy(model).merge_lora().eval()
    directory.mkdir(parents=True, exist_ok=True)
    if form == "full":
        merged.save_pretrained(directory)
    elif form == "classifier":
        standard_classifier(merged).save_pretrained(directory)
    elif form == "encoder":
        merged.encoder.save_pretrained(directory)
    else:
        merged.config.save_pretrained(directory)  # labels, length, pooling: the Classifier's
        write_onnx(merged, directory, tokenizer)
    if tokenizer is not None:
        trained_length(tokenizer, merged.config).save_pretrained(directory)
    if form == "encoder":
        write_sentence_transformers_files(
            directory,
            merged.encoder,
            merged.config.pooling,
            max_seq_length=merged.config.max_length,
        )
    if thresholds is not None:
        thresholds.save(directory / THRESHOLDS_FILE, labels=merged.config.tree)
        if card_info is None or card_info.threshold is None:
            card_info = dataclasses.replace(
                card_info or ModelCardInfo(), threshold=thresholds.global_threshold
            )
    if figures_dir is not None and Path(figures_dir).is_dir():
        figures = _copy_figures(Path(figures_dir), directory / PLOTS_DIR)
        card_info = dataclasses.replace(
            card_info or ModelCardInfo(),
            figures={**figures, **(card_info.figures if card_info else {})},
        )
    render_model_card(merged, card_info, form=form, repo_id=repo_id).save(directory / "README.md")
    return directory


def _copy_figures(source: Path, target: Path) -> dict[str, str]:
    """Copy the PNGs of ``source`` to ``target``; ``{title: path relative to the export}``."""
    figures = {}
    for png in sorted(source.glob("*.png")):
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, target / png.name)
        figures[png.stem.replace("_", " ")] = f"{target.name}/{png.name}"
    return figures


def check_classifier_exportable(model: MLCLModel) -> None:
    """Raise :class:`NotExportableError` when the standard class cannot reproduce ``model``."""
    config = model.config
    if config.max_segments > 1:
        raise NotExportableError(
            "this model pools several segments per document, which no standard "
            "AutoModelForSequenceClassification does; export form='full' (mlcl-text needed to "
            "load) or form='encoder'"
        )
    if config.pooling != "pooler":
        raise NotExportableError(
            f"pooling={config.pooling!r} has no exact standard-class equivalent (BERT-style "
            "classifiers use the pooler output); train with pooling='pooler' for an exportable "
            "classifier, or export form='full' or form='encoder'"
        )


def standard_classifier(model: MLCLModel) -> torch.nn.Module:
    """The ``AutoModelForSequenceClassification`` equivalent of ``model`` (LoRA merged).

    Verified on a probe batch: the probabilities must match, else :class:`NotExportableError`.
    """
    check_classifier_exportable(model)
    if model.has_lora:
        raise ValueError("merge the LoRA adapters first (model.merge_lora())")
    config = model.config
    encoder_config = copy.deepcopy(config.encoder)
    encoder_config.num_labels = config.num_labels
    encoder_config.id2label = dict(config.id2label)
    encoder_config.label2id = dict(config.label2id)
    encoder_config.problem_type = "multi_label_classification"
    encoder_config.classifier_dropout = config.classifier_dropout
    if config.restricted:  # the data-use restriction travels with every form of the model
        encoder_config.restricted = True
    standard = AutoModelForSequenceClassification.from_config(encoder_config)
    classifier = getattr(standard, "classifier", None)
    if (
        not isinstance(classifier, torch.nn.Linear)
        or classifier.weight.shape != model.classifier.weight.shape
    ):
        raise NotExportableError(
            f"{type(standard).__name__} does not put one linear layer on the pooler output; "
            "export form='full' or form='encoder'"
        )
    missing, unexpected = standard.base_model.load_state_dict(
        model.encoder.state_dict(), strict=False
    )
    if missing or unexpected:
        raise NotExportableError(
            f"the encoder's weights do not fit {type(standard).__name__}: missing {missing[:5]}, "
            f"unexpected {unexpected[:5]}"
        )
    classifier.load_state_dict(model.classifier.state_dict())
    standard.eval()
    _verify_same_probabilities(model, standard)
    return standard


def _verify_same_probabilities(model: MLCLModel, standard: torch.nn.Module) -> None:
    generator = torch.Generator().manual_seed(0)
    vocab = model.config.encoder.vocab_size
    ids = torch.randint(min(5, vocab - 1), vocab, (2, 16), generator=generator)
    mask = torch.ones_like(ids)
    mask[1, 10:] = 0
    with torch.no_grad():
        ours = torch.sigmoid(model.eval()(input_ids=ids, attention_mask=mask).logits)
        theirs = torch.sigmoid(standard(input_ids=ids, attention_mask=mask).logits)
    if not torch.allclose(ours, theirs, atol=1e-5):
        difference = (ours - theirs).abs().max().item()
        raise NotExportableError(
            f"{type(standard).__name__} computes different probabilities (max difference "
            f"{difference:.2e}); export form='full' or form='encoder'"
        )


def push_to_hub(
    model: MLCLModel,
    repo_id: str,
    form: str = "full",
    private: bool | None = None,
    tokenizer: PreTrainedTokenizerBase | None = None,
    card_info: ModelCardInfo | None = None,
    token: str | None = None,
    thresholds: Thresholds | None = None,
    figures_dir: str | os.PathLike | None = None,
    data_use_agreement: str | None = None,
    commit_message: str | None = None,
    api: HfApi | None = None,
) -> Any:
    """Export ``model`` as ``form`` and upload it to the Hub repository ``repo_id``.

    A model trained on restricted data (``config.restricted``, e.g. MIMIC) is pushed publicly
    only when ``data_use_agreement`` names the agreement that allows it; a private push is
    always allowed. Returns the Hub's commit information.
    """
    if model.config.restricted and not private and not (data_use_agreement or "").strip():
        raise PermissionError(
            "this model was trained on restricted data: push it with private=True, or pass "
            "data_use_agreement='<the agreement that allows sharing it>' to push publicly"
        )
    api = api or HfApi(token=token)
    if card_info is None:
        card_info = ModelCardInfo()
    if data_use_agreement:
        card_info = dataclasses.replace(card_info, data_agreement=data_use_agreement)
    with tempfile.TemporaryDirectory() as scratch:
        folder = export_model(
            model,
            Path(scratch) / "export",
            form,
            tokenizer,
            card_info,
            repo_id,
            thresholds,
            figures_dir,
        )
        api.create_repo(repo_id, private=private, exist_ok=True, token=token)
        return api.upload_folder(
            repo_id=repo_id,
            folder_path=str(folder),
            commit_message=commit_message or f"Upload mlcl-text model ({form})",
            token=token,
        )


def trained_length(
    tokenizer: PreTrainedTokenizerBase, config: MLCLConfig
) -> PreTrainedTokenizerBase:
    """A copy of ``tokenizer`` whose ``model_max_length`` is the length the model was trained
    with (``config.max_length``), so that a pipeline or sentence-transformers truncates there;
    ``tokenizer`` itself when the model reads several segments of that length."""
    if config.max_segments > 1:
        return tokenizer
    exported = copy.deepcopy(tokenizer)
    exported.model_max_length = config.max_length
    exported.init_kwargs["model_max_length"] = config.max_length
    return exported
