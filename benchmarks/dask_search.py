"""A grid search run locally and on a Dask cluster, side by side.

Run from the repository root (needs the ``dask`` extra)::

    python benchmarks/dask_search.py            # 2 workers, 5 rounds
    python benchmarks/dask_search.py --workers 2 --rounds 3

The same ``GridSearchCV`` (a StandardScaler + NNClassifier pipeline on the
digits data, 8 candidates x 3 folds = 24 fits) runs three ways, alternating in
each round after one warm-up round: sequentially (``n_jobs=1``), on local worker
processes (``n_jobs=<workers>``, joblib's loky backend), and on a
``distributed.LocalCluster`` of ``<workers>`` processes with one thread each
through joblib's dask backend. It prints medians with the min-max range, and
what a new worker pays once: starting the cluster, importing sknn and loading
numba's compiled loops.
"""

import argparse
import statistics
import time
import warnings

import joblib
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def search(n_jobs):
    from sknn import NNClassifier

    pipe = make_pipeline(
        StandardScaler(), NNClassifier(max_iter=40, learning_rate=1e-2, random_state=0)
    )
    grid = {
        "nnclassifier__hidden_layer_sizes": [(32,), (128,)],
        "nnclassifier__alpha": [1e-4, 1e-2],
        "nnclassifier__batch_size": [64, 200],
    }
    return GridSearchCV(pipe, grid, cv=3, n_jobs=n_jobs)


def first_use():
    """On a fresh worker: seconds to import sknn and to load numba's loops."""
    t0 = time.perf_counter()
    from sknn import _kernels

    t1 = time.perf_counter()
    loaded = _kernels.compiled() is not None
    t2 = time.perf_counter()
    return {"import sknn": t1 - t0, "numba loops": t2 - t1, "numba": loaded}


def timed(fit):
    t0 = time.perf_counter()
    fit()
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from distributed import Client, LocalCluster

    warnings.simplefilter("ignore", ConvergenceWarning)
    X, y = load_digits(return_X_y=True)

    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=args.workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # No dashboard; the scheduler's HTTP endpoints on a free loopback port.
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
    )
    client = Client(cluster)
    started = time.perf_counter() - t0
    costs = client.run(first_use)

    def on_cluster():
        with joblib.parallel_config(backend="dask"):
            search(-1).fit(X, y)

    ways = {
        "sequential (n_jobs=1)": lambda: search(1).fit(X, y),
        f"local processes (n_jobs={args.workers})": lambda: search(args.workers).fit(
            X, y
        ),
        f"LocalCluster ({args.workers} workers x 1 thread)": on_cluster,
    }
    times = {name: [] for name in ways}
    names = list(ways)
    for r in range(args.rounds + 1):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            seconds = timed(ways[name])
            if r:  # round 0 warms up
                times[name].append(seconds)
    client.close()
    cluster.close()

    print(f"Grid search, 24 fits, {args.rounds} rounds after a warm-up:")
    base = statistics.median(times[names[0]])
    for name in names:
        med = statistics.median(times[name])
        print(
            f"  {name:<36} {med:6.2f} s  (min {min(times[name]):.2f}, "
            f"max {max(times[name]):.2f})  x{base / med:.2f} vs sequential"
        )
    print(f"Once per cluster: start {started:.2f} s")
    for address, cost in costs.items():
        print(
            f"Once per worker {address}: import sknn {cost['import sknn']:.2f} s, "
            f"numba loops {cost['numba loops']:.2f} s (numba: {cost['numba']})"
        )


if __name__ == "__main__":
    main()
