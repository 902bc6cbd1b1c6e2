"""``keraslab list``: the chapter's experiments in the catalogue."""

from __future__ import annotations

import click

from keraslab.cli._app import CONTEXT

__all__ = ["COMMANDS"]


@click.command("list", context_settings=CONTEXT, short_help="list the chapter's experiments")
def list_command() -> int:
    """List the chapter's experiments."""
    from keraslab.experiments.catalog import catalog_entries

    entries = catalog_entries()
    width = max(len(e.name) for e in entries)
    for e in entries:
        figs = f"  (Figs {', '.join(e.figures)})" if e.figures else ""
        click.echo(f"{e.name:<{width}}  {e.kind:<6}  {e.title}{figs}")
    click.echo(f"\n{len(entries)} experiments · run one with: keraslab run NAME [--set train.epochs=5]")
    return 0


COMMANDS = (list_command,)
