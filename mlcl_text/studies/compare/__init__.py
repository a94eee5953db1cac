"""Compare finished training runs: mean ± standard deviation over seeds, per method and size.

Each run folder (as written by :func:`mlcl_text.training.run.train_from_recipe`, or by the
baselines of :mod:`mlcl_text.studies.baselines`) holds ``metrics.json`` and ``recipe.yaml``.

* :mod:`~mlcl_text.studies.compare.runs` finds and reads the runs (:func:`find_run_dirs`,
  :func:`collect_runs`) and tells each one's method, shots (training-set size) and seed;
* :mod:`~mlcl_text.studies.compare.table` groups them and gives each metric's statistics
  (:func:`compare_table`): mean, sample standard deviation (``ddof=1``), runs that have it
  and runs that lack it, and a ``train_s`` column when runs record their fit time (``–`` for
  runs without it, which are not counted as missing metrics);
* :mod:`~mlcl_text.studies.compare.output` writes the table (:func:`format_markdown`,
  :func:`write_comparison`: ``comparison.md`` and ``comparison.csv``) and draws each metric
  against shots per method (:func:`plot_metric_vs_shots`);
* :mod:`~mlcl_text.studies.compare.across` summarises one study over several data sets
  (:func:`across_sets`): each method's per-set means, its mean and worst difference to
  reference methods, and its fit time relative to theirs.

Example:
    >>> runs = collect_runs(["outputs/bce", "mlcl=outputs/run-7"])  # doctest: +SKIP
    >>> table = compare_table(runs, metrics=("micro_f1", "hier_f1"))  # doctest: +SKIP
    >>> print(format_markdown(table))  # doctest: +SKIP
"""

from __future__ import annotations

from mlcl_text.studies.compare.across import (
    AcrossSets,
    across_sets,
    format_across_markdown,
    write_across,
)
from mlcl_text.studies.compare.output import format_markdown, plot_metric_vs_shots, write_comparison
from mlcl_text.studies.compare.runs import (
    CompareError,
    RunResult,
    collect_runs,
    find_run_dirs,
    shots_label,
    shots_sort_key,
)
from mlcl_text.studies.compare.table import (
    DEFAULT_METRICS,
    GROUP_FIELDS,
    TRAIN_SECONDS,
    Cell,
    Comparison,
    ComparisonRow,
    compare_table,
)

__all__ = [
    "DEFAULT_METRICS",
    "GROUP_FIELDS",
    "TRAIN_SECONDS",
    "AcrossSets",
    "Cell",
    "CompareError",
    "Comparison",
    "ComparisonRow",
    "RunResult",
    "across_sets",
    "collect_runs",
    "compare_table",
    "find_run_dirs",
    "format_across_markdown",
    "format_markdown",
    "plot_metric_vs_shots",
    "shots_label",
    "shots_sort_key",
    "write_across",
    "write_comparison",
]
