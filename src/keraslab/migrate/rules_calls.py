"""Rules on training calls: optimizer arguments, the ``*_generator`` methods, ``nb_epoch``."""

from __future__ import annotations

import libcst as cst

from keraslab.migrate.base import Rule, call_name, find_kwarg, keyword_arg, positional_args, with_args

__all__ = ["CALL_RULES", "OptimizerArgsRule", "GeneratorMethodsRule", "NbEpochRule"]

_WRAPPERS = frozenset({"keraslab.KerasClassifier", "keraslab.KerasRegressor"})


class OptimizerArgsRule(Rule):
    """``Adam(lr=x)`` -> ``Adam(learning_rate=x)``; ``decay=d`` -> an ``InverseTimeDecay`` schedule."""

    name = "optimizer-lr"
    summary = ("`lr=` -> `learning_rate=` on optimizers; `decay=d` -> "
               "`learning_rate=InverseTimeDecay(lr, decay_steps=1, decay_rate=d)` (Keras 2's formula)")

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        target = self.canonical(original.func) or ""
        if not target.startswith("keras.optimizers.") or target.count(".") != 2:
            return updated
        lr = find_kwarg(updated, "lr") or find_kwarg(updated, "learning_rate")
        decay = find_kwarg(updated, "decay")
        args = list(updated.args)
        if decay is not None:
            if lr is None:
                self.report(original, f"{target.rsplit('.', 1)[1]}(decay=...) without a learning rate",
                            "Keras 3 optimizers have no decay and this optimizer's Keras 2 default rate is not "
                            "restated here", "pass learning_rate=keras.optimizers.schedules.InverseTimeDecay("
                            "<rate>, decay_steps=1, decay_rate=<decay>)")
                return updated
            schedule = cst.Call(
                func=cst.parse_expression("keras.optimizers.schedules.InverseTimeDecay"),
                args=[cst.Arg(lr.value, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                      keyword_arg("decay_steps", cst.Integer("1")).with_changes(
                          comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))),
                      keyword_arg("decay_rate", decay.value)],
            )
            self.need_import("keras")
            args = [a for a in args if a is not decay]
            args = [keyword_arg("learning_rate", schedule).with_changes(comma=a.comma) if a is lr else a for a in args]
            self.changed(original, "decay= -> InverseTimeDecay learning-rate schedule")
            return with_args(updated, args)
        if lr is not None and lr.keyword.value == "lr":  # type: ignore[union-attr]
            self.changed(original, "lr= -> learning_rate=")
            return updated.with_changes(args=[a.with_changes(keyword=cst.Name("learning_rate")) if a is lr else a
                                              for a in args])
        return updated


# Keras 2 positional order after the generator, to turn extra positional arguments into keywords.
_GENERATOR_ORDER = {
    "fit_generator": ("steps_per_epoch", "epochs", "verbose", "callbacks", "validation_data", "validation_steps",
                      "validation_freq", "class_weight", "max_queue_size", "workers", "use_multiprocessing",
                      "shuffle", "initial_epoch"),
    "evaluate_generator": ("steps", "callbacks", "max_queue_size", "workers", "use_multiprocessing", "verbose"),
    "predict_generator": ("steps", "callbacks", "max_queue_size", "workers", "use_multiprocessing", "verbose"),
}
_DATASET_OPTIONS = {"workers": "workers", "use_multiprocessing": "use_multiprocessing",
                    "max_queue_size": "max_queue_size", "nb_worker": "workers", "pickle_safe": "use_multiprocessing",
                    "max_q_size": "max_queue_size"}


