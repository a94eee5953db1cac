"""Every shipped recipe with contrastive heads gives each head positives on most anchors.

Each recipe's batch composition (batch size, sampler, views, memory) is replayed by
:func:`mlcl_text.training.coverage.measure_coverage` on labels of its data set's shape: the embedded
debtags set where the recipe reads debtags (or the user's files, for ``recipes/fewshot/``),
synthetic label sets elsewhere (``tests/helpers/recipe_shapes.py``). No head may be
identically zero, and every head, and every level of a hierarchical head, must find a
positive for at least ``MIN_SHARE`` of the anchors that have a label in its view.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from mlcl_text.data import load
from mlcl_text.training.coverage import BatchSetup, measure_coverage
from mlcl_text.training.recipe import load_recipe
from tests.helpers import recipe_shapes

RECIPES = Path(__file__).resolve().parents[2] / "recipes"
CPU = ["bf16=false", "fp16=false"]  # precision does not change the batches
MIN_SHARE = 0.5
STEPS = 10


@cache
def debtags() -> tuple:
    data, tree = load("debtags")
    return tree, tree.encode(data["train"]["labels"])


SHAPES = {
    "demo": debtags,
    "fewshot": debtags,
    "mimic3-50": cache(recipe_shapes.mimic_top50),
    "mimic4-icd10-50": cache(recipe_shapes.mimic_top50),
    "mimic3-full": cache(recipe_shapes.mimic_full),
    "wos": cache(recipe_shapes.wos_like),
    "rcv1": cache(recipe_shapes.rcv1_like),
}


def recipes_with_heads() -> list[Path]:
    found = []
    for path in sorted(RECIPES.glob("*/*.yaml")):
        if path.parent.name == "accelerate_configs":
            continue
        if load_recipe(path, CPU).heads:
            found.append(path)
    return found


def test_every_recipe_folder_has_a_shape():
    assert {p.parent.name for p in recipes_with_heads()} <= set(SHAPES)


@pytest.mark.parametrize("path", recipes_with_heads(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_head_has_positives(path):
    recipe = load_recipe(path, CPU)
    tree, labels = SHAPES[path.parent.name]()
    if recipe.subset and recipe.subset.get("method") == "k_per_label":
        from datasets import Dataset

        from mlcl_text.data.subsets import make_subset

        names = [[tree.names[i] for i in np.flatnonzero(row)] for row in labels]
        split = Dataset.from_dict({"id": [str(i) for i in range(len(names))], "labels": names})
        rows = make_subset(dict(recipe.subset), split, tree)
        labels = labels[np.asarray(rows.indices)]
    setup = BatchSetup.from_arguments(recipe.training_arguments())
    coverage = measure_coverage(recipe.head_specs(), tree, labels, setup, steps=STEPS)
    assert coverage
    failing = [h.summary() for h in coverage if h.status == "zero" or h.with_positive < MIN_SHARE]
    assert not failing, "\n".join(failing)


@pytest.mark.parametrize("path", recipes_with_heads(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_inspect_runs_on_every_shipped_recipe(path, capsys):
    """Real data where it is here (the embedded debtags set), one clear line where it is not."""
    from mlcl_text.cli.main import main

    code = main(["inspect", str(path), "--steps", "3"])
    captured = capsys.readouterr()
    shipped = load_recipe(path, CPU)
    if shipped.dataset == "debtags":
        assert code == 0 and "| head |" in captured.out, captured.err
    else:  # the data folder is named
        error = captured.err.strip()
        assert code == 2 and len(error.splitlines()) == 1, error
        assert error.startswith("mlcl-text: error: ") and shipped.dataset_path in error, error
