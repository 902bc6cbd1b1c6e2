"""``keraslab reproduce`` from the command line (click's CliRunner, in process)."""

from __future__ import annotations

from click.testing import CliRunner

from conftest import data_dir
from keraslab.cli import cli


def test_reproduce_prints_each_verdict_and_writes_both_pages(tmp_path):
    data_dir()
    args = ["reproduce", "b3-10-two-layers-32", "--store", str(tmp_path / "runs.sqlite"), "--quiet",
            "--report", str(tmp_path / "reproduction.md"), "--html", str(tmp_path / "reproduction.html"),
            "--set", "b3-10-two-layers-32:train.epochs=1", "--set", "b3-10-two-layers-32:data.subset=300",
            "--set", "b3-10-two-layers-32:data.test_subset=100"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("b3-10-two-layers-32 · differs · chapter: val_acc 0.9700 · this run: val_acc ")
    assert "page: " in result.output and "verdicts: 1 differs" in result.output
    md = (tmp_path / "reproduction.md").read_text()
    assert "train.epochs=1" in md  # the settings actually used are on the page
    assert (tmp_path / "reproduction.html").read_text().count("data:image/png;base64,") >= 1

    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and "· read back" in again.output.splitlines()[0]


def test_a_malformed_setting_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(cli, ["reproduce", "b3-cv", "--store", str(tmp_path / "r.sqlite"),
                                      "--set", "train.epochs=1"])
    assert result.exit_code == 2
    assert "--set is written NAME:KEY=VALUE" in result.output
    assert not (tmp_path / "r.sqlite").exists()  # refused before anything ran
