"""generate(): seeds, temperatures, determinism and the errors a user meets first."""

from __future__ import annotations

import numpy as np
import pytest

from keraslab.data.text import CharVocabulary, WordVocabulary
from keraslab.errors import KeraslabTypeError, KeraslabValueError
from keraslab.textgen import TextGenerator, check_temperatures, encode_seed, generate


def test_same_rng_same_text_and_greedy_ignores_temperature(char_run):
    model, vocab = char_run.result.model, char_run.result.vocabulary
    first = generate(model, vocab, "the cat ", 30, temperature=1.5, rng=7)
    assert generate(model, vocab, "the cat ", 30, temperature=1.5, rng=np.random.default_rng(7)) == first
    greedy = generate(model, vocab, "the cat ", 30, temperature=3.0, greedy=True)
    assert greedy == generate(model, vocab, "the cat ", 30, temperature=0.1, rng=1, greedy=True)
    assert greedy == char_run.text[8:38]


def test_short_and_long_seeds(char_run):
    model, vocab = char_run.result.model, char_run.result.vocabulary
    # Shorter than the window of 8: padded on the left, still generates `length` characters.
    short = generate(model, vocab, "t", 12, greedy=True)
    assert len(short) == 12 and set(short) <= set(vocab.tokens)
    # Longer: only the last 8 characters count.
    assert generate(model, vocab, "mat. mat. the cat ", 16, greedy=True) == generate(
        model, vocab, "the cat ", 16, greedy=True
    )


def test_text_generator_prepares_the_seed_like_the_corpus(char_run):
    generator = TextGenerator(char_run.result.model, char_run.result.vocabulary, {"lower": True})
    assert generator.generate("THE\nCAT ", 10, greedy=True) == "sat on the"


def test_seed_with_characters_the_vocabulary_lacks_names_them(char_run):
    model, vocab = char_run.result.model, char_run.result.vocabulary
    with pytest.raises(KeraslabValueError, match=r"lacks: \['#', 'z'\]\. .*Received: seed_text='the #zz'"):
        generate(model, vocab, "the #zz", 5)
    with pytest.raises(KeraslabValueError, match=r"\['C', 'T'\] \(the corpus was probably lower-cased"):
        generate(model, vocab, "The Cat", 5)
    with pytest.raises(KeraslabValueError, match="at least one character"):
        generate(model, vocab, "", 5)
    with pytest.raises(KeraslabTypeError, match="seed_text must be a string"):
        generate(model, vocab, 42, 5)


@pytest.mark.parametrize("temperature", [0, 0.0, -0.5, float("nan"), float("inf")])
def test_temperature_must_be_positive(char_run, temperature):
    with pytest.raises(KeraslabValueError, match=f"temperature must be a finite number > 0.*greedy=True.*"
                                                 f"Received: temperature={temperature!r}"):
        generate(char_run.result.model, char_run.result.vocabulary, "the cat ", 5, temperature=temperature)


def test_other_argument_errors(char_run):
    model, vocab = char_run.result.model, char_run.result.vocabulary
    with pytest.raises(KeraslabTypeError, match="temperature must be a number"):
        generate(model, vocab, "the cat ", 5, temperature="hot")
    with pytest.raises(KeraslabValueError, match=r"length must be a positive integer \(tokens to generate\). Received: length=0"):
        generate(model, vocab, "the cat ", 0)
    other = CharVocabulary("abcdefghijklmnopqrstuvwxyz .")
    with pytest.raises(KeraslabValueError, match="one-hot input has width 11 but the vocabulary has 28 tokens"):
        generate(model, other, "the cat ", 5)
    with pytest.raises(KeraslabValueError, match="non-empty list"):
        check_temperatures([])


def test_word_seeds(word_run):
    vocab = word_run.result.vocabulary
    assert isinstance(vocab, WordVocabulary)
    # Unknown words are not an error at word level: they become the GLORP marker.
    assert encode_seed(vocab, "holmes zyzzyva").tolist() == [vocab.tokens.index("holmes"), 0]
    with pytest.raises(KeraslabValueError, match="at least one word. Received: seed_text='   '"):
        encode_seed(vocab, "   ")
    text = generate(word_run.result.model, vocab, "zyzzyva , said holmes", 12, rng=0)
    assert len(vocab.tokenize(text)) == 12


def test_docstring_examples_run():
    import doctest
    import importlib

    for name in ("generate", "output", "saving", "train", "sampler"):  # sampler: TextSampler's example
        # import_module: the package attribute `generate` is the function, not the module.
        module = importlib.import_module(f"keraslab.textgen.{name}")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, name


def test_generating_with_a_large_vocabulary_allocates_no_lookup_table():
    import tracemalloc

    from keraslab.zoo.text import word_generator

    words = " ".join(f"w{i}" for i in range(8000))
    vocab = WordVocabulary(words, max_words=8000)
    model = word_generator(vocab.size, 6, units=4, embedding_dim=4)
    tracemalloc.start()
    try:
        text = generate(model, vocab, "w1 w2 w3", 3, rng=0)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(vocab.tokenize(text)) == 3
    assert peak < 20e6, peak  # an 8,001 x 8,001 float32 identity matrix would be 256 MB
