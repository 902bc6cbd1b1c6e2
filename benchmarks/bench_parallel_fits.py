"""Parallel (vectorised) fits against sequential fits, ratios measured in one run.

1. ``cv``: 10-fold stratified CV of the chapter's ``zoo.dense.make_model`` (2x32, MaxNorm,
   dropout 0.2) on ``--rows`` MNIST rows (default 12,000), ``--epochs`` epochs (5), batch
   256: scikit-learn's ``cross_val_score`` with ``KerasClassifier`` (one fit after another)
   vs ``keraslab.search.cross_validate`` (the ten folds as one program). Target >= 8x;
   mean accuracies within one standard error.
2. ``grid``: the catalogue's ``b3-grid-1`` (54 fits: 18 candidates x 3 folds, a MinMaxScaler
   pipeline) at ``train.epochs=5, data.subset=12000``: the search engine with
   ``KERASLAB_PARALLEL_FITS=0`` vs the default. Target >= 4x. Also the sequential grid
   without the persistent compilation cache (``KERASLAB_COMPILATION_CACHE=0``): what the
   cache saves.

Every case runs in its own process with its own, initially empty, JAX compilation cache
folder (so no case inherits another's compiled programs); reported per case: wall seconds
of the measured call, scores, and the process's peak resident memory. With ``--warm`` a
second process then runs the case on the folder the first one filled (what a user sees
from the second run on): its numbers are reported, the first run's as "cold cache".
``cv-sequential-nocache``: the sequential CV with the compilation cache off (the
baseline of the issue's prototype).

Run (about 6 minutes on 2 cores):
    KERASLAB_DATA=../shared/data python benchmarks/bench_parallel_fits.py
    KERASLAB_DATA=../shared/data python benchmarks/bench_parallel_fits.py --cases cv-sequential cv-parallel
    KERASLAB_DATA=../shared/data python benchmarks/bench_parallel_fits.py --warm --cases cv-sequential cv-parallel
Cases can also be run one at a time and collected: ``--out results.json`` appends to the
file, ``--report results.json`` prints the table and ratios from it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

CASES = ("cv-sequential", "cv-parallel", "cv-sequential-nocache", "grid-sequential", "grid-parallel",
         "grid-sequential-nocache")


def _env_for(case: str, cache_dir: str) -> dict:
    env = dict(os.environ)
    env["KERAS_BACKEND"] = env.get("KERAS_BACKEND", "jax")
    env["KERASLAB_COMPILATION_CACHE"] = "0" if case.endswith("nocache") else cache_dir
    env["KERASLAB_PARALLEL_FITS"] = "auto" if case.endswith("parallel") else "0"
    return env


# ---------------------------------------------------------------------------------
# One case, in a child process
# ---------------------------------------------------------------------------------
def _mnist(rows: int):
    import numpy as np

    with np.load(os.path.join(os.environ["KERASLAB_DATA"], "mnist.npz")) as f:
        X = f["x_train"][:rows].reshape(rows, -1).astype("float32") / 255.0
        y = f["y_train"][:rows].astype(int)
    return X, y


def _cv_case(case: str, args) -> dict:
    import numpy as np
    from sklearn import model_selection as ms

    from keraslab import KerasClassifier
    from keraslab.search import cross_validate
    from keraslab.zoo.dense import make_model

    X, y = _mnist(args.rows)
    clf = KerasClassifier(build_fn=make_model, epochs=args.epochs, batch_size=256, verbose=0, random_state=0)
    cv = ms.StratifiedKFold(10, shuffle=True, random_state=42)
    start = time.perf_counter()
    if case.startswith("cv-sequential"):
        scores = ms.cross_val_score(clf, X, y, cv=cv)
    else:
        scores = cross_validate(clf, X, y, cv=cv)["test_score"]
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "scores": [float(s) for s in scores], "mean": float(np.mean(scores)),
            "se": float(np.std(scores, ddof=1) / np.sqrt(len(scores)))}


def _grid_case(case: str, args) -> dict:
    from keraslab.experiments import load_spec
    from keraslab.experiments.runner import run

    spec = load_spec("b3-grid-1", [f"train.epochs={args.epochs}", f"data.subset={args.rows}"])
    with tempfile.TemporaryDirectory() as store:
        start = time.perf_counter()
        result = run(spec, store=os.path.join(store, "runs.sqlite"), progress=False)
        seconds = time.perf_counter() - start
    return {"seconds": seconds, "status": result.status, "best": result.summary.get("best_score"),
            "best_params": str(result.summary.get("best_params"))}


def child(case: str, args) -> None:
    import keraslab  # noqa: F401  (backend and compilation cache, as a user gets them)

    out = _cv_case(case, args) if case.startswith("cv") else _grid_case(case, args)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out), flush=True)


# ---------------------------------------------------------------------------------
# Parent: run the cases, print ratios
# ---------------------------------------------------------------------------------
def run_case(case: str, args) -> dict:
    """One case in a fresh process and an empty cache folder; with ``--warm`` a second,
    measured process then finds the first one's compiled programs in that folder."""
    with tempfile.TemporaryDirectory(prefix="keraslab-bench-cache-") as cache:
        cmd = [sys.executable, __file__, "--child", case, "--rows", str(args.rows), "--epochs", str(args.epochs)]
        out = _child_result(case, cmd, cache)
        if args.warm and not case.endswith("nocache"):
            warm = _child_result(case, cmd, cache)
            out = {**warm, "cold_seconds": out["seconds"], "cold_peak_rss_mb": out["peak_rss_mb"]}
    return out


