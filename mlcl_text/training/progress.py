"""Readable training output: one line per logging step and labelled progress bars.

The Trainer's own callbacks print each log entry as a raw Python dict. Here a training
entry becomes one line such as

    step 20/80 · epoch 2.5 · loss 0.0412 (loss_cls 0.0312, loss_con/labels 1.85) · grad_norm 0.41 · lr encoder 4.1e-05, classifier 0.0041

an evaluation entry ``eval at step 20 · micro_f1 0.5412 · macro_f1 0.2011 · loss 0.0301``, and
the end of a stage ``finished: 80 steps in 191.2 s, mean loss 0.0611``. With ``disable_tqdm``
the lines are printed; otherwise they are written above a progress bar labelled with the
stage (``training``, ``training (contrastive)``, ``evaluating``).
"""

from __future__ import annotations

from typing import Any

from transformers.trainer_callback import PrinterCallback, ProgressCallback, TrainerCallback
from transformers.utils.logging import tqdm

_HIDDEN = {"total_flos", "epoch", "step", "stage"}


def format_log_line(logs: dict[str, Any], step: int, max_steps: int) -> str:
    """One line for a Trainer log entry (see the module docstring)."""
    logs = {k: v for k, v in logs.items() if k not in _HIDDEN}
    if "train_runtime" in logs:
        mean = logs.get("train_loss")
        return f"finished: {step} steps in {float(logs['train_runtime']):.1f} s" + (
            "" if mean is None else f", mean loss {_number(mean)}"
        )
    if any(key.startswith("eval_") for key in logs):
        shown = {k[5:]: v for k, v in logs.items() if k.startswith("eval_")}
        first = [k for k in ("micro_f1", "macro_f1", "loss") if k in shown]
        rest = [k for k in shown if k not in first and not k.endswith(("_per_second", "runtime"))]
        return f"eval at step {step} · " + " · ".join(
            f"{k} {_number(shown[k])}" for k in first + rest
        )
    parts = [f"step {step}/{max_steps}" if max_steps else f"step {step}"]
    if "loss" in logs:
        components = [k for k in logs if k.startswith(("loss_cls", "loss_con/"))]
        detail = ", ".join(f"{k} {_number(logs[k])}" for k in components)
        parts.append(f"loss {_number(logs['loss'])}" + (f" ({detail})" if detail else ""))
    if "grad_norm" in logs:
        parts.append(f"grad_norm {_number(logs['grad_norm'])}")
    rates = {k.split("/", 1)[1]: v for k, v in logs.items() if k.startswith("learning_rate/")}
    if rates:
        parts.append("lr " + ", ".join(f"{k} {_number(v)}" for k, v in rates.items()))
    elif "learning_rate" in logs:
        parts.append(f"lr {_number(logs['learning_rate'])}")
    shown = {"loss", "grad_norm", "learning_rate"}
    extra = [
        k
        for k in logs
        if k not in shown and not k.startswith(("loss_cls", "loss_con/", "learning_rate/"))
    ]
    parts += [f"{k} {_number(logs[k])}" for k in extra]
    return " · ".join(parts)


def _number(value: Any) -> str:
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return str(value)


class ReadableProgress(ProgressCallback):
    """``ProgressCallback`` with labelled bars and :func:`format_log_line` lines."""

    def __init__(self, stage: str = "joint"):
        super().__init__()
        self.label = "training" if stage == "joint" else f"training ({stage})"

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.training_bar = tqdm(total=state.max_steps, dynamic_ncols=True, desc=self.label)
        self.current_step = 0

    def on_prediction_step(self, args, state, control, eval_dataloader=None, **kwargs):
        if self.prediction_bar is None and state.is_world_process_zero and eval_dataloader:
            self.prediction_bar = tqdm(
                total=len(eval_dataloader),
                leave=self.training_bar is None,
                dynamic_ncols=True,
                desc="evaluating",
            )
        super().on_prediction_step(args, state, control, eval_dataloader, **kwargs)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero and self.training_bar is not None:
            self.training_bar.write(format_log_line(logs or {}, state.global_step, state.max_steps))


class ReadablePrinter(TrainerCallback):
    """What ``PrinterCallback`` prints with ``disable_tqdm``, as :func:`format_log_line` lines."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if state.is_world_process_zero:
            print(format_log_line(logs or {}, state.global_step, state.max_steps), flush=True)


def use_readable_output(trainer, stage: str) -> None:
    """Swap the trainer's progress and printer callbacks for the readable ones."""
    handler = trainer.callback_handler
    if handler.pop_callback(ProgressCallback) is not None:
        handler.add_callback(ReadableProgress(stage))
    if handler.pop_callback(PrinterCallback) is not None:
        handler.add_callback(ReadablePrinter())
