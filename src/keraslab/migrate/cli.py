"""``keraslab migrate``: rewrite Keras 2 code and notebooks for Keras 3 with keraslab.

::

    keraslab migrate notebook.ipynb --diff          # show what would change
    keraslab migrate src/ --check                   # CI: exit 1 when something would change
    keraslab migrate old.py -o new.py               # write the migration elsewhere
    keraslab migrate notebooks/ --in-place          # replace the files

Exit codes: 0 done or nothing to change; 1 with ``--check`` when something would
change; 2 for bad input (a missing path, a file that does not parse: one line naming it).
Registered in :mod:`keraslab.cli` by :func:`add_parser`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "run_migrate"]

EPILOG = """\
examples:
  keraslab migrate notebook.ipynb --diff        show what would change
  keraslab migrate src/ --check                 exit 1 when something would change (CI)
  keraslab migrate old.py -o new.py             write the migration elsewhere
  keraslab migrate notebooks/ --in-place        replace the files
rules and limits: docs/migrate.md
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="rewrite Keras 2 code and notebooks to run on Keras 3 with keraslab",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="+", metavar="PATH", help=".py files, .ipynb notebooks, or folders")
    p.add_argument("--check", action="store_true", help="write nothing; exit 1 when something would change")
    p.add_argument("--diff", action="store_true", help="print a unified diff of the code (per cell in notebooks)")
    target = p.add_mutually_exclusive_group()
    target.add_argument("--in-place", action="store_true", help="replace each changed file")
    target.add_argument("-o", "--output", type=Path, default=None, metavar="OUT",
                        help="write migrations there: a file for one input, else a folder")
    p.add_argument("--quiet", action="store_true", help="only findings and errors")
    p.set_defaults(func=run_migrate)


def run_migrate(args: argparse.Namespace) -> int:
    from keraslab.migrate import migrate_paths

    writing = not args.check
    report = migrate_paths(args.paths, in_place=args.in_place and writing,
                           output=args.output if writing else None)
    for result in report.files:
        if args.diff and result.diff:
            sys.stdout.write(result.diff)
        if not args.quiet and result.changed:
            fired = ", ".join(f"{rule} x{n}" for rule, n in sorted(result.rules_fired().items()))
            where = f" -> {result.written}" if result.written is not None else ""
            print(f"{result.path}{where}: {fired}", file=sys.stderr)
    for finding in report.findings:
        print(finding, file=sys.stderr)
    for failed in report.failed:
        print(f"keraslab: error: {failed.error}", file=sys.stderr)
    if not args.quiet:
        print(report.summary(), file=sys.stderr)
    if report.failed:
        return 2
    if args.check and report.changed:
        return 1
    return 0
