r"""TOML in and out for specs: the reader (tomllib, or tomli on Python 3.10), a small
writer for the effective spec, and where a key sits in the text for error messages.

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


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    return _toml_value(str(value))


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def dumps_toml(raw: Mapping[str, Any], prefix: str = "") -> str:
    """Write nested dicts as TOML tables (enough for specs; used to store the effective spec).

    Examples
    --------
    >>> print(dumps_toml({"train": {"epochs": 5, "early_stopping": {"patience": 2}}}).strip())
    [train]
    epochs = 5
    <BLANKLINE>
    [train.early_stopping]
    patience = 2
    """
    lines: list[str] = []
    scalars = {k: v for k, v in raw.items() if not isinstance(v, dict)}
    tables = {k: v for k, v in raw.items() if isinstance(v, dict)}
    if prefix and (scalars or not tables):
        lines.append(f"[{prefix}]")
    lines.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items())
    if lines:
        lines.append("")
    for key, table in tables.items():
        lines.append(dumps_toml(table, f"{prefix}.{_toml_key(key)}" if prefix else _toml_key(key)))
    return "\n".join(lines)
