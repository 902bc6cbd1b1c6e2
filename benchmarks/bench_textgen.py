"""Memory and speed of one char-level training epoch on the full Sherlock Holmes corpus.

The chapter's setting: window 40, step 3, batch 100, LSTM 128 + LSTM 128, RMSprop 0.01,
after the epoch 1,000 generated characters at temperatures 0.5, 1.0 and 1.5. The
chapter one-hot encodes every fragment before training; this script computes the
size of those tensors (without building them) and compares it with the peak memory of
``keraslab.textgen.train_text_generator``, which streams one-hot batches.

Measured in the same process:

* ``baseline``   resident memory (VmRSS) after importing keraslab and Keras;
* ``peak``       the process's high-water mark (VmHWM) after training and sampling;
* ``batches``    the whole corpus is loaded and encoded, the model trains on
                 ``--batches`` shuffled batches (``0``: the whole epoch); the seconds
                 per batch after ``--warmup`` batches (compilation) give fragments/s and
                 an extrapolated epoch time (say so when extrapolated);
* ``pipeline``   fragments/s of the batch builder alone (no model): the data is not the
                 bottleneck;
* ``sampling``   seconds for the 3 x 1,000 generated characters;
* ``control``    (a child process) the same model trained on a 20,000-character slice:
                 the memory JAX/XLA and the compiled LSTM take whatever the corpus size,
                 so ``peak - control`` is what the full corpus's data costs.

Target: peak - baseline <= 300 MB. The chapter reports ~1,400 s per epoch on a 2014
iMac CPU.

Run (the machine is shared: take the lock)::

    KERASLAB_DATA=... flock /tmp/keraslab-cpu.lock nice -n 5 python benchmarks/bench_textgen.py [--batches 300]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import keraslab  # noqa: F401  (chooses the backend)
import keras
import numpy as np

from keraslab.data import CharVocabulary, OneHotFragments, load_corpus
from keraslab.textgen import train_text_generator

CHAPTER_SECONDS_PER_EPOCH = 1400.0
TARGET_MB = 300.0


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"{field} not in /proc/self/status (Linux only)")


class BatchTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every training batch."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds: list[float] = []
        self._start = 0.0

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self.seconds.append(time.perf_counter() - self._start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="sherlock.txt", help="looked up in $KERASLAB_DATA when relative")
    parser.add_argument("--batches", type=int, default=300, help="batches to train (0: the whole epoch)")
    parser.add_argument("--warmup", type=int, default=10, help="first batches left out of the steady rate")
    parser.add_argument("--window", type=int, default=40)
    parser.add_argument("--step", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--length", type=int, default=1000, help="characters generated per temperature")
    parser.add_argument("--control-chars", type=int, default=20_000,
                        help="corpus slice of the control run (0: no control run)")
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # the control child's output
    args = parser.parse_args()

    baseline = _status_mb("VmRSS")
    if args.json:
        _control_child(args, baseline)
        return
    control = _control(args) if args.control_chars > 0 else None
    # Starting JAX's CPU client (the first operation) is part of any Keras training; shown on its own.
    keras.ops.convert_to_numpy(keras.ops.zeros(1) + 1)
    backend_start = _status_mb("VmRSS") - baseline
    print(f"backend {keras.backend.backend()}, keras {keras.__version__}, {os.cpu_count()} CPUs")
    print(f"baseline RSS after importing keraslab + Keras: {baseline:.0f} MB")

    # The chapter's tensors, computed from the corpus statistics (never built).
    text = load_corpus(args.corpus)
    vocabulary = CharVocabulary(text)
    n_fragments = math.ceil((len(text) - args.window) / args.step)
    x_bytes = n_fragments * args.window * vocabulary.size  # np.bool: one byte per value
    y_bytes = n_fragments * vocabulary.size
    chapter_mb = (x_bytes + y_bytes) / 2**20
    print(f"corpus: {len(text):,} characters, {vocabulary.size} distinct, {n_fragments:,} fragments "
          f"(window {args.window}, step {args.step})")
    print(f"chapter's one-hot tensors: x {n_fragments:,} x {args.window} x {vocabulary.size} + "
          f"y {n_fragments:,} x {vocabulary.size}, bool: {chapter_mb:,.0f} MB "
          f"(as float32 for Keras: {4 * chapter_mb:,.0f} MB)")

    # The batch builder alone.
    data = OneHotFragments(text, vocabulary, args.window, args.step, args.batch_size, seed=0)
    start = time.perf_counter()
    probe = min(200, len(data))
    for index in range(probe):
        data[index]
    pipeline_rate = probe * args.batch_size / (time.perf_counter() - start)
    print(f"batch builder alone: {pipeline_rate:,.0f} fragments/s")
    del data, text

    n_batches = math.ceil(n_fragments / args.batch_size)
    steps = None if args.batches <= 0 or args.batches >= n_batches else args.batches
    timer = BatchTimer()
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result = train_text_generator(
            args.corpus, level="char", window_length=args.window, step=args.step, epochs=1,
            batch_size=args.batch_size, temperatures=(0.5, 1.0, 1.5), generate_length=args.length, seed=0,
            output=Path(folder) / "samples.txt", steps_per_epoch=steps, callbacks=[timer], verbose=0,
        )
        total = time.perf_counter() - start
    peak = _status_mb("VmHWM")
    trained = len(timer.seconds)
    fit_seconds = result.seconds_per_epoch[0]
    sampling = total - fit_seconds  # includes corpus loading/encoding (well under a second)
    steady = timer.seconds[args.warmup :] or timer.seconds
    per_batch = float(np.median(steady))
    rate = args.batch_size / per_batch
    warm = sum(timer.seconds[: args.warmup])
    epoch_seconds = fit_seconds if steps is None else warm + (n_batches - min(args.warmup, trained)) * per_batch

    print(f"\ntrained {trained:,} of {n_batches:,} batches in {fit_seconds:.1f} s "
          f"(first {args.warmup} batches incl. compilation: {warm:.1f} s); loss {result.history['loss'][0]:.3f}")
    print(f"steady training: {per_batch * 1000:.1f} ms/batch (median) = {rate:,.0f} fragments/s")
    how = "measured" if steps is None else f"extrapolated from {trained} batches"
    print(f"seconds per epoch: {epoch_seconds:,.0f} s ({how}); chapter: ~{CHAPTER_SECONDS_PER_EPOCH:,.0f} s "
          f"on a 2014 iMac CPU -> {CHAPTER_SECONDS_PER_EPOCH / epoch_seconds:.1f}x")
    print(f"sampling 3 x {args.length} characters (+ corpus loading): {sampling:.1f} s")
    delta = peak - baseline
    verdict = "PASS" if delta <= TARGET_MB else "FAIL"
    print(f"\npeak RSS {peak:.0f} MB = baseline + {delta:.0f} MB (target <= {TARGET_MB:.0f} MB: {verdict}); "
          f"the chapter's bool tensors alone: {chapter_mb:,.0f} MB ({chapter_mb / max(delta, 1):.0f}x our increase)")
    print(f"  of which: starting the JAX backend (one operation) {backend_start:.0f} MB")
    if control is not None:
        print(f"control (same model and batches, {args.control_chars:,}-character corpus, fresh process): "
              f"baseline + {control:.0f} MB -> the full corpus's data costs about {delta - control:.0f} MB")
    sample = next(s for s in result.samples if s.temperature == 0.5)
    print(f'\nsample at temperature 0.5 after this training, seed "{sample.seed}":\n{sample.text[:300]}')


def _control(args: argparse.Namespace) -> float:
    """Peak RSS increase of the same training on a small slice of the corpus, in a fresh process."""
    text = load_corpus(args.corpus)[: args.control_chars]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "slice.txt"
        path.write_text(text, encoding="utf-8")
        command = [sys.executable, __file__, "--json", "--corpus", str(path), "--batches", "30",
                   "--window", str(args.window), "--step", str(args.step), "--batch-size", str(args.batch_size),
                   "--length", "50"]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["delta_mb"]


def _control_child(args: argparse.Namespace, baseline: float) -> None:
    train_text_generator(args.corpus, window_length=args.window, step=args.step, epochs=1,
                         batch_size=args.batch_size, temperatures=(0.5, 1.0, 1.5), generate_length=args.length,
                         seed=0, steps_per_epoch=args.batches, verbose=0)
    print(json.dumps({"delta_mb": _status_mb("VmHWM") - baseline}))


if __name__ == "__main__":
    main()
