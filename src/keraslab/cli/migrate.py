"""``keraslab migrate``: rewrite Keras 2 code and notebooks for Keras 3 with keraslab.

Exit codes: 0 done or nothing to change; 1 with ``--check`` when something would
change; 2 for bad input (a missing path, a file that does not parse: one line naming it).
The work is :func:`keraslab.migrate.migrate_paths`; this module parses the options and
prints its report (diffs on stdout, the rest on stderr).
"""

from __future__ import annotations

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


@click.command("migrate", context_settings=CONTEXT, epilog=EPILOG,
               short_help="rewrite Keras 2 code and notebooks for Keras 3 + keraslab")
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
    from keraslab.migrate import migrate_paths

    if in_place and output is not None:
        raise click.UsageError("--in-place and -o/--output exclude each other: give one")
    writing = not check
    report = migrate_paths(list(paths), in_place=in_place and writing, output=output if writing else None)
    for result in report.files:
        if diff and result.diff:
            click.echo(result.diff, nl=False)
        if not quiet and result.changed:
            fired = ", ".join(f"{rule} x{n}" for rule, n in sorted(result.rules_fired().items()))
            where = f" -> {result.written}" if result.written is not None else ""
            click.echo(f"{result.path}{where}: {fired}", err=True)
    for finding in report.findings:
        click.echo(str(finding), err=True)
    for failed in report.failed:
        click.echo(f"keraslab: error: {failed.error}", err=True)
    if not quiet:
        click.echo(report.summary(), err=True)
    if report.failed:
        return 2
    if check and report.changed:
        return 1
    return 0


COMMANDS = (migrate_command,)
