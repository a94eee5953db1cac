"""Where a model named by a user lives: a run folder, a ``checkpoint-*`` folder inside one, an
exported folder, or a Hugging Face Hub repository; and which files of it a
:class:`~mlcl_text.classifier.Classifier` reads."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from mlcl_text.export.onnx import ONNX_FILE
from mlcl_text.modeling.configuration import MLCLConfig
from mlcl_text.modeling.hub import looks_like_repo_id
from mlcl_text.run_folder import CONFIG_FILE, THRESHOLDS_FILE, RunFolder, RunFolderError

#: files any of which means a folder holds a tokenizer
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt")


class ModelNotFoundError(RunFolderError):
    """A name that is neither a model folder nor a Hub repository that can be fetched."""


@dataclass(frozen=True)
class ModelSource:
    """The files of one model.

    Attributes:
        folder: the folder holding ``config.json`` and the weights.
        tokenizer_folder: the folder holding the tokenizer (the run folder for a checkpoint).
        thresholds_file: the tuned ``thresholds.json``, or ``None`` when there is none.
        onnx_file: the graph of an ``onnx`` export, ``None`` for PyTorch weights.
    """

    folder: Path
    tokenizer_folder: Path
    thresholds_file: Path | None
    onnx_file: Path | None = None


def resolve_source(
    name_or_path: str | os.PathLike, revision: str | None = None, token: str | None = None
) -> ModelSource:
    """The :class:`ModelSource` of a local folder, or of a Hub repository id (downloaded into
    the Hugging Face cache; ``revision`` and ``token`` as ``huggingface_hub`` takes them)."""
    path = Path(name_or_path)
    if path.exists():
        return local_source(path)
    if looks_like_repo_id(str(name_or_path)):
        return local_source(_download(str(name_or_path), revision, token))
    raise ModelNotFoundError(f"{name_or_path}: no such folder, and not a Hub repository id")


def local_source(folder: Path) -> ModelSource:
    """The :class:`ModelSource` of a local model folder. A ``checkpoint-*`` folder has no
    tokenizer (the run folder above it gives it) and no tuned thresholds of its own."""
    if not folder.is_dir():
        raise ModelNotFoundError(f"{folder} is a file, not a model folder")
    run = RunFolder(folder)
    if not run.has_model:
        raise ModelNotFoundError(f"{folder} is not a model folder (no {CONFIG_FILE})")
    model_type = run.model_type()
    if model_type != MLCLConfig.model_type:
        raise RunFolderError(
            f"{folder} holds a {model_type!r} model, not an mlcl-text model: load a training "
            "run, one of its checkpoint-* folders or a 'full' export"
        )
    tokenizer_folder = folder
    if not _has_tokenizer(folder):
        parent = folder.parent
        if not _has_tokenizer(parent):
            raise ModelNotFoundError(
                f"{folder} has no tokenizer, nor has {parent}: load the training run's folder "
                "or an export (mlcl-text export), which hold one"
            )
        tokenizer_folder = parent
    thresholds = folder / THRESHOLDS_FILE
    onnx = folder / ONNX_FILE
    return ModelSource(
        folder=folder,
        tokenizer_folder=tokenizer_folder,
        thresholds_file=thresholds if thresholds.is_file() else None,
        onnx_file=onnx if onnx.is_file() else None,
    )


def _has_tokenizer(folder: Path) -> bool:
    return any((folder / name).is_file() for name in TOKENIZER_FILES)


def _download(repo_id: str, revision: str | None, token: str | None) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, revision=revision, token=token))
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelNotFoundError(
            f"{repo_id}: cannot fetch it from the Hugging Face Hub ({reason}); offline, pass "
            "the path of a local folder instead"
        ) from None
