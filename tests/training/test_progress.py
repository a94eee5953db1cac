"""Readable training output: one line per log entry, no raw dicts."""

from __future__ import annotations

from mlcl_text.training.progress import format_log_line
from tests.helpers.tiny_trainer import make_args, make_model, separable_dataset, trainer_for


def test_a_training_entry_is_one_line_with_its_components():
    logs = {
        "loss": 0.041234,
        "loss_cls": 0.0312,
        "loss_con/labels": 1.853,
        "grad_norm": 0.4111,
        "learning_rate/encoder": 4.1e-05,
        "learning_rate/classifier": 0.0041,
        "learning_rate": 4.1e-05,
        "epoch": 2.5,
        "contrastive_scale": 0.02,
    }
    assert format_log_line(logs, 20, 80) == (
        "step 20/80 · loss 0.04123 (loss_cls 0.0312, loss_con/labels 1.853) · grad_norm 0.4111"
        " · lr encoder 4.1e-05, classifier 0.0041 · contrastive_scale 0.02"
    )


def test_evaluation_and_final_entries():
    logs = {"eval_loss": 0.03, "eval_micro_f1": 0.54123, "eval_runtime": 1.2, "epoch": 1.0}
    assert format_log_line(logs, 20, 80) == "eval at step 20 · micro_f1 0.5412 · loss 0.03"
    final = {"train_runtime": 191.23, "train_loss": 0.0611, "train_samples_per_second": 3.0}
    assert format_log_line(final, 80, 80) == "finished: 80 steps in 191.2 s, mean loss 0.0611"


def test_a_run_prints_readable_lines(tmp_path, deterministic_encoder_dir, capsys):
    data = separable_dataset(32, seed=1)
    args = make_args(tmp_path, logging_steps=2, eval_strategy="steps", eval_steps=2)
    trainer_for(make_model(deterministic_encoder_dir), args, data, eval_dataset=data).train()
    lines = capsys.readouterr().out.strip().splitlines()
    assert not [line for line in lines if line.startswith("{")]
    assert any(line.startswith("step 2/4 · loss ") and "loss_con/top" in line for line in lines)
    assert any(line.startswith("eval at step 2 · micro_f1 ") for line in lines)
    assert lines[-1].startswith("finished: 4 steps in ")
