"""`keraslab generate`: train from a corpus, generate from a saved model, one-line errors with exit code 2."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from keraslab.cli import cli
from keraslab.store import ResultStore
from keraslab.textgen import load_generator, parse_samples

# Whole batches only (steps per epoch): a partial last batch would cost a second compilation.
TINY = ["--window-length", "8", "--step", "2", "--batch-size", "32", "--units", "8", "--random-seed", "0",
        "--steps-per-epoch", "2"]


def invoke(argv):
    """Run ``keraslab argv`` in-process; the result has ``exit_code``, ``stdout`` and ``stderr``."""
    return CliRunner().invoke(cli, [str(a) for a in argv])


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "cats.txt"
    path.write_text("The cat sat on the mat.\n" * 20, encoding="utf-8")
    return path


def test_train_then_generate_from_the_saved_model(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default store lands in ./keraslab-runs
    samples, model = tmp_path / "samples.txt", tmp_path / "cats.keras"
    result = invoke(["generate", "--corpus", corpus, "--level", "char", "--epochs", "2", "--output", samples,
                     "--temperatures", "0.5,1.5", "--length", "20", "--save", model, *TINY])
    out = result.stdout
    assert result.exit_code == 0
    assert "epoch 2/2: loss" in out and f"samples: {samples}" in out and f"model: {model}" in out
    written = parse_samples(samples.read_text(encoding="utf-8"))
    assert [(s.epoch, s.temperature, len(s.text)) for s in written] == [(1, 0.5, 20), (1, 1.5, 20), (2, 0.5, 20),
                                                                        (2, 1.5, 20)]
    with ResultStore(tmp_path / "keraslab-runs" / "runs.sqlite") as store:
        (run,) = store.runs()
        assert run.experiment == "textgen-char" and len(store.run(run.id).fits[0].history["loss"]) == 2

    # The saved model: a seed in capitals works (it is lower-cased like the corpus was).
    result = invoke(["generate", "--model", model, "--seed", "The cat", "--temperature", "0.7", "--length", "30",
                     "--random-seed", "1"])
    text = result.stdout
    assert result.exit_code == 0 and len(text) == 31 and text.endswith("\n")
    result = invoke(["generate", "--model", model, "--seed", "the cat", "--greedy", "--length", "25"])
    assert result.exit_code == 0
    greedy = result.stdout.rstrip("\n")
    assert greedy == load_generator(model).generate("the cat", 25, greedy=True)
    # Several temperatures print the sample block and can be appended to a file.
    extra = tmp_path / "more.txt"
    result = invoke(["generate", "--model", model, "--seed", "the", "--temperatures", "0.5,1", "--length", "5",
                     "--output", extra])
    assert result.exit_code == 0 and result.stdout == extra.read_text(encoding="utf-8")


def test_word_level_without_store(corpus, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke(["generate", "--corpus", corpus, "--level", "word", "--max-words", "5", "--epochs", "1",
                     "--length", "6", "--temperature", "1.0", "--no-store", "--quiet", *TINY])
    assert result.exit_code == 0 and result.stdout == ""
    assert not (tmp_path / "keraslab-runs").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--temperature", "0"], "temperature must be a finite number > 0"),
        (["--temperatures", "0.5,-1"], "Received: temperature=-1.0"),
        (["--temperatures", "0.5,warm"], "--temperatures takes comma-separated numbers"),
        (["--temperature", "1", "--temperatures", "1,2"], "not both"),
        (["--units", "8,x"], "--units takes comma-separated integers"),
        (["--window-length", "500"], "window_length=500 needs at least 501 characters"),
    ],
)
def test_training_errors_are_one_line_with_exit_code_2(corpus, tmp_path, args, message):
    result = invoke(["generate", "--corpus", corpus, "--no-store", "--quiet", *args])
    err = result.stderr
    assert result.exit_code == 2 and message in err and err.startswith("keraslab: error: ") and err.count("\n") == 1


def test_empty_and_missing_corpus(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    result = invoke(["generate", "--corpus", empty, "--no-store"])
    assert result.exit_code == 2 and "corpus is empty" in result.stderr
    result = invoke(["generate", "--corpus", tmp_path / "nothing.txt", "--no-store"])
    assert result.exit_code == 2 and "corpus was not found" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--seed", "the cat #1"], "lacks: ['#', '1']"),
        ([], 'add --seed "..."'),
        (["--seed", "the", "--temperature", "-0.1"], "Received: temperature=-0.1"),
    ],
)
def test_saved_model_errors(char_run, args, message):
    result = invoke(["generate", "--model", char_run.folder / "cats.keras", *args])
    assert result.exit_code == 2 and message in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize("args", [["--model", "m.keras", "--corpus", "x.txt"], []])
def test_exactly_one_of_corpus_and_model_is_a_usage_error(args):
    result = invoke(["generate", *args])
    assert result.exit_code == 2 and "exactly one of --corpus and --model" in result.stderr
