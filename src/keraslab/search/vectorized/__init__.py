"""Vectorised fits: the folds and candidates of a search trained as one JAX program.

``program`` stacks K members' state and runs one vmapped ``train_step``;
``members`` prepares each fit exactly as a sequential fit starts; ``grouping``
decides which fits share a program (and how many, given memory); ``adopt`` turns
each member back into a normal fitted estimator and scores it.
"""

from keraslab.search.vectorized.grouping import check_setting, current_setting, fit_task, parallel_fits, run_fits

__all__ = ["check_setting", "current_setting", "fit_task", "parallel_fits", "run_fits"]
