"""Rules on names: imports and dotted names that moved between Keras 2 and Keras 3.

One transformer applies the tables of :mod:`keraslab.migrate.names` to import
statements, to dotted names (``tf.keras.layers.Dense``) and to names imported under an
old spelling (``ImageDataGenerator`` -> ``ImageAugmenter``); each rewrite is recorded
under the rule its table entry names (``tf-keras``, ``keras-submodules``,
``sklearn-wrapper``, ``image-data-generator``, ``sequence-pydataset``, ``keras1-layers``,
``tf-ops``).
"""

from __future__ import annotations

import libcst as cst

from keraslab.migrate.base import Rule
from keraslab.migrate.names import canonical, dotted

__all__ = ["ImportRule", "IMPORT_RULES"]

IMPORT_RULES = {
    "tf-keras": "`tensorflow.keras` / `tf.keras` -> `keras` (Keras 3 is its own package)",
    "keras-submodules": "`keras.layers.core`, `.convolutional`, `.recurrent`, ..., `keras.utils.np_utils` -> "
                        "`keras.layers` / `keras.utils`",
    "sklearn-wrapper": "`keras.wrappers.scikit_learn` -> `keraslab` (KerasClassifier, KerasRegressor)",
    "image-data-generator": "`ImageDataGenerator` -> `keraslab.data.ImageAugmenter` (arguments it lacks are reported)",
    "sequence-pydataset": "`keras.utils.Sequence` -> `keras.utils.PyDataset`, `super().__init__(**kwargs)` added",
    "keras1-layers": "Keras 1 class names: `Convolution2D` -> `Conv2D`, `maxnorm` -> `MaxNorm`, ...",
    "tf-ops": "`tf.convert_to_tensor` -> `keras.ops.convert_to_tensor`; `import tensorflow` dropped when nothing "
              "else uses it",
}
_TF_REWRITTEN = frozenset({"keras", "convert_to_tensor"})


def _name_node(dotted_name: str) -> cst.BaseExpression:
    return cst.parse_expression(dotted_name)


