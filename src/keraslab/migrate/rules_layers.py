"""Rules on model building: Keras 1 layer arguments, layer sizes, stateful RNNs, input shapes."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from keraslab.migrate.base import Rule, find_kwarg, keyword_arg, positional_args, with_args

__all__ = ["LAYER_RULES", "LINE_INSERTING_RULES"]

_LAYER_PREFIX = "keras.layers."
_RENAMED_ARGUMENTS = {
    "border_mode": "padding", "init": "kernel_initializer", "subsample": "strides", "nb_filter": "filters",
    "W_regularizer": "kernel_regularizer", "b_regularizer": "bias_regularizer", "W_constraint": "kernel_constraint",
    "b_constraint": "bias_constraint", "dropout_W": "dropout", "dropout_U": "recurrent_dropout",
    "inner_init": "recurrent_initializer", "U_regularizer": "recurrent_regularizer",
}
_UNITS_LAYERS = frozenset({"Dense", "LSTM", "GRU", "SimpleRNN"})
_SIZED_LAYERS = frozenset({"Dense", "LSTM", "GRU", "SimpleRNN", "Conv1D", "Conv2D", "Conv3D", "SeparableConv2D",
                           "Conv2DTranspose"})
_STATEFUL_LAYERS = frozenset({"LSTM", "GRU", "SimpleRNN"})
_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _layer(rule: Rule, node: cst.Call) -> str | None:
    target = rule.canonical(node.func) or ""
    return target[len(_LAYER_PREFIX):] if target.startswith(_LAYER_PREFIX) and target.count(".") == 2 else None


class Keras1ArgumentsRule(Rule):
    """Keras 1 argument names, and ``Convolution2D(n, rows, cols)``'s separate kernel sizes."""

    name = "keras1-layers"
    summary = ("Keras 1 layer arguments: `border_mode`, `init`, `subsample`, `output_dim`, `nb_filter`, "
               "`W_regularizer`, ..., `dim_ordering`; `Convolution2D(n, 3, 3)` -> `Conv2D(n, (3, 3))`")

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        layer = _layer(self, original)
        if layer is None:
            return updated
        args = list(updated.args)
        renamed = dict(_RENAMED_ARGUMENTS, **({"output_dim": "units"} if layer in _UNITS_LAYERS else {}))
        changed = []
        for i, arg in enumerate(args):
            keyword = arg.keyword.value if arg.keyword is not None else None
            if keyword in renamed:
                args[i] = arg.with_changes(keyword=cst.Name(renamed[keyword]))
                changed.append(f"{keyword}= -> {renamed[keyword]}=")
            elif keyword == "dim_ordering" and isinstance(arg.value, cst.SimpleString):
                data_format = {"tf": "channels_last", "th": "channels_first"}.get(arg.value.evaluated_value)
                if data_format is not None:
                    args[i] = keyword_arg("data_format", cst.SimpleString(f'"{data_format}"')).with_changes(
                        comma=arg.comma)
                    changed.append(f"dim_ordering= -> data_format={data_format!r}")
        positional = positional_args(updated)
        # Keras 1's Convolution2D(nb_filter, nb_row, nb_col): two sizes, not one.
        if layer == "Conv2D" and len(positional) >= 3 and all(isinstance(a.value, (cst.Integer, cst.Name))
                                                               for a in positional[1:3]):
            kernel = cst.Tuple([cst.Element(positional[1].value, comma=_COMMA), cst.Element(positional[2].value)])
            args = [a.with_changes(value=kernel) if a is positional[1] else a for a in args if a is not positional[2]]
            changed.append("separate kernel sizes -> one tuple")
        rows, cols = find_kwarg(updated, "nb_row"), find_kwarg(updated, "nb_col")
        if rows is not None and cols is not None:
            kernel = cst.Tuple([cst.Element(rows.value, comma=_COMMA), cst.Element(cols.value)])
            args = [keyword_arg("kernel_size", kernel).with_changes(comma=a.comma) if a.keyword is rows.keyword
                    else a for a in args if a.keyword is not cols.keyword]
            changed.append("nb_row=, nb_col= -> kernel_size=")
        if not changed:
            return updated
        self.changed(original, f"{layer}: {', '.join(changed)}")
        return with_args(updated, args)


