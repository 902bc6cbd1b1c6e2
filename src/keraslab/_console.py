"""Ground floor: what a person watching a run sees, and Ctrl-C as a request to stop.

Time formatting, the chapter's "Fitting N folds ..." line, one progress bar (tqdm:
fits done/total, elapsed, ETA and best score so far; search progress and training
progress draw the same bar) and the clean-stop handling of Ctrl-C. Imports nothing
of keraslab, so every layer may use it.

Ctrl-C: while a run is active (:func:`stop_on_ctrl_c`), the first Ctrl-C sets a
flag: the training in progress stops after its current batch, no further fit
starts, and the run closes as ``interrupted`` with everything finished kept. A second
Ctrl-C raises ``KeyboardInterrupt`` as usual. Outside the main thread no handler
is installed.

Examples
--------
>>> format_seconds(185)
'3 min 05 s'
>>> with stop_on_ctrl_c():
...     requested()
False
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import sys
import threading
import time
from typing import Iterator, TextIO

__all__ = ["ProgressBar", "fits_line", "format_seconds", "request_stop", "requested", "say", "stop_on_ctrl_c"]

logger = logging.getLogger("keraslab")


def fits_line(n_splits: int, n_candidates: int) -> str:
    """The chapter's (and scikit-learn's verbose) line.

    Examples
    --------
    >>> fits_line(3, 18)
    'Fitting 3 folds for each of 18 candidates, totalling 54 fits'
    """
    return (
        f"Fitting {n_splits} folds for each of {n_candidates} candidates, "
        f"totalling {n_splits * n_candidates} fits"
    )


def format_seconds(seconds: float | None) -> str:
    """A duration for people: ``'0.40 s'``, ``'42 s'``, ``'3 min 05 s'``, ``'2 h 07 min'``; ``'?'`` if unknown.

    Examples
    --------
    >>> format_seconds(185)
    '3 min 05 s'
    """
    if seconds is None or not math.isfinite(seconds):
        return "?"
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def _clock(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:d}:{secs:02d}"


_ASCII = ".#"  # plain characters: logs and Windows consoles show them as they are


class ProgressBar:
    """Fits (or epochs) done/total, elapsed, ETA and best score so far, drawn by tqdm.

    On a terminal tqdm redraws one line; elsewhere (log files, CI) a line is written at
    every tenth of the way, so logs stay readable. The ETA counts only computed steps
    (``reused`` ones come from a journal and take no time).

    Parameters
    ----------
    total : int
        Steps expected (can grow with :meth:`add`).
    stream : file-like, default=sys.stderr
    enabled : bool, default=True
        ``False`` draws nothing (the counters still work).
    unit : str, default="fits"

    Examples
    --------
    >>> import io
    >>> bar = ProgressBar(4, stream=io.StringIO())
    >>> bar.advance(best=0.9); bar.advance(reused=True); bar.done
    2
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, enabled: bool = True, unit: str = "fits") -> None:
        self.total = int(total)
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.unit = unit
        self.done = 0
        self.computed = 0
        self.best: float | None = None
        self._start = time.perf_counter()
        self._last_decile = -1
        self._tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._bar = None

    def add(self, n: int) -> None:
        """Expect ``n`` more steps (adaptive searches learn their size round by round)."""
        self.total += int(n)

    def advance(self, best: float | None = None, *, reused: bool = False) -> None:
        """Count one finished step."""
        self.done += 1
        if not reused:
            self.computed += 1
        if best is not None and math.isfinite(best) and (self.best is None or best > self.best):
            self.best = best
        self._draw()

    def eta_seconds(self) -> float:
        """Seconds left, from the average time of the steps computed so far."""
        if self.computed == 0:
            return math.nan
        elapsed = time.perf_counter() - self._start
        return elapsed / self.computed * max(0, self.total - self.done)

    def _postfix(self) -> str:
        best = "-" if self.best is None else f"{self.best:.4f}"
        return f"ETA {_clock(self.eta_seconds())}  best {best}"

    def text(self) -> str:
        """The bar's current line (tqdm's layout with keraslab's ETA and best score)."""
        from tqdm import tqdm

        elapsed = time.perf_counter() - self._start
        return tqdm.format_meter(self.done, max(self.total, self.done), elapsed, unit=self.unit,
                                 bar_format=self._format(), postfix=self._postfix(), ascii=_ASCII)

    def _format(self) -> str:
        # tqdm puts ", " before the postfix: "[####    ] 3/8 fits  elapsed 00:01, ETA 00:02  best 0.7000"
        return "[{bar:24}] {n_fmt}/{total_fmt} " + self.unit + "  elapsed {elapsed}{postfix}"

    def _draw(self) -> None:
        if not self.enabled:
            return
        if self._tty:
            self._draw_tty()
            return
        decile = int(10 * self.done / self.total) if self.total else 10
        if decile == self._last_decile and self.done != self.total:
            return
        self._last_decile = decile
        self.stream.write(self.text() + "\n")
        self.stream.flush()

    def _draw_tty(self) -> None:
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(total=self.total, file=self.stream, unit=self.unit, ascii=_ASCII, leave=True,
                             bar_format=self._format())
        self._bar.total = max(self.total, self.done)
        self._bar.n = self.done
        self._bar.set_postfix_str(self._postfix(), refresh=False)
        self._bar.refresh()

    def close(self) -> None:
        """End the line on a terminal."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def say(log: logging.Logger, verbose: int, message: str, *args: object) -> None:
    """Log ``message`` at INFO on ``log``; with ``verbose > 0`` also show it on standard output.

    scikit-learn's ``verbose`` means "show me", so a verbose line must reach a person
    even when nobody configured :mod:`logging`. As Optuna does for its own logger, the
    line then goes to a plain stdout handler and does not propagate (no second copy
    through the root logger's handlers). With ``verbose <= 0`` nothing is emitted.

    Examples
    --------
    >>> say(logging.getLogger("keraslab.example"), 1, "epoch %d done", 1)
    epoch 1 done
    """
    if verbose <= 0:
        return
    handler = logging.StreamHandler(sys.stdout)  # sys.stdout of now: captured streams are honoured
    handler.setFormatter(logging.Formatter("%(message)s"))
    level, propagate = log.level, log.propagate
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        log.info(message, *args)
        handler.flush()
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        log.propagate = propagate


# Ctrl-C --------------------------------------------------------------------------------------------
# Module state rather than state on a callback: callbacks may be copied (scikit-learn
# clones), a module attribute is looked up afresh every time.
_STOP = threading.Event()


def requested() -> bool:
    """Whether a stop was requested during the active run."""
    return _STOP.is_set()


def request_stop() -> None:
    """Ask the active run to stop after the current batch (what Ctrl-C does)."""
    _STOP.set()


@contextlib.contextmanager
def stop_on_ctrl_c(message: str = "Stopping after the current batch (a search: after the fit in progress); "
                   "Ctrl-C again to abort.") -> Iterator[None]:
    """Within the block, Ctrl-C requests a clean stop; the flag is cleared on entry and exit.

    The notice goes to the ``keraslab`` logger (warning level), not to a stream: the
    library reports, the CLI decides what a person sees.
    """
    _STOP.clear()
    if threading.current_thread() is not threading.main_thread():
        try:
            yield
        finally:
            _STOP.clear()
        return

    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: object) -> None:
        if _STOP.is_set():
            raise KeyboardInterrupt
        _STOP.set()
        logger.warning(message.strip())

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _STOP.clear()
