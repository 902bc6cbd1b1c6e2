"""TextSampler in a user's own model.fit."""

from __future__ import annotations

import pytest

from keraslab.textgen import TextSampler
from keraslab.data.text import CharVocabulary, OneHotFragments
from keraslab.errors import KeraslabValueError
from keraslab.textgen import parse_samples
from keraslab.zoo.text import char_generator

TEXT = "to be or not to be. " * 12


def test_sampler_in_a_plain_fit_prints_and_writes_every_other_epoch(tmp_path, capsys):
    vocab = CharVocabulary(TEXT)
    data = OneHotFragments(TEXT, vocab, window_length=6, step=2, batch_size=32, seed=0)
    output = tmp_path / "out" / "samples.txt"
    sampler = TextSampler(vocab, corpus=TEXT, temperatures=(0.2, 1.0, 2.0), length=15, output=output,
                          every=2, seed=0)
    model = char_generator(vocab.size, 6, units=8)
    model.fit(data, epochs=4, steps_per_epoch=2, verbose=0, callbacks=[sampler])
    assert [(s.epoch, s.temperature) for s in sampler.samples] == [
        (2, 0.2), (2, 1.0), (2, 2.0), (4, 0.2), (4, 1.0), (4, 2.0)
    ]
    assert all(len(s.text) == 15 and s.seed in TEXT and len(s.seed) == 6 for s in sampler.samples)
    written = output.read_text(encoding="utf-8")
    assert capsys.readouterr().out == written
    assert parse_samples(written) == sampler.samples
    # Reproducible: the same seed picks the same seed fragment (corpus given as ids this time).
    again = TextSampler(vocab, corpus=vocab.encode(TEXT), temperatures=(0.2, 1.0, 2.0), length=15, seed=0,
                        verbose=0)
    again.set_model(model)
    assert [s.seed for s in again.sample(2)] == [s.seed for s in sampler.samples[:3]]


def test_fixed_seed_text(capsys):
    vocab = CharVocabulary(TEXT)
    sampler = TextSampler(vocab, seed_text="to be", temperatures=[1.0], length=5, verbose=0)
    sampler.set_model(char_generator(vocab.size, 6, units=4))
    (sample,) = sampler.sample(1)
    assert sample.seed == "to be" and len(sample.text) == 5
    assert capsys.readouterr().out == ""


def test_sampler_errors():
    vocab = CharVocabulary(TEXT)
    with pytest.raises(KeraslabValueError, match="exactly one of corpus"):
        TextSampler(vocab)
    with pytest.raises(KeraslabValueError, match="exactly one of corpus"):
        TextSampler(vocab, corpus=TEXT, seed_text="to")
    with pytest.raises(KeraslabValueError, match="temperature must be a finite number > 0"):
        TextSampler(vocab, corpus=TEXT, temperatures=(1.0, 0.0))
    with pytest.raises(KeraslabValueError, match=r"lacks: \['!'\]"):
        TextSampler(vocab, seed_text="to be!")
    with pytest.raises(KeraslabValueError, match="every must be a positive integer"):
        TextSampler(vocab, corpus=TEXT, every=0)
    with pytest.raises(KeraslabValueError, match="corpus ids must be between 0 and 7"):
        TextSampler(vocab, corpus=[0, 1, 99])
    sampler = TextSampler(vocab, corpus="to be", verbose=0)
    sampler.set_model(char_generator(vocab.size, 6, units=4))
    with pytest.raises(KeraslabValueError, match="longer than the model's window of 6 tokens.*Received: 5 tokens"):
        sampler.on_train_begin()
