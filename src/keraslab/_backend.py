"""Pick Keras' backend before Keras is imported: JAX, unless the user chose one.

Why JAX: it was the fastest backend measured on CPU for the chapter's models (see
``benchmarks/``). Why only "unless the user chose": a user who set ``KERAS_BACKEND``
or wrote ``"backend"`` in ``keras.json`` must get what they asked for.

One subtlety: Keras writes ``keras.json`` with ``"backend": "tensorflow"`` the first
time it is imported without a configuration. That file is not a user's choice when
TensorFlow is not even installed, so in that case we still pick JAX rather than let
``import keras`` fail.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

DEFAULT_BACKEND = "jax"


def _keras_config_backend() -> str | None:
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    path = Path(home) / "keras.json"
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    backend = config.get("backend") if isinstance(config, dict) else None
    return backend if isinstance(backend, str) and backend else None


def choose_backend() -> str | None:
    """Set ``KERAS_BACKEND=jax`` when nobody chose a backend; return what was set.

    Returns ``None`` when nothing was changed (Keras already imported, or the user
    chose a backend).
    """
    if "keras" in sys.modules or os.environ.get("KERAS_BACKEND"):
        return None
    configured = _keras_config_backend()
    if configured is not None:
        untouched_default = configured == "tensorflow" and importlib.util.find_spec("tensorflow") is None
        if not untouched_default:
            return None
    os.environ["KERAS_BACKEND"] = DEFAULT_BACKEND
    return DEFAULT_BACKEND


def limit_threads_in_workers() -> bool:
    """Make XLA single-threaded in processes that were told to use one thread.

    joblib's process workers (``n_jobs=2`` in ``cross_val_score`` or ``GridSearchCV``)
    set ``OMP_NUM_THREADS`` to ``cores // n_jobs`` so that BLAS does not oversubscribe
    the machine. XLA's CPU backend (JAX) ignores that variable and starts one thread per
    core in every worker; on 2 cores with 2 workers that is 4 busy threads fighting
    for 2 cores. PyTorch already honours ``OMP_NUM_THREADS``. Must run before JAX
    creates its CPU client, so it is called at ``import keraslab``.

    Returns whether XLA_FLAGS was changed.
    """
    if os.environ.get("OMP_NUM_THREADS") != "1" or "jax" in sys.modules:
        return False
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" in flags:
        return False
    os.environ["XLA_FLAGS"] = (flags + " --xla_cpu_multi_thread_eigen=false").strip()
    return True


#: Values of ``$KERASLAB_COMPILATION_CACHE`` that switch the default cache off.
_OFF = ("0", "false", "off", "no")


def enable_default_compilation_cache() -> str | None:
    """Turn JAX's persistent compilation cache on for keraslab, unless opted out.

    Called at ``import keraslab``. Off when ``$KERASLAB_COMPILATION_CACHE`` is one of
    ``0, false, off, no``, when the backend is not JAX, or when the user already gave
    JAX a cache folder (``JAX_COMPILATION_CACHE_DIR`` or ``jax.config``), which is kept.
    A folder that cannot be created only logs a warning: caching is an optimisation.

    Returns
    -------
    str or None
        The folder used, or None when the cache was left alone.
    """
    setting = os.environ.get("KERASLAB_COMPILATION_CACHE", "").strip()
    if setting.lower() in _OFF or os.environ.get("KERAS_BACKEND", DEFAULT_BACKEND) != "jax":
        return None
    import jax

    if jax.config.jax_compilation_cache_dir:
        return None
    try:
        return enable_compilation_cache(setting or None)
    except OSError as err:
        import logging

        logging.getLogger("keraslab").warning("JAX compilation cache not enabled: %s", err)
        return None


def enable_compilation_cache(directory: str | os.PathLike | None = None) -> str | None:
    """Let JAX reuse compiled training steps across models of the same architecture.

    Every fresh fit builds a new Keras model whose train step XLA compiles again;
    for the small models of a search or a test suite that compile costs more than
    the training. JAX's persistent cache is keyed by the compiled program, so the
    second model with the same architecture and batch shapes loads it instead.

    Parameters
    ----------
    directory : path, optional
        Where compiled programs are kept; default ``$KERASLAB_JAX_CACHE`` or
        ``~/.cache/keraslab/jax``.

    Returns
    -------
    str or None
        The directory used, or None when the backend is not JAX.

    Examples
    --------
    >>> import keraslab
    >>> keraslab.enable_compilation_cache("/tmp/keraslab-jax-cache")  # doctest: +SKIP
    """
    import keras

    if keras.backend.backend() != "jax":
        return None
    import jax

    directory = str(directory or os.environ.get("KERASLAB_JAX_CACHE")
                    or Path.home() / ".cache" / "keraslab" / "jax")
    Path(directory).mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", directory)
    # Small models compile in well under JAX's default 1 s threshold: cache them all.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return directory
