"""What a migration did and what it could not do: changes, findings, per-file results."""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

__all__ = ["Change", "Finding", "FileResult", "MigrationReport"]


@dataclasses.dataclass(frozen=True)
class Change:
    """One rewrite: which rule, where (1-based line of the migrated code; ``cell`` for notebooks)."""

    rule: str
    line: int
    detail: str
    cell: int | None = None


@dataclasses.dataclass(frozen=True)
class Finding:
    """Something that cannot be rewritten safely: what, why, and what to do.

    ``str(finding)`` is ``file:line: what, why, what to do`` (``file[cell N]:line`` in notebooks).
    """

    path: str
    line: int
    rule: str
    what: str
    why: str
    fix: str
    cell: int | None = None

    @property
    def location(self) -> str:
        where = self.path if self.cell is None else f"{self.path}[cell {self.cell}]"
        return f"{where}:{self.line}"

    def __str__(self) -> str:
        return f"{self.location}: {self.what}, {self.why}; {self.fix} [{self.rule}]"


@dataclasses.dataclass
class FileResult:
    """The migration of one file.

    Attributes
    ----------
    path : pathlib.Path
        The input file.
    original, migrated : str
        File text before and after (for notebooks, the JSON text).
    changes : list of Change
    findings : list of Finding
    error : str or None
        One line when the file could not be read or parsed; nothing is written then.
    written : pathlib.Path or None
        Where the migrated text was written, if it was.
    diff : str
        Unified diff of the code (per cell for notebooks, not of the JSON).
    """

    path: Path
    original: str = ""
    migrated: str = ""
    changes: list[Change] = dataclasses.field(default_factory=list)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    error: str | None = None
    written: Path | None = None
    diff: str = ""

    @property
    def changed(self) -> bool:
        return self.error is None and self.migrated != self.original

    def rules_fired(self) -> Counter:
        """How often each rule rewrote something in this file."""
        return Counter(change.rule for change in self.changes)


@dataclasses.dataclass
class MigrationReport:
    """The results of :func:`keraslab.migrate.migrate_paths`, one :class:`FileResult` per file."""

    files: list[FileResult] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> list[FileResult]:
        return [f for f in self.files if f.changed]

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.error is not None]

    @property
    def findings(self) -> list[Finding]:
        return [finding for f in self.files for finding in f.findings]

    def rules_fired(self) -> Counter:
        total: Counter = Counter()
        for f in self.files:
            total.update(f.rules_fired())
        return total

    def summary(self) -> str:
        """One line: files changed, unchanged, failed; findings; rules that fired."""
        fired = ", ".join(f"{rule} x{n}" for rule, n in sorted(self.rules_fired().items()))
        unchanged = len(self.files) - len(self.changed) - len(self.failed)
        return (
            f"{len(self.changed)} file(s) to migrate, {unchanged} unchanged, {len(self.failed)} not parsed; "
            f"{len(self.findings)} finding(s) to review" + (f"; rules: {fired}" if fired else "")
        )
