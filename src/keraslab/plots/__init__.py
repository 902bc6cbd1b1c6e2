"""The chapter's figures: a data function (tested) plus a render function (drawn with matplotlib).

Every ``plot_*`` function returns a :class:`matplotlib.figure.Figure` built without
``pyplot`` (no global state, no GUI backend, safe in tests and worker threads); save
it with :func:`save_figure`. matplotlib is imported only inside the render functions,
so ``import keraslab.plots`` stays light.

=============================  ==========================================================
``plot_history``               accuracy and loss, training vs validation (Figs B3-1..15, 27-45)
``plot_timing``                seconds vs a swept value, log x axis (Fig B3-5)
``plot_fold_scores``           cross-validation fold scores, failed folds marked, not zero
``plot_search_scores``         candidate mean scores of a search, in order (Figs B3-17..19)
``plot_search_space``          2-D search space, bubble size = score (Fig B3-16)
``plot_sequence_predictions``  predictions vs truth, shifted by the window (Figs B3-59..80)
``image_grid``                 a grid of images (Figs B3-42, B3-43)
``plot_search_rounds``         a coarse-to-fine search's candidates per round
``plot_zoom_path``             where a coarse-to-fine search zoomed, round by round
``plot_rank_agreement``        scores on a smaller vs a larger data subset
=============================  ==========================================================

One module per kind of figure: :mod:`~keraslab.plots.training` (history, timing,
folds), :mod:`~keraslab.plots.search` (``cv_results_``), :mod:`~keraslab.plots.rounds`
(:class:`~keraslab.search.MultiResolutionSearchCV`), :mod:`~keraslab.plots.images`
(sequences, image grids); every public name is importable from ``keraslab.plots``.

Examples
--------
>>> history = {"loss": [0.5, 0.3], "val_loss": [0.6, 0.4], "accuracy": [0.8, 0.9], "val_accuracy": [0.7, 0.85]}
>>> [p["metric"] for p in history_panels(history)]
['accuracy', 'loss']
>>> fig = plot_history(history, title="baseline")
>>> save_figure(fig, "/tmp/keraslab-doctest-history.png")  # doctest: +ELLIPSIS
PosixPath('/tmp/keraslab-doctest-history.png')
"""

from keraslab.plots._figure import save_figure
from keraslab.plots.images import grid_shape, image_grid, plot_sequence_predictions, sequence_prediction_series
from keraslab.plots.rounds import (
    plot_rank_agreement,
    plot_search_rounds,
    plot_zoom_path,
    rank_agreement_data,
    search_rounds_data,
    zoom_path_data,
)
from keraslab.plots.search import (
    numeric_parameters,
    plot_search_scores,
    plot_search_space,
    search_score_points,
    search_space_points,
)
from keraslab.plots.training import (
    ACCURACY_KEYS,
    fold_score_bars,
    history_panels,
    plot_fold_scores,
    plot_history,
    plot_timing,
    timing_points,
)

__all__ = [
    "history_panels",
    "plot_history",
    "timing_points",
    "plot_timing",
    "fold_score_bars",
    "plot_fold_scores",
    "search_score_points",
    "plot_search_scores",
    "numeric_parameters",
    "search_space_points",
    "plot_search_space",
    "sequence_prediction_series",
    "plot_sequence_predictions",
    "grid_shape",
    "image_grid",
    "save_figure",
    "plot_rank_agreement",
    "plot_search_rounds",
    "plot_zoom_path",
    "rank_agreement_data",
    "search_rounds_data",
    "zoom_path_data",
]
