"""Notebooks: migrate the code cells of an ``.ipynb`` file, keep everything else as it was.

The JSON is read with the standard library and written back in nbformat's layout (one
space indent, non-ASCII kept, key order kept), so outputs, metadata and markdown cells are
untouched. IPython magics (``%matplotlib inline``, ``!pip install ...``) are masked while
LibCST parses the cell and restored afterwards; a cell that still is not Python (e.g.
``files = !ls``) is left unchanged and reported.
"""

from __future__ import annotations

import json
import re

import libcst as cst

from keraslab.migrate.engine import UnitResult, migrate_units
from keraslab.migrate.report import Finding

__all__ = ["read_cells", "migrate_notebook"]

_MAGIC = re.compile(r"^(\s*)([%!].*)$")
_TOKEN = "__keraslab_magic_{}__"


def _mask(code: str) -> tuple[str, dict[str, str]]:
    lines, magics = [], {}
    for line in code.split("\n"):
        match = _MAGIC.match(line)
        if match:
            token = _TOKEN.format(len(magics))
            magics[token] = line
            lines.append(f"{match.group(1)}pass  # {token}")
        else:
            lines.append(line)
    return "\n".join(lines), magics


def _unmask(code: str, magics: dict[str, str]) -> str:
    if not magics:
        return code
    out = []
    for line in code.split("\n"):
        token = next((t for t in magics if line.endswith(f"# {t}")), None)
        out.append(magics[token] if token else line)
    return "\n".join(out)


def read_cells(text: str) -> tuple[dict, list[int]]:
    """The notebook and the indices of its code cells. Raises ValueError when it is not a notebook."""
    notebook = json.loads(text)
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise ValueError("not a Jupyter notebook (no 'cells' list)")
    return notebook, [i for i, c in enumerate(notebook["cells"]) if c.get("cell_type") == "code"]


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def migrate_notebook(text: str, path: str) -> tuple[str, list[tuple[str, str, str]], UnitResult]:
    """Migrate the code cells of notebook ``text``.

    Returns
    -------
    new_text : str
        The notebook JSON with migrated code cells.
    units : list of (label, before, after)
        The code of each code cell (for diffs).
    merged : UnitResult
        All changes and findings (each with its code-cell number, counted from 1).
    """
    notebook, code_cells = read_cells(text)
    masked, magics, numbers, findings = [], [], [], []
    for number, index in enumerate(code_cells, start=1):
        code, cell_magics = _mask(_source(notebook["cells"][index]))
        try:
            cst.parse_module(code)
        except cst.ParserSyntaxError as exc:
            findings.append(Finding(path, exc.raw_line, "parse", "cell left unchanged",
                                    f"it is not Python that LibCST can parse ({exc.message.splitlines()[0]})",
                                    "migrate this cell by hand", cell=number))
            continue
        masked.append(code)
        magics.append((index, number, cell_magics))
    results = migrate_units(masked, path, cells=[number for _, number, _ in magics])
    units, changes = [], []
    for (index, number, cell_magics), result in zip(magics, results):
        cell = notebook["cells"][index]
        before = _source(cell)
        after = _unmask(result.code, cell_magics)
        units.append((f"{path}[cell {number}]", before, after))
        changes += result.changes
        findings += result.findings
        if after != before:
            cell["source"] = after.splitlines(keepends=True) if isinstance(cell.get("source"), list) else after
    new_text = json.dumps(notebook, indent=1, ensure_ascii=False) + ("\n" if text.endswith("\n") else "")
    if not changes:
        new_text = text  # nothing migrated: keep the file byte for byte
    findings.sort(key=lambda f: (f.cell or 0, f.line))
    return new_text, units, UnitResult("", changes, findings)