def _has_numpy_call(rule: Rule, node: cst.BaseExpression) -> bool:
    for call in m.findall(node, m.Call()):
        qualified = rule.scope.qualify(call.func)  # type: ignore[attr-defined]
        if qualified is not None and qualified.split(".")[0] == "numpy":
            return True
    return False


class IntLayerSizesRule(Rule):
    """``Dense(n_classes)`` where ``n_classes`` comes from NumPy -> ``Dense(int(n_classes))``."""

    name = "int-layer-sizes"
    summary = ("layer sizes computed with NumPy (e.g. `1 + max(np.append(y_train, y_test))`) wrapped in `int(...)`: "
               "Keras 3 accepts only Python ints")

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        layer = _layer(self, original)
        if layer not in _SIZED_LAYERS:
            return updated
        size = find_kwarg(updated, "units") or find_kwarg(updated, "filters")
        if size is None:
            positional = positional_args(updated)
            size = positional[0] if positional else None
        if size is None:
            return updated
        value = size.value
        numpy_valued = (isinstance(value, cst.Name) and value.value in self.scope.numpy_valued) or (
            not isinstance(value, cst.Name) and _has_numpy_call(self, value))
        if not numpy_valued:
            return updated
        self.changed(original, f"{layer}: size wrapped in int()")
        wrapped = cst.Call(func=cst.Name("int"), args=[cst.Arg(value)])
        return updated.with_changes(args=[a.with_changes(value=wrapped) if a is size else a for a in updated.args])


class ChannelsFirstRule(Rule):
    """Reports channels-first input shapes; it cannot know the data's layout."""

    name = "channels-first"
    summary = "reports `input_shape=(1, h, w)` / `(3, h, w)` and `dim_ordering='th'` settings (channels first)"

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        shape = find_kwarg(original, "input_shape")
        if shape is not None and isinstance(shape.value, (cst.Tuple, cst.List)) and len(shape.value.elements) == 3:
            first, last = shape.value.elements[0].value, shape.value.elements[2].value
            if (isinstance(first, cst.Integer) and first.evaluated_value in (1, 3)
                    and not (isinstance(last, cst.Integer) and last.evaluated_value in (1, 3, 4))):
                self.report(shape, "input_shape looks channels-first (channels, height, width)",
                            "Keras 3 layers expect channels-last images unless the data format is set",
                            "reshape the images to (n, height, width, channels) and use input_shape=(height, width, "
                            "channels), or call keras.config.set_image_data_format('channels_first')")
        target = self.canonical(original.func) or ""
        if target.endswith(("set_image_dim_ordering", "image_dim_ordering")):
            self.report(original, f"{target.rsplit('.', 1)[1]}() does not exist in Keras 3",
                        "Keras 2.0 renamed it (dim ordering 'th'/'tf' became data format "
                        "'channels_first'/'channels_last')",
                        "call keras.config.set_image_data_format('channels_last') (or 'channels_first')")
        return updated


class StatefulLayersRule(Rule):
    """``LSTM(..., stateful=True)`` -> ``keraslab.layers.LSTM`` (Keras 3's drops state inside fit on JAX)."""

    name = "stateful-layers"
    summary = ("`LSTM`/`GRU`/`SimpleRNN` with `stateful=True` -> `keraslab.layers.*`, whose state survives "
               "`fit`/`predict` on JAX")

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        layer = _layer(self, original)
        stateful = find_kwarg(original, "stateful")
        if layer not in _STATEFUL_LAYERS or stateful is None:
            return updated
        if isinstance(stateful.value, cst.Name) and stateful.value.value == "False":
            return updated
        self.need_import("keraslab.layers")
        self.changed(original, f"{layer}(stateful=...) -> keraslab.layers.{layer}")
        return updated.with_changes(func=cst.parse_expression(f"keraslab.layers.{layer}"))


