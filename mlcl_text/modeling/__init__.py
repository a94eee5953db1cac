"""The model: what a trained classifier is and how it turns texts into probabilities.

* :mod:`~mlcl_text.modeling.configuration`: :class:`MLCLConfig`, the settings saved with a model
  (encoder, pooling, label tree, heads, segments, the tokenisation it was trained with);
* :mod:`~mlcl_text.modeling.model`: :class:`MLCLModel`, encoder, pooling, classifier and
  projection heads;
* :mod:`~mlcl_text.modeling.inference`: probabilities and pooled embeddings of texts in batches.

``MLCLConfig``, ``MLCLModel`` and ``MLCLOutput`` are imported from :mod:`mlcl_text`.
"""
