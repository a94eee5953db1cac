"""Exporting a trained model for use without this package, and its model card.

* :mod:`~mlcl_text.export.forms`: the export forms (``full``, ``classifier``, ``encoder``, the
  last loadable by sentence-transformers too) and the Hub push;
* :mod:`~mlcl_text.export.model_card`: the model card, rendered from ``model_cards/``;
* :mod:`~mlcl_text.export.sentence_transformers`: the files sentence-transformers loads.
"""