class GeneratorMethodsRule(Rule):
    """``fit_generator`` & co. -> ``fit``/``evaluate``/``predict``; data-loading options move to the dataset."""

    name = "fit-generator"
    summary = ("`fit_generator` / `evaluate_generator` / `predict_generator` -> `fit` / `evaluate` / `predict`; "
               "`workers`, `use_multiprocessing`, `max_queue_size` moved into the dataset's constructor call")

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        method = call_name(original)
        generator_method = isinstance(original.func, cst.Attribute) and method in _GENERATOR_ORDER
        if not (generator_method or (isinstance(original.func, cst.Attribute) and method in ("fit", "evaluate", "predict")
                                     and any(find_kwarg(original, k) for k in _DATASET_OPTIONS))):
            return updated
        args = list(updated.args)
        positional = positional_args(updated)
        if generator_method and len(positional) > 1:
            order = _GENERATOR_ORDER[method]
            if len(positional) - 1 > len(order):
                return updated
            named = {id(a): keyword_arg(order[i], a.value).with_changes(comma=a.comma)
                     for i, a in enumerate(positional[1:])}
            args = [named.get(id(a), a) for a in args]
        options = [a for a in args if a.keyword is not None and a.keyword.value in _DATASET_OPTIONS]
        args = [a for a in args if a not in options]
        dataset = args[0] if args and args[0].keyword is None else None
        if options:
            moved = [keyword_arg(_DATASET_OPTIONS[a.keyword.value], a.value) for a in options]  # type: ignore[union-attr]
            if dataset is not None and _makes_dataset(dataset.value):
                inner = dataset.value
                inner = with_args(inner, [*inner.args, *moved]) if inner.args else inner.with_changes(args=moved)
                args[0] = dataset.with_changes(value=inner)
                self.changed(original, "workers/use_multiprocessing/max_queue_size moved into the dataset")
            else:
                self.report(original, f"{method}(workers=..., use_multiprocessing=..., max_queue_size=...) dropped",
                            "in Keras 3 these belong to the PyDataset, not to fit/evaluate/predict",
                            "pass them to your dataset's constructor, which forwards them to "
                            "super().__init__(workers=..., use_multiprocessing=..., max_queue_size=...)")
        for old in ("samples_per_epoch", "nb_val_samples"):
            arg = find_kwarg(updated, old)
            if arg is None:
                continue
            original_arg = find_kwarg(original, old)
            if old == "samples_per_epoch" and m_len_call(arg.value):
                args = [a for a in args if a is not arg]
                self.changed(original, "samples_per_epoch=len(...) dropped: a PyDataset epoch is one pass")
            else:
                self.report(original_arg, f"{old}= counts samples", "Keras 3 counts batches (steps_per_epoch, "
                            "validation_steps) and runs one pass over a PyDataset per epoch by default",
                            f"remove {old}=, or pass {'steps_per_epoch' if old == 'samples_per_epoch' else 'validation_steps'}"
                            "=<samples> // <batch size>")
        new = updated
        if generator_method:
            new = new.with_changes(func=updated.func.with_changes(attr=cst.Name(method.replace("_generator", ""))))
            self.changed(original, f"{method} -> {method.replace('_generator', '')}")
        return with_args(new, args)


def _makes_dataset(node: cst.BaseExpression) -> bool:
    """``gen.flow(...)`` or ``SomeDataset(...)``: a call whose result takes PyDataset's options.

    Anything else (``np.array(...)``, ``make_batches(...)``) might not accept them.
    """
    if not isinstance(node, cst.Call):
        return False
    name = call_name(node) or ""
    return name.startswith("flow") or name[:1].isupper()


def m_len_call(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "len"


class NbEpochRule(Rule):
    """``nb_epoch=`` -> ``epochs=`` in ``fit`` calls and scikit-learn wrappers."""

    name = "nb-epoch"
    summary = "`nb_epoch=` -> `epochs=` (fit calls, KerasClassifier/KerasRegressor)"

    def leave_Call(self, original: cst.Call, updated: cst.Call):
        arg = find_kwarg(updated, "nb_epoch")
        if arg is None:
            return updated
        wrapper = self.canonical(original.func) in _WRAPPERS
        if not wrapper and call_name(original) not in ("fit", "fit_generator"):
            return updated
        original_arg = find_kwarg(original, "nb_epoch")  # positions are known for original nodes only
        if find_kwarg(updated, "epochs") is not None:
            self.report(original_arg, "both nb_epoch= and epochs= given", "Keras 2 used epochs and ignored nb_epoch",
                        "remove nb_epoch=")
            return updated
        self.changed(original, "nb_epoch= -> epochs=")
        if wrapper:
            self.report(original_arg, "nb_epoch= is now epochs= on the scikit-learn wrapper",
                        "Keras 2's wrapper ignored nb_epoch and trained 1 epoch per fit, so results and run time "
                        "will differ from the old run", "check that the epoch count is what you meant")
        return updated.with_changes(args=[a.with_changes(keyword=cst.Name("epochs")) if a is arg else a
                                          for a in updated.args])


CALL_RULES = [OptimizerArgsRule, GeneratorMethodsRule, NbEpochRule]
