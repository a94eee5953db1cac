"""🤗 ``evaluate`` metric module wrapping :func:`mlcl_text.evaluation.metrics.evaluate_predictions`.

Load it from the local file, offline (``HF_HUB_OFFLINE=1`` is fine):

    >>> import evaluate
    >>> from mlcl_text.evaluation.metrics import evaluate_module_path
    >>> metric = evaluate.load(evaluate_module_path())  # doctest: +SKIP
    >>> metric.compute(predictions=scores, references=multi_hot, tree=tree)  # doctest: +SKIP

``evaluate.load`` needs the path of this file: given a folder it looks for
``<folder>/<folder-name>.py``. ``tree`` (a ``LabelTree`` or its ``to_dict()``),
``threshold`` and ``consistent`` may be passed to ``evaluate.load`` (defaults of the
instance) or to ``compute`` (for one call); they mean what they mean for
``evaluate_predictions``, whose docstring states every formula.
"""

import datasets
import evaluate
import numpy as np

from mlcl_text.evaluation.metrics import evaluate_predictions
from mlcl_text.hierarchy import LabelTree

_DESCRIPTION = """Multi-label and hierarchical classification scores of mlcl-text: micro/macro/samples
precision, recall and F1 of thresholded scores, micro/macro ROC-AUC, precision@k and recall@k
and, given a label tree, hierarchical precision/recall/F1 (Kiritchenko et al. 2006), per-level
F1, the violation rate and the scores of the hierarchy-consistent decoding."""

_KWARGS_DESCRIPTION = """
Args:
    predictions: scores, one list of L floats per document (probabilities or logits).
    references: true labels, one multi-hot list of L ints per document.
    tree: optional LabelTree (or its to_dict()) of the L labels.
    threshold: a number or L per-label thresholds (default 0.5).
    consistent: add the consistent_* scores (None: whenever a tree is given).
Returns:
    a flat dict of scores (see mlcl_text.evaluation.metrics.evaluate_predictions).
"""

_CITATION = """@inproceedings{kiritchenko2006learning,
  title={Learning and Evaluation in the Presence of Class Hierarchies: Application to Text Categorization},
  author={Kiritchenko, Svetlana and Matwin, Stan and Nock, Richard and Famili, A. Fazel},
  booktitle={Advances in Artificial Intelligence (Canadian AI 2006)},
  series={LNAI}, volume={4013}, pages={395--406}, year={2006}
}"""

_UNSET = object()


class MlclMultilabel(evaluate.Metric):
    def __init__(self, tree=None, threshold=0.5, consistent=None, **kwargs):
        super().__init__(**kwargs)
        self.default_tree = tree
        self.default_threshold = threshold
        self.default_consistent = consistent

    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Sequence(datasets.Value("float64")),
                    "references": datasets.Sequence(datasets.Value("int32")),
                }
            ),
            reference_urls=["https://doi.org/10.1007/11766247_34"],
        )

    def _compute(self, predictions, references, tree=_UNSET, threshold=_UNSET, consistent=_UNSET):
        tree = self.default_tree if tree is _UNSET else tree
        if isinstance(tree, dict):
            tree = LabelTree.from_dict(tree)
        return evaluate_predictions(
            np.asarray(references),
            np.asarray(predictions, dtype=np.float64),
            tree=tree,
            threshold=self.default_threshold if threshold is _UNSET else threshold,
            consistent=self.default_consistent if consistent is _UNSET else consistent,
        )
