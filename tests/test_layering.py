"""The house map (docs/house.md) as a test: imports go down the floors, never up; no cycles; small modules.

Every ``import`` of keraslab in ``src/keraslab`` is read with :mod:`ast`, at module
level and inside functions alike (a function-level import is still a dependency; it
only hides a cycle until the function runs). Imports under ``if TYPE_CHECKING:`` are
left out: they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "keraslab"
MAX_LINES = 500

#: Floors, lowest first. A module may import modules of its own floor and of floors below.
#: Names are module paths below ``keraslab``; a package name covers everything in it.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("ground", ("errors", "_backend", "_console", "_checks", "_defaults", "_keras_compile", "_sqlite",
                "_fingerprint")),
    ("building blocks", ("data", "zoo", "layers")),
    ("bridge", ("", "wrappers", "_routing", "_targets", "_fitting", "_intact", "callbacks")),
    ("search", ("search",)),
    ("records and figures", ("store", "_store_rows", "plots")),
    ("workflows", ("experiments", "textgen", "migrate")),
    ("report", ("report", "demo", "reproduce")),
    ("cli", ("cli", "__main__")),
]

#: Known exceptions, each with its reason; the goal is an empty list. (importer, imported) module names.
ALLOWED: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)  # "" is the keraslab package itself


MODULES = {_module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in _import_nodes(ast.Module(body=[child])))
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _import_nodes(node)


def _target(module: str) -> str | None:
    """The keraslab module an absolute dotted name refers to (``keraslab.a.b`` -> ``a.b``), or None."""
    if module != "keraslab" and not module.startswith("keraslab."):
        return None
    name = module[len("keraslab."):] if module != "keraslab" else ""
    while name not in MODULES and "." in name:  # an attribute of a module, e.g. keraslab.a.b.func
        name = name.rsplit(".", 1)[0]
    return name if name in MODULES else None


def imports_of(name: str) -> set[str]:
    """keraslab modules that module ``name`` imports (module and function level)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            if node.level:
                base = ["keraslab", *filter(None, package.split("."))]
                base = base[: len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # "from keraslab.a import b" imports module a.b when b is a module, else module a.
            candidates = [f"{module}.{alias.name}" for alias in node.names] + [module]
            candidates = [c for c in candidates[:-1] if _target(c) == c.removeprefix("keraslab.")] or [module]
        found.update(t for t in map(_target, candidates) if t is not None)
    found.discard(name)
    return found


def floor_of(name: str) -> int:
    best, floor = -1, None
    for index, (_, members) in enumerate(FLOORS):
        for member in members:
            if name == member or (member and name.startswith(member + ".")):
                if len(member) > best:
                    best, floor = len(member), index
    if floor is None:
        raise AssertionError(f"keraslab.{name} is on no floor: add it to FLOORS in {__file__} and docs/house.md")
    return floor


GRAPH = {name: imports_of(name) for name in MODULES}


def test_every_module_is_on_a_floor():
    for name in MODULES:
        floor_of(name)


def test_no_import_goes_up_a_floor():
    upward = [
        f"keraslab.{a or '__init__'} ({FLOORS[floor_of(a)][0]}) imports keraslab.{b} ({FLOORS[floor_of(b)][0]})"
        for a, targets in sorted(GRAPH.items()) for b in sorted(targets)
        if floor_of(b) > floor_of(a) and (a, b) not in ALLOWED
    ]
    assert upward == [], "\n".join(upward)


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]

    def visit(root: str) -> None:
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return out


def test_no_import_cycles():
    graph = {a: {b for b in targets if (a, b) not in ALLOWED} for a, targets in GRAPH.items()}
    assert _cycles(graph) == []


def test_no_import_cycles_between_packages():
    # Module by module there may be no loop while two packages still lean on each other
    # (callbacks -> textgen.generate while textgen.train -> callbacks, before TextSampler moved).
    packages: dict[str, set[str]] = {}
    for a, targets in GRAPH.items():
        top = a.split(".")[0]
        packages.setdefault(top, set()).update(b.split(".")[0] for b in targets if (a, b) not in ALLOWED)
    graph = {name: {b for b in targets if b != name} for name, targets in packages.items()}
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("source, expected", [
    ("from keraslab.errors import KeraslabError", {"errors"}),
    ("def f():\n    from keraslab.plots import rounds\n", {"plots.rounds"}),
    ("import keraslab.store\n", {"store"}),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from keraslab.store import ResultStore\n", set()),
    ("from .. import store\n", {"store"}),
])
def test_imports_are_read_at_every_level(tmp_path, monkeypatch, source, expected):
    path = SRC / "search" / "space.py"  # any module of a sub-package, for the relative import
    monkeypatch.setattr(Path, "read_text", lambda self, encoding=None: source)
    assert imports_of("search.space") == expected


def test_no_module_is_longer_than_500_lines():
    long = {f"keraslab.{name}": n for name, path in MODULES.items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_only_the_cli_prints():
    # The library reports through logging and callbacks; printing is the CLI's job. TextSampler shows its
    # samples when verbose=1 (as Keras' own progress bar does), which is what that callback is for.
    allowed = {
        "textgen.sampler": "TextSampler(verbose=1) shows its samples: what the callback is for",
    }
    printing = sorted(
        name for name, path in MODULES.items()
        if floor_of(name) < len(FLOORS) - 1 and name not in allowed
        and any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "print"
                for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))
    )
    assert printing == [], printing
