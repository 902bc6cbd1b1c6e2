"""Cheap, deterministic estimators for the search tests (importable from subprocesses)."""

from __future__ import annotations

import math
import os
import time

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression


class Landscape(ClassifierMixin, BaseEstimator):
    """A fake classifier whose CV score is a known function of its parameters.

    ``score = 1 - (x - x_opt)^2 - (y - y_opt)^2 + bonus[opt] + noise * fold_wobble``,
    where the wobble depends on the test fold's rows, so candidates get a standard
    error of about ``noise``. Fitting takes no time (``delay`` seconds if set).
    """

    def __init__(self, x=0.0, y=0.0, opt="a", noise=0.0, x_opt=0.3, y_opt=0.7, delay=0.0,
                 random_state=None):
        self.x = x
        self.y = y
        self.opt = opt
        self.noise = noise
        self.x_opt = x_opt
        self.y_opt = y_opt
        self.delay = delay
        self.random_state = random_state

    def fit(self, X, y):
        if self.delay:
            time.sleep(self.delay)
        self.classes_ = np.unique(y)
        self.n_train_ = len(X)
        self.seed_seen_ = self.random_state
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y=None, sample_weight=None):
        base = 1.0 - (float(self.x) - self.x_opt) ** 2 - (float(self.y) - self.y_opt) ** 2
        base += {"a": 0.1, "b": 0.0}.get(self.opt, 0.0)
        # Fold- and candidate-dependent, so candidates differ in their standard errors.
        phase = 1000.0 * float(np.sum(X[:, 0])) + 17.0 * float(self.x) + 31.0 * float(self.y)
        wobble = math.sin(phase)
        return base + self.noise * wobble


class ProxyTrap(ClassifierMixin, BaseEstimator):
    """Ranks candidates one way on small training sets and the opposite way on large ones."""

    def __init__(self, x=0.0, threshold=100):
        self.x = x
        self.threshold = threshold

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        self.n_train_ = len(X)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y=None, sample_weight=None):
        sign = 1.0 if self.n_train_ < self.threshold else -1.0
        return sign * float(self.x) + 1e-3 * math.sin(float(np.sum(X[:, 0])))


# Set by tests, deliberately not estimator parameters: a journal's identity includes
# the estimator's parameters, and the interrupted and resumed runs must match.
FIT_DELAY = float(os.environ.get("KERASLAB_TEST_FIT_DELAY", "0"))
STOP_AT = None


class SlowLogisticRegression(LogisticRegression):
    """LogisticRegression that sleeps ``$KERASLAB_TEST_FIT_DELAY`` seconds per fit (to be
    killed mid-search) and raises KeyboardInterrupt, like Ctrl-C, when ``C == STOP_AT``."""

    def fit(self, X, y, sample_weight=None):
        if STOP_AT is not None and self.C == STOP_AT:
            raise KeyboardInterrupt
        time.sleep(FIT_DELAY)
        return super().fit(X, y, sample_weight=sample_weight)


def classification_data(n=240, n_features=5, seed=0):
    """A small, noisy binary problem where regularisation matters a little."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    w = np.linspace(1.0, 0.2, n_features)
    y = (X @ w + 1.2 * rng.normal(size=n) > 0).astype(int)
    return X, y
