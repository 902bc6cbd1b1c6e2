r"""TOML in and out for specs: the reader (tomllib, or tomli on Python 3.10; the one shim
in keraslab), the writer (tomli-w), and where a key sits in the text for error messages.

Examples
--------
>>> line_of("[train]\nepochs = 5\n", "train", "epochs")
2
"""

from __future__ import annotations

import re
import sys
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["tomllib", "dumps_toml", "line_of"]


def line_of(text: str | None, table: str, key: str | None = None) -> int | None:
    """Line of ``key`` inside ``[table]`` (or of the table header), for error messages."""
    if not text:
        return None
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]\s*(#.*)?", stripped)
        if header:
            current = header.group(1)
            if key is None and current == table:
                return number
            if key is not None and current in (f"{table}.{key}", f'{table}."{key}"'):  # [explore.params."a.b"]
                return number
            continue
        # Keys with dots are quoted in TOML: "model.number_of_layers" = ...
        if key is not None and current == table and re.match(rf'"?{re.escape(key)}"?\s*=', stripped):
            return number
        if key is not None and current == table.split(".")[0] and re.match(
            rf"{re.escape(table.split('.', 1)[-1])}\.{re.escape(key)}\s*=", stripped
        ):
            return number
    return None


def _plain(value: Any) -> Any:
    # TOML has no null and no tuple: what is not a TOML value is written as its text, as before tomli-w.
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def dumps_toml(raw: Mapping[str, Any]) -> str:
    """Write nested dicts as TOML tables with tomli-w (used to store the effective spec).

    Examples
    --------
    >>> print(dumps_toml({"train": {"epochs": 5, "early_stopping": {"patience": 2}}}).strip())
    [train]
    epochs = 5
    <BLANKLINE>
    [train.early_stopping]
    patience = 2
    """
    import tomli_w

    return tomli_w.dumps(_plain(raw))
