"""Migrate files: find them, migrate in memory, diff, and write atomically.

Nothing is written for a file that fails to read or parse (its :class:`FileResult` has
an ``error``, one line naming it), and every write goes to a temporary file in the
target's folder that then replaces the target, so no file is ever half-written.
"""

from __future__ import annotations

import difflib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterable

from keraslab.errors import KeraslabValueError
from keraslab.migrate.engine import ParseFailure, migrate_units
from keraslab.migrate.report import FileResult, MigrationReport

__all__ = ["migrate_source", "migrate_file", "migrate_paths", "rules", "MigrationInputError", "SUFFIXES"]

SUFFIXES = (".py", ".ipynb")
_SKIPPED_FOLDERS = frozenset({".git", ".ipynb_checkpoints", "__pycache__", ".venv", "venv", "node_modules"})


class MigrationInputError(KeraslabValueError):
    """A path given to migrate does not exist or is not a .py/.ipynb file or folder."""


def rules() -> dict[str, str]:
    """Every rule's name and one-line summary, in the order they run."""
    from keraslab.migrate.engine import rule_classes
    from keraslab.migrate.rules_imports import IMPORT_RULES

    table: dict[str, str] = {}
    for rule in rule_classes():
        if rule.summary:
            table[rule.name] = rule.summary
    for name, summary in IMPORT_RULES.items():
        table[name] = f"{table[name]}; {summary}" if name in table else summary
    return table


def _diff(units: Iterable[tuple[str, str, str]]) -> str:
    chunks = []
    for label, before, after in units:
        if before != after:
            lines = difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True),
                                         fromfile=label, tofile=f"{label} (migrated)")
            chunks.append("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return "".join(chunks)


def migrate_source(code: str, path: str = "<string>") -> tuple[str, FileResult]:
    """Migrate Python source ``code``; returns the new code and what happened.

    A syntax error is not raised: the result's ``error`` holds one line and the code is returned unchanged.
    """
    result = FileResult(Path(path), original=code, migrated=code)
    try:
        (unit,) = migrate_units([code], path)
    except ParseFailure as exc:
        result.error = f"{path}:{exc.line}: cannot parse: {exc.message}"
        return code, result
    result.migrated, result.changes, result.findings = unit.code, unit.changes, unit.findings
    result.diff = _diff([(path, code, unit.code)])
    return unit.code, result


def migrate_file(path: Path) -> FileResult:
    """Migrate one ``.py`` or ``.ipynb`` file in memory (nothing is written)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return FileResult(path, error=f"{path}: cannot read: {exc}")
    if path.suffix == ".ipynb":
        from keraslab.migrate.notebook import migrate_notebook

        result = FileResult(path, original=text, migrated=text)
        try:
            new_text, units, merged = migrate_notebook(text, str(path))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            result.error = f"{path}: cannot parse notebook: {str(exc).splitlines()[0]}"
            return result
        result.migrated, result.changes, result.findings = new_text, merged.changes, merged.findings
        result.diff = _diff(units)
        return result
    return migrate_source(text, str(path))[1]


def _expand(paths: Iterable[str | os.PathLike]) -> list[tuple[Path, Path]]:
    """(file, path relative to the folder it was found in) for every file to migrate."""
    found = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in sorted(path.rglob("*")):
                relative = file.relative_to(path)
                if file.suffix in SUFFIXES and file.is_file() and not any(
                        part in _SKIPPED_FOLDERS or part.startswith(".") for part in relative.parts[:-1]):
                    found.append((file, relative))
        elif path.is_file():
            if path.suffix not in SUFFIXES:
                raise MigrationInputError(f"{path}: expected a .py or .ipynb file or a folder. Received: {path.suffix or 'no suffix'}")
            found.append((path, Path(path.name)))
        else:
            raise MigrationInputError(f"{path}: no such file or folder")
    return found


def write_atomic(target: Path, text: str, mode_from: Path | None = None) -> None:
    """Write ``text`` to ``target`` through a temporary file in the same folder and ``os.replace``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        if mode_from is not None and mode_from.exists():
            shutil.copymode(mode_from, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def migrate_paths(paths: Iterable[str | os.PathLike], *, in_place: bool = False,
                  output: str | os.PathLike | None = None) -> MigrationReport:
    """Migrate ``.py`` files and notebooks; write them when asked.

    Parameters
    ----------
    paths : iterable of path
        Files and folders (searched recursively for ``.py`` and ``.ipynb`` files).
    in_place : bool
        Replace each changed file with its migration.
    output : path, optional
        Write migrations there instead: a file name when one file is given, else a folder
        (files keep their path relative to the folder they were found in). Unchanged
        files are copied too, so the output is complete.

    Returns
    -------
    MigrationReport
        Per file: changes, findings, and an ``error`` line for files that did not parse
        (never written). Without ``in_place`` or ``output`` nothing is written.

    Raises
    ------
    MigrationInputError
        A path does not exist or is not a .py/.ipynb file; raised before anything is written.
    """
    if in_place and output is not None:
        raise MigrationInputError("choose in_place or output, not both")
    files = _expand(paths)
    report = MigrationReport()
    single_file_output = output is not None and len(files) == 1 and Path(output).suffix in SUFFIXES \
        and not Path(output).is_dir()
    for file, relative in files:
        result = migrate_file(file)
        report.files.append(result)
        if result.error is not None:
            continue
        if in_place and result.changed:
            write_atomic(file, result.migrated, mode_from=file)
            result.written = file
        elif output is not None:
            target = Path(output) if single_file_output else Path(output) / relative
            write_atomic(target, result.migrated, mode_from=file)
            result.written = target
    return report
