"""The ``keraslab`` command: thin wrappers that parse options and call one library function.

Each subcommand is a small ``_cmd_<name>(args)`` function registered in
:func:`build_parser` by ``_add_<name>(subparsers)``; adding a command means adding
those two functions. A :class:`~keraslab.errors.KeraslabError` becomes exit code 2 and
one line on stderr (the traceback only with ``--debug``); an interrupted run exits
with 130, as shells expect after Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from keraslab.errors import KeraslabError

__all__ = ["main", "build_parser"]

EXAMPLES = """\
examples:
  keraslab demo                                   the chapter's improvement loop on 8x8 digits (~70 s)
  keraslab list                                   the chapter's experiments
  keraslab run b3-32-pooling-cnn                  one experiment with the chapter's settings
  keraslab run b3-32-pooling-cnn --set train.epochs=5 --set data.subset=6000
  keraslab run my-experiment.toml                 your own spec (see docs/experiments.md)
  keraslab runs                                   what the store holds
  keraslab report --out report.html               one self-contained HTML file
  keraslab generate --corpus sherlock.txt --epochs 1 --output samples.txt   train a text generator (docs/textgen.md)
  keraslab migrate notebook.ipynb --diff          Keras 2 code to Keras 3 + keraslab (docs/migrate.md)
"""


def _add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", type=Path, default=None,
                        help="result store (default: ./keraslab-runs/runs.sqlite)")


# --------------------------------------------------------------------------- list
def _add_list(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list the chapter's experiments")
    p.set_defaults(func=_cmd_list)


def _cmd_list(args: argparse.Namespace) -> int:
    from keraslab.experiments.catalog import catalog_entries

    entries = catalog_entries()
    width = max(len(e.name) for e in entries)
    for e in entries:
        figs = f"  (Figs {', '.join(e.figures)})" if e.figures else ""
        print(f"{e.name:<{width}}  {e.kind:<6}  {e.title}{figs}")
    print(f"\n{len(entries)} experiments · run one with: keraslab run NAME [--set train.epochs=5]")
    return 0


# --------------------------------------------------------------------------- run
def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run one experiment (catalogue name or .toml file)",
                       epilog="example: keraslab run b3-34-striding-cnn --set train.epochs=5 --set data.subset=6000",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("experiment", metavar="NAME_OR_FILE", help="a name from `keraslab list` or a spec file")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a spec value, e.g. train.epochs=5 (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--report", type=Path, default=None, metavar="HTML",
                   help="also write an HTML report of this run")
    p.add_argument("--restart", action="store_true",
                   help="discard the fits an earlier run of this experiment left in its journal and start afresh "
                        "(without it, CV and searches resume where they stopped)")
    p.add_argument("--mlflow", default=None, metavar="URI",
                   help="also record the run in MLflow, e.g. sqlite:///mlflow.db (needs keraslab[mlflow])")
    _add_store_option(p)
    p.set_defaults(func=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from keraslab.experiments import load_spec
    from keraslab.experiments.runner import run
    from keraslab.report import write_report
    from keraslab.store import ResultStore

    spec = load_spec(args.experiment, args.overrides)
    with ResultStore(args.store) as store:
        result = run(spec, store=store, progress=not args.quiet, restart=args.restart, mlflow=args.mlflow)
        print(result.describe())
        if args.report is not None:
            print(f"report: {write_report(store, args.report, run_ids=[result.run_id], title=spec.title)}")
    return 130 if result.status == "interrupted" else 0


# --------------------------------------------------------------------------- runs
def _add_runs(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("runs", help="list the runs in the store")
    p.add_argument("--experiment", default=None, help="only runs of this experiment")
    _add_store_option(p)
    p.set_defaults(func=_cmd_runs)


def _cmd_runs(args: argparse.Namespace) -> int:
    import datetime as dt

    from keraslab.search.cost import format_seconds
    from keraslab.store import ResultStore

    with ResultStore(args.store) as store:
        runs = store.runs(experiment=args.experiment)
        if not runs:
            print(f"No runs in {store.path} yet. Try: keraslab demo")
            return 0
        for r in runs:
            when = dt.datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M")
            took = format_seconds(r.seconds) if r.seconds is not None else "-"
            print(f"{r.id:>4}  {when}  {r.status:<11}  {r.kind:<6}  {took:>10}  {r.experiment}  {r.final_line}")
        print(f"\n{len(runs)} run(s) in {store.path}")
    return 0


# --------------------------------------------------------------------------- report
def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report")
    p.add_argument("--out", type=Path, default=None, help="HTML file (default: report.html next to the store)")
    p.add_argument("--run", dest="run_ids", type=int, action="append", default=None, metavar="ID",
                   help="only this run (repeatable); default: the newest run of each experiment")
    p.add_argument("--all", action="store_true", help="every run, not only the newest of each experiment")
    _add_store_option(p)
    p.set_defaults(func=_cmd_report)


def _cmd_report(args: argparse.Namespace) -> int:
    from keraslab.report import write_report

    print(write_report(args.store, args.out, run_ids=args.run_ids, all_runs=args.all))
    return 0


# --------------------------------------------------------------------------- demo
def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the chapter's improvement loop on 8x8 digits, then an HTML report")
    p.add_argument("--out", type=Path, default=None,
                   help="HTML report (default: demo-report.html next to the store)")
    _add_store_option(p)
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value in every demo spec, e.g. train.epochs=2 (repeatable)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace) -> int:
    from keraslab.demo import run_demo

    report = run_demo(args.store, args.out, progress=not args.quiet, overrides=args.overrides)
    print(f"report: {report}")
    return 0


# --------------------------------------------------------------------------- generate
def _add_generate(sub: argparse._SubParsersAction) -> None:
    from keraslab.textgen.cli import add_parser  # options and handler live next to the library code

    add_parser(sub)


# --------------------------------------------------------------------------- migrate
def _add_migrate(sub: argparse._SubParsersAction) -> None:
    from keraslab.migrate.cli import add_parser  # options and handler live next to the library code

    add_parser(sub)


# --------------------------------------------------------------------------- main
COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (
    _add_demo, _add_list, _add_run, _add_runs, _add_report, _add_generate, _add_migrate,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="keraslab",
        description="Run the Keras chapter's experiments on Keras 3, store the results, look at the curves.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``keraslab`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except KeraslabError as exc:
        if args.debug:
            raise
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"keraslab: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("keraslab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `keraslab list | head`: the reader left; not an error of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python's exit-time flush quiet
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
