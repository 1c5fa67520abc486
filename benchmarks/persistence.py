"""Saving and loading: the sknn format beside skops, measured in one run.

For a fitted NNClassifier it prints the file size, the median save and load
times over several rounds and the loader's peak traced memory (tracemalloc)
for ``sknn.save``/``sknn.load`` (sknn's format) and ``skops.io`` (with sknn's
types trusted), and the same for a pipeline, which ``sknn.save`` writes with
skops. Ratios are skops over sknn.

    python benchmarks/persistence.py [--rounds 7]
"""

import argparse
import gc
import io
import statistics
import time
import tracemalloc
import warnings

import numpy as np
import skops.io as sio
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier, load, save
from sknn._persistence import skops_trusted_types


def _model(pipeline):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2000, 64))
    y = (X[:, :3].sum(axis=1) > 0).astype(int) + (X[:, 3] > 1)
    clf = NNClassifier(hidden_layer_sizes=(256, 256), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return (make_pipeline(StandardScaler(), clf) if pipeline else clf).fit(X, y)


def _measure(dump, read, rounds):
    saves, loads = [], []
    for _ in range(rounds):
        t = time.perf_counter()
        data = dump()
        saves.append(time.perf_counter() - t)
        t = time.perf_counter()
        read(data)
        loads.append(time.perf_counter() - t)
    gc.collect()
    tracemalloc.start()
    read(data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return len(data), statistics.median(saves), statistics.median(loads), peak


def _sknn_dump(est):
    buf = io.BytesIO()
    save(est, buf)
    return buf.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    trusted = skops_trusted_types()
    rows = []
    clf = _model(pipeline=False)
    weights = sum(a.nbytes for a in clf.coefs_ + clf.intercepts_)
    rows.append(
        (
            "NNClassifier, sknn format",
            *_measure(
                lambda: _sknn_dump(clf), lambda d: load(io.BytesIO(d)), args.rounds
            ),
        )
    )
    rows.append(
        (
            "NNClassifier, skops.io",
            *_measure(
                lambda: sio.dumps(clf),
                lambda d: sio.loads(d, trusted=trusted),
                args.rounds,
            ),
        )
    )
    pipe = _model(pipeline=True)
    rows.append(
        (
            "Pipeline, sknn.save (skops)",
            *_measure(
                lambda: _sknn_dump(pipe), lambda d: load(io.BytesIO(d)), args.rounds
            ),
        )
    )
    print(f"weights: {weights} bytes; medians of {args.rounds} rounds")
    print(f"{'':30s} {'bytes':>9s} {'save ms':>8s} {'load ms':>8s} {'peak MB':>8s}")
    for name, size, t_save, t_load, peak in rows:
        print(
            f"{name:30s} {size:9d} {1e3 * t_save:8.1f} {1e3 * t_load:8.1f} "
            f"{peak / 1e6:8.2f}"
        )
    base, other = rows[0], rows[1]
    print(
        "skops / sknn: "
        + ", ".join(
            f"{label} {o / b:.2f}"
            for label, b, o in zip(
                ("bytes", "save", "load", "peak"), base[1:], other[1:]
            )
        )
    )
    return rows


if __name__ == "__main__":
    main()
