"""Which Keras 2 name a local name stands for, and what that name is in Keras 3.

Rules match on fully qualified names, so ``K.cast_to_floatx``, ``keras_backend.cast_to_floatx``
and ``tf.keras.backend.cast_to_floatx`` are one thing. :class:`ImportScope` reads every
import of a file (of every cell of a notebook: a name imported in the first cell is used in
later ones) before anything is rewritten; :func:`canonical` maps a Keras 2 qualified name
to its Keras 3 / keraslab one and says which rule made the change.
"""

from __future__ import annotations

import dataclasses

import libcst as cst

__all__ = ["ImportScope", "canonical", "dotted", "MODULE_RENAMES", "OBJECT_RENAMES"]

# (old prefix, new prefix, rule): applied to whole dotted components, repeatedly.
MODULE_RENAMES: tuple[tuple[str, str, str], ...] = (
    ("tensorflow.python.keras", "keras", "tf-keras"),
    ("tensorflow.keras", "keras", "tf-keras"),
    ("keras.wrappers.scikit_learn", "keraslab", "sklearn-wrapper"),
    ("keras.utils.np_utils", "keras.utils", "keras-submodules"),
    ("keras.utils.data_utils", "keras.utils", "keras-submodules"),
    ("keras.utils.generic_utils", "keras.utils", "keras-submodules"),
    ("keras.layers.core", "keras.layers", "keras-submodules"),
    ("keras.layers.convolutional", "keras.layers", "keras-submodules"),
    ("keras.layers.recurrent", "keras.layers", "keras-submodules"),
    ("keras.layers.pooling", "keras.layers", "keras-submodules"),
    ("keras.layers.normalization", "keras.layers", "keras-submodules"),
    ("keras.layers.embeddings", "keras.layers", "keras-submodules"),
    ("keras.layers.merge", "keras.layers", "keras-submodules"),
    ("keras.layers.advanced_activations", "keras.layers", "keras-submodules"),
    ("keras.layers.noise", "keras.layers", "keras-submodules"),
    ("keras.layers.wrappers", "keras.layers", "keras-submodules"),
)

# Whole names that moved or were renamed.
OBJECT_RENAMES: dict[str, tuple[str, str]] = {
    "keras.preprocessing.image.ImageDataGenerator": ("keraslab.data.ImageAugmenter", "image-data-generator"),
    "keras.utils.Sequence": ("keras.utils.PyDataset", "sequence-pydataset"),
    "tensorflow.convert_to_tensor": ("keras.ops.convert_to_tensor", "tf-ops"),
    "keras.constraints.maxnorm": ("keras.constraints.MaxNorm", "keras1-layers"),
    "keras.constraints.nonneg": ("keras.constraints.NonNeg", "keras1-layers"),
    "keras.constraints.unitnorm": ("keras.constraints.UnitNorm", "keras1-layers"),
    **{
        f"keras.layers.{old}": (f"keras.layers.{new}", "keras1-layers")
        for old, new in {
            "Convolution1D": "Conv1D", "Convolution2D": "Conv2D", "Convolution3D": "Conv3D",
            "Deconvolution2D": "Conv2DTranspose", "AtrousConvolution2D": "Conv2D",
            "SeparableConvolution2D": "SeparableConv2D",
        }.items()
    },
}


def canonical(name: str) -> tuple[str, list[str]]:
    """The Keras 3 name of a Keras 2 qualified ``name``, and the rules that renamed it.

    Examples
    --------
    >>> canonical("tensorflow.keras.layers.core.Dense")
    ('keras.layers.Dense', ['tf-keras', 'keras-submodules'])
    >>> canonical("numpy.zeros")
    ('numpy.zeros', [])
    """
    rules: list[str] = []
    for _ in range(4):  # a name needs at most a module rename and an object rename per pass
        before = name
        for old, new, rule in MODULE_RENAMES:
            if name == old or name.startswith(old + "."):
                name = new + name[len(old):]
                rules.append(rule)
        if name in OBJECT_RENAMES:
            name, rule = OBJECT_RENAMES[name]
            rules.append(rule)
        if name == before:
            break
    return name, rules


