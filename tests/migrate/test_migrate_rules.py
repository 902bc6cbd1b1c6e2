"""One snippet of our own Keras 2-style code per rule: the exact migration, and what is reported."""

from __future__ import annotations

import textwrap

import pytest

from keraslab.migrate import migrate_source, rules
from keraslab.migrate.names import canonical


def migrate(code: str):
    new, result = migrate_source(textwrap.dedent(code), "snippet.py")
    assert result.error is None
    return new, result


CASES = {
    "tf-keras": (
        """\
        import tensorflow as tf
        from tensorflow.keras.layers import Dense  # keep this comment
        model = tf.keras.models.Sequential([Dense(2)])
        """,
        """\
        from keras.layers import Dense  # keep this comment
        import keras

        model = keras.models.Sequential([Dense(2)])
        """,
    ),
    "keras-submodules": (
        """\
        from keras.layers.core import Dense, Flatten
        from keras.utils.np_utils import to_categorical
        """,
        """\
        from keras.layers import Dense, Flatten
        from keras.utils import to_categorical
        """,
    ),
    "sklearn-wrapper": (
        "from keras.wrappers.scikit_learn import KerasClassifier, KerasRegressor\n",
        "from keraslab import KerasClassifier, KerasRegressor\n",
    ),
    "image-data-generator": (
        """\
        from keras.preprocessing.image import ImageDataGenerator, img_to_array
        gen = ImageDataGenerator(rotation_range=15, horizontal_flip=True)
        """,
        """\
        from keraslab.data import ImageAugmenter
        from keras.preprocessing.image import img_to_array
        gen = ImageAugmenter(rotation_range=15, horizontal_flip=True)
        """,
    ),
    "sequence-pydataset": (
        """\
        from keras.utils import Sequence
        class Batches(Sequence):
            def __init__(self, n):
                \"\"\"Doc.\"\"\"
                self.n = n
        """,
        """\
        from keras.utils import PyDataset
        class Batches(PyDataset):
            def __init__(self, n, **kwargs):
                \"\"\"Doc.\"\"\"
                super().__init__(**kwargs)
                self.n = n
        """,
    ),
    "keras1-layers": (
        """\
        from keras.layers import Convolution2D, Dense
        from keras.constraints import maxnorm
        a = Convolution2D(32, 3, 3, border_mode='same', subsample=(2, 2), init='he_normal', W_constraint=maxnorm(3))
        b = Dense(output_dim=10, dim_ordering='tf')
        """,
        """\
        from keras.layers import Conv2D, Dense
        from keras.constraints import MaxNorm
        a = Conv2D(32, (3, 3), padding='same', strides=(2, 2), kernel_initializer='he_normal', kernel_constraint=MaxNorm(3))
        b = Dense(units=10, data_format="channels_last")
        """,
    ),
    "tf-ops": (
        """\
        import numpy as np
        import tensorflow as tf
        x = tf.convert_to_tensor(np.zeros(3))
        """,
        """\
        import numpy as np
        import keras

        x = keras.ops.convert_to_tensor(np.zeros(3))
        """,
    ),
    "optimizer-lr": (
        """\
        from keras.optimizers import Adam, SGD
        a = Adam(lr=0.01)
        b = SGD(lr=0.1, decay=1e-6, momentum=0.9)
        """,
        """\
        from keras.optimizers import Adam, SGD
        import keras

        a = Adam(learning_rate=0.01)
        b = SGD(learning_rate=keras.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=1e-6), momentum=0.9)
        """,
    ),
    "fit-generator": (
        """\
        model.fit_generator(gen.flow(x, y, batch_size=32), 100, 5, workers=4, use_multiprocessing=True)
        model.predict_generator(batches, steps=3)
        """,
        """\
        model.fit(gen.flow(x, y, batch_size=32, workers=4, use_multiprocessing=True), steps_per_epoch=100, epochs=5)
        model.predict(batches, steps=3)
        """,
    ),
    "nb-epoch": (
        "history = model.fit(x, y, nb_epoch=10, batch_size=32)\n",
        "history = model.fit(x, y, epochs=10, batch_size=32)\n",
    ),
    "batch-input-shape": (
        """\
        from keras.models import Sequential
        from keras.layers import Dense
        model = Sequential()
        if True:
            # the first layer
            model.add(Dense(4, batch_input_shape=(1, 3)))
        other = Sequential([Dense(4, batch_input_shape=(2, 3)), Dense(1)])
        """,
        """\
        from keras.models import Sequential
        from keras.layers import Dense
        import keras

        model = Sequential()
        if True:
            # the first layer
            model.add(keras.Input(batch_shape=(1, 3)))
            model.add(Dense(4))
        other = Sequential([keras.Input(batch_shape=(2, 3)), Dense(4), Dense(1)])
        """,
    ),
    "reset-states": (
        "model.reset_states()\n",
        "from keraslab.layers import reset_stateful_layers\n\nreset_stateful_layers(model)\n",
    ),
    "stateful-layers": (
        """\
        from keras.layers import LSTM, GRU
        a = LSTM(8, stateful=True)
        b = GRU(8, stateful=False)
        """,
        """\
        from keras.layers import LSTM, GRU
        import keraslab.layers

        a = keraslab.layers.LSTM(8, stateful=True)
        b = GRU(8, stateful=False)
        """,
    ),
    "cast-to-floatx": (
        """\
        import numpy as np
        from keras import backend as K
        x = K.cast_to_floatx(images)
        """,
        """\
        import numpy as np
        from keras import backend as K
        x = np.asarray(images, dtype=K.floatx())
        """,
    ),
    "int-layer-sizes": (
        """\
        import numpy as np
        from keras.layers import Dense
        n_classes = 1 + max(np.append(y_train, y_test))
        width = 32
        out = Dense(n_classes, activation='softmax')
        hidden = Dense(width)
        """,
        """\
        import numpy as np
        from keras.layers import Dense
        n_classes = 1 + max(np.append(y_train, y_test))
        width = 32
        out = Dense(int(n_classes), activation='softmax')
        hidden = Dense(width)
        """,
    ),
    "load-mnist": (
        """\
        from keras.datasets import mnist
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
        """,
        """\
        from keras.datasets import mnist
        from keraslab.data import load_mnist

        (x_train, y_train), (x_test, y_test) = load_mnist()
        """,
    ),
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_each_rule_rewrites_its_snippet_exactly(rule):
    before, after = CASES[rule]
    new, result = migrate(before)
    assert new == textwrap.dedent(after)
    assert rule in result.rules_fired()


def test_every_rule_has_a_snippet_and_a_summary():
    table = rules()
    assert set(CASES) | {"channels-first"} == set(table)
    assert all(summary for summary in table.values())


def test_aliases_reach_the_same_names():
    assert canonical("tensorflow.keras.layers.core.Dense") == ("keras.layers.Dense", ["tf-keras", "keras-submodules"])
    new, _ = migrate("""\
        from tensorflow.keras import backend as keras_backend, layers
        x = keras_backend.cast_to_floatx(y)
        c = layers.Convolution2D(4, 3, 3)
        """)
    assert "from keras import backend as keras_backend, layers" in new
    assert "numpy.asarray(y, dtype=keras_backend.floatx())" in new and "import numpy" in new
    assert "layers.Conv2D(4, (3, 3))" in new


def test_code_already_on_keras_3_is_left_byte_for_byte():
    code = "import keras\n\n# a comment\nmodel = keras.Sequential([keras.layers.Dense(3)])  # trailing\n"
    new, result = migrate(code)
    assert new == code and not result.changes and not result.changed


def test_what_cannot_be_rewritten_is_reported_with_line_why_and_fix():
    _, result = migrate("""\
        from keras.preprocessing.image import ImageDataGenerator
        from keras.layers import Conv2D
        from keras.optimizers import Adam
        from keras import backend as K
        gen = ImageDataGenerator(rotation_range=5,
                                 preprocessing_function=f)
        conv = Conv2D(8, (3, 3), input_shape=(1, 28, 28))
        opt = Adam(decay=0.1)
        K.set_image_dim_ordering('th')
        model.fit_generator(batches, workers=4)
        """)
    lines = {(f.rule, f.line) for f in result.findings}
    assert lines == {("image-data-generator", 6), ("channels-first", 7), ("optimizer-lr", 8),
                     ("channels-first", 9), ("fit-generator", 10)}
    text = [str(f) for f in result.findings]
    assert text[0].startswith("snippet.py:6: ImageDataGenerator(preprocessing_function=...) has no ImageAugmenter")
    assert all(f.why and f.fix for f in result.findings)
    # Reported, not guessed: the decay without a rate stays as it was.
    assert "Adam(decay=0.1)" in result.migrated


def test_wrapper_nb_epoch_is_renamed_and_the_changed_behaviour_reported():
    new, result = migrate("""\
        from keras.wrappers.scikit_learn import KerasClassifier
        clf = KerasClassifier(build_fn=make, nb_epoch=100, verbose=0)
        """)
    assert "KerasClassifier(build_fn=make, epochs=100, verbose=0)" in new
    (finding,) = result.findings
    assert finding.line == 2 and "trained 1 epoch" in finding.why


def test_a_syntax_error_is_one_line_naming_the_file_and_nothing_changes():
    new, result = migrate_source("def broken(:\n    pass\n", "bad.py")
    assert new == "def broken(:\n    pass\n"
    assert result.error.startswith("bad.py:2: cannot parse") and "\n" not in result.error


def test_docstring_examples_run():
    import doctest

    import keraslab.migrate
    import keraslab.migrate.names

    assert doctest.testmod(keraslab.migrate).failed == 0
    assert doctest.testmod(keraslab.migrate.names).failed == 0


def test_loader_options_move_only_into_calls_that_make_datasets_and_star_imports_move():
    new, result = migrate("""\
        from tensorflow.keras.layers import *
        model.fit(np.array(x), y, workers=2)
        model.fit(Batches(x), workers=2)
        """)
    assert new.splitlines() == ["from keras.layers import *", "model.fit(np.array(x), y)", "model.fit(Batches(x, workers=2))"]
    assert [(f.rule, f.line) for f in result.findings] == [("fit-generator", 2)]


def test_tensorflow_import_stays_and_is_reported_when_other_tf_calls_remain():
    new, result = migrate("""\
        import tensorflow as tf
        x = tf.constant(1)
        y = tf.keras.layers.Dense(2)
        """)
    assert new.splitlines()[:2] == ["import tensorflow as tf", "import keras"]
    assert "y = keras.layers.Dense(2)" in new
    (finding,) = result.findings
    assert (finding.line, finding.rule) == (1, "tf-ops") and "tf.constant" in finding.what
