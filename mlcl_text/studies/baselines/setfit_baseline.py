"""The ``setfit`` baseline: a contrastively fine-tuned Sentence Transformer with one head per label.

SetFit (Tunstall et al., "Efficient Few-Shot Learning Without Prompts", 2022;
https://github.com/huggingface/setfit): the recipe's encoder as a Sentence Transformer
(the recipe's pooling and ``max_length``), fine-tuned contrastively on pairs of training
documents with ``CosineSimilarityLoss``, then a logistic-regression head per label
(``multi_target_strategy="one-vs-rest"``); probabilities from ``predict_proba``. In
multi-label mode SetFit calls a pair positive when the two documents share at least one
label (here: any tree node, ancestors included) and negative otherwise. SetFit's own
default training settings are used unless options override them (``batch_size``,
``num_epochs``, ``num_iterations``, ``max_steps``, ``sampling_strategy``,
``body_learning_rate``, ``head_learning_rate``, ``warmup_proportion``, ``l2_weight``, ...:
any field of ``setfit.TrainingArguments`` that takes a plain value; ``head_params`` for
the ``LogisticRegression`` head). Needs the optional ``setfit`` package
(``pip install 'mlcl-text[baselines]'``). A document longer than ``max_length`` tokens is
truncated (SetFit has no segments). SetFit sees only the labels with both classes in the
training split (:mod:`~mlcl_text.studies.baselines.model`), so an always-positive label does not
make every pair positive.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from mlcl_text.run_folder import json_ready
from mlcl_text.studies.baselines.model import BaselineModel, device_of, seed_everything
from mlcl_text.studies.baselines.options import SETFIT_RECORDED, require_setfit, setfit_arguments


class SetFitBaseline(BaselineModel):
    name = "setfit"

    def __init__(self, recipe, options, seed):
        super().__init__(recipe, options, seed)
        self.setfit = require_setfit()
        self.training_arguments = setfit_arguments(self.options, seed)

    def _fit(self, texts, labels):
        from datasets import Dataset
        from transformers import AutoModel, AutoTokenizer

        from mlcl_text.export.sentence_transformers import write_sentence_transformers_files

        recipe = self.recipe
        with tempfile.TemporaryDirectory(prefix="mlcl-setfit-") as folder:
            body = Path(folder) / "body"
            # the encoder as a Sentence Transformer with the recipe's pooling and max_length
            encoder = AutoModel.from_pretrained(recipe.model_name_or_path)
            encoder.save_pretrained(body)
            AutoTokenizer.from_pretrained(recipe.model_name_or_path).save_pretrained(body)
            write_sentence_transformers_files(
                body, encoder, recipe.pooling, max_seq_length=recipe.max_length
            )
            del encoder
            seed_everything(self.seed)
            self.model = self.setfit.SetFitModel.from_pretrained(
                str(body),
                multi_target_strategy="one-vs-rest",
                head_params=dict(self.options["head_params"]),
                device=device_of(recipe),
            )
            trainer = self.setfit.Trainer(
                model=self.model,
                args=setfit_arguments(self.options, self.seed, Path(folder) / "checkpoints"),
                train_dataset=Dataset.from_dict({"text": texts, "label": labels.tolist()}),
            )
            with warnings.catch_warnings():  # SetFit's own loaders pin memory, even on a CPU
                warnings.filterwarnings("ignore", message=".*'pin_memory' argument is set as true")
                trainer.train()

    def _predict(self, texts):
        return self.model.predict_proba(
            texts, batch_size=int(self.options["predict_batch_size"]), as_numpy=True
        )

    def recorded_options(self):
        settings = {k: getattr(self.training_arguments, k) for k in SETFIT_RECORDED}
        settings["loss"] = getattr(settings["loss"], "__name__", str(settings["loss"]))
        return json_ready(
            {**self.options, **settings}, stringify=True
        )  # the values as SetFit took them
