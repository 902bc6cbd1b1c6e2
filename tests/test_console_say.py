"""_console.say: verbose lines are log records, shown on stdout only when verbose > 0."""

from __future__ import annotations

import logging

from keraslab._console import say


class _Keep(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_verbose_shows_the_line_once_and_leaves_the_logger_as_it_was(capsys):
    log = logging.getLogger("keraslab.test_say")
    keep = _Keep()
    log.addHandler(keep)  # a handler the user set up on this logger still gets the record
    try:
        say(log, 1, "Fitting %d folds", 3)
        assert capsys.readouterr().out == "Fitting 3 folds\n"
        assert keep.messages == ["Fitting 3 folds"]
        assert (log.level, log.propagate, log.handlers) == (logging.NOTSET, True, [keep])
    finally:
        log.removeHandler(keep)


def test_silent_without_verbose(capsys, caplog):
    with caplog.at_level(logging.DEBUG):
        say(logging.getLogger("keraslab.test_say"), 0, "never")
    assert capsys.readouterr() == ("", "") and caplog.records == []
