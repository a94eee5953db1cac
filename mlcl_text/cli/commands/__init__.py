"""The ``mlcl-text`` commands: one module per command, named after it (``train.py`` is
``mlcl-text train``).

To add a command, add a module here that defines:

* ``ORDER: int``: its place in ``mlcl-text --help``, smallest first (today 10, 20, ..., 110 for
  train, inspect, evaluate, predict, subset, export, push, compare, baselines, sweep and demo;
  the gaps leave room for a new command anywhere; two commands may not share a number);
* ``add_parser(commands) -> argparse.ArgumentParser``: adds its subparser, named after the
  module, to ``commands`` (the ``mlcl-text`` subparsers), with its options and help
  (the option blocks and argparse types several commands share are in
  :mod:`mlcl_text.cli.options`);
* ``run(args: argparse.Namespace) -> int``: runs it and returns the exit status.

Nothing else registers it: :func:`mlcl_text.cli.main.build_parser` finds every module of this
package (``pkgutil.iter_modules``), so each module here must be a command; one without these
three names stops the parser from being built, with one message naming the module and what it
lacks. What several commands load lives in :mod:`mlcl_text.cli.loading`; a helper two commands
share lives in the command that owns it (``train.print_summary`` for ``demo``,
``export.card_info`` for ``push``). Heavy libraries are imported inside ``run``, so that
``mlcl-text --help`` starts quickly.
"""
