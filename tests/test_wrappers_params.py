"""Parameters of the wrappers: scikit-learn's get/set/clone contract and routing at fit time."""

import copy

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV

from chapter_models import make_model, small_model
from keraslab import KerasClassifier, KerasRegressor
from keraslab.errors import KeraslabError


def test_every_keyword_is_a_parameter_and_clone_round_trips():
    clf = KerasClassifier(build_fn=make_model, number_of_layers=3, neurons_per_layer=20, optimizer="adadelta",
                          epochs=7, batch_size=64, verbose=0, fit__validation_freq=2)
    params = clf.get_params()
    assert params["number_of_layers"] == 3 and params["optimizer"] == "adadelta"
    assert params["epochs"] == 7 and params["fit__validation_freq"] == 2
    twin = clone(clf)
    assert twin.get_params() == params
    assert twin.epochs == 7  # Keras' own wrapper loses fit settings on clone


def test_set_params_accepts_build_fn_defaults_not_passed_to_constructor():
    clf = KerasClassifier(build_fn=make_model)
    assert "dropout_ratio" not in clf.get_params()
    clf.set_params(dropout_ratio=0.4)
    assert clf.get_params()["dropout_ratio"] == 0.4
    assert clf.searchable_params()["neurons_per_layer"] == 32


def test_unknown_parameter_names_the_nearest_accepted_one():
    clf = KerasClassifier(build_fn=make_model)
    with pytest.raises(ValueError, match=r"unknown parameter 'neurons_per_layr'.*Did you mean 'neurons_per_layer'"):
        clf.set_params(neurons_per_layr=5)
    typo = KerasClassifier(build_fn=make_model, numbr_of_layers=2)
    with pytest.raises(KeraslabError, match=r"Did you mean 'number_of_layers'.*Accepted names:.*epochs"):
        typo.fit(np.zeros((4, 784), "float32"), [0, 1, 0, 1])


def test_init_stores_only_and_does_not_mutate_caller_objects():
    callbacks = []
    fit_kwargs = {"fit__validation_freq": 1}
    clf = KerasClassifier(build_fn=small_model, callbacks=callbacks, **fit_kwargs)
    assert clf.callbacks is callbacks
    X = np.random.RandomState(0).rand(40, 5).astype("float32")
    y = np.arange(40) % 2
    weights = np.ones(40)
    before = (X.copy(), y.copy(), weights.copy(), copy.copy(fit_kwargs))
    clf.set_params(class_weight={0: 2.0, 1: 1.0}).fit(X, y, sample_weight=weights)
    assert callbacks == [] and fit_kwargs == before[3]
    np.testing.assert_array_equal(X, before[0])
    np.testing.assert_array_equal(y, before[1])
    np.testing.assert_array_equal(weights, before[2])


def _compiled(clf, X, y):
    return clf.fit(X, y).model_


@pytest.mark.parametrize("optimizer", ["adam", "adadelta", "sgd"])
def test_optimizer_in_build_fn_signature_reaches_the_model(optimizer, mnist_small):
    X, y = mnist_small[0][:64], mnist_small[1][:64]
    model = _compiled(KerasClassifier(build_fn=make_model, optimizer=optimizer, epochs=1), X, y)
    assert type(model.optimizer).__name__.lower() == optimizer


def test_optimizer_loss_and_learning_rate_not_in_signature_recompile_the_model():
    X = np.random.RandomState(0).rand(50, 4).astype("float32")
    y = np.arange(50) % 3
    clf = KerasClassifier(build_fn=small_model, optimizer="rmsprop", learning_rate=0.05,
                          loss="categorical_crossentropy", epochs=1)
    model = _compiled(clf, X, y)
    assert type(model.optimizer).__name__ == "RMSprop"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    assert model.loss == "categorical_crossentropy"
    # A grid over the learning rate must reach the model: each candidate's model differs.
    search = GridSearchCV(KerasClassifier(build_fn=small_model, epochs=1),
                          {"learning_rate": [0.5, 0.001]}, cv=2, refit=True).fit(X, y)
    assert float(search.best_estimator_.model_.optimizer.learning_rate) == pytest.approx(
        search.best_params_["learning_rate"])


def test_prefixed_names_route_to_fit_compile_and_predict():
    X = np.random.RandomState(0).rand(30, 4).astype("float32")
    y = np.arange(30) % 2
    clf = KerasClassifier(build_fn=small_model, compile__jit_compile=False, fit__validation_freq=1,
                          predict__batch_size=7, model__hidden=3, epochs=1).fit(X, y)
    assert clf.model_.layers[0].units == 3
    assert clf.model_.jit_compile is False
    assert clf.predict(X).shape == (30,)


def test_regressor_parameters_and_data_derived_n_outputs():
    from chapter_models import regression_model

    X = np.random.RandomState(1).rand(40, 3).astype("float32")
    Y = np.column_stack([X.sum(1), X[:, 0] - X[:, 1]])
    reg = KerasRegressor(build_fn=regression_model, hidden=4, epochs=1).fit(X, Y)
    assert reg.model_.output_shape == (None, 2)
    assert reg.predict(X).shape == (40, 2)
    assert clone(reg).get_params()["hidden"] == 4


def test_a_model_instance_as_build_fn_is_cloned_for_every_fresh_fit():
    import keras

    X = np.random.RandomState(0).rand(40, 4).astype("float32")
    y = np.arange(40) % 2
    template = small_model((4,), 2)
    template.compile(loss="sparse_categorical_crossentropy", optimizer="sgd")
    clf = KerasClassifier(build_fn=template, epochs=1).fit(X, y)
    assert clf.model_ is not template and type(clf.model_.optimizer).__name__ == "SGD"
    first = clf.model_
    assert clf.fit(X, y).model_ is not first
    assert clone(clf).build_fn is not template  # clone deep-copies parameters, as scikit-learn does
    assert isinstance(clone(clf).build_fn, keras.Model)
