"""The per-epoch samples and how they are printed and written (the chapter's ``print_string``).

Format, one block per sampled epoch, appended to the output file exactly as printed::

    ===== epoch 3 =====
    ----- temperature 0.5 | seed: "mr. sherlock holmes, who was usually very"
    <generated text: 1,000 characters (or words) on one line>
    ----- temperature 1.0 | seed: "mr. sherlock holmes, who was usually very"
    <generated text>

The seed is written with JSON string escapes, so quotes inside it stay readable and
the line can be parsed back (:func:`parse_samples`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["TextSample", "format_epoch", "append_samples", "parse_samples"]

_EPOCH = re.compile(r"^===== epoch (\d+) =====$")
_TEMPERATURE = re.compile(r'^----- temperature (\S+) \| seed: (".*")$')


@dataclass(frozen=True)
class TextSample:
    """One generated text: after which epoch (1-based), at which temperature, from which seed."""

    epoch: int
    temperature: float
    seed: str
    text: str


def format_epoch(samples: list[TextSample]) -> str:
    """The printed block of one epoch's samples (all of the same epoch), ending with a newline.

    Examples
    --------
    >>> print(format_epoch([TextSample(1, 0.5, "the ", "cat sat")]), end="")
    ===== epoch 1 =====
    ----- temperature 0.5 | seed: "the "
    cat sat
    """
    if not samples:
        return ""
    lines = [f"===== epoch {samples[0].epoch} ====="]
    for sample in samples:
        # Generated text never holds newlines from a prepared corpus; flatten any from a raw one.
        body = sample.text.replace("\r", " ").replace("\n", " ")
        seed = json.dumps(sample.seed, ensure_ascii=False)
        lines += [f"----- temperature {sample.temperature:g} | seed: {seed}", body]
    return "\n".join(lines) + "\n"


def append_samples(path: str | os.PathLike[str], samples: list[TextSample]) -> Path:
    """Append one epoch's block to ``path`` (created with its folder if missing); return the path.

    The file is opened and closed per epoch, so an interrupted training keeps every
    finished epoch's samples.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as handle:
        handle.write(format_epoch(samples))
    return target


def parse_samples(text: str) -> list[TextSample]:
    """Read back the samples of a file written by :func:`append_samples`.

    Examples
    --------
    >>> parse_samples(format_epoch([TextSample(2, 1.5, 'say "hi"', "there")]))
    [TextSample(epoch=2, temperature=1.5, seed='say "hi"', text='there')]
    """
    samples: list[TextSample] = []
    lines = text.split("\n")
    epoch = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        if match := _EPOCH.match(line):
            epoch = int(match.group(1))
        elif match := _TEMPERATURE.match(line):
            body = lines[index + 1] if index + 1 < len(lines) else ""
            samples.append(TextSample(epoch, float(match.group(1)), json.loads(match.group(2)), body))
            index += 1
        index += 1
    return samples
