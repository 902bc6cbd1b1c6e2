"""``keraslab migrate``: rewrite Keras 2 code and notebooks for Keras 3 with keraslab.

Exit codes: 0 done or nothing to change; 1 with ``--check`` when something would
change; 2 for bad input. The work (and its report) is
:func:`keraslab.migrate.cli.run_migrate`; this module only parses the options.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import click

from keraslab.cli._app import CONTEXT

__all__ = ["COMMANDS"]

EPILOG = """\
\b
examples:
  keraslab migrate notebook.ipynb --diff        show what would change
  keraslab migrate src/ --check                 exit 1 when something would change (CI)
  keraslab migrate old.py -o new.py             write the migration elsewhere
  keraslab migrate notebooks/ --in-place        replace the files
rules and limits: docs/migrate.md
"""


@click.command("migrate", context_settings=CONTEXT, epilog=EPILOG)
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@click.option("--check", is_flag=True, help="write nothing; exit 1 when something would change")
@click.option("--diff", is_flag=True, help="print a unified diff of the code (per cell in notebooks)")
@click.option("--in-place", is_flag=True, help="replace each changed file")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None, metavar="OUT",
              help="write migrations there: a file for one input, else a folder")
@click.option("--quiet", is_flag=True, help="only findings and errors")
def migrate_command(paths: tuple[str, ...], check: bool, diff: bool, in_place: bool, output: Path | None,
                    quiet: bool) -> int:
    """Rewrite Keras 2 code and notebooks (.py, .ipynb, folders) to run on Keras 3 with keraslab."""
    from keraslab.migrate.cli import run_migrate

    if in_place and output is not None:
        raise click.UsageError("--in-place and -o/--output exclude each other: give one")
    return run_migrate(argparse.Namespace(paths=list(paths), check=check, diff=diff, in_place=in_place,
                                          output=output, quiet=quiet))


COMMANDS = (migrate_command,)
