"""Ctrl-C as a request to stop: kept as an import path; the code lives in :mod:`keraslab._console`."""

from keraslab._console import request_stop, requested, stop_on_ctrl_c

__all__ = ["stop_on_ctrl_c", "requested", "request_stop"]
