"""What a reproduction produces: one :class:`EntryOutcome` per entry, gathered in a :class:`Reproduction`,
and the stored run an entry can be read back from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from keraslab.reproduce.verdict import NOT_RUN, Verdict

__all__ = ["EntryOutcome", "Reproduction", "newest_finished"]


@dataclass
class EntryOutcome:
    """One catalogue entry in a reproduction."""

    name: str
    title: str
    kind: str
    overrides: tuple[str, ...]
    reference: dict[str, Any]
    run_id: int | None = None
    status: str = NOT_RUN  # the run's status, or "not run" / "not run (budget spent)"
    seconds: float | None = None
    reused: bool = False
    summary: dict[str, Any] | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    verdict: Verdict = field(default_factory=lambda: Verdict(NOT_RUN))
    variant: "EntryOutcome | None" = None


@dataclass
class Reproduction:
    """All entries of one :func:`reproduce` call, in the order asked for."""

    entries: list[EntryOutcome]
    store_path: Path
    machine: str
    seconds: float

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.entries:
            out[e.verdict.status] = out.get(e.verdict.status, 0) + 1
        return out


def newest_finished(db: Any, experiment: str, backend: str, matches: Callable[[str], bool]) -> Any:
    """The newest finished run of ``experiment`` on ``backend`` whose spec text ``matches``, else None.

    A reproduction reads such a run back instead of training again.
    """
    for summary in reversed(db.runs(experiment, status="finished")):
        record = db.run(summary.id)
        if record.backend == backend and matches(record.spec):
            return record
    return None
