"""Searches compared on the chapter's first grid: how many fits and how much time to get
within one standard error of the exhaustive grid's best?

The chapter's grid 1 (number_of_layers x neurons_per_layer x optimizer), densely
discretised: layers {1, 2, 3, 4} x ``--neurons`` log-spaced widths from 20 to 600 x
{adam, adadelta} (96 candidates by default), on the chapter's 2x-dense-dropout
``make_model`` (keraslab.zoo.dense), 3-fold stratified CV, ``--epochs`` epochs, batch
250, on the first ``--rows`` MNIST training rows. Compared in the same run:

* GridSearchCV (exhaustive; the reference)
* RandomizedSearchCV with the same number of candidates as MultiResolutionSearchCV
* HalvingGridSearchCV (factor 3, resource = rows)
* OptunaSearchCV (TPE) with the same number of trials
* MultiResolutionSearchCV, without and with subsets

Each search runs in its own process with its own, initially empty, JAX persistent
compilation cache: the folds (and rounds) of one search reuse compiled code, which
dominates the cost of these small fits on CPU, but no search inherits another's.
Reported: fits (and fits weighted by the fraction of rows they trained on), wall
time of ``fit``, best mean CV accuracy, and whether it is within one standard error
of the exhaustive grid's best (best_grid - SE_grid).

Run (it takes a while; estimate first):
    KERASLAB_DATA=../shared/data python benchmarks/bench_search.py --estimate-only
    KERASLAB_DATA=../shared/data python benchmarks/bench_search.py --out bench_search.json
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

import numpy as np

METHODS = ("multires", "multires-subsets", "grid", "random", "halving", "optuna")
SUBSETS = (0.25, 1.0)


# ---------------------------------------------------------------------------------
# One method, in a child process
# ---------------------------------------------------------------------------------
def _setup_jax_cache(folder: str) -> None:
    import jax

    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def _data(rows: int):
    path = os.path.join(os.environ["KERASLAB_DATA"], "mnist.npz")
    with np.load(path) as f:
        X = f["x_train"][:rows].reshape(rows, -1).astype("float32") / 255.0
        y = f["y_train"][:rows].astype(int)
    return X, y


def _neurons(n: int) -> list[int]:
    return sorted({int(round(v)) for v in np.geomspace(20, 600, n)})


def _estimator(epochs: int):
    from keraslab import KerasClassifier

    from keraslab.zoo.dense import make_model

    return KerasClassifier(build_fn=make_model, number_of_layers=2, neurons_per_layer=32, optimizer="adam",
                           epochs=epochs, batch_size=250, verbose=0, random_state=0)


def _grid(args) -> dict:
    return {"number_of_layers": [1, 2, 3, 4], "neurons_per_layer": _neurons(args.neurons),
            "optimizer": ["adam", "adadelta"]}


def _se(std: float, n_splits: int) -> float:
    return float(std) / math.sqrt(n_splits - 1)  # std has ddof=0


def _summary(cv_results: dict, best_index: int, n_splits: int, rows: int, row_counts=None) -> dict:
    n = len(cv_results["params"])
    row_counts = np.full(n, rows) if row_counts is None else np.asarray(row_counts)
    return {
        "candidates": n,
        "fits": n * n_splits,
        "weighted_fits": float(np.sum(row_counts / rows) * n_splits),
        "best_score": float(cv_results["mean_test_score"][best_index]),
        "best_se": _se(cv_results["std_test_score"][best_index], n_splits),
        "best_params": {k: (v if isinstance(v, str) else int(v)) for k, v in cv_results["params"][best_index].items()},
    }


def run_one(method: str, args) -> dict:
    from sklearn.model_selection import StratifiedKFold

    X, y = _data(args.rows)
    est = _estimator(args.epochs)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    grid = _grid(args)
    start = time.perf_counter()
    if method in ("multires", "multires-subsets"):
        from keraslab.search import Integer, MultiResolutionSearchCV

        space = {"number_of_layers": Integer(1, 4), "neurons_per_layer": Integer(20, 600, log=True),
                 "optimizer": ["adam", "adadelta"]}
        subsets = SUBSETS if method == "multires-subsets" else None
        s = MultiResolutionSearchCV(est, space, resolution=args.resolution, rounds=args.rounds, zoom=0.5,
                                    subsets=subsets, cv=cv, refit=False, random_state=0)
        s.fit(X, y)
        wall = time.perf_counter() - start
        out = _summary(s.cv_results_, s.best_index_, 3, args.rows, s.cv_results_["n_samples"])
        out["full_data_candidates"] = int(np.sum(np.asarray(s.cv_results_["n_samples"]) == args.rows))
        out["rounds"] = [{k: rd[k] for k in ("round", "subset", "n_candidates", "best_score", "best_se",
                                               "rank_correlation", "stop")} for rd in s.rounds_]
        out["stop_reason"] = s.stop_reason_
    elif method == "grid":
        from sklearn.model_selection import GridSearchCV

        s = GridSearchCV(est, grid, cv=cv, refit=False).fit(X, y)
        wall = time.perf_counter() - start
        out = _summary(s.cv_results_, s.best_index_, 3, args.rows)
    elif method == "random":
        from sklearn.model_selection import RandomizedSearchCV

        s = RandomizedSearchCV(est, grid, n_iter=args.budget, cv=cv, refit=False, random_state=0).fit(X, y)
        wall = time.perf_counter() - start
        out = _summary(s.cv_results_, s.best_index_, 3, args.rows)
    elif method == "halving":
        from sklearn.experimental import enable_halving_search_cv  # noqa: F401
        from sklearn.model_selection import HalvingGridSearchCV

        s = HalvingGridSearchCV(est, grid, factor=3, cv=cv, refit=False, random_state=0).fit(X, y)
        wall = time.perf_counter() - start
        out = _summary(s.cv_results_, s.best_index_, 3, args.rows, s.cv_results_["n_resources"])
        out["iterations"] = int(s.n_iterations_)
    elif method == "optuna":
        import optuna
        from optuna.distributions import CategoricalDistribution, IntDistribution
        from optuna_integration import OptunaSearchCV

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        dists = {"number_of_layers": IntDistribution(1, 4), "neurons_per_layer": IntDistribution(20, 600, log=True),
                 "optimizer": CategoricalDistribution(["adam", "adadelta"])}
        study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=0))
        s = OptunaSearchCV(est, dists, cv=cv, n_trials=args.budget, study=study, refit=False, random_state=0)
        s.fit(X, y)
        wall = time.perf_counter() - start
        best = study.best_trial
        out = {"candidates": len(study.trials), "fits": 3 * len(study.trials), "weighted_fits": 3.0 * len(study.trials),
               "best_score": float(best.value), "best_se": _se(best.user_attrs["std_test_score"], 3),
               "best_params": dict(best.params)}
    else:
        raise SystemExit(f"unknown method {method!r}; choose from {METHODS}")
    out.update(method=method, wall_seconds=wall)
    return out


# ---------------------------------------------------------------------------------
# The comparison, in the parent process
# ---------------------------------------------------------------------------------
def _child(method: str, args) -> dict:
    cache = tempfile.mkdtemp(prefix=f"jaxcache-{method}-")
    cmd = [sys.executable, __file__, "--run-one", method, "--cache", cache, "--rows", str(args.rows),
           "--epochs", str(args.epochs), "--neurons", str(args.neurons), "--budget", str(args.budget),
           "--resolution", str(args.resolution), "--rounds", str(args.rounds)]
    t = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{method} failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"  {method}: {result['wall_seconds']:.0f} s fit, {time.perf_counter() - t:.0f} s with start-up",
          file=sys.stderr, flush=True)
    return result


def _table(results: list[dict], grid: dict) -> str:
    threshold = grid["best_score"] - grid["best_se"]
    lines = [
        "| search | candidates | fits (% of grid) | row-weighted fits | wall s (% of grid) | best mean acc ± SE"
        " | within 1 SE of grid best | best params |",
        "|---|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        within = r["best_score"] >= threshold
        short = {"number_of_layers": "layers", "neurons_per_layer": "neurons", "optimizer": "opt"}
        params = ", ".join(f"{short.get(k, k)}={r['best_params'][k]}" for k in sorted(r["best_params"], key=str))
        lines.append(
            f"| {r['method']} | {r['candidates']} | {r['fits']} ({100 * r['fits'] / grid['fits']:.0f} %) "
            f"| {r['weighted_fits']:.0f} | {r['wall_seconds']:.0f} ({100 * r['wall_seconds'] / grid['wall_seconds']:.0f} %) "
            f"| {r['best_score']:.4f} ± {r['best_se']:.4f} | {'yes' if within else 'no'} | {params} |"
        )
    lines.append(f"\nThreshold: grid best {grid['best_score']:.4f} - SE {grid['best_se']:.4f} = {threshold:.4f}.")
    return "\n".join(lines)


def estimate(args) -> None:
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    from keraslab.search import estimate_search_cost

    X, y = _data(args.rows)
    cost = estimate_search_cost(GridSearchCV(_estimator(args.epochs), _grid(args),
                                             cv=StratifiedKFold(3, shuffle=True, random_state=0)), X, y)
    print("Exhaustive grid:", cost.line)
    print("(the probe includes compilation; with the per-search compilation cache the other folds of a "
          "candidate are much faster, so this is an upper bound)")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=6000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--neurons", type=int, default=12, help="widths in the grid (log-spaced 20..600)")
    p.add_argument("--resolution", type=int, default=2, help="MultiResolutionSearchCV resolution")
    p.add_argument("--rounds", type=int, default=4, help="MultiResolutionSearchCV rounds")
    p.add_argument("--budget", type=int, default=0, help="candidates for random/optuna (default: MultiRes's)")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--out", default=None, help="write all results as JSON here")
    p.add_argument("--estimate-only", action="store_true")
    p.add_argument("--run-one", default=None, help=argparse.SUPPRESS)
    p.add_argument("--cache", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.run_one:
        _setup_jax_cache(args.cache)
        print(json.dumps(run_one(args.run_one, args)))
        return
    if args.estimate_only:
        estimate(args)
        return
    methods = [m for m in args.methods.split(",") if m]
    grid_size = 4 * len(_neurons(args.neurons)) * 2
    print(f"Grid: layers 1-4 x {len(_neurons(args.neurons))} widths {_neurons(args.neurons)} x 2 optimizers "
          f"= {grid_size} candidates; {args.rows} rows, 3-fold CV, {args.epochs} epochs, batch 250", file=sys.stderr)
    results = {}
    for m in [m for m in methods if m.startswith("multires")]:
        results[m] = _child(m, args)
    if not args.budget:
        args.budget = results["multires"]["candidates"] if "multires" in results else 14
    for m in [m for m in methods if not m.startswith("multires")]:
        results[m] = _child(m, args)
    order = [m for m in ("grid", "random", "halving", "optuna", "multires", "multires-subsets") if m in results]
    if "grid" in results:
        print(_table([results[m] for m in order], results["grid"]))
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"settings": vars(args), "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
