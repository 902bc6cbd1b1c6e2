"""Package-level promises of keraslab.data: its public names and its place at the bottom of the house."""

from __future__ import annotations

import ast
import doctest
import subprocess
import sys
from pathlib import Path

import keraslab.data as kd

PACKAGE = Path(kd.__file__).parent


def test_public_names_are_re_exported():
    for name in kd.__all__:
        assert getattr(kd, name) is not None
    assert {"load_mnist", "ImageAugmenter", "ShapesDataset", "windows", "OneHotFragments"} <= set(kd.__all__)
    assert doctest.testmod(kd).failed == 0


# The ground floor (docs/house.md): errors and the shared argument checks.
GROUND = ("keraslab.errors", "keraslab._checks")


def test_imports_nothing_from_keraslab_but_the_ground_floor():
    for module in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("keraslab"):
                    assert name in GROUND or name.startswith("keraslab.data"), (module.name, name)


def test_importing_the_package_pulls_no_optional_heavy_dependency():
    code = "import sys, keraslab.data; print(sorted(m for m in ('optuna', 'dask', 'sklearn.datasets') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
