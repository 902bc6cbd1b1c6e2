"""A resumed search notices edited code (issue #11, fault 6).

``stable_repr`` describes a function by its code (bytecode, constants, nested code,
defaults, closure values) and a Keras object by its config, so a journal written for one
``build_fn`` is refused for an edited one instead of reporting the old scores.
"""

import functools

import keras
import numpy as np
import pytest

from keraslab import KerasClassifier
from keraslab.search import JournaledGridSearchCV
from keraslab._fingerprint import stable_repr
from keraslab.search.journal import JournalMismatchError

BUILD = '''
import keras
from keras.layers import Dense

def make_model(input_shape, n_classes, hidden=4):
    model = keras.Sequential([keras.Input(input_shape), Dense(hidden, activation="relu")])
    {extra}
    model.add(Dense(n_classes, activation="softmax"))
    return model
'''


def _define(source, **names):
    """Define functions the way a module does, so edits keep module, name and signature."""
    namespace = {"__name__": "users_module", **names}
    exec(compile(source, "users_module.py", "exec"), namespace)
    return namespace


def _build(extra=""):
    return _define(BUILD.format(extra=extra))["make_model"]


def test_the_same_code_defined_twice_has_one_description():
    assert stable_repr(_build()) == stable_repr(_build())
    assert stable_repr(_build()).startswith("users_module.make_model#code=")


@pytest.mark.parametrize("edited", [
    "model.add(Dense(hidden, activation='relu'))",  # one more layer: the edit
    "model.add(keras.layers.Dropout(0.5))",
    "model.trainable = True",
])
def test_an_edited_body_changes_the_description(edited):
    assert stable_repr(_build(edited)) != stable_repr(_build())


def test_defaults_constants_closures_nested_code_and_partials_are_seen():
    def make(scale):
        def build(units=4):
            return [lambda x: x * scale, units * 2]
        return build

    assert stable_repr(make(2)) != stable_repr(make(3))       # closure value
    assert stable_repr(make(2)) == stable_repr(make(2))
    src = "def f(a, b={b}):\n    g = lambda x: x + {c}\n    return g(a) * b\n"
    base = stable_repr(_define(src.format(b=1, c=1))["f"])
    assert stable_repr(_define(src.format(b=2, c=1))["f"]) != base   # default
    assert stable_repr(_define(src.format(b=1, c=5))["f"]) != base   # constant inside a lambda
    f = _define(src.format(b=1, c=1))["f"]
    assert stable_repr(functools.partial(f, b=3)) != stable_repr(functools.partial(f, b=4))

    def recursive(n):
        return recursive(n - 1) if n else 0

    assert "recursive#code=" in stable_repr(recursive)


def test_keras_objects_are_described_by_their_config_not_their_numbered_names():
    assert stable_repr(keras.optimizers.Adam(0.02)) == stable_repr(keras.optimizers.Adam(0.02))
    assert stable_repr(keras.optimizers.Adam(0.02)) != stable_repr(keras.optimizers.Adam(0.01))
    one = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    same = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    two = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(2)])
    assert stable_repr(one) == stable_repr(same) != stable_repr(two)


def test_a_resumed_search_refuses_an_edited_build_fn_and_names_it(tmp_path):
    rng = np.random.RandomState(0)
    X, y = rng.rand(40, 3).astype("float32"), np.arange(40) % 2
    journal = str(tmp_path / "grid.sqlite")

    def search(build_fn):
        est = KerasClassifier(build_fn=build_fn, epochs=1, random_state=0)
        return JournaledGridSearchCV(est, {"hidden": [2, 4]}, cv=2, journal=journal)

    first = search(_build()).fit(X, y)
    assert first.n_fits_computed_ == 4
    assert search(_build()).fit(X, y).n_fits_reused_ == 4   # unchanged code: reused
    with pytest.raises(JournalMismatchError, match=r"estimator first differs.*make_model#code="):
        search(_build("model.add(Dense(hidden, activation='relu'))")).fit(X, y)
