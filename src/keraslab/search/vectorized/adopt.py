"""Give each member of a trained group its own state back: a normal fitted estimator.

After :func:`~keraslab.search.vectorized.program.train_group`, member ``k``'s slice of
the stacked state is assigned to its own model's variables (weights, optimizer
state, metrics), its wrapper gets ``model_`` and ``history_`` as a sequential fit
leaves them, and it is scored on its fold exactly as
:func:`sklearn.model_selection._validation._fit_and_score` scores it.
"""

from __future__ import annotations

import time
from traceback import format_exc
from typing import Any, Callable

from sklearn.model_selection._validation import _score
from sklearn.metrics._scorer import _MultimetricScorer
from sklearn.utils.validation import _num_samples

from keraslab.errors import TrainingDivergedError
from keraslab.search.vectorized.members import Member

__all__ = ["adopt", "score_member", "failure_result"]


def adopt(member: Member, state: tuple, k: int, history: dict[str, list[float]]) -> None:
    """Assign member ``k``'s slice of the stacked ``state`` to its own model."""
    model = member.model
    groups = (model.trainable_variables, model.non_trainable_variables, model.optimizer.variables,
              model.metrics_variables)
    for variables, values in zip(groups, state):
        for variable, value in zip(variables, values):
            # a member trained zero-padded to a wider template takes back its own leading corner
            variable.assign(value[k][tuple(slice(0, n) for n in variable.shape)])
    member.wrapper.history_ = {name: list(values) for name, values in history.items()}


def diverged_error(epoch: int) -> TrainingDivergedError:
    """The error a sequential fit raises when its loss became NaN at ``epoch`` (0-based)."""
    return TrainingDivergedError(
        f"The training loss became NaN or infinite at epoch {epoch + 1}. "
        "Lower the learning rate, scale the inputs, or clip gradients "
        "(e.g. optimizer=keras.optimizers.Adam(1e-4, clipnorm=1.0))."
    )


def failure_result(member: Member, error: Exception, fit_time: float, kwargs: dict) -> dict:
    """The result ``_fit_and_score`` gives a fit that raised ``error`` (or re-raises it)."""
    error_score = kwargs.get("error_score", float("nan"))
    if error_score == "raise":
        raise error
    scorer = kwargs["scorer"]
    multi = isinstance(scorer, _MultimetricScorer)
    scores: Any = {name: error_score for name in scorer._scorers} if multi else error_score
    try:
        raise error
    except type(error):
        trace = format_exc()
    result = {"fit_error": trace, "test_scores": scores}
    if kwargs.get("return_train_score"):
        result["train_scores"] = dict(scores) if isinstance(scores, dict) else scores
    result = _finish(result, member, fit_time, 0.0, kwargs)
    result["history"] = {}  # as fit_task gives a failed sequential fit
    return result


def score_member(member: Member, fit_time: float, kwargs: dict, score_params: tuple[dict, dict],
                 train_data: Callable[[], tuple]) -> dict:
    """Score a fitted member on its fold: the dict ``_fit_and_score`` returns.

    ``score_params`` are the scorer's parameters already indexed to (test, train) rows;
    ``train_data()`` gives the training rows (X, y) when train scores are asked for.
    """
    scorer, error_score = kwargs["scorer"], kwargs.get("error_score", float("nan"))
    start = time.time()
    result: dict = {"fit_error": None,
                    "test_scores": _score(member.estimator, member.x_test, member.y_test, scorer,
                                          score_params[0], error_score)}
    score_time = time.time() - start
    if kwargs.get("return_train_score"):
        x_train, y_train = train_data()
        result["train_scores"] = _score(member.estimator, x_train, y_train, scorer, score_params[1], error_score)
    result = _finish(result, member, fit_time, score_time, kwargs)
    result["history"] = {name: list(values) for name, values in member.wrapper.history_.items()}
    return result


def _finish(result: dict, member: Member, fit_time: float, score_time: float, kwargs: dict) -> dict:
    if kwargs.get("return_n_test_samples"):
        result["n_test_samples"] = _num_samples(member.x_test)
    if kwargs.get("return_times", True):
        result["fit_time"] = fit_time
        result["score_time"] = score_time
    if kwargs.get("return_parameters"):
        result["parameters"] = kwargs.get("parameters")
    if kwargs.get("return_estimator"):
        result["estimator"] = member.estimator
    return result

