"""Cross-process losses equal the single-process loss of the concatenated batch.

Two gloo processes (spawned once for the whole module) each hold a slice of one batch, with
unequal sizes (5 and 7 rows). For every case each rank computes the loss of its anchors
against the gathered batch and back-propagates; the parent then checks, against the same
loss on the concatenated batch in the parent process (no process group):

(a) the mean over ranks of the returned losses equals the single-process loss (for the
    memory cases, after a first batch that every rank stores whole, as one process does);
(b) ``z_r.grad / world_size`` on rank ``r`` equals the single-process gradient's rows of
    rank ``r`` (DDP averages gradients over ranks, and the gather's backward sums each
    shard's gradient over all ranks).
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
from torch import nn

from mlcl_text.head_spec import ContrastiveHeadSpec
from mlcl_text.hierarchy import LabelTree
from mlcl_text.losses import (
    HierarchicalContrastiveLoss,
    MulSupConLoss,
    MultiLabelSupConLoss,
    MultiLevelContrastiveLoss,
    SimilarityDissimilarityLoss,
    SupConLoss,
)
from mlcl_text.losses.kernel import similarity_logits, weighted_terms
from mlcl_text.losses.positives import get_rule
from mlcl_text.losses.views import LevelView
from tests.helpers.spawn import free_port, spawn_workers

pytestmark = pytest.mark.distributed

WORLD_SIZE = 2
ROWS = (5, 7)  # rows per rank, deliberately unequal
TOTAL = sum(ROWS)
DIM = 8
SEED = 0
# embeddings of the hierarchical cases: chosen so that the global HiConE max differs from
# the one rank 0 alone would take (see test_hierarchical_inputs_make_local_and_global_maxima_differ)
HIERARCHY_SEED = 30
ATOL = 1e-5
SPAWN_TIMEOUT_S = 120.0

# 3 levels: roots, then two children each, then leaves (12 labels)
TREE_PATHS = ["A/a1/x", "A/a1/y", "A/a2/z", "B/b1/u", "B/b1/v", "B/b2/w"]
# per-row label sets on the tree: multi-path rows, and rows without a depth-3 label
TREE_ROWS = [
    # rank 0
    ["A/a1/x"],
    ["A/a1/y"],
    ["B/b1/u"],
    ["A/a2"],
    ["A/a1/x", "B/b2/w"],
    # rank 1
    ["A/a1/x"],
    ["A/a2/z"],
    ["B/b1/u"],
    ["B/b1/v"],
    ["B/b2/w"],
    ["A/a1/y"],
    ["A/a1/x", "B/b2/w"],
]


def _tree() -> LabelTree:
    return LabelTree.from_paths(TREE_PATHS)


def _multi_level() -> MultiLevelContrastiveLoss:
    heads = [
        ContrastiveHeadSpec("domain", "all", level=1, temperature=0.2),
        ContrastiveHeadSpec("labels", "sd", temperature=0.07, weight=0.5),
    ]
    return MultiLevelContrastiveLoss(heads, tree=_tree())


# case name -> loss factory; the inputs of each case come from _make_inputs
LOSSES: dict[str, Callable[[], nn.Module]] = {
    "supcon_ids": lambda: SupConLoss(temperature=0.1),
    "supcon_ids_rank0_without_positives": lambda: SupConLoss(temperature=0.1),
    "multilabel_any": lambda: MultiLabelSupConLoss("any", temperature=0.1),
    "multilabel_any_bool": lambda: MultiLabelSupConLoss("any", temperature=0.1),
    "multilabel_jaccard": lambda: MultiLabelSupConLoss("jaccard", temperature=0.1),
    "similarity_dissimilarity": lambda: SimilarityDissimilarityLoss(temperature=0.07),
    "mulsupcon": lambda: MulSupConLoss(temperature=0.1),
    "mulsupcon_bool_rank0_without_positives": lambda: MulSupConLoss(temperature=0.1),
    "himulcon": lambda: HierarchicalContrastiveLoss(_tree(), mode="himulcon"),
    "hicone": lambda: HierarchicalContrastiveLoss(_tree(), mode="hicone"),
    "himulcone": lambda: HierarchicalContrastiveLoss(_tree(), mode="himulcone"),
    "himulcone_node_ids": lambda: HierarchicalContrastiveLoss(_tree(), mode="himulcone"),
    "multi_level": _multi_level,
    # a memory filled by a first (warm-up) batch: every rank stores the gathered batch
    "sd_with_memory": lambda: SimilarityDissimilarityLoss(0.07, memory_size=16).train(),
    "himulcone_with_memory": lambda: HierarchicalContrastiveLoss(
        _tree(), mode="himulcone", memory_size=16
    ).train(),
}
WARMUP_CASES = ("sd_with_memory", "himulcone_with_memory")
HIERARCHICAL_CASES = ("himulcon", "hicone", "himulcone")


def _make_inputs() -> dict[str, dict]:
    """Deterministic ``{"embeddings": tensor or {head: tensor}, "labels": tensor}`` per case."""
    gen = torch.Generator().manual_seed(SEED)

    def embeddings(dim: int = DIM) -> torch.Tensor:
        return torch.randn(TOTAL, dim, generator=gen, dtype=torch.float64)

    def multi_hot(width: int = 6) -> torch.Tensor:
        labels = (torch.rand(TOTAL, width, generator=gen) < 0.35).float()
        labels[labels.sum(dim=1) == 0, 0] = 1.0  # no empty label set
        return labels

    tree = _tree()
    tree_labels = torch.as_tensor(tree.encode(TREE_ROWS))
    class_ids = torch.randint(0, 4, (TOTAL,), generator=gen)
    # rank 0: classes that occur nowhere else; rank 1: every class at least twice
    lonely_ids = torch.tensor([10, 11, 12, 13, 14, 0, 0, 1, 1, 2, 2, 1])
    # rank 0: each row alone with its own label (columns 6..10); rank 1: labels 0..5
    lonely_multi_hot = torch.zeros(TOTAL, 11, dtype=torch.bool)
    lonely_multi_hot[torch.arange(ROWS[0]), torch.arange(6, 11)] = True
    for row, columns in enumerate([[0, 1], [1], [2], [2, 3], [0], [3, 4], [4, 5]], ROWS[0]):
        lonely_multi_hot[row, columns] = True
    leaf_ids = torch.tensor([tree.index(row[0]) for row in TREE_ROWS])
    hierarchy_z = torch.randn(
        TOTAL, DIM, generator=torch.Generator().manual_seed(HIERARCHY_SEED), dtype=torch.float64
    )

    inputs = {
        "supcon_ids": (embeddings(), class_ids),
        "supcon_ids_rank0_without_positives": (embeddings(), lonely_ids),
        "multilabel_any": (embeddings(), multi_hot()),
        "multilabel_any_bool": (embeddings(), multi_hot().bool()),
        "multilabel_jaccard": (embeddings(), multi_hot()),
        "similarity_dissimilarity": (embeddings(), multi_hot()),
        "mulsupcon": (embeddings(), multi_hot()),
        "mulsupcon_bool_rank0_without_positives": (embeddings(), lonely_multi_hot),
        "himulcon": (hierarchy_z, tree_labels),
        "hicone": (hierarchy_z, tree_labels),
        "himulcone": (hierarchy_z, tree_labels),
        "himulcone_node_ids": (embeddings(), leaf_ids),
        "multi_level": ({"domain": embeddings(), "labels": embeddings(6)}, tree_labels),
        "sd_with_memory": (embeddings(), multi_hot()),
        "himulcone_with_memory": (hierarchy_z.flip(0), tree_labels.flip(0)),
    }
    assert set(inputs) == set(LOSSES)
    cases = {name: {"embeddings": z, "labels": y} for name, (z, y) in inputs.items()}
    cases["sd_with_memory"]["warmup"] = (embeddings(), multi_hot())
    cases["himulcone_with_memory"]["warmup"] = (hierarchy_z, tree_labels)
    return cases


def _rank_rows(rank: int) -> slice:
    start = sum(ROWS[:rank])
    return slice(start, start + ROWS[rank])


def _run_case(name: str, embeddings, labels: torch.Tensor, warmup=None) -> dict:
    """Loss value(s) and leaf gradients of one case on the given rows (after one call on the
    ``warmup`` rows, which fills a memory)."""
    loss_fn = LOSSES[name]()
    if warmup is not None:
        loss_fn(*warmup)
    if isinstance(embeddings, dict):
        leaves = {head: z.clone().requires_grad_(True) for head, z in embeddings.items()}
        out = loss_fn(leaves, labels)
        out.loss.backward()
        return {
            "loss": out.loss.detach().double(),
            "components": {head: value.double() for head, value in out.components.items()},
            "grads": {head: z.grad.detach().clone() for head, z in leaves.items()},
        }
    leaf = embeddings.clone().requires_grad_(True)
    loss = loss_fn(leaf, labels)
    loss.backward()
    return {"loss": loss.detach().double(), "grads": {"z": leaf.grad.detach().clone()}}


def _worker(rank: int, port: int, workdir: str) -> None:
    torch.set_num_threads(1)
    # bind gloo to the loopback device, whatever the machine's hostname resolves to
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=WORLD_SIZE,
        timeout=datetime.timedelta(seconds=60),
    )
    try:
        inputs = torch.load(Path(workdir) / "inputs.pt")
        rows = _rank_rows(rank)
        results = {}
        for name, case in inputs.items():
            z = case["embeddings"]
            local = {h: t[rows] for h, t in z.items()} if isinstance(z, dict) else z[rows]
            warmup = case.get("warmup")
            warmup = None if warmup is None else (warmup[0][rows], warmup[1][rows])
            results[name] = _run_case(name, local, case["labels"][rows], warmup)
        torch.save(results, Path(workdir) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _spawn(workdir: Path) -> None:
    spawn_workers(_worker, (free_port(), str(workdir)), WORLD_SIZE, SPAWN_TIMEOUT_S, "gloo workers")


@pytest.fixture(scope="module")
def distributed_results(tmp_path_factory) -> tuple[dict, list[dict]]:
    assert not dist.is_initialized(), "the reference must run without a process group"
    workdir = tmp_path_factory.mktemp("distributed")
    inputs = _make_inputs()
    torch.save(inputs, workdir / "inputs.pt")
    _spawn(workdir)
    per_rank = [torch.load(workdir / f"rank{rank}.pt") for rank in range(WORLD_SIZE)]
    return inputs, per_rank


@pytest.mark.parametrize("case", list(LOSSES))
def test_matches_single_process(case: str, distributed_results) -> None:
    inputs, per_rank = distributed_results
    reference = _run_case(case, **inputs[case])
    assert reference["loss"] > 0, f"{case}: the reference loss should be positive"

    mean_loss = torch.stack([r[case]["loss"] for r in per_rank]).mean()
    torch.testing.assert_close(
        mean_loss,
        reference["loss"],
        atol=ATOL,
        rtol=0,
        msg=lambda m: f"{case}: mean over ranks of the loss != single-process loss\n{m}",
    )
    for head, value in reference.get("components", {}).items():
        mean_value = torch.stack([r[case]["components"][head] for r in per_rank]).mean()
        torch.testing.assert_close(
            mean_value,
            value,
            atol=ATOL,
            rtol=0,
            msg=lambda m, head=head: (
                f"{case}: head {head!r} mean over ranks != single process\n{m}"
            ),
        )
    for head, grad in reference["grads"].items():
        for rank, result in enumerate(per_rank):
            torch.testing.assert_close(
                result[case]["grads"][head] / WORLD_SIZE,
                grad[_rank_rows(rank)],
                atol=ATOL,
                rtol=0,
                msg=lambda m, head=head, rank=rank: (
                    f"{case}: rank {rank} grad of {head!r} / world_size != single-process rows\n{m}"
                ),
            )


@pytest.mark.parametrize(
    "case", ["supcon_ids_rank0_without_positives", "mulsupcon_bool_rank0_without_positives"]
)
def test_rank_without_positives_still_gets_gradient(case: str, distributed_results) -> None:
    """Rank 0's own loss is 0, but rank 1's anchors send gradient to rank 0's rows."""
    _, per_rank = distributed_results
    assert per_rank[0][case]["loss"].item() == 0.0, f"{case}: rank 0 has no positive"
    assert per_rank[1][case]["loss"].item() > 0.0, f"{case}: rank 1 has positives"
    assert per_rank[0][case]["grads"]["z"].abs().sum() > 0, f"{case}: rank 0 got no gradient"


