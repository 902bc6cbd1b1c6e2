"""Backend choice at import: JAX unless the user chose; one XLA thread in joblib workers."""

import json
import os
import subprocess
import sys


def _run(code, env_extra, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS", "OMP_NUM_THREADS")}
    env.update({"KERAS_HOME": str(tmp_path), **env_extra})
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_jax_is_chosen_when_nobody_chose(tmp_path):
    code = "import keraslab, keras; print(keras.backend.backend())"
    assert _run(code, {}, tmp_path) == "jax"


def test_import_adds_nothing_heavy_beyond_keras(tmp_path):
    # Keras itself imports matplotlib when it is installed; keraslab must add none of
    # matplotlib, Optuna, Dask, sqlite3 users or the search machinery on top of that.
    code = ("import sys; import keras; before = set(sys.modules); import keraslab; "
            "added = {m.split('.')[0] for m in set(sys.modules) - before}; "
            "print(sorted(added & {'matplotlib', 'optuna', 'dask', 'distributed', 'optuna_integration', 'PIL'}))")
    assert _run(code, {"KERAS_BACKEND": "jax"}, tmp_path) == "[]"


def test_an_explicit_choice_is_respected(tmp_path):
    code = "import keraslab, os; print(os.environ['KERAS_BACKEND'])"
    assert _run(code, {"KERAS_BACKEND": "numpy"}, tmp_path) == "numpy"
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "numpy"}))
    assert _run("import keraslab, os; print(os.environ.get('KERAS_BACKEND'))", {}, tmp_path) == "None"


def test_keras_own_default_config_without_tensorflow_still_gets_jax(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "tensorflow"}))
    code = ("import importlib.util, keraslab, os; "
            "print(importlib.util.find_spec('tensorflow') is None, os.environ.get('KERAS_BACKEND'))")
    assert _run(code, {}, tmp_path) in ("True jax", "False None")


def test_single_threaded_xla_in_workers_told_to_use_one_thread(tmp_path):
    code = "import keraslab, os; print(os.environ.get('XLA_FLAGS'))"
    assert _run(code, {"OMP_NUM_THREADS": "1"}, tmp_path) == "--xla_cpu_multi_thread_eigen=false"
    assert _run(code, {}, tmp_path) == "None"
