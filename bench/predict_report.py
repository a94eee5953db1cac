"""Machine facts and the markdown table of ``bench/predict.py``."""

from __future__ import annotations

import os
import platform
import statistics
from importlib.metadata import PackageNotFoundError, version

import torch
from predict_memory import LABELS

#: the issue's targets: (path, batch size, minimum ratio of its texts/s to the pipeline's)
TARGETS = (("onnx", 32, 2.0), ("mlcl-text", 32, 1.0))


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


# ---------------------------------------------------------------------------- report
def render_markdown(table: list[list[str]]) -> str:
    align = [":---"] + ["---:"] * (len(table[0]) - 1)
    lines = ["| " + " | ".join(table[0]) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
    return "\n".join(lines)


def ratios(seconds: dict, name: str, batch: int) -> tuple[float, list[float]]:
    """``name``'s texts/s over the pipeline's at ``batch``: of the medians, and per repeat
    (the passes of a repeat ran back to back, so their ratio cancels most load drift)."""
    ours, theirs = seconds[name, batch], seconds["pipeline", batch]
    return statistics.median(theirs) / statistics.median(ours), [
        p / m for m, p in zip(ours, theirs, strict=True)
    ]


def results_table(
    names: list[str],
    batches: list[int],
    seconds: dict,
    sizes: dict[int, int],
    padded: dict,
    real: dict[int, int],
    memory: dict,
) -> list[list[str]]:
    table = [
        [
            "path",
            "batch",
            "texts",
            "texts/s (median)",
            "range",
            "padded tokens",
            "padding ×",
            "peak RSS MiB",
            "RSS after imports MiB",
        ]
    ]
    for batch in batches:
        for name in names:
            rate = [sizes[batch] / s for s in seconds[name, batch]]
            used = memory.get((name, batch))
            table.append(
                [
                    LABELS[name],
                    str(batch),
                    str(sizes[batch]),
                    f"{statistics.median(rate):.1f}",
                    f"{min(rate):.1f}–{max(rate):.1f}",
                    f"{padded[name, batch]:,}",
                    f"{padded[name, batch] / real[batch]:.2f}",
                    f"{used['peak_mib']:.0f}" if used else "–",
                    f"{used['after_imports_mib']:.0f}" if used else "–",
                ]
            )
        for name in (n for n in names if n != "pipeline"):
            median, paired = ratios(seconds, name, batch)
            saved = padded["pipeline", batch] / padded[name, batch]
            table.append(
                [
                    f"ratio {LABELS[name]} / pipeline",
                    str(batch),
                    "",
                    f"{median:.2f}×",
                    f"per repeat {min(paired):.2f}–{max(paired):.2f}× "
                    f"(median {statistics.median(paired):.2f}×)",
                    "",
                    f"{saved:.2f}× fewer" if saved != 1 else "same",
                    "",
                    "",
                ]
            )
    return table


def verdicts(names: list[str], batches: list[int], seconds: dict) -> list[str]:
    lines = []
    for name, batch, minimum in TARGETS:
        goal = f"target: {LABELS[name]} ≥ {minimum:.2f}× the pipeline's texts/s at batch {batch}"
        if name not in names or batch not in batches:
            lines.append(f"{goal}: not measured in this run")
            continue
        median, paired = ratios(seconds, name, batch)
        lines.append(
            f"{goal}: {'met' if median >= minimum else 'NOT met'} ({median:.2f}×; per repeat "
            f"{min(paired):.2f}–{max(paired):.2f}×)"
        )
    return lines


def threads_line(names: list[str], threads: int | None) -> str:
    line = f"{torch.get_num_threads()} torch threads"
    if "onnx" in names:
        line += f", onnxruntime intra-op threads {threads or 'default (one per physical core)'}"
    return line


def versions_line(transformers_version: str) -> str:
    return (
        f"python {platform.python_version()}, torch {torch.__version__}, transformers "
        f"{transformers_version}, tokenizers {package_version('tokenizers')}, onnxruntime "
        f"{package_version('onnxruntime')}, onnx {package_version('onnx')}, "
        f"mlcl-text {package_version('mlcl-text')}"
    )


def texts_line(sizes: dict[int, int], lengths: list[int], args) -> str:
    """How many texts each batch size predicted, and their tokens."""
    counts = ", ".join(f"{size} at batch {b}" for b, size in sizes.items())
    if 1 in sizes and sizes[1] < args.texts:
        counts += f" (batch 1: only the first {sizes[1]}, --texts-batch-1)"
    tokens = sum(lengths)
    truncated = sum(n == args.max_length for n in lengths) / len(lengths)
    return (
        f"texts: {counts}; debtags test texts, max_length {args.max_length}, {args.repeats} "
        f"repeat{'s' if args.repeats > 1 else ''} (interleaved, order rotated each repeat) after a warm-up; the {len(lengths)} "
        f"texts have {tokens:,} tokens after truncation (mean {tokens / len(lengths):.1f}, "
        f"{truncated:.0%} truncated)"
    )
