"""``keraslab report``: one self-contained HTML file of the runs in a store."""

from __future__ import annotations

from pathlib import Path

import click

from keraslab.cli._app import CONTEXT, store_option

__all__ = ["COMMANDS"]


@click.command("report", context_settings=CONTEXT, short_help="write a self-contained HTML report")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML file (default: report.html next to the store)")
@click.option("--run", "run_ids", type=int, multiple=True, metavar="ID",
              help="only this run (repeatable); default: the newest run of each experiment")
@click.option("--all", "all_runs", is_flag=True, help="every run, not only the newest of each experiment")
@store_option
def report_command(out: Path | None, run_ids: tuple[int, ...], all_runs: bool, store: Path | None) -> int:
    """Write a self-contained HTML report."""
    from keraslab.report import write_report

    click.echo(write_report(store, out, run_ids=list(run_ids) or None, all_runs=all_runs))
    return 0


COMMANDS = (report_command,)
