"""The keraslab command, called through click's CliRunner, main(argv) and once as a real process."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from keraslab.cli import cli, main
from keraslab.experiments import SpecError


def invoke(argv):
    """Run ``keraslab argv`` in-process; the result has ``exit_code``, ``stdout`` and ``stderr``."""
    return CliRunner().invoke(cli, [str(a) for a in argv])

SPEC = """\
[experiment]
title = "cli tiny"

[data]
dataset = "digits"
layout = "flat"
validation_split = 0.25
subset = 400

[model]
build = "keraslab.zoo.dense:make_model"
number_of_layers = 1
neurons_per_layer = 16

[train]
epochs = 3
batch_size = 64

[reference]
val_acc = 0.9
"""


@pytest.fixture()
def spec_file(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(SPEC)
    return path


def test_list_shows_the_catalogue():
    result = invoke(["list"])
    assert result.exit_code == 0
    out = result.stdout
    assert "b3-32-pooling-cnn" in out and "Pooling CNN" in out and "(Figs B3-31, B3-32)" in out
    assert "experiments · run one with: keraslab run NAME" in out


def test_help_has_examples():
    result = invoke(["--help"])
    assert result.exit_code == 0
    assert "examples:" in result.stdout and "keraslab run b3-32-pooling-cnn --set train.epochs=5" in result.stdout
    for command in ("demo", "generate", "list", "migrate", "report", "run", "runs"):
        assert f"  {command} " in result.stdout
    result = invoke([])  # no command: help, and a user-error exit code
    assert result.exit_code == 2 and "examples:" in result.stdout


def test_main_returns_exit_codes_and_usage_errors_exit_like_argparse(capsys):
    assert main(["list"]) == 0
    assert main(["run", "no-such-experiment"]) == 2
    assert capsys.readouterr().err.startswith("keraslab: error: No experiment of this name")
    with pytest.raises(SystemExit) as info:
        main(["run", "--no-such-option"])
    assert info.value.code == 2 and "No such option" in capsys.readouterr().err


def test_run_runs_report_round_trip(tmp_path, spec_file):
    store = tmp_path / "store" / "runs.sqlite"
    result = invoke(["run", spec_file, "--set", "train.epochs=2", "--store", store, "--quiet",
                     "--report", tmp_path / "one.html"])
    out = result.stdout
    assert result.exit_code == 0
    assert "tiny · cli tiny · run 1 · finished" in out
    assert "Epoch 2/2 - " in out and "val_acc: chapter: 0.9000 · this run: " in out
    assert (tmp_path / "one.html").is_file() and f"store: {store} (run 1)" in out

    result = invoke(["runs", "--store", store])
    assert result.exit_code == 0
    listing = result.stdout
    assert "finished" in listing and "tiny" in listing and "Epoch 2/2" in listing and "1 run(s)" in listing

    result = invoke(["report", "--store", store, "--out", tmp_path / "all.html"])
    assert result.exit_code == 0 and result.stdout.strip() == str(tmp_path / "all.html")
    assert "cli tiny" in (tmp_path / "all.html").read_text()


def test_empty_store_says_how_to_start(tmp_path):
    result = invoke(["runs", "--store", tmp_path / "runs.sqlite"])
    assert result.exit_code == 0 and "No runs in" in result.stdout


@pytest.mark.parametrize(
    "argv, message",
    [
        (["run", "b3-32-pooling"], "No experiment of this name in the catalogue"),
        (["run", "{spec}", "--set", "train.epochs=many"], "train.epochs must be an integer"),
        (["run", "{spec}", "--set", "epochs"], "An override is written section.key=value"),
        (["report", "--run", "7", "--store", "{store}"], "No run with this id"),
    ],
)
def test_user_errors_exit_2_with_one_line(tmp_path, spec_file, argv, message):
    argv = [a.format(spec=spec_file, store=tmp_path / "runs.sqlite") for a in argv]
    result = invoke(argv)
    assert result.exit_code == 2
    err = result.stderr
    assert err.startswith("keraslab: error: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


GRID_SPEC = """\
[data]
dataset = "digits"
layout = "flat"
subset = 200

