"""``keraslab demo``: the chapter's improvement loop on 8x8 digits, then an HTML report."""

from __future__ import annotations

from pathlib import Path

import click

from keraslab.cli._app import CONTEXT, quiet_option, store_option

__all__ = ["COMMANDS"]


@click.command("demo", context_settings=CONTEXT, short_help="the chapter's improvement loop on 8x8 digits, then an HTML report")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="HTML report (default: demo-report.html next to the store)")
@store_option
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
              help="override a value in every demo spec, e.g. train.epochs=2 (repeatable)")
@quiet_option
def demo_command(out: Path | None, store: Path | None, overrides: tuple[str, ...], quiet: bool) -> int:
    """The chapter's improvement loop on 8x8 digits, then an HTML report."""
    from keraslab import demo

    show = None if quiet else (lambda result: click.echo(result.describe()))
    report = demo.run_demo(store, out, progress=not quiet, overrides=list(overrides), on_result=show)
    click.echo(f"report: {report}")
    return 0


COMMANDS = (demo_command,)