class ImportRule(Rule):
    """Rewrites imports, dotted names and renamed imported names."""

    name = "imports"

    def __init__(self, context) -> None:
        super().__init__(context)
        # Names imported without an alias under an old spelling: rename their uses.
        self.renamed: dict[str, tuple[str, list[str]]] = {}
        for local, qualified in self.scope.bindings.items():
            new, rules = canonical(qualified)
            if rules and new.rsplit(".", 1)[-1] != local and qualified.rsplit(".", 1)[-1] == local:
                self.renamed[local] = (new.rsplit(".", 1)[-1], rules)
        self._import_depth = 0
        self._not_names: set[int] = set()
        self._inner: set[int] = set()

    # ------------------------------------------------------------------ import statements
    def visit_Import(self, node: cst.Import) -> None:
        self._import_depth += 1

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._import_depth += 1

    def leave_Import(self, original: cst.Import, updated: cst.Import):
        self._import_depth -= 1
        return updated

    def leave_ImportFrom(self, original: cst.ImportFrom, updated: cst.ImportFrom):
        self._import_depth -= 1
        return updated

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine):
        if len(updated.body) != 1:
            return updated
        statement = updated.body[0]
        if isinstance(statement, cst.ImportFrom):
            new = self._import_from(original, statement)
        elif isinstance(statement, cst.Import):
            new = self._import(original, statement)
        else:
            return updated
        if new is None:
            return updated
        if not new:
            return cst.RemoveFromParent()
        lines = [updated.with_changes(body=[s]) if i == 0 else cst.SimpleStatementLine(body=[s])
                 for i, s in enumerate(new)]
        if len(lines) > 1:  # the trailing comment stays with the last line
            lines[0] = lines[0].with_changes(trailing_whitespace=cst.TrailingWhitespace())
            lines[-1] = lines[-1].with_changes(trailing_whitespace=updated.trailing_whitespace)
        return cst.FlattenSentinel(lines)

    def _import_from(self, original, node: cst.ImportFrom) -> list[cst.BaseSmallStatement] | None:
        if node.relative or node.module is None:
            return None
        module = dotted(node.module) or ""
        if isinstance(node.names, cst.ImportStar):  # only the module can move
            new_module, rules = canonical(module)
            for rule in dict.fromkeys(rules):
                self.changed(original, f"from {module} import *", rule)
            return [node.with_changes(module=_name_node(new_module))] if rules else None
        groups: dict[str, list[cst.ImportAlias]] = {}
        plain: list[cst.ImportAlias] = []  # `from tensorflow import keras` -> `import keras`
        fired: list[str] = []
        for alias in node.names:
            new, rules = canonical(f"{module}.{alias.name.value}")
            fired += rules
            new_module, _, new_name = new.rpartition(".")
            asname = alias.asname
            if asname is not None and asname.name.value == new_name:  # type: ignore[union-attr]
                asname = None
            if not new_module:
                plain.append(cst.ImportAlias(name=cst.Name(new_name), asname=asname))
            else:
                groups.setdefault(new_module, []).append(
                    cst.ImportAlias(name=cst.Name(new_name), asname=asname)
                )
        if not fired:
            return None
        for rule in dict.fromkeys(fired):
            self.changed(original, f"from {module} import ...", rule)
        statements: list[cst.BaseSmallStatement] = []
        for new_module, aliases in groups.items():
            if new_module == module and len(groups) == 1 and not plain:
                aliases = [a.with_changes(comma=o.comma) for a, o in zip(aliases, node.names)]
            else:
                aliases = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in aliases]
            statements.append(node.with_changes(module=_name_node(new_module), names=aliases))
        if plain:
            statements.append(cst.Import(names=[a.with_changes(comma=cst.MaybeSentinel.DEFAULT) for a in plain]))
        return statements

    def _import(self, original, node: cst.Import) -> list[cst.BaseSmallStatement] | None:
        aliases = []
        fired: list[str] = []
        for alias in node.names:
            name = dotted(alias.name) or ""
            if name == "tensorflow" and self.scope.tensorflow_uses <= _TF_REWRITTEN:
                fired.append("tf-ops")  # every use is rewritten to keras: the import goes
                continue
            if name == "tensorflow":
                others = ", ".join(f"tf.{use}" for use in sorted(self.scope.tensorflow_uses - _TF_REWRITTEN))
                self.report(original, f"import tensorflow kept: the code uses {others}",
                            "keraslab migrates Keras code, not TensorFlow calls",
                            "replace them with keras.ops equivalents, or install TensorFlow and set "
                            "KERAS_BACKEND=tensorflow", rule="tf-ops")
            new, rules = canonical(name)
            fired += rules
            asname = alias.asname
            if asname is not None and asname.name.value == new:  # type: ignore[union-attr]
                asname = None
            aliases.append(alias.with_changes(name=_name_node(new), asname=asname))
        if not fired:
            return None
        for rule in dict.fromkeys(fired):
            self.changed(original, f"import {', '.join(dotted(a.name) or '' for a in node.names)}", rule)
        if not aliases:
            return []
        aliases[-1] = aliases[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return [node.with_changes(names=aliases)]

    # ------------------------------------------------------------------ uses
    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_names.add(id(node.attr))  # `x.Sequence` is not the imported `Sequence`
        if isinstance(node.value, cst.Attribute):
            self._inner.add(id(node.value))  # rewrite whole chains only, from the outside

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_names.add(id(node.keyword))

    def visit_Param(self, node: cst.Param) -> None:
        self._not_names.add(id(node.name))

    def leave_Attribute(self, original: cst.Attribute, updated: cst.Attribute):
        if self._import_depth or id(original) in self._inner:
            return updated
        qualified = self.scope.qualify(original)
        if qualified is None:
            return updated
        new, rules = canonical(qualified)
        if not rules:
            return updated
        root = (dotted(original) or "").split(".")[0]
        # What the local root name is bound to once its import is migrated.
        root_binding = canonical(self.scope.bindings[root])[0]
        if new.startswith(root_binding + "."):
            replacement = root + new[len(root_binding):]
        else:
            replacement = new
            # `import keras` reaches every public Keras 3 module; keraslab's subpackages need their own import.
            root_module = "keras" if new.startswith("keras.") else new.rsplit(".", 1)[0]
            self.need_import(root_module)
        if replacement == dotted(original):
            return updated
        for rule in dict.fromkeys(rules):
            self.changed(original, f"{dotted(original)} -> {replacement}", rule)
        return _name_node(replacement)

    def leave_Name(self, original: cst.Name, updated: cst.Name):
        if self._import_depth or original.value not in self.renamed or id(original) in self._not_names:
            return updated
        new, rules = self.renamed[original.value]
        self.changed(original, f"{original.value} -> {new}", rules[-1])  # the rule that renamed the object
        return updated.with_changes(value=new)
