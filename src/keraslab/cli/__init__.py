"""The ``keraslab`` command (click): one module per command, each parsing options and calling one library function.

A :class:`~keraslab.errors.KeraslabError` becomes exit code 2 and one line on stderr
(the traceback only with ``--debug``); Ctrl-C exits with 130, as shells expect.
``keraslab`` is :func:`main`; ``python -m keraslab`` and ``python -m keraslab.cli`` run it too.
"""

from __future__ import annotations

from keraslab.cli import catalog, demo, generate, migrate, report, reproduce, run
from keraslab.cli._app import cli, main

__all__ = ["cli", "main"]

for _module in (catalog, demo, generate, migrate, report, reproduce, run):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
