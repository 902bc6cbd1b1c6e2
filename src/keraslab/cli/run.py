"""``keraslab run`` (one experiment, stored) and ``keraslab runs`` (what the store holds)."""

from __future__ import annotations

from pathlib import Path

import click

from keraslab.cli._app import CONTEXT, overrides_option, quiet_option, store_option

__all__ = ["COMMANDS"]


@click.command("run", context_settings=CONTEXT, short_help="run one experiment (catalogue name or .toml file)",
               epilog="example: keraslab run b3-34-striding-cnn --set train.epochs=5 --set data.subset=6000")
@click.argument("experiment", metavar="NAME_OR_FILE")
@overrides_option
@quiet_option
@click.option("--report", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="HTML",
              help="also write an HTML report of this run")
@click.option("--restart", is_flag=True,
              help="discard the fits an earlier run of this experiment left in its journal and start afresh "
                   "(without it, CV and searches resume where they stopped)")
@click.option("--mlflow", default=None, metavar="URI",
              help="also record the run in MLflow, e.g. sqlite:///mlflow.db (needs keraslab[mlflow])")
@store_option
def run_command(experiment: str, overrides: tuple[str, ...], quiet: bool, report: Path | None, restart: bool,
                mlflow: str | None, store: Path | None) -> int:
    """Run one experiment (a name from `keraslab list` or a .toml spec file)."""
    from keraslab.experiments import load_spec
    from keraslab.experiments.runner import run
    from keraslab.report import write_report
    from keraslab.store import ResultStore

    spec = load_spec(experiment, list(overrides))
    with ResultStore(store) as results:
        result = run(spec, store=results, progress=not quiet, restart=restart, mlflow=mlflow)
        click.echo(result.describe())
        if report is not None:
            click.echo(f"report: {write_report(results, report, run_ids=[result.run_id], title=spec.title)}")
    return 130 if result.status == "interrupted" else 0


@click.command("runs", context_settings=CONTEXT, short_help="list the runs in the store")
@click.option("--experiment", default=None, help="only runs of this experiment")
@store_option
def runs_command(experiment: str | None, store: Path | None) -> int:
    """List the runs in the store."""
    import datetime as dt

    from keraslab._console import format_seconds
    from keraslab.store import ResultStore

    with ResultStore(store) as results:
        runs = results.runs(experiment=experiment)
        if not runs:
            click.echo(f"No runs in {results.path} yet. Try: keraslab demo")
            return 0
        for r in runs:
            when = dt.datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M")
            took = format_seconds(r.seconds) if r.seconds is not None else "-"
            click.echo(f"{r.id:>4}  {when}  {r.status:<11}  {r.kind:<6}  {took:>10}  {r.experiment}  {r.final_line}")
        click.echo(f"\n{len(runs)} run(s) in {results.path}")
    return 0


COMMANDS = (run_command, runs_command)
