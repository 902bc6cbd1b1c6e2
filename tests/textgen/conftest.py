"""Text generation fixtures: one tiny char model trained on a repetitive text, one word model on Sherlock.

Both are trained once per session (a few seconds each) and shared by the textgen tests,
which only read them (generation does not change a model).
"""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace

import keras
import pytest

from keraslab.textgen import train_text_generator

REPETITIVE = "the cat sat on the mat. " * 30  # 720 characters, period 24


def sherlock_slice(n_chars: int) -> str:
    """The first ``n_chars`` characters of $KERASLAB_DATA/sherlock.txt (skip when it is not set)."""
    folder = os.environ.get("KERASLAB_DATA")
    if not folder:
        pytest.skip("KERASLAB_DATA is not set; set it to the folder holding sherlock.txt")
    with open(Path(folder) / "sherlock.txt", encoding="utf-8-sig") as handle:
        return handle.read(n_chars)


@pytest.fixture(scope="session")
def char_run(tmp_path_factory):
    """15 epochs of a 32-unit char LSTM on REPETITIVE (window 8, step 1), samples, store and saved model."""
    folder = tmp_path_factory.mktemp("char_run")
    corpus = folder / "cats.txt"
    corpus.write_text(REPETITIVE, encoding="utf-8")
    keras.utils.set_random_seed(0)
    result = train_text_generator(
        corpus, level="char", window_length=8, step=1, epochs=15, batch_size=32,
        temperatures=(0.5, 1.5), generate_length=48, seed=0, output=folder / "samples.txt",
        units=32, save_to=folder / "cats.keras", store=folder / "runs.sqlite", verbose=0,
    )
    return SimpleNamespace(result=result, folder=folder, corpus=corpus, text=REPETITIVE)


@pytest.fixture(scope="session")
def word_run(tmp_path_factory):
    """Two epochs of a small word model on 40 KB of Sherlock Holmes (300 words + GLORP, window 6)."""
    folder = tmp_path_factory.mktemp("word_run")
    corpus = folder / "sherlock-40k.txt"
    corpus.write_text(sherlock_slice(40_000), encoding="utf-8")
    result = train_text_generator(
        corpus, level="word", window_length=6, step=1, max_words=300, epochs=2, batch_size=64,
        temperatures=(0.5, 1.0), generate_length=30, seed=0, output=folder / "samples.txt",
        units=32, embedding_dim=16, save_to=folder / "words.keras", verbose=0,
    )
    return SimpleNamespace(result=result, folder=folder, corpus=corpus)
