"""keraslab: improve Keras 3 models the scikit-learn way.

Importing keraslab selects the JAX backend when the user chose none (see
:mod:`keraslab._backend`), turns JAX's persistent compilation cache on (folder
``$KERASLAB_COMPILATION_CACHE``, ``$KERASLAB_JAX_CACHE`` or ``~/.cache/keraslab/jax``;
``KERASLAB_COMPILATION_CACHE=0`` opts out) and imports nothing heavier than Keras itself: plotting,
Optuna and Dask are imported only by the functions that need them.
"""

from keraslab._backend import choose_backend as _choose_backend
from keraslab._backend import limit_threads_in_workers as _limit_threads_in_workers

_choose_backend()
_limit_threads_in_workers()

from keraslab._backend import enable_compilation_cache  # noqa: E402
from keraslab.errors import KeraslabError  # noqa: E402
from keraslab.wrappers import KerasClassifier, KerasRegressor  # noqa: E402
from keraslab._backend import enable_default_compilation_cache as _enable_default_compilation_cache  # noqa: E402

# Every fresh fit compiles its train step again; the persistent cache makes a model of an
# architecture already seen load it instead (opt out: KERASLAB_COMPILATION_CACHE=0).
_enable_default_compilation_cache()

__version__ = "0.1.0"

__all__ = ["KerasClassifier", "KerasRegressor", "KeraslabError", "enable_compilation_cache", "__version__"]