def _child_result(case: str, cmd: list, cache: str) -> dict:
    proc = subprocess.run(cmd, env=_env_for(case, cache), capture_output=True, text=True)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"case {case} failed (exit {proc.returncode})")
    return json.loads(lines[-1][len("RESULT "):])


def report(results: dict) -> None:
    for case, r in results.items():
        extra = (f"mean acc {r['mean']:.4f} +- {r['se']:.4f} (SE)" if "mean" in r
                 else f"best {r.get('best')} {r.get('best_params')}")
        cold = f" (cold cache {r['cold_seconds']:.1f} s)" if "cold_seconds" in r else ""
        print(f"{case:26s} {r['seconds']:8.1f} s{cold}   peak RSS {r['peak_rss_mb']:7.0f} MB   {extra}")

    def ratio(a, b, label, target=None):
        if a in results and b in results:
            value = results[a]["seconds"] / results[b]["seconds"]
            goal = f" (target >= {target}x)" if target else ""
            print(f"{label}: {value:.2f}x{goal}")

    ratio("cv-sequential", "cv-parallel", "10-fold CV, sequential / parallel fits", 8)
    ratio("cv-sequential-nocache", "cv-parallel", "10-fold CV, sequential without compilation cache / parallel fits")
    if all("cold_seconds" in results.get(c, {}) for c in ("cv-sequential", "cv-parallel")):
        s, p = results["cv-sequential"], results["cv-parallel"]
        print(f"10-fold CV, both with a cold cache: {s['cold_seconds'] / p['cold_seconds']:.2f}x")
    if "cv-sequential" in results and "cv-parallel" in results:
        s, p = results["cv-sequential"], results["cv-parallel"]
        print(f"mean accuracies differ by {abs(s['mean'] - p['mean']):.4f}; one SE of the sequential run is "
              f"{s['se']:.4f}: {'within' if abs(s['mean'] - p['mean']) <= s['se'] else 'NOT within'} one SE")
    ratio("grid-sequential", "grid-parallel", "b3-grid-1 (54 fits), sequential engine / parallel fits", 4)
    ratio("grid-sequential-nocache", "grid-sequential", "b3-grid-1 sequential, no compilation cache / cache")
    ratio("grid-sequential-nocache", "grid-parallel", "b3-grid-1, sequential without compilation cache / parallel fits")
    if all("cold_seconds" in results.get(c, {}) for c in ("grid-sequential", "grid-parallel")):
        s, p = results["grid-sequential"], results["grid-parallel"]
        print(f"b3-grid-1, both with a cold cache: {s['cold_seconds'] / p['cold_seconds']:.2f}x")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    p.add_argument("--rows", type=int, default=12_000)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--warm", action="store_true",
                   help="run each cached case twice in one cache folder; report the second (warm) run "
                        "and the first as cold_seconds")
    p.add_argument("--out", default=None, help="append results to this JSON file")
    p.add_argument("--report", default=None, help="print the table of a JSON file written by --out")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        child(args.child, args)
        return
    if args.report:
        with open(args.report) as f:
            report(json.load(f))
        return
    results = {}
    if args.out and os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)
    for case in args.cases:
        results[case] = run_case(case, args)
        print(f"{case}: {results[case]['seconds']:.1f} s", flush=True)
        if args.out:
            with open(args.out, "w") as f:
                json.dump(results, f, indent=1)
    report(results)


if __name__ == "__main__":
    main()