[model]
build = "keraslab.zoo.dense:make_model"
number_of_layers = 1

[train]
epochs = 1
batch_size = 64

[explore]
kind = "grid"
folds = 2

[explore.params]
"model.neurons_per_layer" = [4, 8]
"""


def test_a_rerun_resumes_other_settings_exit_2_and_restart_starts_afresh(tmp_path):
    spec, store = tmp_path / "grid.toml", str(tmp_path / "runs.sqlite")
    spec.write_text(GRID_SPEC)
    run = ["run", spec, "--store", store, "--quiet"]
    result = invoke(run)
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1] == "fits: 4 computed, 0 resumed of 4"
    result = invoke(run)
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1] == "fits: 0 computed, 4 resumed of 4"
    result = invoke([*run, "--set", "train.batch_size=32"])
    assert result.exit_code == 2
    err = result.stderr
    assert len(err.strip().splitlines()) == 1 and "train.batch_size: 64 there, 32 here" in err and "--restart" in err
    result = invoke([*run, "--set", "train.batch_size=32", "--restart"])
    assert result.exit_code == 0
    assert result.stdout.strip().splitlines()[-1] == "fits: 4 computed, 0 resumed of 4"


def test_debug_shows_the_exception():
    result = invoke(["--debug", "run", "b3-32-pooling"])
    assert isinstance(result.exception, SpecError)


def test_demo_command_passes_its_options(tmp_path, monkeypatch):
    import keraslab.demo

    calls = []
    def fake(store, out, progress, overrides, on_result):
        calls.append((store, out, progress, overrides, on_result))
        return out

    monkeypatch.setattr(keraslab.demo, "run_demo", fake)
    result = invoke(["demo", "--store", tmp_path / "s.sqlite", "--out", tmp_path / "r.html", "--quiet",
                     "--set", "train.epochs=1"])
    assert result.exit_code == 0
    assert calls == [(tmp_path / "s.sqlite", tmp_path / "r.html", False, ["train.epochs=1"], None)]
    assert result.stdout.strip() == f"report: {tmp_path / 'r.html'}"


def test_demo_specs_are_valid_and_cover_the_loop():
    from keraslab.demo import demo_specs

    specs = demo_specs()
    assert [s.kind for s in specs] == ["train", "sweep", "cv", "multires"]
    assert all(s.data.dataset == "digits" for s in specs)
    assert specs[2].explore.scaler == "minmax" and specs[2].explore.folds == 5
    assert [s.train.epochs for s in demo_specs(["train.epochs=1"])] == [1, 1, 1, 1]


@pytest.mark.slow
def test_demo_writes_a_report(tmp_path):
    # The demo's four experiments, shrunk: one epoch each on 300 digits.
    result = invoke(["demo", "--store", tmp_path / "demo" / "runs.sqlite", "--quiet", "--set", "train.epochs=1",
                     "--set", "data.subset=300"])
    assert result.exit_code == 0
    out = result.stdout
    report = tmp_path / "demo" / "demo-report.html"
    assert out.strip().endswith(f"report: {report}")
    text = report.read_text()
    for name in ("demo-1-baseline", "demo-2-batch-size", "demo-3-cv", "demo-4-coarse-to-fine"):
        assert f">{name}<" in text
    # the coarse-to-fine search: scores, space, rounds and zoom path
    assert text.count("<img src=\"data:image/png;base64,") == 1 + 3 + 1 + 4


@pytest.mark.parametrize("module", ["keraslab.cli", "keraslab"])
def test_the_console_entry_point_runs_as_a_process(module):
    out = subprocess.run([sys.executable, "-m", module, "run", "no-such-experiment"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().startswith("keraslab: error: No experiment of this name")
    assert "Traceback" not in out.stderr
