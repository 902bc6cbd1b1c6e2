"""Files and the command: notebooks keep outputs and magics, writes are atomic, exit codes for CI."""

from __future__ import annotations

import json
import os

import pytest

from keraslab.cli import main
from keraslab.migrate import migrate_paths
from keraslab.migrate.driver import MigrationInputError, write_atomic

KERAS2 = "from tensorflow.keras.optimizers import Adam\nopt = Adam(lr=0.1)  # fast\n"
KERAS3 = "from keras.optimizers import Adam\nopt = Adam(learning_rate=0.1)  # fast\n"


def notebook(*sources, outputs=True):
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Title\n"]}]
    for source in sources:
        cells.append({"cell_type": "code", "execution_count": 1, "metadata": {"tags": ["x"]},
                      "outputs": [{"name": "stdout", "output_type": "stream", "text": ["hello\n"]}] if outputs else [],
                      "source": source.splitlines(keepends=True)})
    return {"cells": cells, "metadata": {"kernelspec": {"name": "python3"}}, "nbformat": 4, "nbformat_minor": 4}


def write_notebook(path, nb):
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def test_notebook_cells_share_imports_and_keep_outputs_metadata_and_magics(tmp_path):
    nb = notebook(
        "%matplotlib inline\nfrom tensorflow.keras import backend as K\nfrom tensorflow.keras.layers import LSTM\n",
        "x = K.cast_to_floatx(y)\nlayer = LSTM(4, stateful=True)\n!echo done\n",
        "files = !ls\n",
    )
    source = tmp_path / "chapter.ipynb"
    write_notebook(source, nb)
    report = migrate_paths([source], in_place=True)
    (result,) = report.files
    assert result.written == source
    out = json.loads(source.read_text(encoding="utf-8"))
    code = ["".join(c["source"]) for c in out["cells"] if c["cell_type"] == "code"]
    assert code[0] == "%matplotlib inline\nfrom keras import backend as K\nfrom keras.layers import LSTM\n"
    assert "numpy.asarray(y, dtype=K.floatx())" in code[1] and "keraslab.layers.LSTM(4, stateful=True)" in code[1]
    assert code[1].rstrip().endswith("!echo done")
    assert code[2] == "files = !ls\n"  # not Python: left alone and reported
    assert [f.cell for f in result.findings if f.rule == "parse"] == [3]
    assert str(result.findings[0]).startswith(f"{source}[cell 3]:1: cell left unchanged")
    assert out["metadata"] == nb["metadata"] and out["cells"][0] == nb["cells"][0]
    assert all(c["outputs"] == nb["cells"][1]["outputs"] and c["metadata"] == {"tags": ["x"]} for c in out["cells"][1:])
    assert {c.cell for c in result.changes} == {1, 2}
    assert "[cell 2]" in result.diff


def test_output_folder_mirrors_inputs_and_unchanged_files_are_copied(tmp_path):
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "old.py").write_text(KERAS2)
    (tmp_path / "src" / "new.py").write_text("import keras\n")
    (tmp_path / "src" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "src" / ".ipynb_checkpoints" / "old-checkpoint.py").write_text(KERAS2)
    report = migrate_paths([tmp_path / "src"], output=tmp_path / "out")
    assert len(report.files) == 2
    assert (tmp_path / "out" / "pkg" / "old.py").read_text() == KERAS3
    assert (tmp_path / "out" / "new.py").read_text() == "import keras\n"
    assert (tmp_path / "src" / "pkg" / "old.py").read_text() == KERAS2  # inputs untouched


def test_cli_check_diff_in_place_and_output(tmp_path, capsys):
    old = tmp_path / "old.py"
    old.write_text(KERAS2)
    assert main(["migrate", str(old), "--check", "--diff"]) == 1
    captured = capsys.readouterr()
    assert "-opt = Adam(lr=0.1)  # fast" in captured.out and "+opt = Adam(learning_rate=0.1)  # fast" in captured.out
    assert "optimizer-lr x1" in captured.err
    assert old.read_text() == KERAS2  # --check writes nothing
    assert main(["migrate", str(old), "-o", str(tmp_path / "new.py")]) == 0
    assert (tmp_path / "new.py").read_text() == KERAS3
    assert main(["migrate", str(old), "--in-place", "--quiet"]) == 0
    assert old.read_text() == KERAS3
    assert main(["migrate", str(old), "--check"]) == 0  # nothing left to change
    capsys.readouterr()
    with pytest.raises(SystemExit):
        main(["migrate", str(old), "--in-place", "-o", str(tmp_path / "x.py")])


def test_bad_input_is_exit_2_with_one_line_naming_the_file_and_good_files_are_still_written(tmp_path, capsys):
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(KERAS2)
    bad.write_text("print 'python 2'\n")
    assert main(["migrate", str(good), str(bad), "--in-place", "--quiet"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if "error" in line]
    assert errors == [f"keraslab: error: {bad}:1: cannot parse: " + errors[0].split("cannot parse: ")[1]]
    assert bad.read_text() == "print 'python 2'\n" and good.read_text() == KERAS3
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    assert main(["migrate", str(broken)]) == 2
    assert f"{broken}: cannot parse notebook" in capsys.readouterr().err
    assert main(["migrate", str(tmp_path / "missing.py")]) == 2
    assert "missing.py: no such file or folder" in capsys.readouterr().err
    with pytest.raises(MigrationInputError, match="expected a .py or .ipynb"):
        migrate_paths([tmp_path / "notes.txt"] if (tmp_path / "notes.txt").write_text("x") else [])


def test_writes_are_atomic_and_keep_the_file_mode(tmp_path, monkeypatch):
    target = tmp_path / "script.py"
    target.write_text("old\n")
    target.chmod(0o755)
    write_atomic(target, "new\n", mode_from=target)
    assert target.read_text() == "new\n" and (target.stat().st_mode & 0o777) == 0o755

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, "half\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["script.py"]  # no temporary file left behind


def test_unchanged_notebook_is_kept_byte_for_byte(tmp_path):
    source = tmp_path / "plain.ipynb"
    text = '{"cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": "import keras"}], ' \
           '"metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    source.write_text(text)
    (result,) = migrate_paths([source], in_place=True).files
    assert not result.changed and source.read_text() == text
