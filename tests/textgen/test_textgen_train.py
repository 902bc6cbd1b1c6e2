"""train_text_generator: learning, per-epoch samples and their file, the result store, streaming, word level."""

from __future__ import annotations

import math
import re
import tracemalloc
import warnings

import keras
import numpy as np
import pytest

from keraslab.data.text import WordVocabulary
from keraslab.errors import DataNotFoundError, KeraslabValueError
from keraslab.store import ResultStore
from keraslab.textgen import generate, parse_samples, train_text_generator


# --------------------------------------------------------------------------- learning
def test_loss_falls_and_greedy_generation_reproduces_the_text(char_run):
    losses = char_run.result.history["loss"]
    assert len(losses) == 15 and all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0] / 100, losses
    text, model, vocab = char_run.text, char_run.result.model, char_run.result.vocabulary
    for start in (0, 5, 13):
        continuation = generate(model, vocab, text[start : start + 8], length=40, greedy=True)
        assert continuation == text[start + 8 : start + 48]


def test_fixed_seed_text_and_steps_per_epoch(tmp_path):
    corpus = tmp_path / "abc.txt"
    corpus.write_text("abcd " * 40)  # 98 fragments: 7 batches of 16
    seen = []

    class CountBatches(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(0)

        def on_train_batch_end(self, batch, logs=None):
            seen[-1] += 1

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train_text_generator(corpus, window_length=5, step=2, epochs=3, batch_size=16, temperatures=[1.0],
                                      generate_length=6, seed=1, seed_text="ab", units=4, steps_per_epoch=3,
                                      callbacks=[CountBatches()], verbose=0)
    # Every epoch gets exactly 3 batches (Keras' own steps_per_epoch would run out of data in epoch 3).
    assert seen == [3, 3, 3] and not [w for w in caught if "ran out of data" in str(w.message)]
    assert [(s.epoch, s.seed, len(s.text)) for s in result.samples] == [(1, "ab", 6), (2, "ab", 6), (3, "ab", 6)]
    assert result.output is None and result.saved_to is None and result.run_id is None


# --------------------------------------------------------------------------- output
def test_samples_are_printed_and_appended_with_epoch_and_temperature_headers(char_run, tmp_path, capsys):
    written = (char_run.folder / "samples.txt").read_text(encoding="utf-8")
    lines = written.splitlines()
    assert len(lines) == 15 * (1 + 2 * 2)  # per epoch: a header, then a header and a text per temperature
    assert [int(m.group(1)) for m in map(re.compile(r"^===== epoch (\d+) =====$").match, lines) if m] == list(
        range(1, 16)
    )
    assert lines[1].startswith("----- temperature 0.5 | seed: \"") and lines[3].startswith("----- temperature 1.5")
    samples = parse_samples(written)
    assert samples == char_run.result.samples
    assert [(s.epoch, s.temperature) for s in samples[:4]] == [(1, 0.5), (1, 1.5), (2, 0.5), (2, 1.5)]
    for sample in samples:
        assert len(sample.text) == 48 and len(sample.seed) == 8 and sample.seed in char_run.text
    assert samples[0].seed == samples[1].seed  # one seed fragment per epoch, for all temperatures

    # verbose=1 prints exactly what is written, after one line per epoch; a second run appends.
    output = tmp_path / "again.txt"
    output.write_text("kept\n")
    result = train_text_generator(char_run.corpus, window_length=8, step=4, epochs=1, batch_size=32,
                                  temperatures=[1.0], generate_length=10, seed=0, units=4, output=output,
                                  steps_per_epoch=2)
    printed = capsys.readouterr().out
    assert re.match(r"epoch 1/1: loss \d+\.\d{4}, \d+\.\d s\n", printed)
    block = output.read_text(encoding="utf-8")
    assert block.startswith("kept\n===== epoch 1 =====\n") and printed.endswith(block[len("kept\n"):])
    assert parse_samples(block) == result.samples


# --------------------------------------------------------------------------- store
def test_loss_per_epoch_is_recorded_in_the_result_store(char_run):
    with ResultStore(char_run.folder / "runs.sqlite") as store:
        run = store.run(char_run.result.run_id)
    assert run.experiment == "textgen-char" and run.status == "finished" and run.kind == "train"
    assert run.parameters["window_length"] == 8 and run.parameters["temperatures"] == [0.5, 1.5]
    (fit,) = run.fits
    assert fit.status == "finished"
    np.testing.assert_allclose(fit.history["loss"], char_run.result.history["loss"], rtol=1e-6)
    assert len(fit.epoch_seconds) == 15 and all(s > 0 for s in fit.epoch_seconds)
    assert "15 epoch(s)" in run.summary["final_line"]


# --------------------------------------------------------------------------- streaming
def test_training_never_materialises_the_one_hot_tensor(tmp_path):
    rng = np.random.default_rng(0)
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyz4.,;!?'-()0123"))
    corpus = tmp_path / "big.txt"
    corpus.write_text("".join(rng.choice(alphabet, 200_000)))
    # The chapter's bool tensors at window 40, step 1: (fragments, 40, 40) inputs + (fragments, 40) targets.
    fragments = 200_000 - 40
    chapter_bytes = fragments * 40 * 40 + fragments * 40
    tracemalloc.start()
    try:
        result = train_text_generator(corpus, window_length=40, step=1, epochs=1, batch_size=100,
                                      temperatures=[1.0], generate_length=3, seed=0, units=4,
                                      steps_per_epoch=2, verbose=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.metadata["fragments"] == fragments and result.vocabulary.size == 40
    print(f"traced peak {peak / 1e6:.1f} MB; chapter tensors {chapter_bytes / 1e6:.0f} MB")
    assert peak < chapter_bytes / 20, (peak, chapter_bytes)  # 64 MB would be 1/20; the text itself is 0.2 MB


# --------------------------------------------------------------------------- word level
def test_word_level_keeps_punctuation_marks_and_the_out_of_vocabulary_marker(word_run):
    result = word_run.result
    vocab = result.vocabulary
    assert isinstance(vocab, WordVocabulary) and vocab.size == 301 and vocab.tokens[0] == "GLORP"
    assert {",", ".", '"', "?"} <= set(vocab.tokens)
    text = word_run.corpus.read_text(encoding="utf-8").lower()
    ids = vocab.encode(text)
    assert 0.05 < np.mean(ids == 0) < 0.5  # rare words became GLORP
    assert result.metadata["tokens"] == len(ids)
    losses = result.history["loss"]
    assert losses[1] < losses[0]
    assert len(result.samples) == 4
    for sample in result.samples:
        tokens = vocab.tokenize(sample.text)
        assert len(tokens) == 30 and set(tokens) <= set(vocab.tokens)
        assert not re.search(r" [,.;:!?)]", sample.text), sample.text  # joined back into readable text
        assert len(vocab.tokenize(sample.seed)) == 6


def test_lower_temperature_repeats_more_tokens(word_run):
    model, vocab = word_run.result.model, word_run.result.vocabulary
    seed = "to sherlock holmes she is always the woman"

    def distinct_ratio(temperature: float) -> float:
        tokens = vocab.tokenize(generate(model, vocab, seed, length=150, temperature=temperature, rng=0))
        return len(set(tokens)) / len(tokens)

    cold, warm, hot = distinct_ratio(0.2), distinct_ratio(1.0), distinct_ratio(2.0)
    assert cold < warm < hot, (cold, warm, hot)


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("content", ["", "\n \n\r\n  "])
def test_empty_corpus_is_refused(tmp_path, content):
    corpus = tmp_path / "empty.txt"
    corpus.write_text(content)
    with pytest.raises(KeraslabValueError, match="corpus is empty.*empty.txt"):
        train_text_generator(corpus, verbose=0)


@pytest.mark.parametrize(("level", "text", "count"), [("char", "abc def", "7 characters"),
                                                      ("word", "one, two. three", "5 words")])
def test_corpus_shorter_than_the_window_is_refused(tmp_path, level, text, count):
    corpus = tmp_path / "short.txt"
    corpus.write_text(text)
    with pytest.raises(KeraslabValueError, match=f"window_length=8 needs at least 9 .*Received: {count}"):
        train_text_generator(corpus, level=level, window_length=8, verbose=0)


@pytest.mark.parametrize("temperatures", [(0.5, 0), (-1.0,), (float("nan"),), ()])
def test_bad_temperatures_fail_before_the_corpus_is_read(temperatures):
    with pytest.raises(KeraslabValueError, match="temperature"):
        train_text_generator("no-such-corpus.txt", temperatures=temperatures, verbose=0)


def test_other_argument_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="no-such-corpus.txt"):
        train_text_generator(tmp_path / "no-such-corpus.txt", verbose=0)
    with pytest.raises(KeraslabValueError, match="level must be 'char' or 'word'. Received: level='byte'"):
        train_text_generator("x.txt", level="byte")
    with pytest.raises(KeraslabValueError, match="save_to must name a .keras file"):
        train_text_generator("x.txt", save_to=tmp_path / "model.h5")
    with pytest.raises(KeraslabValueError, match="window_length must be a positive integer. Received: window_length=0"):
        train_text_generator("x.txt", window_length=0)


def test_chunked_encoding_matches_encoding_at_once():
    from keraslab.data.text import CharVocabulary
    from keraslab.textgen.train import _encode_compact

    text = 'it is "quite" so, watson; a red-headed man... ' * 50 + "x" * 300 + " end."
    for vocab in (CharVocabulary(text), WordVocabulary(text, max_words=6)):
        for chunk in (7, 64, 1 << 20):
            ids = _encode_compact(vocab, text, chunk)
            assert ids.dtype == np.uint8 and ids.tolist() == vocab.encode(text).tolist()
