"""`keraslab generate`: train from a corpus, generate from a saved model, one-line errors with exit code 2."""

from __future__ import annotations

import pytest

from keraslab.cli import main
from keraslab.store import ResultStore
from keraslab.textgen import load_generator, parse_samples

# Whole batches only (steps per epoch): a partial last batch would cost a second compilation.
TINY = ["--window-length", "8", "--step", "2", "--batch-size", "32", "--units", "8", "--random-seed", "0",
        "--steps-per-epoch", "2"]


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "cats.txt"
    path.write_text("The cat sat on the mat.\n" * 20, encoding="utf-8")
    return path


def test_train_then_generate_from_the_saved_model(corpus, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default store lands in ./keraslab-runs
    samples, model = tmp_path / "samples.txt", tmp_path / "cats.keras"
    code = main(["generate", "--corpus", str(corpus), "--level", "char", "--epochs", "2", "--output", str(samples),
                 "--temperatures", "0.5,1.5", "--length", "20", "--save", str(model), *TINY])
    out = capsys.readouterr().out
    assert code == 0
    assert "epoch 2/2: loss" in out and f"samples: {samples}" in out and f"model: {model}" in out
    written = parse_samples(samples.read_text(encoding="utf-8"))
    assert [(s.epoch, s.temperature, len(s.text)) for s in written] == [(1, 0.5, 20), (1, 1.5, 20), (2, 0.5, 20),
                                                                        (2, 1.5, 20)]
    with ResultStore(tmp_path / "keraslab-runs" / "runs.sqlite") as store:
        (run,) = store.runs()
        assert run.experiment == "textgen-char" and len(store.run(run.id).fits[0].history["loss"]) == 2

    # The saved model: a seed in capitals works (it is lower-cased like the corpus was).
    code = main(["generate", "--model", str(model), "--seed", "The cat", "--temperature", "0.7", "--length", "30",
                 "--random-seed", "1"])
    text = capsys.readouterr().out
    assert code == 0 and len(text) == 31 and text.endswith("\n")
    assert main(["generate", "--model", str(model), "--seed", "the cat", "--greedy", "--length", "25"]) == 0
    greedy = capsys.readouterr().out.rstrip("\n")
    assert greedy == load_generator(model).generate("the cat", 25, greedy=True)
    # Several temperatures print the sample block and can be appended to a file.
    extra = tmp_path / "more.txt"
    assert main(["generate", "--model", str(model), "--seed", "the", "--temperatures", "0.5,1", "--length", "5",
                 "--output", str(extra)]) == 0
    assert capsys.readouterr().out == extra.read_text(encoding="utf-8")


def test_word_level_without_store(corpus, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["generate", "--corpus", str(corpus), "--level", "word", "--max-words", "5", "--epochs", "1",
                 "--length", "6", "--temperature", "1.0", "--no-store", "--quiet", *TINY])
    assert code == 0 and capsys.readouterr().out == ""
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
def test_training_errors_are_one_line_with_exit_code_2(corpus, tmp_path, capsys, args, message):
    code = main(["generate", "--corpus", str(corpus), "--no-store", "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.startswith("keraslab: error: ") and err.count("\n") == 1


def test_empty_and_missing_corpus(tmp_path, capsys):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert main(["generate", "--corpus", str(empty), "--no-store"]) == 2
    assert "corpus is empty" in capsys.readouterr().err
    assert main(["generate", "--corpus", str(tmp_path / "nothing.txt"), "--no-store"]) == 2
    assert "corpus was not found" in capsys.readouterr().err


def test_saved_model_errors(char_run, capsys):
    model = str(char_run.folder / "cats.keras")
    assert main(["generate", "--model", model, "--seed", "the cat #1"]) == 2
    assert "lacks: ['#', '1']" in capsys.readouterr().err
    assert main(["generate", "--model", model]) == 2
    assert 'add --seed "..."' in capsys.readouterr().err
    assert main(["generate", "--model", model, "--seed", "the", "--temperature", "-0.1"]) == 2
    assert "Received: temperature=-0.1" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse: exactly one of --corpus and --model
        main(["generate", "--model", model, "--corpus", "x.txt"])
