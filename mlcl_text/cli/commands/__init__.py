"""The functions that run the ``mlcl-text`` commands, grouped by what they work on.

* :mod:`~mlcl_text.cli.commands.training`: ``train``, ``inspect``, ``subset`` and ``demo``;
* :mod:`~mlcl_text.cli.commands.scoring`: ``evaluate`` and ``predict`` with a trained model;
* :mod:`~mlcl_text.cli.commands.sharing`: ``export`` and ``push`` (with the model card's facts);
* :mod:`~mlcl_text.cli.commands.studies`: ``compare``, ``baselines`` and ``sweep``;
* :mod:`~mlcl_text.cli.commands.loading`: what several commands load (a trained model, a data
  set by name or path, a run's thresholds).

:mod:`mlcl_text.cli.main` binds them to the parser of :mod:`mlcl_text.cli.parser`. Heavy libraries
are imported inside the functions, so that ``mlcl-text --help`` starts quickly.
"""
