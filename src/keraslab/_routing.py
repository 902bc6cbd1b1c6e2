"""Split a wrapper's flat parameters into build / compile / fit / predict arguments.

The chapter writes ``KerasClassifier(build_fn=make_model, number_of_layers=2,
optimizer="adam", epochs=100)``: one flat namespace, so that ``GridSearchCV`` can
address ``model_step__number_of_layers``. At fit time each name must reach the right
place, and a misspelled name must be an error rather than a silently ignored
setting (the failure mode that made SciKeras train every ``optimizer`` candidate
with Adam).

Rules, in order:

1. ``model__x``, ``compile__x``, ``fit__x``, ``predict__x`` go where their prefix says.
2. A name in ``build_fn``'s signature goes to ``build_fn`` (also when it is one of the
   wrapper's own names such as ``batch_size``: a stateful model needs it too).
3. The wrapper's own fit/predict names go to ``model.fit`` / ``model.predict``.
4. ``optimizer``, ``loss``, ``metrics``, ``learning_rate`` that ``build_fn`` does not
   take are applied by (re)compiling the built model.
5. Anything else is an error that lists the accepted names and suggests the nearest.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field
from typing import Any, Callable

from keraslab.errors import KeraslabValueError

PREFIXES = ("model", "compile", "fit", "predict")

#: The wrapper's own parameters that go to ``model.fit``.
FIT_NAMES = ("epochs", "batch_size", "verbose", "validation_split", "shuffle")
#: The wrapper's own parameters that go to ``model.predict``.
PREDICT_NAMES = ("batch_size", "verbose")
#: Compile settings the wrapper applies itself when ``build_fn`` does not take them.
COMPILE_NAMES = ("optimizer", "loss", "metrics", "learning_rate")
#: ``fit__`` names that carry labels or per-fit state: the wrapper handles them exactly as
#: its own parameter of the same name (``fit__class_weight`` is ``class_weight``), so a
#: dict keyed by the user's labels is encoded instead of reaching Keras raw.
MANAGED_FIT = ("class_weight", "validation_data", "callbacks")
#: ``fit__`` / ``predict__`` names the wrapper itself passes: refused with the right spelling.
_REFUSED = {
    "fit": {"x": "pass X to fit()", "y": "pass y to fit()", "sample_weight": "pass fit(X, y, sample_weight=...)",
            "epochs": "set epochs=... (partial_fit always trains one epoch)"},
    "predict": {"x": "pass X to predict()"},
}
#: Names the wrapper fills from the data when ``build_fn`` asks for them.
DATA_DERIVED = ("input_shape", "n_features_in", "n_classes", "n_outputs", "multilabel")


@dataclass
class Routed:
    """Where each parameter goes for one fit."""

    build: dict[str, Any] = field(default_factory=dict)
    compile: dict[str, Any] = field(default_factory=dict)
    fit: dict[str, Any] = field(default_factory=dict)
    predict: dict[str, Any] = field(default_factory=dict)
    #: ``fit__`` arguments the wrapper handles itself (labels to encode, copies to make).
    managed: dict[str, Any] = field(default_factory=dict)


def signature_names(build_fn: Callable[..., Any] | None) -> tuple[set[str], bool]:
    """Return ``build_fn``'s keyword names and whether it accepts ``**kwargs``."""
    if build_fn is None:
        return set(), False
    try:
        params = inspect.signature(build_fn).parameters.values()
    except (TypeError, ValueError):  # builtins, some C callables: nothing to inspect
        return set(), True
    names = {
        p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params)
    return names, var_kw


def signature_defaults(build_fn: Callable[..., Any] | None) -> dict[str, Any]:
    """``build_fn``'s parameters that have defaults: all searchable by name."""
    if build_fn is None:
        return {}
    try:
        params = inspect.signature(build_fn).parameters.values()
    except (TypeError, ValueError):
        return {}
    return {p.name: p.default for p in params if p.default is not p.empty}


def is_routable(name: str, build_fn: Callable[..., Any] | None, own_names: set[str]) -> bool:
    """Whether ``name`` would be accepted as a wrapper parameter."""
    prefix, sep, rest = name.partition("__")
    if sep and prefix in PREFIXES and rest:
        return True
    names, var_kw = signature_names(build_fn)
    return name in own_names or name in names or name in COMPILE_NAMES or var_kw


def unknown_parameter_error(
    name: str, build_fn: Callable[..., Any] | None, own_names: set[str], owner: str
) -> KeraslabValueError:
    """The error for a parameter no rule accepts: lists what is accepted, suggests the nearest."""
    names, _ = signature_names(build_fn)
    accepted = sorted(set(names) | set(own_names) | set(COMPILE_NAMES))
    close = difflib.get_close_matches(name, accepted, n=1, cutoff=0.6)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    fn_name = getattr(build_fn, "__name__", type(build_fn).__name__) if build_fn is not None else "the default model"
    return KeraslabValueError(
        f"{owner} got an unknown parameter '{name}': it is not a parameter of {fn_name}, "
        f"not one of the wrapper's own, and has no model__/compile__/fit__/predict__ prefix.{hint} "
        f"Accepted names: {', '.join(accepted)}. Received: {name}={{value}}"
    )


def route(
    params: dict[str, Any],
    build_fn: Callable[..., Any] | None,
    own_names: set[str],
    owner: str,
) -> Routed:
    """Route a wrapper's parameters (``get_params(deep=False)`` minus ``build_fn``).

    Parameters
    ----------
    params : dict
        The wrapper's parameters.
    build_fn : callable or None
        The model-making function, whose signature decides rule 2.
    own_names : set of str
        The wrapper's own parameter names (its ``__init__`` signature).
    owner : str
        The wrapper's class name, for messages.

    Returns
    -------
    Routed
    """
    names, var_kw = signature_names(build_fn)
    routed = Routed()
    for name, value in params.items():
        prefix, sep, rest = name.partition("__")
        if sep and prefix in PREFIXES and rest:
            hint = _REFUSED.get(prefix, {}).get(rest)
            if hint is not None:
                raise KeraslabValueError(
                    f"{owner} manages '{rest}' of model.{prefix}() itself, so {name} cannot be set: {hint}. "
                    f"Received: {name}={value!r}"
                )
            if prefix == "fit" and rest in MANAGED_FIT:
                routed.managed[rest] = value
                continue
            getattr(routed, "build" if prefix == "model" else prefix)[rest] = value
            continue
        placed = False
        if name in names or (var_kw and name not in own_names and name not in COMPILE_NAMES):
            if value is not None or name not in own_names:
                routed.build[name] = value
            placed = True
        if name in FIT_NAMES:
            routed.fit[name] = value
            placed = True
        if name in PREDICT_NAMES:
            routed.predict[name] = value
            placed = True
        if name in COMPILE_NAMES and name not in names:
            routed.compile[name] = value
            placed = True
        if not placed and name not in own_names:
            err = unknown_parameter_error(name, build_fn, own_names, owner)
            raise KeraslabValueError(str(err).replace("{value}", repr(value)))
    return routed