def dotted(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr.value}"
    return None


def _module_name(node: cst.BaseExpression | None) -> str:
    return "" if node is None else (dotted(node) or "")


@dataclasses.dataclass
class ImportScope:
    """Local names bound by imports, over a whole file (all cells of a notebook).

    Attributes
    ----------
    bindings : dict
        Local name -> qualified name it was imported as (``K`` -> ``tensorflow.keras.backend``).
    numpy_valued : set
        Names assigned somewhere from an expression that calls NumPy (candidates for
        NumPy integers used as layer sizes).
    tensorflow_uses : set
        Attributes used on a TensorFlow module (``{"keras", "convert_to_tensor"}``); the
        ``import tensorflow`` can go only when every one of them is rewritten.
    """

    bindings: dict[str, str] = dataclasses.field(default_factory=dict)
    numpy_valued: set[str] = dataclasses.field(default_factory=set)
    tensorflow_uses: set[str] = dataclasses.field(default_factory=set)

    @classmethod
    def of(cls, modules: list[cst.Module]) -> ImportScope:
        scope = cls()
        for module in modules:
            module.visit(_ImportCollector(scope))
        for module in modules:
            module.visit(_UseCollector(scope))
        return scope

    def qualify(self, node: cst.BaseExpression) -> str | None:
        """The qualified name of a Name/Attribute chain rooted at an imported name, else None."""
        name = dotted(node)
        if name is None:
            return None
        root, _, rest = name.partition(".")
        if root not in self.bindings:
            return None
        return self.bindings[root] + ("." + rest if rest else "")

    def canonical(self, node: cst.BaseExpression) -> str | None:
        """The Keras 3 qualified name of ``node``, or None when it is not an imported name."""
        qualified = self.qualify(node)
        return None if qualified is None else canonical(qualified)[0]

    def alias_of(self, module: str) -> str | None:
        """A local name bound to ``module`` itself (``np`` for ``numpy``), if any."""
        for local, qualified in self.bindings.items():
            if qualified == module:
                return local
        return None

    def is_tensorflow(self, local: str) -> bool:
        return self.bindings.get(local) == "tensorflow"


class _ImportCollector(cst.CSTVisitor):
    def __init__(self, scope: ImportScope) -> None:
        self.scope = scope

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = _module_name(alias.name)
            if alias.asname is not None:
                self.scope.bindings[alias.asname.name.value] = name  # type: ignore[union-attr]
            else:  # `import a.b` binds `a`
                root = name.split(".")[0]
                self.scope.bindings.setdefault(root, root)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or isinstance(node.names, cst.ImportStar):
            return
        module = _module_name(node.module)
        for alias in node.names:
            local = alias.asname.name.value if alias.asname is not None else alias.name.value  # type: ignore[union-attr]
            self.scope.bindings[local] = f"{module}.{alias.name.value}"


class _UseCollector(cst.CSTVisitor):
    def __init__(self, scope: ImportScope) -> None:
        self.scope = scope

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if isinstance(node.value, cst.Name) and self.scope.is_tensorflow(node.value.value):
            self.scope.tensorflow_uses.add(node.attr.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        finder = _NumpyCallFinder(self.scope)
        node.value.visit(finder)
        if finder.found:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    self.scope.numpy_valued.add(target.target.value)


class _NumpyCallFinder(cst.CSTVisitor):
    """Finds a call of a NumPy function or of ``.max()``/``.sum()``-like reductions."""

    REDUCTIONS = frozenset({"max", "min", "sum", "prod", "argmax", "argmin"})

    def __init__(self, scope: ImportScope) -> None:
        self.scope = scope
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.scope.qualify(node.func)
        if qualified is not None and qualified.split(".")[0] == "numpy":
            self.found = True
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in self.REDUCTIONS and qualified is None:
            self.found = True
