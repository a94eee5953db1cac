"""The ``mlcl-text`` command line.

* :mod:`~mlcl_text.cli.main`: :func:`main`, the entry point, and the parser built from the
  command modules;
* :mod:`~mlcl_text.cli.commands`: one module per command (its parser and the function that runs
  it), found without a list;
* :mod:`~mlcl_text.cli.options`: the argparse types and the option blocks several commands share;
* :mod:`~mlcl_text.cli.loading`: what several commands load (a trained model, a data set by name
  or path, a run's thresholds);
* :mod:`~mlcl_text.cli.prediction_io`: reading texts and writing predictions for ``predict``.
"""
