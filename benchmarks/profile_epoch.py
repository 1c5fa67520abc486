"""Where one training epoch spends its time: cProfile of sknn or scikit-learn.

Run from the repository root::

    python benchmarks/profile_epoch.py W2                 # sknn, one epoch
    python benchmarks/profile_epoch.py W2 --contender sklearn
    python benchmarks/profile_epoch.py W2 --numpy-loops  # without numba
    python benchmarks/profile_epoch.py W3 --epochs 2 --top 25

cProfile does not see NumPy's ufunc calls, so the matrix products of sknn's
engine would hide inside ``Network.loss_grad``. This script routes
``numpy.matmul`` through a Python wrapper named ``matmul_gemm`` while it
profiles, which gives the products their own line. (scikit-learn's products
already have theirs: ``safe_sparse_dot``.) The wrapper costs about a
microsecond per call.
"""

import argparse
import cProfile
import io
import pstats
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (the benchmark's data and contenders)


def profile(workload="W2", contender="sknn", epochs=1, top=20, mode="full"):
    """Profile ``epochs`` epochs of ``contender`` on ``workload``; return text."""
    cfg = bench.MODES[mode]
    spec = {
        name: (task, hidden, batch)
        for name, task, hidden, batch in bench.workloads(cfg)
    }
    task, hidden, batch = spec[workload]
    X, y = bench.make_data(cfg)[workload]
    fit = {"sknn": bench.fit_sknn, "sklearn": bench.fit_sklearn}[contender]
    bench._kernels.compiled()  # numba's import and loading are not part of an epoch
    original = np.matmul

    def matmul_gemm(*args, **kwargs):
        return original(*args, **kwargs)

    profiler = cProfile.Profile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.matmul = matmul_gemm
        try:
            start = time.perf_counter()
            profiler.enable()
            fit(task, hidden, batch, epochs, X, y)
            profiler.disable()
            wall = time.perf_counter() - start
        finally:
            np.matmul = original
    out = io.StringIO()
    out.write(
        f"{contender} on {workload}: X {X.shape} {X.dtype}, hidden {hidden}, "
        f"batch {batch}, {epochs} epoch(s), {wall:.3f} s wall (profiled)\n"
    )
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "workload", nargs="?", default="W2", choices=["W1", "W2", "W2-f64", "W3", "W4"]
    )
    parser.add_argument("--contender", default="sknn", choices=["sknn", "sklearn"])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--top", type=int, default=20)
    bench.add_numpy_loops_option(parser)
    args = parser.parse_args(argv)
    if args.numpy_loops:
        bench._kernels._compiled = False
    print(profile(args.workload, args.contender, args.epochs, args.top))


if __name__ == "__main__":
    main()