class ResetStatesRule(Rule):
    """``model.reset_states()`` -> ``reset_stateful_layers(model)`` (Keras 3 models have no reset_states)."""

    name = "reset-states"
    summary = "`model.reset_states()` -> `keraslab.layers.reset_stateful_layers(model)`"

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        if not (isinstance(updated.func, cst.Attribute) and updated.func.attr.value == "reset_states"
                and not updated.args):
            return updated
        self.need_import("keraslab.layers", "reset_stateful_layers")
        self.changed(original, "reset_states() -> reset_stateful_layers()")
        return cst.Call(func=cst.Name("reset_stateful_layers"), args=[cst.Arg(updated.func.value)])


class BatchInputShapeRule(Rule):
    """``model.add(LSTM(..., batch_input_shape=s))`` -> ``model.add(keras.Input(batch_shape=s))`` first."""

    name = "batch-input-shape"
    summary = ("`Layer(..., batch_input_shape=s)` -> a `keras.Input(batch_shape=s)` added before it "
               "(`model.add(...)` or the first item of `Sequential([...])`)")

    def __init__(self, context) -> None:
        super().__init__(context)
        self._placeable: set[int] = set()  # layer calls whose input can be placed before them
        self._inputs: list[tuple[cst.BaseExpression, cst.BaseExpression]] = []  # (receiver, shape) for .add
        self._pending: list[cst.BaseExpression] = []  # shapes taken off a layer, not yet placed

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "add" and len(node.args) == 1:
            self._placeable.add(id(node.args[0].value))

    def visit_List(self, node: cst.List) -> None:
        if node.elements:
            self._placeable.add(id(node.elements[0].value))

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        if isinstance(original.func, cst.Attribute) and original.func.attr.value == "add" and self._pending:
            self._inputs.append((updated.func.value, self._pending.pop()))  # type: ignore[attr-defined]
            return updated
        shape = find_kwarg(updated, "batch_input_shape")
        if shape is None:
            return updated
        if id(original) not in self._placeable:
            self.report(original, "batch_input_shape= on a layer that is not added to a Sequential model",
                        "Keras 3 layers do not take it",
                        "create the input with keras.Input(batch_shape=...) and call the layer on it")
            return updated
        self._pending.append(shape.value)
        self.changed(original, "batch_input_shape= -> keras.Input(batch_shape=...)")
        return with_args(updated, [a for a in updated.args if a is not shape])

    def _input(self, shape: cst.BaseExpression) -> cst.Call:
        self.need_import("keras")
        return cst.Call(func=cst.parse_expression("keras.Input"), args=[keyword_arg("batch_shape", shape)])

    def leave_List(self, original: cst.List, updated: cst.List):
        if not self._pending or not updated.elements:
            return updated
        element = cst.Element(self._input(self._pending.pop()), comma=_COMMA)
        return updated.with_changes(elements=[element, *updated.elements])

    def leave_SimpleStatementLine(self, original, updated):
        if not self._inputs:
            return updated
        statements = []
        for receiver, shape in self._inputs:
            add = cst.Call(func=cst.Attribute(receiver, cst.Name("add")), args=[cst.Arg(self._input(shape))])
            statements.append(cst.SimpleStatementLine(body=[cst.Expr(add)], leading_lines=updated.leading_lines))
        self._inputs.clear()
        return cst.FlattenSentinel([*statements, updated.with_changes(leading_lines=[])])


LAYER_RULES = [Keras1ArgumentsRule, IntLayerSizesRule, ChannelsFirstRule, StatefulLayersRule, ResetStatesRule]
LINE_INSERTING_RULES = [BatchInputShapeRule]