def test_rank_without_positives_cases_are_what_they_claim() -> None:
    inputs = _make_inputs()
    ids = inputs["supcon_ids_rank0_without_positives"]["labels"]
    rank0, rank1 = ids[_rank_rows(0)], ids[_rank_rows(1)]
    assert not any((ids == i).sum() > 1 for i in rank0.tolist())
    assert all((ids == i).sum() > 1 for i in rank1.tolist())

    labels = inputs["mulsupcon_bool_rank0_without_positives"]["labels"]
    assert labels.dtype == torch.bool
    shared = labels.float() @ labels.float().T
    shared.fill_diagonal_(0)
    assert shared[_rank_rows(0)].sum() == 0
    assert (shared[_rank_rows(1)].sum(dim=1) > 0).all()


def _level_choices(values: list[float]) -> list[int]:
    """The running-max choice of HiConE on per-level values (finest first)."""
    chosen = list(range(len(values)))
    for level in range(1, len(chosen)):
        if values[chosen[level - 1]] > values[level]:
            chosen[level] = chosen[level - 1]
    return chosen


def test_hierarchical_inputs_make_local_and_global_maxima_differ() -> None:
    """The HiConE cases are only informative if a per-rank max would pick other levels."""
    inputs, tree = _make_inputs(), _tree()
    values = {case: _run_case(case, **inputs[case])["loss"] for case in HIERARCHICAL_CASES}
    assert not torch.isclose(values["himulcon"], values["himulcone"]), "the max changes nothing"
    for case in HIERARCHICAL_CASES:
        z = nn.functional.normalize(inputs[case]["embeddings"].float(), dim=1)
        labels = inputs[case]["labels"]
        views = [LevelView(tree, depth) for depth in range(tree.num_levels, 0, -1)]
        rule = get_rule("all")

        def level_values(rows: slice, z=z, labels=labels, views=views, rule=rule) -> list[float]:
            index = torch.arange(TOTAL)[rows]
            sims = similarity_logits(z[rows], z, 0.1, index)
            return [
                weighted_terms(sims, rule(view(labels)[rows], view(labels))).mean().item()
                for view in views
            ]

        global_choice = _level_choices(level_values(slice(None)))
        local_choices = [_level_choices(level_values(_rank_rows(r))) for r in range(WORLD_SIZE)]
        assert global_choice != list(range(tree.num_levels)), f"{case}: the max never applies"
        assert any(c != global_choice for c in local_choices), (
            f"{case}: every rank's own max agrees with the global one ({global_choice})"
        )
