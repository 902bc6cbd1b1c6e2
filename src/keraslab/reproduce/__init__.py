"""Reproduce the chapter: run catalogue entries at its settings and judge each against its numbers.

Examples
--------
>>> from keraslab.reproduce import judge
>>> judge({"mean_score": 0.9550}, {"mean_score": 0.9531}).status
'matches'

From the command line: ``keraslab reproduce [NAMES...] [--budget SECONDS] [--report PATH]``.
"""

from keraslab.reproduce.page import render_markdown, write_html, write_markdown
from keraslab.reproduce.session import EntryOutcome, Reproduction, machine_description, reproduce
from keraslab.reproduce.verdict import Check, Verdict, judge

__all__ = ["Check", "EntryOutcome", "Reproduction", "Verdict", "judge", "machine_description",
           "render_markdown", "reproduce", "write_html", "write_markdown"]
