"""Ctrl-C as a request to stop, not an exception in the middle of a write.

While a run is active, the first Ctrl-C sets a flag: the training in progress stops
after its current batch (its unfinished epoch is not recorded), no further fit is
started, and the run is closed as ``interrupted`` with everything that finished
kept. A second Ctrl-C raises ``KeyboardInterrupt`` as usual, for a run that must
die now. Outside the main thread no handler is installed and Ctrl-C behaves as
Python's default.

Examples
--------
>>> with stop_on_ctrl_c():
...     requested()
False
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Iterator

__all__ = ["stop_on_ctrl_c", "requested", "request_stop"]

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
def stop_on_ctrl_c(message: str = "\nStopping after the current batch; Ctrl-C again to abort.\n") -> Iterator[None]:
    """Within the block, Ctrl-C requests a clean stop; the flag is cleared on entry and exit."""
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
        sys.stderr.write(message)
        sys.stderr.flush()

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _STOP.clear()
