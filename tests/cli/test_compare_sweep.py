"""mlcl-text compare and sweep: tables, plots, resumable grids and one-line errors."""

from __future__ import annotations

import yaml

from mlcl_text.cli.main import main
from tests.helpers.sweeps import FakeTrainer, sweep_runs, write_recipe, write_spec


def test_compare_command(tmp_path, capsys):
    sweep_runs(tmp_path)
    out = tmp_path / "table"
    assert main(["compare", str(tmp_path / "sweep"), "--output", str(out), "--plot"]) == 0
    printed = capsys.readouterr().out
    assert "| mlcl | 5 | 3 | 0.6000 ± 0.1000 |" in printed
    assert {p.name for p in out.iterdir()} == {
        "comparison.md",
        "comparison.csv",
        "metric_vs_shots.png",
    }
    assert (
        main(["compare", str(tmp_path / "sweep"), "--metric", "micro_f1", "--group-by", "method"])
        == 0
    )
    assert "| method | runs | micro_f1 |" in capsys.readouterr().out
    assert main(["compare", str(tmp_path / "nowhere")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "sweep"), "--plot"]) == 2
    assert "--plot needs --output" in capsys.readouterr().err
    assert main(["compare", str(tmp_path / "sweep"), "--split", "nope"]) == 2
    assert "no run has scores for split 'nope'" in capsys.readouterr().err


def test_sweep_command(tmp_path, capsys, monkeypatch):
    fake = FakeTrainer(crash_on={("bce", "full", 0)})
    monkeypatch.setattr("mlcl_text.training.run.train_from_recipe", fake)
    recipe = write_recipe(tmp_path / "r", "bce")
    spec = write_spec(
        tmp_path, recipes=[str(recipe)], shots=[1, "full"], output_dir=str(tmp_path / "o")
    )
    assert main(["sweep", str(spec), "--keep-going", "--set", "learning_rate=1e-4"]) == 2
    err = capsys.readouterr().err
    assert "1 of 2 cells failed: bce shots=full seed=0" in err, err
    assert main(["sweep", str(spec), "--set", "learning_rate=1e-4"]) == 0
    out = capsys.readouterr().out
    assert "skip" in out and "sweep finished" in out
    assert (
        yaml.safe_load((tmp_path / "o/bce/1/seed0/recipe.yaml").read_text())["learning_rate"]
        == 1e-4
    )
    bad = write_spec(tmp_path, "bad.yaml", recipes=["x"], output_dir="o", seed=[1])
    assert main(["sweep", str(bad)]) == 2
    assert "unknown key(s) 'seed' (did you mean 'seeds'?)" in capsys.readouterr().err
