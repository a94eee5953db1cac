"""Training: from a recipe to a run folder.

* :mod:`~mlcl_text.training.recipe`: a recipe file parsed and validated (:func:`load_recipe`);
* :mod:`~mlcl_text.training.arguments`: :class:`MLCLTrainingArguments`, every training setting;
* :mod:`~mlcl_text.training.budget`: the budget in optimizer steps planned from the data size;
* :mod:`~mlcl_text.training.sampling`: label-aware batch samplers;
* :mod:`~mlcl_text.training.coverage`: how many positives each contrastive head sees per batch;
* :mod:`~mlcl_text.training.trainer`: :class:`MLCLTrainer`, the classification and contrastive
  losses, per-component learning rates and logging;
* :mod:`~mlcl_text.training.protocols`: joint, two-stage and pretrain-then-finetune schedules;
* :mod:`~mlcl_text.training.probe`: the logistic fit of the classifier on frozen embeddings;
* :mod:`~mlcl_text.training.progress`: the readable console log of a run;
* :mod:`~mlcl_text.training.run`: :func:`train_from_recipe`, data to model to scored run folder.
"""
