"""Scoring predictions: metrics, thresholds, the scores of a split, its figures and report.

* :mod:`~mlcl_text.evaluation.metrics`: flat, ranking and hierarchical multi-label metrics
  (and the 🤗 ``evaluate`` module in ``evaluate_module/``);
* :mod:`~mlcl_text.evaluation.thresholds`: decision thresholds tuned on validation data and
  their ``thresholds.json``;
* :mod:`~mlcl_text.evaluation.scoring`: the scores of one split (:func:`score_split`);
* :mod:`~mlcl_text.evaluation.figures`: a split's figures (per level, by frequency, curves,
  embeddings), drawn by :mod:`~mlcl_text.evaluation.plots`;
* :mod:`~mlcl_text.evaluation.report`: ``report.md``;
* :mod:`~mlcl_text.evaluation.evaluate`: :func:`evaluate_run`, what ``mlcl-text evaluate`` runs.
"""
