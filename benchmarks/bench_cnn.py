"""Seconds per epoch of the chapter's striding CNN against its pooling CNN.

The chapter (Figs 31-34, a late-2014 iMac CPU, Keras 2) reports 147 s per epoch for
the pooling CNN and 36 s for the striding CNN, on 45,000 MNIST training images
(``validation_split=0.25`` of 60,000) with batch 256. This script times the same
models from :mod:`keraslab.zoo.cnn` on this machine, plus the pooling CNN with
:class:`keraslab.layers.ReshapeMaxPooling2D` (``pool="reshape"``: the same forward
result, computed by reshape and max instead of ``reduce_window``, whose gradient is
slow on the JAX CPU backend).

Variants, compared in the same run:

* ``striding``        ``striding_cnn()``: the baseline of the ratios.
* ``pooling``         ``pooling_cnn()``: Keras MaxPooling2D.
* ``pooling-reshape`` ``pooling_cnn(pool="reshape")``.

Each variant is built from the same seed and fitted for ``--epochs`` epochs
(default 2) with the 15,000 remaining images as validation data, as in the chapter;
the first epoch includes compilation, so the steady figure is the mean of the later
epochs. Run it alone on the machine (the project's rule is under a lock):

    flock /tmp/keraslab-cpu.lock nice -n 5 python benchmarks/bench_cnn.py [--epochs 2] [--train 45000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import keras

from keraslab import data as kd
from keraslab.callbacks import EpochTimer
from keraslab.zoo.cnn import pooling_cnn, striding_cnn

CHAPTER_SECONDS = {"striding": 36.0, "pooling": 147.0}

VARIANTS = {
    "striding": lambda: striding_cnn(),
    "pooling": lambda: pooling_cnn(),
    "pooling-reshape": lambda: pooling_cnn(pool="reshape"),
}


def load(train: int, validation: int):
    (x, y), _ = kd.load_mnist()
    x = kd.to_images(kd.scale(x, (-1.0, 1.0)))
    y = keras.utils.to_categorical(y, 10)
    return (x[:train], y[:train]), (x[train : train + validation], y[train : train + validation])


def time_variant(name: str, training, validation, epochs: int, batch_size: int) -> dict:
    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    model = VARIANTS[name]()
    timer = EpochTimer()
    started = time.perf_counter()
    history = model.fit(
        *training, validation_data=validation if len(validation[0]) else None, epochs=epochs, batch_size=batch_size, verbose=0,
        callbacks=[timer],
    )  # fmt: skip
    total = time.perf_counter() - started
    steady = timer.seconds[1:] or timer.seconds
    return {
        "name": name,
        "first": timer.seconds[0],
        "steady": statistics.mean(steady),
        "total": total,
        "val_accuracy": history.history.get("val_accuracy", [float("nan")])[-1],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--train", type=int, default=45_000, help="training images (chapter: 45,000)")
    parser.add_argument("--validation", type=int, default=15_000, help="validation images (0: none)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args(argv)

    training, validation = load(args.train, args.validation)
    print(f"backend {keras.backend.backend()}, {len(training[0])} training / {len(validation[0])} validation "
          f"images, batch {args.batch_size}, {args.epochs} epochs")  # fmt: skip
    results = [time_variant(name, training, validation, args.epochs, args.batch_size) for name in args.variants]
    baseline = next((r["steady"] for r in results if r["name"] == "striding"), None)
    print(f"{'variant':16s} {'epoch 1 s':>10s} {'s/epoch':>8s} {'vs striding':>12s} {'chapter s':>10s} {'val_acc':>8s}")
    for r in results:
        ratio = f"{r['steady'] / baseline:.2f}x" if baseline else "-"
        chapter = CHAPTER_SECONDS.get(r["name"])
        print(f"{r['name']:16s} {r['first']:10.1f} {r['steady']:8.1f} {ratio:>12s} "
              f"{chapter if chapter else '-':>10} {r['val_accuracy']:8.4f}")  # fmt: skip
    print(f"chapter: pooling / striding = {CHAPTER_SECONDS['pooling'] / CHAPTER_SECONDS['striding']:.2f}x")


if __name__ == "__main__":
    main()
