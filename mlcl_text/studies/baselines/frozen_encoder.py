"""The ``frozen`` baseline: a linear probe on the recipe's pretrained encoder.

The recipe's encoder (``model_name_or_path``) frozen in eval mode,
documents embedded with the recipe's ``pooling`` (cls / mean / pooler), ``max_length``
and ``max_segments`` exactly as :class:`~mlcl_text.modeling.model.MLCLModel` embeds them
before fine-tuning, then ``StandardScaler`` and one-vs-rest ``LogisticRegression``
(``C=1.0`` by default). It tells how much fine-tuning adds over the pretrained vectors
(Alain & Bengio, "Understanding intermediate layers using linear classifier probes",
2016; Reimers & Gurevych, Sentence-BERT, EMNLP 2019).
"""

from __future__ import annotations

import numpy as np

from mlcl_text.studies.baselines.model import BaselineModel, device_of, one_vs_rest


class FrozenEncoderBaseline(BaselineModel):
    name = "frozen"

    def __init__(self, recipe, options, seed, tree):
        super().__init__(recipe, options, seed)
        self.tree = tree

    def _fit(self, texts, labels):
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        from transformers import AutoTokenizer

        from mlcl_text.modeling.model import MLCLModel

        recipe = self.recipe
        self.tokenizer = AutoTokenizer.from_pretrained(recipe.model_name_or_path)
        # the encoder (AutoModel) inside an MLCLModel: pooling and segments as in training
        self.model = MLCLModel.from_encoder(
            recipe.model_name_or_path,
            self.tree,
            pooling=recipe.pooling,
            max_segments=recipe.max_segments,
            segment_pooling=recipe.segment_pooling,
        )
        self.model.requires_grad_(False).eval().to(device_of(recipe))
        self.classifier = make_pipeline(
            StandardScaler(), one_vs_rest(self.options["C"], self.options["max_iter"], self.seed)
        ).fit(self._embed(texts), labels)

    def _predict(self, texts):
        return self.classifier.predict_proba(self._embed(texts))

    def _embed(self, texts: list[str]) -> np.ndarray:
        from mlcl_text.modeling.inference import embed_texts

        vectors = embed_texts(
            self.model,
            self.tokenizer,
            texts,
            batch_size=int(self.options["batch_size"]),
            max_length=self.recipe.max_length,
        )["embeddings"]
        return vectors.astype(np.float64)
