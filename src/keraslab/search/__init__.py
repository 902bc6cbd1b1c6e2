"""Searches beyond the grid: multiresolution, growing subsets, crash-safe resume,
cost and progress, Optuna and Dask.

``import keraslab.search`` imports scikit-learn only; Optuna is imported by
:func:`shared_study` when called, Dask only by joblib when you ask for its backend.

Examples
--------
>>> from keraslab.search import MultiResolutionSearchCV, Integer, Real
>>> space = {"C": Real(1e-3, 1e3, log=True)}
"""

from keraslab.search.cost import ProgressBar, SearchCost, estimate_search_cost
from keraslab.search.journal import Journal, JournalMismatchError
from keraslab.search.journaled import JournaledGridSearchCV, JournaledRandomizedSearchCV
from keraslab.search.multires import MultiResolutionSearchCV, ProxyNotRepresentativeWarning
from keraslab.search.space import Categorical, Integer, Real
from keraslab.search.studies import shared_study
from keraslab.search.crossval import cross_val_score, cross_validate
from keraslab.search.vectorized import parallel_fits

__all__ = [
    "Categorical",
    "Integer",
    "Journal",
    "JournalMismatchError",
    "JournaledGridSearchCV",
    "JournaledRandomizedSearchCV",
    "MultiResolutionSearchCV",
    "ProgressBar",
    "ProxyNotRepresentativeWarning",
    "Real",
    "SearchCost",
    "cross_val_score",
    "cross_validate",
    "estimate_search_cost",
    "parallel_fits",
    "shared_study",
]
