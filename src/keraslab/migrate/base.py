"""The base of every migration rule: a LibCST transformer that records what it did.

A rule is a small :class:`Rule` subclass with a ``name`` and a one-line ``summary``
(both appear in the report and in docs/migrate.md). It rewrites nodes, calls
:meth:`Rule.changed` for each rewrite, :meth:`Rule.report` for what it cannot rewrite
safely, and :meth:`Rule.need_import` for names its rewrite introduces.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Sequence

import libcst as cst
from libcst.metadata import PositionProvider

from keraslab.migrate.names import ImportScope
from keraslab.migrate.report import Change, Finding

__all__ = ["Context", "Rule", "keyword_arg", "with_args", "positional_args", "find_kwarg", "call_name"]


@dataclasses.dataclass
class Context:
    """What the rules of one code unit (a file, or one notebook cell) share."""

    scope: ImportScope
    path: str
    cell: int | None = None
    changes: list[Change] = dataclasses.field(default_factory=list)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    imports: list[tuple[str, str | None, str | None]] = dataclasses.field(default_factory=list)


class Rule(cst.CSTTransformer):
    """One named rewrite. Subclasses set ``name`` and ``summary`` and override ``leave_*``."""

    METADATA_DEPENDENCIES = (PositionProvider,)
    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""

    def __init__(self, context: Context) -> None:
        super().__init__()
        self.context = context
        self.scope = context.scope

    def line(self, node: cst.CSTNode) -> int:
        try:
            return self.get_metadata(PositionProvider, node).start.line
        except KeyError:  # a node this pass created has no position
            return 0

    def changed(self, node: cst.CSTNode, detail: str, rule: str | None = None) -> None:
        self.context.changes.append(Change(rule or self.name, self.line(node), detail, self.context.cell))

    def report(self, node: cst.CSTNode, what: str, why: str, fix: str, rule: str | None = None) -> None:
        self.context.findings.append(
            Finding(self.context.path, self.line(node), rule or self.name, what, why, fix, self.context.cell)
        )

    def need_import(self, module: str, obj: str | None = None, asname: str | None = None) -> None:
        self.context.imports.append((module, obj, asname))

    def canonical(self, node: cst.BaseExpression) -> str | None:
        return self.scope.canonical(node)

    def numpy(self) -> str:
        """The local name of NumPy, importing it when the file has none."""
        alias = self.scope.alias_of("numpy")
        if alias is None:
            self.need_import("numpy")
            return "numpy"
        return alias


def call_name(node: cst.Call) -> str | None:
    """The attribute or function name a call ends in (``fit`` for ``model.fit(...)``)."""
    if isinstance(node.func, cst.Attribute):
        return node.func.attr.value
    if isinstance(node.func, cst.Name):
        return node.func.value
    return None


def find_kwarg(node: cst.Call, name: str) -> cst.Arg | None:
    for arg in node.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def positional_args(node: cst.Call) -> list[cst.Arg]:
    return [a for a in node.args if a.keyword is None and not a.star]


def keyword_arg(name: str, value: cst.BaseExpression) -> cst.Arg:
    """``name=value`` without spaces around ``=`` (PEP 8 for keyword arguments)."""
    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")),
    )


def with_args(node: cst.Call, args: Sequence[cst.Arg]) -> cst.Call:
    """``node`` with ``args``, keeping the original's trailing-comma style and line breaks."""
    args = list(args)
    if not args:
        return node.with_changes(args=[])
    original_last = node.args[-1] if node.args else None
    fixed = []
    for i, arg in enumerate(args):
        if i < len(args) - 1 and arg.comma is cst.MaybeSentinel.DEFAULT:
            arg = arg.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        fixed.append(arg)
    last_comma = original_last.comma if original_last is not None else cst.MaybeSentinel.DEFAULT
    if fixed[-1] is not original_last:
        fixed[-1] = fixed[-1].with_changes(comma=last_comma)
    return node.with_changes(args=fixed)
