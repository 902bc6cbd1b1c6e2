"""Peak memory and fragments/second of one epoch of char-level batches over the full Sherlock corpus.

Workload: ``sherlock.txt`` lower-cased as the chapter prepares it, windows of 40
characters every 3, batches of 100, one-hot inputs and targets.

Compared in the same run, each in its own subprocess (peak RSS is ``ru_maxrss`` of that
process minus its value right after the imports):

* ``keraslab``  OneHotFragments: the int-encoded text plus one permutation; each batch's
                one-hot block is built when asked for (bool, like the chapter, and float32).
* ``chapter``   the chapter's listing: lists of sentences and next characters, then the
                boolean tensors ``x (fragments, 40, characters)`` and ``y`` filled in Python
                loops, then sliced into batches. Its full size is computed; when it exceeds
                ``--max-chapter-bytes`` it is built for a prefix of the corpus only and its
                memory and time are extrapolated linearly (clearly marked).

Target: keraslab's peak <= 300 MB.

Run: ``KERASLAB_DATA=... python benchmarks/bench_text.py``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

WINDOW, STEP, BATCH = 40, 3, 100


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def child_keraslab(dtype: str) -> dict:
    import numpy as np

    from keraslab import data as kd

    baseline = _peak_mb()
    start = time.perf_counter()
    text = kd.load_corpus("sherlock.txt")
    vocabulary = kd.CharVocabulary(text)
    batches = kd.OneHotFragments(text, vocabulary, WINDOW, STEP, BATCH, shuffle=True, seed=0, dtype=dtype)
    checksum = 0
    for i in range(len(batches)):
        x, y = batches[i]
        checksum += int(y[:, 0].sum())  # touch the data so nothing is optimised away
    seconds = time.perf_counter() - start
    return {
        "fragments": batches.n_fragments,
        "vocabulary": vocabulary.size,
        "seconds": seconds,
        "peak_mb": _peak_mb() - baseline,
        "checksum": checksum,
        "dtype": str(np.dtype(dtype)),
    }


def child_chapter(fraction: float) -> dict:
    import numpy as np

    from keraslab import data as kd

    baseline = _peak_mb()
    start = time.perf_counter()
    text = kd.load_corpus("sherlock.txt")
    chars = sorted(list(set(text)))
    text = text[: int(len(text) * fraction)]
    char_indices = dict((c, i) for i, c in enumerate(chars))
    sentences, next_chars = [], []
    for i in range(0, len(text) - WINDOW, STEP):
        sentences.append(text[i : i + WINDOW])
        next_chars.append(text[i + WINDOW])
    x = np.zeros((len(sentences), WINDOW, len(chars)), dtype=bool)
    y = np.zeros((len(sentences), len(chars)), dtype=bool)
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1
    checksum = 0
    for i in range(0, len(sentences), BATCH):
        checksum += int(y[i : i + BATCH, 0].sum())
        x[i : i + BATCH]
    seconds = time.perf_counter() - start
    return {"fragments": len(sentences), "seconds": seconds, "peak_mb": _peak_mb() - baseline, "checksum": checksum}


def run_child(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--max-chapter-bytes", type=float, default=2.0e8,
                        help="build the chapter's tensor in full only below this size (default 200 MB)")
    args = parser.parse_args()
    if args.child:
        kind, value = args.child
        result = child_keraslab(value) if kind == "keraslab" else child_chapter(float(value))
        print(json.dumps(result))
        return

    from keraslab import data as kd

    text = kd.load_corpus("sherlock.txt")
    n_chars = len(set(text))
    n_fragments = -(-(len(text) - WINDOW) // STEP)
    full_bytes = n_fragments * WINDOW * n_chars + n_fragments * n_chars  # bool x and y
    print(f"corpus: {len(text):,} characters, {n_chars} distinct; {n_fragments:,} fragments of {WINDOW} (step {STEP})")
    print(f"the chapter's boolean one-hot tensors x + y would take {full_bytes / 1e9:.2f} GB")

    for dtype in ("bool", "float32"):
        r = run_child("keraslab", dtype)
        print(f"  keraslab OneHotFragments ({r['dtype']:>7}): peak RSS +{r['peak_mb']:6.1f} MB, "
              f"{r['fragments'] / r['seconds']:10,.0f} fragments/s ({r['seconds']:.1f} s for {len(range(0, r['fragments'], BATCH))} batches)"
              f"  -> target <= 300 MB {'met' if r['peak_mb'] <= 300 else 'NOT met'}")

    fraction = min(1.0, args.max_chapter_bytes / full_bytes)
    r = run_child("chapter", str(fraction))
    if fraction < 1.0:
        scale = n_fragments / r["fragments"]
        print(f"  chapter's listing on the first {fraction:.0%} of the corpus: peak RSS +{r['peak_mb']:.1f} MB, "
              f"{r['fragments'] / r['seconds']:,.0f} fragments/s")
        print(f"  chapter's listing, full corpus EXTRAPOLATED (x{scale:.1f}): peak RSS ~ +{r['peak_mb'] * scale / 1024:.1f} GB, "
              f"~{r['seconds'] * scale:.0f} s")
    else:
        print(f"  chapter's listing (full): peak RSS +{r['peak_mb']:.1f} MB, {r['fragments'] / r['seconds']:,.0f} fragments/s")


if __name__ == "__main__":
    main()
