"""Wrapper overhead and memory: KerasClassifier vs a hand-written Keras loop.

1. 5-fold cross-validation of the chapter's 2x32 dropout model on 12,000 MNIST rows, 5 epochs,
   batch 256: ``cross_val_score(KerasClassifier(...))`` vs a raw loop over the same folds
   (build, fit, predict, accuracy), alternated over several repetitions; prints the median
   ratio (target <= 1.03).
2. Resident memory over 100 successive small fits (target: flat after warm-up).

Run:  KERASLAB_DATA=../shared/data python benchmarks/bench_wrapper.py [--reps 5] [--fits 100]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import keraslab  # noqa: F401  (JAX unless the user chose)
import keras
from sklearn.model_selection import StratifiedKFold, cross_val_score

from keraslab import KerasClassifier
from keraslab.zoo.dense import make_model  # Listing B3-6: Dense(32)+MaxNorm(3)+Dropout(0.2), twice


def load(n: int):
    path = os.path.join(os.environ.get("KERASLAB_DATA", "."), "mnist.npz")
    with np.load(path) as f:
        X = f["x_train"][:n].reshape(n, -1).astype("float32") / 255.0
        y = f["y_train"][:n].astype(int)
    return X, y


def raw_loop(X, y, cv, epochs, batch_size) -> list[float]:
    scores = []
    for train, test in cv.split(X, y):
        keras.backend.clear_session()
        keras.utils.set_random_seed(0)
        model = make_model()
        model.fit(X[train], np.eye(10, dtype="float32")[y[train]], epochs=epochs, batch_size=batch_size, verbose=0)
        pred = model.predict(X[test], batch_size=batch_size, verbose=0).argmax(axis=1)
        scores.append(float((pred == y[test]).mean()))
    return scores


def wrapped(X, y, cv, epochs, batch_size) -> list[float]:
    clf = KerasClassifier(build_fn=make_model, epochs=epochs, batch_size=batch_size, verbose=0, random_state=0)
    return list(cross_val_score(clf, X, y, cv=cv))


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def overhead(reps: int, epochs: int) -> None:
    X, y = load(12_000)
    cv = StratifiedKFold(5, shuffle=True, random_state=42)
    wrapped(X[:2000], y[:2000], StratifiedKFold(2), 1, 256)  # warm up imports and XLA
    raw_loop(X[:2000], y[:2000], StratifiedKFold(2), 1, 256)
    ratios = []
    for rep in range(reps):
        order = [("raw", raw_loop), ("wrapper", wrapped)]
        if rep % 2:
            order.reverse()  # alternate so drift in machine load hits both sides
        times, scores = {}, {}
        for name, fn in order:
            start = time.perf_counter()
            scores[name] = fn(X, y, cv, epochs, 256)
            times[name] = time.perf_counter() - start
        ratios.append(times["wrapper"] / times["raw"])
        print(f"rep {rep + 1}: raw {times['raw']:.2f}s (mean acc {np.mean(scores['raw']):.4f})  "
              f"wrapper {times['wrapper']:.2f}s (mean acc {np.mean(scores['wrapper']):.4f})  "
              f"ratio {ratios[-1]:.3f}")
    print(f"median ratio wrapper/raw over {reps} reps: {statistics.median(ratios):.3f}  (target <= 1.03)")


def memory(fits: int) -> None:
    X, y = load(600)
    readings = []
    for i in range(fits):
        KerasClassifier(build_fn=make_model, epochs=1, batch_size=128, random_state=i).fit(X, y).predict(X[:10])
        readings.append(rss_mb())
        if (i + 1) in (1, 10, 25, 50, 75, 100) or i + 1 == fits:
            print(f"after fit {i + 1:3d}: RSS {readings[-1]:.1f} MB")
    warm = readings[min(9, len(readings) - 1)]
    growth = (readings[-1] - warm) / max(1, len(readings) - 10)
    print(f"growth after warm-up (fit 10 -> {fits}): {readings[-1] - warm:+.1f} MB total, {growth:+.3f} MB/fit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--fits", type=int, default=100)
    args = parser.parse_args()
    print(f"keras {keras.__version__}, backend {keras.backend.backend()}")
    overhead(args.reps, args.epochs)
    memory(args.fits)


if __name__ == "__main__":
    main()
