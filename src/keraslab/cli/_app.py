"""The ``keraslab`` group: global options, error handling and exit codes shared by every command.

Exit codes: 0 done; 2 bad input (a :class:`~keraslab.errors.KeraslabError`: one line
``keraslab: error: ...`` on stderr, the traceback only with ``--debug``; or a usage
error from click); 130 interrupted (Ctrl-C); a command may return its own code
(``keraslab migrate --check`` returns 1 when something would change).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Sequence

import click

from keraslab.errors import KeraslabError

__all__ = ["cli", "main", "store_option", "quiet_option", "overrides_option"]

EXAMPLES = """\
\b
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
  keraslab reproduce b3-cv b3-grid-1 --budget 3600   the chapter's numbers beside this run's (docs/reproduction.md)
"""

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 120}

store_option = click.option("--store", type=click.Path(dir_okay=False, path_type=Path), default=None,
                            help="result store (default: ./keraslab-runs/runs.sqlite)")
quiet_option = click.option("--quiet", is_flag=True, help="no progress bars")
overrides_option = click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE",
                                help="override a spec value, e.g. train.epochs=5 (repeatable)")


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _KeraslabGroup(click.Group):
    """Turns library errors and Ctrl-C into exit codes, around whichever command runs."""

    def invoke(self, ctx: click.Context):
        try:
            code = super().invoke(ctx)
        except KeraslabError as exc:
            if ctx.params.get("debug"):
                raise
            click.echo(f"keraslab: error: {_one_line(exc)}", err=True)
            code = 2
        except KeyboardInterrupt:
            click.echo("keraslab: interrupted", err=True)
            code = 130
        except BrokenPipeError:  # `keraslab list | head`: the reader left; not an error of ours
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python's exit-time flush quiet
            code = 0
        if isinstance(code, int) and code != 0:
            ctx.exit(code)  # standalone click ignores return values; an exit code must be raised
        return code


@click.group(cls=_KeraslabGroup, invoke_without_command=True, context_settings=CONTEXT, epilog=EXAMPLES)
@click.option("--debug", is_flag=True, help="show tracebacks of errors")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Run the Keras chapter's experiments on Keras 3, store the results, look at the curves."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(2)  # no command is a user error, as it was with argparse


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``keraslab`` command; returns the exit code.

    Like argparse before it, a usage error (an unknown option, a missing argument)
    and ``--help`` end in :class:`SystemExit` after printing; everything else
    returns the exit code.
    """
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="keraslab",
                        standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.Abort:  # Ctrl-C while click itself was parsing or prompting
        click.echo("keraslab: interrupted", err=True)
        return 130
    return code if isinstance(code, int) else 0
