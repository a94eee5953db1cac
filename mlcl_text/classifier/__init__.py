"""A trained model as a ready classifier of texts: :class:`Classifier`.

* :mod:`~mlcl_text.classifier.classifier`: :class:`Classifier` (predict, predict_proba, top_k,
  embed) with the thresholds, input length and decoding training chose;
* :mod:`~mlcl_text.classifier.sources`: what a name points at (run folder, checkpoint, export,
  Hub repository) and which of its files are read;
* :mod:`~mlcl_text.classifier.backends`: what runs the model.
"""

from mlcl_text.classifier.classifier import Classifier

__all__ = ["Classifier"]
