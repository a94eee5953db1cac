"""The three prediction paths of ``bench/predict.py``, and their peak memory in a fresh process.

``load_predictor`` loads one path at one batch size; ``bench/predict.py`` times it in process.
Run as a script, this file is the worker that measures one path's memory alone::

    python bench/predict_memory.py onnx FOLDER TEXTS.json --batch-size 32 --max-length 128

It imports what the path needs, notes the resident set size (RSS), loads the model, predicts
every text of ``TEXTS.json`` (a JSON list of strings) once and prints one JSON line: RSS
after the imports and the process's peak RSS, in MiB.

The peak is the kernel's high-water mark of this process's memory (``VmHWM`` in
``/proc/self/status``), not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux keeps ``ru_maxrss``
across fork and exec (getrusage(2)), so a worker started by a benchmark process that already
holds several models would report at least that process's peak. ``ru_maxrss`` is the fallback
where there is no ``/proc`` (it is the same number in a process started from a small parent).

Only the standard library is imported at module level, so the numbers after imports are the
path's own imports.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

#: the paths, in the order of the report's rows
PATHS = ("pipeline", "mlcl-text", "onnx")
LABELS = {
    "pipeline": "pipeline",
    "mlcl-text": "mlcl-text (PyTorch)",
    "onnx": "mlcl-text (ONNX)",
}


@dataclass
class Predictor:
    """One path at one batch size: ``run`` is what is timed, ``probabilities`` its output as
    an ``[N, labels]`` array with ``labels`` naming the columns (for the check)."""

    run: Callable[[list[str]], object]
    probabilities: Callable[[list[str]], object]
    labels: list[str]


def import_modules(path: str) -> None:
    """What ``path`` imports before it loads a model (so RSS after imports can be noted)."""
    import transformers

    transformers.logging.set_verbosity_error()
    if path == "pipeline":
        from transformers import pipeline  # noqa: F401
    else:
        import mlcl_text  # noqa: F401

        # a bench model has no tuned thresholds.json; Classifier says so at every load
        logging.getLogger("mlcl_text.classifier").setLevel(logging.ERROR)
    if path == "onnx":
        import onnxruntime  # noqa: F401


def load_predictor(
    path: str,
    folder: str | os.PathLike,
    batch_size: int,
    max_length: int,
    device: str,
    threads: int | None,
) -> Predictor:
    """``path`` loaded from ``folder``: the classifier export for ``pipeline``, the saved
    model for ``mlcl-text``, the onnx export for ``onnx``."""
    import_modules(path)
    if path == "pipeline":
        from transformers import pipeline

        pipe = pipeline("text-classification", model=str(folder), top_k=None, device=device)
        id2label = pipe.model.config.id2label
        labels = [id2label[i] for i in range(len(id2label))]

        def run(texts: list[str]) -> list:
            return pipe(texts, batch_size=batch_size, truncation=True, max_length=max_length)

        return Predictor(run, lambda texts: pipeline_matrix(run(texts), labels), labels)

    from mlcl_text import Classifier

    classifier = Classifier.from_pretrained(
        folder, device=device, batch_size=batch_size, max_length=max_length
    )
    if path == "onnx" and threads:
        # Classifier opens the session with onnxruntime's default intra-op threads (one per
        # physical core): reopen it with ``threads``, the first one dropped before (so that
        # the memory worker's peak does not hold two copies of the weights)
        from mlcl_text.export.onnx import ONNX_FILE, load_session

        classifier.backend.session = None
        classifier.backend.session = load_session(Path(folder) / ONNX_FILE, threads=threads)
    return Predictor(classifier.predict_proba, classifier.predict_proba, classifier.labels)


def pipeline_matrix(outputs: list[list[dict]], labels: Sequence[str]):
    """The pipeline's per-text lists of ``{"label", "score"}`` as an ``[N, labels]`` array."""
    import numpy as np

    column = {name: j for j, name in enumerate(labels)}
    matrix = np.zeros((len(outputs), len(labels)), dtype=np.float32)
    for row, scores in enumerate(outputs):
        for entry in scores:
            matrix[row, column[entry["label"]]] = entry["score"]
    return matrix


# ---------------------------------------------------------------------------- memory
def _status_mib(key: str) -> float | None:
    """A ``/proc/self/status`` field (``VmRSS``, ``VmHWM``) in MiB; ``None`` without /proc."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def _maxrss_mib() -> float:
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024  # bytes / KiB


def current_rss_mib() -> float:
    rss = _status_mib("VmRSS")
    return _maxrss_mib() if rss is None else rss


def peak_rss_mib() -> float:
    peak = _status_mib("VmHWM")
    return _maxrss_mib() if peak is None else peak


def measure_peak_memory(
    path: str,
    folder: Path,
    texts_file: Path,
    batch_size: int,
    max_length: int,
    device: str,
    threads: int | None,
) -> dict[str, float]:
    """Run this file as a worker for ``path`` and return its JSON line
    (``after_imports_mib``, ``peak_mib``, ``texts``)."""
    command = [sys.executable, str(Path(__file__).resolve()), path, str(folder), str(texts_file)]
    command += ["--batch-size", str(batch_size), "--max-length", str(max_length)]
    command += ["--device", device]
    env = dict(os.environ)
    if threads:
        command += ["--threads", str(threads)]
        env["OMP_NUM_THREADS"] = str(threads)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory worker for {path} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="peak memory of one prediction path")
    parser.add_argument("path", choices=PATHS)
    parser.add_argument("folder")
    parser.add_argument("texts_file", metavar="TEXTS.json")
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--max-length", type=int, required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int)
    args = parser.parse_args(argv)
    texts = json.loads(Path(args.texts_file).read_text(encoding="utf-8"))

    import_modules(args.path)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    after_imports = current_rss_mib()
    predictor = load_predictor(
        args.path, args.folder, args.batch_size, args.max_length, args.device, args.threads
    )
    predictor.run(texts)
    if args.device.startswith("cuda"):
        torch.cuda.synchronize()
    result = {"after_imports_mib": after_imports, "peak_mib": peak_rss_mib(), "texts": len(texts)}
    print(json.dumps(result))


if __name__ == "__main__":
    worker()
