"""Spec parsing, overrides and validation errors (naming the key, the file and the line)."""

from __future__ import annotations

import textwrap

import pytest

from keraslab.experiments import SpecError, load_spec, spec_from_dict
from keraslab.experiments.spec import parse_override, resolve_build
from keraslab.experiments.tomlio import dumps_toml

GOOD = """\
[experiment]
title = "tiny"

[data]
dataset = "digits"
layout = "flat"
validation_split = 0.25

[model]
build = "keraslab.zoo.dense:make_model"
number_of_layers = 1
neurons_per_layer = 16

[train]
epochs = 3
batch_size = 32

[train.early_stopping]
patience = 2

[reference]
val_acc = 0.95
"""


def write(tmp_path, text, name="exp.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_good_spec_parses_into_dataclasses(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.name == "exp" and spec.title == "tiny" and spec.kind == "train"
    assert spec.data.dataset == "digits" and spec.data.validation_split == 0.25 and spec.data.scaling == "unit"
    assert spec.model.build == "keraslab.zoo.dense:make_model"
    assert spec.model.params == {"number_of_layers": 1, "neurons_per_layer": 16}
    assert spec.train.epochs == 3 and spec.train.batch_size == 32
    assert spec.train.early_stopping == {"monitor": "val_loss", "patience": 2, "min_delta": 0.0,
                                         "restore_best_weights": False}
    assert spec.reference == {"val_acc": 0.95}
    assert spec.explore is None


def test_overrides_are_applied_then_validated(tmp_path):
    path = write(tmp_path, GOOD)
    spec = load_spec(path, ["train.epochs=5", "data.subset=600", "model.neurons_per_layer=8", "data.dataset=mnist"])
    assert (spec.train.epochs, spec.data.subset, spec.model.params["neurons_per_layer"]) == (5, 600, 8)
    assert spec.data.dataset == "mnist"
    assert spec.overrides == ("train.epochs=5", "data.subset=600", "model.neurons_per_layer=8", "data.dataset=mnist")
    with pytest.raises(SpecError, match=r"train.epochs must be an integer. Received: epochs='five'"):
        load_spec(path, ["train.epochs=five"])
    with pytest.raises(SpecError, match="section.key=value"):
        load_spec(path, ["epochs"])
    with pytest.raises(SpecError, match="names a table and a key"):
        load_spec(path, ["epochs=5"])
    # the overridden spec records its effective TOML, which parses back to the same spec
    again = spec.with_overrides([])
    assert again.raw == spec.raw and "epochs = 5" in spec.to_toml()


def test_parse_override_reads_toml_values_or_bare_words():
    assert parse_override("train.learning_rate=0.01") == ("train.learning_rate", 0.01)
    assert parse_override("train.shuffle=false") == ("train.shuffle", False)
    assert parse_override("model.units=[9, 6, 3]") == ("model.units", [9, 6, 3])
    assert parse_override("train.optimizer=adam") == ("train.optimizer", "adam")
    assert parse_override('train.optimizer="adam"') == ("train.optimizer", "adam")


@pytest.mark.parametrize(
    "change, message, line",
    [
        (("batch_size = 32", "batchsize = 32"), "unknown key 'batchsize' in [train]. Did you mean 'batch_size'?", 16),
        (("epochs = 3", 'epochs = "3"'), "train.epochs must be an integer. Received: epochs='3'", 15),
        (("epochs = 3", "epochs = 0"), "train.epochs must be a positive number. Received: epochs=0", 15),
        (('layout = "flat"', 'layout = "flt"'), "data.layout must be one of 'flat', 'image', 'sequence'", 6),
        (("validation_split = 0.25", "validation_split = 1.5"), "data.validation_split must be a number in [0, 1)", 7),
        (("neurons_per_layer = 16", "neurons = 16"), "has no parameter 'neurons'", 12),
        (("dense:make_model", "dense:make_modle"), "unknown build function 'make_modle' in keraslab.zoo.dense. "
                                                   "Did you mean keraslab.zoo.dense:make_model?", 10),
        (("keraslab.zoo.dense:", "keraslab.zoo.nothing:"), "module 'keraslab.zoo.nothing' not found", 10),
        (("patience = 2", "patience = 2\nwait = 3"), "unknown key 'wait' in [train.early_stopping]", 20),
        (("val_acc = 0.95", "val_accuracy = 0.95"), "unknown key 'val_accuracy' in [reference]. Did you mean 'val_acc'?", 22),
        (("[reference]", "[referense]"), "unknown table [referense]", 21),
    ],
)
def test_validation_errors_name_the_key_file_and_line(tmp_path, change, message, line):
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    text = str(info.value)
    assert message in text
    assert text.startswith(f"{path}, line {line}: "), text
    assert info.value.line == line and info.value.source == str(path)


def test_invalid_toml_reports_tomllib_position(tmp_path):
    path = write(tmp_path, "[train]\nepochs = = 3\n")
    with pytest.raises(SpecError, match=r"exp.toml: not valid TOML: .*line 2"):
        load_spec(path)


def test_missing_build_and_missing_file(tmp_path):
    with pytest.raises(SpecError, match=r"\[model\] needs build"):
        load_spec(write(tmp_path, "[train]\nepochs = 1\n"))
    with pytest.raises(SpecError, match="Spec file not found"):
        load_spec(tmp_path / "nope.toml")
    with pytest.raises(SpecError, match="No experiment of this name.*Did you mean b3-32-pooling-cnn"):
        load_spec("b3-32-pooling")


def test_cross_field_checks():
    base = {"model": {"build": "keraslab.zoo.rnn:lstm_regressor"}}
    with pytest.raises(SpecError, match="data.layout must be sequence for dataset 'sines'"):
        spec_from_dict({**base, "data": {"dataset": "sines", "window": 3}}, name="x")
    with pytest.raises(SpecError, match="data.window must be a positive integer for sequences"):
        spec_from_dict({**base, "data": {"dataset": "sines", "layout": "sequence"}}, name="x")
    with pytest.raises(SpecError, match="either data.validation_split or"):
        spec_from_dict({"model": {"build": "keraslab.zoo.dense:make_model"},
                        "data": {"validation_split": 0.2, "validation_data": "test"}}, name="x")
    with pytest.raises(SpecError, match="unknown key 'test_size' in \\[data.options\\]"):
        spec_from_dict({"model": {"build": "keraslab.zoo.dense:make_model"},
                        "data": {"dataset": "mnist", "options": {"test_size": 0.2}}}, name="x")
    with pytest.raises(SpecError, match=r"\[data.augment\] needs data.layout"):
        spec_from_dict({"model": {"build": "keraslab.zoo.dense:make_model"},
                        "data": {"augment": {"rotation_range": 10}}}, name="x")


def test_explore_blocks():
    model = {"build": "keraslab.zoo.dense:make_model"}
    sweep = spec_from_dict({"model": model, "explore": {"kind": "sweep", "parameter": "train.batch_size",
                                                        "values": [8, 64]}}, name="s")
    assert sweep.kind == "sweep" and sweep.explore.values == [8, 64]
    assert sweep.with_value("train.batch_size", 8).train.batch_size == 8
    grid = spec_from_dict({"model": model, "explore": {"kind": "grid", "params": {
        "model.number_of_layers": [1, 2], "train.epochs": [1, 2]}}}, name="g")
    assert grid.explore.params == {"model.number_of_layers": [1, 2], "train.epochs": [1, 2]}
    cases = [
        ({"kind": "sweep", "values": [1]}, "names the parameter it changes"),
        ({"kind": "sweep", "parameter": "train.batch_size"}, "non-empty list of values"),
        ({"kind": "sweep", "parameter": "explore.folds", "values": [2]}, "data, model or train setting"),
        ({"kind": "sweep", "parameter": "train.batch_size", "values": [8], "curves": [9]}, "subset of explore.values"),
        ({"kind": "grid"}, r"needs \[explore.params\]"),
        ({"kind": "grid", "params": {"model.layers": [1]}}, "model.layers is not a parameter of the build"),
        ({"kind": "grid", "params": {"train.shuffle": [True]}}, "Only train.epochs, batch_size"),
        ({"kind": "grid", "params": {"number_of_layers": [1]}}, "Search parameters are written"),
        ({"kind": "cv", "folds": 1}, "explore.folds must be an integer >= 2"),
        ({"kind": "bayes"}, "explore.kind must be one of"),
    ]
    for block, message in cases:
        with pytest.raises(SpecError, match=message):
            spec_from_dict({"model": model, "explore": block}, name="x")


def test_resolve_build_and_dumps_toml_round_trip():
    assert resolve_build("keraslab.zoo.cnn:pooling_cnn").__name__ == "pooling_cnn"
    with pytest.raises(SpecError, match="module:function"):
        resolve_build("keraslab.zoo.cnn.pooling_cnn")
    import tomllib

    raw = {"experiment": {"name": "x", "figures": ["B3-1"]}, "explore": {"params": {"model.n": [1, 2]}},
           "reference": {"acc": {"0.1": 0.18}, "note": 'say "hi"\nthere'}}
    assert tomllib.loads(dumps_toml(raw)) == raw


DENSE = {"build": "keraslab.zoo.dense:make_model"}


@pytest.mark.parametrize(
    "tables, message",
    [
        ({"data": 3}, "[data] must be a table. Received: data=3"),
        ({"train": {"early_stopping": 3}}, "[train.early_stopping] must be a table. Received: early_stopping=3"),
        ({"train": {"learning_rate": float("nan")}}, "train.learning_rate must be a finite number. Received: learning_rate=nan"),
        ({"train": {"shuffle": 1}}, "train.shuffle must be true or false. Received: shuffle=1"),
        ({"data": {"subset": -1}}, "data.subset must be a number >= 0. Received: subset=-1"),
        ({"data": {"dataset": "shapes", "layout": "image", "options": {"image_size": 0}}},
         "data.options.image_size must be a positive number. Received: image_size=0"),
        ({"data": {"layout": "image", "augment": {"fill_mode": "mirror"}}},
         "data.augment.fill_mode must be one of 'nearest', 'constant', 'reflect', 'wrap'. Received: fill_mode='mirror'"),
        ({"explore": {"kind": "cv", "folds": 2.0}}, "explore.folds must be an integer. Received: folds=2.0"),
        ({"explore": {"kind": "cv", "n_jobs": 0}}, "explore.n_jobs must be a positive integer or -1. Received: n_jobs=0"),
        ({"explore": {"kind": "multires", "zoom": 2, "params": {"model.optimizer": ["adam"]}}},
         "explore.zoom must be a number in (0, 1]. Received: zoom=2"),
        ({"explore": {"kind": "multires", "keep": 0, "params": {"model.optimizer": ["adam"]}}},
         'explore.keep must be "one-se", "best" or an integer >= 1. Received: keep=0'),
        ({"model": {"build": 3}}, "model.build must be a string. Received: build=3"),
    ],
)
def test_schema_errors_say_what_was_expected(tables, message):
    with pytest.raises(SpecError) as info:
        spec_from_dict({"model": DENSE, **tables}, name="x")
    assert str(info.value) == message


def test_errors_in_nested_tables_name_their_line(tmp_path):
    path = write(tmp_path, GOOD + "\n[data.options]\ntest_size = 1\n")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert str(info.value) == f"{path}, line 25: data.options.test_size must be a number in [0, 1). Received: test_size=1"
    path = write(tmp_path, GOOD.replace("patience = 2", "patience = -2"))
    with pytest.raises(SpecError, match=r"line 19: train.early_stopping.patience must be a number >= 0"):
        load_spec(path)


def test_the_models_are_the_schema():
    from pydantic import ValidationError

    from keraslab.experiments.spec import DataSpec, SpecFile, TrainSpec

    spec = spec_from_dict({"model": {**DENSE, "number_of_layers": 2},
                           "data": {"dataset": "digits", "augment": {"rotation_range": 10}, "layout": "image"},
                           "train": {"learning_rate": 1}}, name="x")
    # defaults come from the models' fields; integers given for numbers become floats
    assert spec.train == TrainSpec(learning_rate=1.0) and spec.train.learning_rate == 1.0
    assert spec.data.options == {"test_size": 0.25} and spec.data.augment == {"rotation_range": 10.0}
    assert spec.model.params == {"number_of_layers": 2} and spec.model.function().__name__ == "make_model"
    with pytest.raises(ValidationError):  # validated specs are frozen
        spec.train.epochs = 3
    assert DataSpec().model_dump()["options"] == {}
    # the same models give a JSON Schema (e.g. for editors)
    schema = SpecFile.model_json_schema()
    assert list(schema["properties"]) == ["experiment", "data", "model", "train", "explore", "reference"]
    assert schema["$defs"]["TrainSpec"]["properties"]["epochs"] == {
        "default": 100, "exclusiveMinimum": 0, "title": "Epochs", "type": "integer"}
