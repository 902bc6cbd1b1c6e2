"""Saving a generator with its vocabulary in one .keras file, and loading it back."""

from __future__ import annotations

import zipfile

import keras
import numpy as np
import pytest

from keraslab.errors import DataNotFoundError, KeraslabValueError
from keraslab.textgen import generate, load_generator, save_generator


def test_char_round_trip_gives_identical_greedy_text(char_run):
    result = char_run.result
    loaded = load_generator(char_run.folder / "cats.keras")
    assert loaded.vocabulary == result.vocabulary
    assert loaded.metadata["level"] == "char" and loaded.metadata["window_length"] == 8
    assert loaded.metadata["epochs"] == 15 and loaded.metadata["lower"] is True
    for seed in ("the cat ", "on the m", "t. "):
        assert loaded.generate(seed, 60, greedy=True) == generate(result.model, result.vocabulary, seed, 60,
                                                                  greedy=True)
    # Same weights: the sampled text matches too, draw for draw.
    assert loaded.generate("the cat ", 40, 1.5, rng=3) == generate(result.model, result.vocabulary, "the cat ", 40,
                                                                   1.5, rng=3)
    # Still a plain Keras file.
    plain = keras.models.load_model(char_run.folder / "cats.keras")
    batch = np.eye(result.vocabulary.size, dtype="float32")[result.vocabulary.encode("the cat ")][None]
    np.testing.assert_array_equal(plain.predict_on_batch(batch), result.model.predict_on_batch(batch))


def test_word_round_trip_gives_identical_greedy_text(word_run, tmp_path):
    result = word_run.result
    loaded = load_generator(word_run.folder / "words.keras", compile=False)
    assert loaded.vocabulary == result.vocabulary and loaded.vocabulary.oov_token == "GLORP"
    seed = "to sherlock holmes she is always the woman"
    assert loaded.generate(seed, 25, greedy=True) == generate(result.model, result.vocabulary, seed, 25, greedy=True)
    # Saving the loaded generator again gives the same file contents to generate from.
    again = load_generator(loaded.save(tmp_path / "sub" / "again.keras"))
    assert again.generate(seed, 25, greedy=True) == loaded.generate(seed, 25, greedy=True)


def test_loading_errors(char_run, tmp_path):
    with pytest.raises(KeraslabValueError, match="name the path \\*.keras. Received: path='model.h5'"):
        load_generator("model.h5")
    with pytest.raises(DataNotFoundError, match="missing.keras"):
        load_generator(tmp_path / "missing.keras")
    plain = tmp_path / "plain.keras"
    char_run.result.model.save(plain)
    with pytest.raises(KeraslabValueError, match="no vocabulary; save text generators with"):
        load_generator(plain)
    broken = tmp_path / "broken.keras"
    broken.write_text("not a zip")
    with pytest.raises(KeraslabValueError, match="not a .keras archive"):
        load_generator(broken)
    with pytest.raises(KeraslabValueError, match="JSON-serialisable"):
        save_generator(tmp_path / "m.keras", char_run.result.model, char_run.result.vocabulary, {"x": object()})
    assert not (tmp_path / "m.keras").exists()


def test_the_vocabulary_travels_inside_the_file(char_run):
    with zipfile.ZipFile(char_run.folder / "cats.keras") as archive:
        names = archive.namelist()
    assert "keraslab_textgen.json" in names and "model.weights.h5" in names
    assert not list(char_run.folder.glob("*.json"))  # no side file to lose
