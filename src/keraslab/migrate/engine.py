"""Run the rules over code: one Python source, or the code cells of a notebook.

Every unit is parsed first, then the imports of all units are read into one
:class:`~keraslab.migrate.names.ImportScope` (a notebook imports in its first cell and
uses the names later), then each rule runs as its own LibCST pass over each unit, and the
imports that rewrites introduced are added at the top of the unit that needs them.
LibCST keeps comments and formatting of everything no rule touched.
"""

from __future__ import annotations

import dataclasses

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper

from keraslab.migrate.base import Context, Rule
from keraslab.migrate.names import ImportScope
from keraslab.migrate.report import Change, Finding

__all__ = ["UnitResult", "migrate_units", "rule_classes", "ParseFailure"]


class ParseFailure(Exception):
    """A unit that LibCST cannot parse; ``unit`` is its index, ``line`` the line in it."""

    def __init__(self, unit: int, line: int, message: str) -> None:
        super().__init__(message)
        self.unit, self.line, self.message = unit, line, message


@dataclasses.dataclass
class UnitResult:
    code: str
    changes: list[Change]
    findings: list[Finding]


def rule_classes() -> list[type[Rule]]:
    """The rules in the order they run: rules that read old names before the pass that renames them,
    rules that insert lines last (so earlier findings keep the input's line numbers)."""
    from keraslab.migrate.rules_calls import CALL_RULES
    from keraslab.migrate.rules_data import DATA_RULES, SEQUENCE_RULES
    from keraslab.migrate.rules_imports import ImportRule
    from keraslab.migrate.rules_layers import LAYER_RULES, LINE_INSERTING_RULES

    return [*DATA_RULES, *CALL_RULES, *LAYER_RULES, *SEQUENCE_RULES, ImportRule, *LINE_INSERTING_RULES]


def _parse(code: str, unit: int) -> cst.Module:
    try:
        return cst.parse_module(code)
    except cst.ParserSyntaxError as exc:
        raise ParseFailure(unit, exc.raw_line, exc.message.splitlines()[0]) from None


def migrate_units(units: list[str], path: str, cells: list[int] | None = None) -> list[UnitResult]:
    """Migrate code ``units`` (a file: one unit; a notebook: its code cells) that share their imports.

    Parameters
    ----------
    units : list of str
        Python sources.
    path : str
        Shown in findings.
    cells : list of int, optional
        The cell number of each unit (notebooks), shown in findings.

    Raises
    ------
    ParseFailure
        When a unit is not valid Python; nothing is migrated then.
    """
    modules = [_parse(code, i) for i, code in enumerate(units)]
    scope = ImportScope.of(modules)
    results = []
    for index, module in enumerate(modules):
        context = Context(scope=scope, path=path, cell=None if cells is None else cells[index])
        for rule in rule_classes():
            # Each pass gets the previous pass's fresh tree, so the defensive deep copy is not needed.
            module = MetadataWrapper(module, unsafe_skip_copy=True).visit(rule(context))
        if context.imports:
            codemod = CodemodContext()
            for module_name, obj, asname in dict.fromkeys(context.imports):
                AddImportsVisitor.add_needed_import(codemod, module_name, obj, asname)
            module = AddImportsVisitor(codemod).transform_module(module)
        code = module.code
        results.append(UnitResult(code, context.changes if code != units[index] else [], context.findings))
    return results
