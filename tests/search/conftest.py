"""Search tests share cheap estimators in ``search_helpers`` (also imported by subprocesses)."""

from __future__ import annotations

import sys
from pathlib import Path

# Test modules are imported with --import-mode=importlib, so this folder is not on
# sys.path by itself.
sys.path.insert(0, str(Path(__file__).parent))
