"""The ``mlcl-text`` command line.

* :mod:`~mlcl_text.cli.main`: :func:`main`, the entry point;
* :mod:`~mlcl_text.cli.parser`: the argument parser of every command;
* :mod:`~mlcl_text.cli.commands`: the function that runs each command;
* :mod:`~mlcl_text.cli.prediction_io`: reading texts and writing predictions for ``predict``.
"""
