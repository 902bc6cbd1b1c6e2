"""The chapter's experiments, one TOML spec each, named after their figures.

Examples
--------
>>> catalog_path("b3-cv").name
'b3-cv.toml'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from keraslab.experiments.spec import SpecError
from keraslab.experiments.tomlio import tomllib

__all__ = ["CATALOG_DIR", "CatalogEntry", "catalog_names", "catalog_path", "catalog_entries", "resolve_spec_path"]

CATALOG_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class CatalogEntry:
    """One line of ``keraslab list``."""

    name: str
    title: str
    figures: tuple[str, ...]
    kind: str
    path: Path


def catalog_names() -> list[str]:
    """Names of the catalogue's experiments, sorted."""
    return sorted(p.stem for p in CATALOG_DIR.glob("*.toml"))


def catalog_path(name: str) -> Path:
    """The file of a catalogue experiment; a clear error (with the nearest names) otherwise."""
    path = CATALOG_DIR / f"{name}.toml"
    if path.is_file():
        return path
    names = catalog_names()
    near = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(near)}?" if near else " See `keraslab list`."
    raise SpecError(f"No experiment of this name in the catalogue, and no such file.{hint} Received: {name!r}")


def resolve_spec_path(name_or_file: str | Path) -> Path:
    """A spec file path for a catalogue name or an existing ``.toml`` path."""
    path = Path(name_or_file)
    if path.suffix == ".toml" or path.is_file() or len(path.parts) > 1:
        if not path.is_file():
            raise SpecError(f"Spec file not found. Received: path={str(path)!r}")
        return path
    return catalog_path(str(name_or_file))


def catalog_entries() -> list[CatalogEntry]:
    """Name, title, figure numbers and kind of every catalogue experiment (read without validating)."""
    entries = []
    for name in catalog_names():
        path = CATALOG_DIR / f"{name}.toml"
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        exp = raw.get("experiment", {})
        kind = raw.get("explore", {}).get("kind", "train")
        entries.append(CatalogEntry(name, exp.get("title", name), tuple(exp.get("figures", [])), kind, path))
    return entries
