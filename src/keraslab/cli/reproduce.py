"""``keraslab reproduce``: catalogue entries at the chapter's settings, judged, on one page."""

from __future__ import annotations

from pathlib import Path

import click

from keraslab.cli._app import CONTEXT, quiet_option, store_option

__all__ = ["COMMANDS"]


def _per_entry(items: tuple[str, ...]) -> dict[str, list[str]]:
    from keraslab.errors import KeraslabValueError

    out: dict[str, list[str]] = {}
    for item in items:
        name, sep, setting = item.partition(":")
        if not sep or "=" not in setting:
            raise KeraslabValueError("--set is written NAME:KEY=VALUE, e.g. b3-32-pooling-cnn:train.epochs=30. "
                                     f"Received: {item!r}")
        out.setdefault(name, []).append(setting)
    return out


@click.command("reproduce", context_settings=CONTEXT,
               short_help="catalogue entries at the chapter's settings, judged against its numbers")
@click.argument("names", nargs=-1)
@click.option("--budget", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="start no entry after this many seconds; run again to continue")
@click.option("--report", "report", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("docs/reproduction.md"), show_default=True, help="the Markdown page")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="the HTML page with the figures (default: reproduction.html next to the store)")
@click.option("--set", "overrides", multiple=True, metavar="NAME:KEY=VALUE",
              help="a setting that differs from the chapter's for one entry (repeatable; shown on the page)")
@click.option("--restart", is_flag=True, help="rerun entries the store already holds")
@click.option("--no-variants", is_flag=True, help="skip the variants that show an explained difference")
@store_option
@quiet_option
def reproduce_command(names: tuple[str, ...], budget: float | None, report: Path, html_path: Path | None,
                      overrides: tuple[str, ...], restart: bool, no_variants: bool, store: Path | None,
                      quiet: bool) -> int:
    """Run catalogue entries at the chapter's settings and compare each with its numbers."""
    from keraslab.reproduce import reproduce, write_html, write_markdown
    from keraslab.reproduce.page import headline

    def show(entry) -> None:
        chapter, mine = headline(entry)
        took = "read back" if entry.reused else f"{entry.seconds or 0:.0f} s"
        click.echo(f"{entry.name} · {entry.verdict.status} · chapter: {chapter} · this run: {mine} · {took}")

    rep = reproduce(list(names) or None, overrides=_per_entry(overrides), budget=budget, store=store,
                    restart=restart, variants=not no_variants, progress=not quiet, on_entry=show)
    for entry in rep.entries:
        if entry.run_id is None:
            show(entry)
    click.echo(f"page: {write_markdown(rep, report)}")
    html_target = html_path if html_path is not None else rep.store_path.parent / "reproduction.html"
    click.echo(f"html: {write_html(rep, html_target)}")
    counts = ", ".join(f"{n} {k}" for k, n in sorted(rep.counts().items()))
    click.echo(f"verdicts: {counts}")
    return 0


COMMANDS = (reproduce_command,)
