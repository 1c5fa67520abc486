"""Side-by-side speed benchmark: sknn, scikit-learn's MLP and a plain PyTorch loop.

Run from the repository root::

    python benchmarks/run.py --quick --json bench.json   # a few minutes
    python benchmarks/run.py --json bench.json           # the full run

Every measurement alternates the contenders (the order rotates each round),
discards one warm-up round, repeats, and reports the median with the min-max
range; ratios are of medians. PyTorch is used when it is installed
(``pip install torch``, CPU build); it never is a requirement. ``--smoke`` runs
scaled-down workloads in seconds to exercise the code path (CI); its numbers
mean nothing.

Workloads (float32 input unless noted; Adam, learning rate 1e-3, alpha 1e-4;
the same architecture, batch size, epochs and seed for everyone):

- W1: load_digits, hidden (100,), batch 200, time per epoch.
- W2: make_classification(50000, 784, n_informative=100, n_classes=10,
  random_state=0), hidden (512, 512), relu, batch 256, time per epoch; also
  with float64 input (W2-f64). The GEMM-only floor of W2 (the matrix products
  of one epoch timed alone with NumPy) is measured alongside.
- W3: W2's data, hidden (64,), batch 32, time per epoch (overhead-bound).
- W4: make_regression(50000, 100), hidden (256, 256), batch 200, regressor.
- P1: predict on W2's 50,000 rows (rows/s).
- P2: single-row ``predict`` latency on W1's model (median of 1000 calls).
- M1: peak memory allocated (tracemalloc) during ``fit`` on W2, beyond X.
- Parity: sknn's final training loss against scikit-learn's after the same
  epochs with the same ``random_state`` (speed must not come from less work).
"""

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

from sknn import _kernels

MiB = 2**20
ALPHA, LR = 1e-4, 1e-3

# Targets of the performance issue: (key, description, comparison, limit).
TARGETS = [
    ("W2.sknn/sklearn", "W2 epoch, sknn / sklearn", "<=", 0.45),
    ("W2.sknn/torch", "W2 epoch, sknn / torch", "<=", 0.85),
    ("W2.floor/sknn", "W2 GEMM floor / sknn epoch", ">=", 0.75),
    ("W2-f64.sknn/sklearn", "W2 float64 epoch, sknn / sklearn", "<=", 0.6),
    ("W1.sknn/sklearn", "W1 epoch, sknn / sklearn", "<=", 0.6),
    ("W3.sknn/sklearn", "W3 epoch, sknn / sklearn", "<=", 0.6),
    ("W4.sknn/sklearn", "W4 epoch, sknn / sklearn", "<=", 0.4),
    ("P1.sknn/sklearn", "P1 rows/s, sknn / sklearn", ">=", 1.1),
    ("P2.sknn/sklearn", "P2 latency, sknn / sklearn", "<=", 0.3),
    ("M1.sknn/limit", "M1 peak / (0.3 X.nbytes + 64 MiB)", "<=", 1.0),
    ("parity.max_rel_diff", "max abs(loss sknn / loss sklearn - 1)", "<=", 0.02),
]

# Sizes, epochs and repetitions per mode. "epochs" is per timed fit.
_FULL = dict(
    n=50000,
    digits=None,
    hidden2=(512, 512),
    hidden3=(64,),
    hidden4=(256, 256),
    features2=784,
    informative=100,
    features4=100,
    epochs={"W1": 50, "W2": 2, "W2-f64": 2, "W3": 2, "W4": 3},
    reps={"W1": 7, "W2": 7, "W2-f64": 5, "W3": 5, "W4": 7, "P1": 7},
    warmup=1,
    p2_calls=1000,
    pause=0.25,
)

MODES = {
    "full": _FULL,
    "quick": {
        **_FULL,
        "epochs": {"W1": 20, "W2": 1, "W2-f64": 1, "W3": 1, "W4": 2},
        "reps": {"W1": 5, "W2": 3, "W2-f64": 3, "W3": 3, "W4": 3, "P1": 5},
    },
    "smoke": dict(
        n=600,
        digits=300,
        hidden2=(32, 32),
        hidden3=(8,),
        hidden4=(16, 16),
        features2=40,
        informative=10,
        features4=10,
        epochs={"W1": 20, "W2": 1, "W2-f64": 1, "W3": 1, "W4": 1},
        reps={"W1": 1, "W2": 1, "W2-f64": 1, "W3": 1, "W4": 1, "P1": 1},
        warmup=0,
        p2_calls=20,
        pause=0.0,
    ),
}


# ---------------------------------------------------------------- environment
def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _mem_total():
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _busy_jiffies():
    """Busy CPU time of the whole machine, in seconds (Linux), or None."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


class LoadMonitor:
    """CPU time used by *other* processes while the benchmark runs."""

    def __init__(self):
        self.busy0, self.own0, self.wall0 = _busy_jiffies(), _own_cpu(), time.time()
        self.load0 = _loadavg()

    def report(self):
        wall = time.time() - self.wall0
        out = {
            "wall_s": round(wall, 1),
            "loadavg_start": self.load0,
            "loadavg_end": _loadavg(),
        }
        busy = _busy_jiffies()
        if busy is not None and self.busy0 is not None:
            other = max(0.0, (busy - self.busy0) - (_own_cpu() - self.own0))
            out["other_cpu_s"] = round(other, 1)
            out["other_cpu_share"] = round(other / (wall * (os.cpu_count() or 1)), 3)
        return out


def machine_probe():
    """Speed of this machine right now: a float32 GEMM and a memory-bound pass.

    The host's speed drifts (other tenants share memory bandwidth and cores);
    the benchmark records both probes at start and end to tell a slow machine
    from a slow contender.
    """
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024), dtype=np.float32)
    out = np.empty_like(a)
    v = rng.standard_normal(2**21, dtype=np.float32)  # 8 MiB, as an optimizer step
    w = np.empty_like(v)

    def best(f, reps):
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
        return min(times)

    gemm = best(lambda: np.matmul(a, a, out=out), 10)
    stream = best(lambda: np.multiply(v, 0.5, out=w), 20)
    return {
        "sgemm_gflops": round(2 * 1024**3 / gemm / 1e9, 1),
        "stream_gbs": round(2 * v.nbytes / stream / 1e9, 1),
    }


def _loadavg():
    if not hasattr(os, "getloadavg"):
        return None
    return [round(x, 2) for x in os.getloadavg()]


def _own_cpu():
    t = os.times()
    return t.user + t.system


def _loops():
    """Which of sknn's elementwise loops run: numba's compiled ones or NumPy's."""
    if _kernels.compiled() is None:
        return "NumPy"
    import numba

    return f"compiled (numba {numba.__version__})"


def environment(torch):
    import scipy
    import sklearn
    from threadpoolctl import threadpool_info

    import sknn

    blas = [
        {
            k: d.get(k)
            for k in (
                "internal_api",
                "version",
                "num_threads",
                "threading_layer",
                "architecture",
            )
        }
        | {"library": Path(d["filepath"]).name}
        for d in threadpool_info()
    ]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    env = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory": _mem_total(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "sknn": getattr(sknn, "__version__", "?"),
        "sknn_path": str(Path(sknn.__file__).parent),
        "git_commit": commit,
        "sknn_loops": _loops(),
        "blas": blas,
        "env_vars": {
            k: os.environ.get(k)
            for k in (
                "OMP_NUM_THREADS",
                "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS",
                "OPENBLAS_CORETYPE",
                "OPENBLAS_L2_SIZE",
            )
            if os.environ.get(k) is not None
        },
    }
    if torch is not None:
        env["torch"] = torch.__version__
        env["torch_threads"] = torch.get_num_threads()
        env["torch_blas"] = "MKL" if torch.backends.mkl.is_available() else "other"
    return env


# --------------------------------------------------------------------- data
def make_data(cfg):
    from sklearn.datasets import load_digits, make_classification, make_regression

    Xd, yd = load_digits(return_X_y=True)
    if cfg["digits"]:
        Xd, yd = Xd[: cfg["digits"]], yd[: cfg["digits"]]
    X2, y2 = make_classification(
        n_samples=cfg["n"],
        n_features=cfg["features2"],
        n_informative=cfg["informative"],
        n_classes=10,
        random_state=0,
    )
    X4, y4 = make_regression(
        n_samples=cfg["n"], n_features=cfg["features4"], random_state=0
    )
    return {
        "W1": (Xd.astype(np.float32), yd),
        "W2": (X2.astype(np.float32), y2),
        "W2-f64": (X2, y2),
        "W3": (X2.astype(np.float32), y2),
        "W4": (X4.astype(np.float32), y4),
    }


def workloads(cfg):
    """(name, task, hidden, batch) per timed training workload."""
    return [
        ("W1", "clf", (100,), 200),
        ("W2", "clf", cfg["hidden2"], 256),
        ("W2-f64", "clf", cfg["hidden2"], 256),
        ("W3", "clf", cfg["hidden3"], 32),
        ("W4", "reg", cfg["hidden4"], 200),
    ]


# --------------------------------------------------------------- contenders
def fit_sknn(task, hidden, batch, epochs, X, y):
    from sknn import NNClassifier, NNRegressor

    cls = NNClassifier if task == "clf" else NNRegressor
    est = cls(
        hidden_layer_sizes=hidden,
        activation="relu",
        optimizer="adam",
        learning_rate=LR,
        alpha=ALPHA,
        batch_size=batch,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )
    return est.fit(X, y), None


def _numpy_loops(fit):
    """``fit`` with sknn's NumPy loops even when numba is installed."""

    def fit_numpy(*args):
        saved, _kernels._compiled = _kernels._compiled, False
        try:
            return fit(*args)
        finally:
            _kernels._compiled = saved

    return fit_numpy


def fit_sklearn(task, hidden, batch, epochs, X, y):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == "clf" else MLPRegressor
    est = cls(
        hidden_layer_sizes=hidden,
        activation="relu",
        solver="adam",
        learning_rate_init=LR,
        alpha=ALPHA,
        batch_size=batch,
        max_iter=epochs,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=0,
    )
    return est.fit(X, y), None


class TorchModel:
    """A fitted plain PyTorch MLP with a scikit-learn-like ``predict``."""

    def __init__(self, torch, model, task):
        self.torch, self.model, self.task = torch, model, task
        self.loss_ = np.nan

    def predict(self, X):
        with self.torch.no_grad():
            out = self.model(self.torch.from_numpy(X))
        return out.argmax(1).numpy() if self.task == "clf" else out[:, 0].numpy()


def make_fit_torch(torch):
    """The PyTorch contender: nn.Sequential, Adam, reshuffled minibatches.

    L2 matches scikit-learn's ``alpha * ||W||^2 / (2 * batch)`` through Adam's
    ``weight_decay = alpha / batch`` on the weights (biases are not decayed);
    the regression loss is ``0.5 * MSE`` as in scikit-learn.
    """
    nn = torch.nn

    def fit_torch(task, hidden, batch, epochs, X, y):
        torch.manual_seed(0)
        dtype = torch.float64 if X.dtype == np.float64 else torch.float32
        Xt = torch.from_numpy(X)
        if task == "clf":
            yt = torch.from_numpy(np.unique(y, return_inverse=True)[1].astype(np.int64))
            n_out, loss_fn = int(yt.max()) + 1, nn.CrossEntropyLoss()
        else:
            yt = torch.from_numpy(y.astype(X.dtype).reshape(-1, 1))
            n_out = 1

            def loss_fn(out, target):
                return 0.5 * nn.functional.mse_loss(out, target)

        sizes = [X.shape[1], *hidden, n_out]
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(sizes) - 2:
                layers.append(nn.ReLU())
        model = nn.Sequential(*layers).to(dtype)
        linears = [m for m in model if isinstance(m, nn.Linear)]
        opt = torch.optim.Adam(
            [
                {"params": [m.weight for m in linears], "weight_decay": ALPHA / batch},
                {"params": [m.bias for m in linears], "weight_decay": 0.0},
            ],
            lr=LR,
            betas=(0.9, 0.999),
            eps=1e-8,
        )
        n = X.shape[0]
        for _ in range(epochs):
            perm = torch.randperm(n)
            total = 0.0
            for start in range(0, n, batch):
                idx = perm[start : start + batch]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(Xt[idx]), yt[idx])
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
        fitted = TorchModel(torch, model, task)
        fitted.loss_ = total / n
        return fitted, None

    return fit_torch


# ------------------------------------------------------------------ GEMM floor
class GemmFloor:
    """The matrix products of one training epoch, timed alone with NumPy.

    Per minibatch: the forward products ``a @ W``, the weight gradients
    ``a.T @ delta`` and the back-propagated deltas ``delta @ W.T`` (no input
    gradient), written into preallocated buffers with ``out=``.
    """

    def __init__(self, n, sizes, batch, dtype):
        rng = np.random.default_rng(0)
        self.n, self.batch = n, batch
        self.W = [
            (rng.standard_normal((i, o)) / np.sqrt(i)).astype(dtype)
            for i, o in zip(sizes[:-1], sizes[1:])
        ]
        self.G = [np.empty_like(W) for W in self.W]
        self.buf = {}
        for b in {batch, n % batch or batch}:
            acts = [rng.standard_normal((b, s)).astype(dtype) for s in sizes]
            deltas = [rng.standard_normal((b, s)).astype(dtype) for s in sizes]
            self.buf[b] = acts, deltas

    def epoch(self):
        W, G, last = self.W, self.G, len(self.W) - 1
        for start in range(0, self.n, self.batch):
            acts, deltas = self.buf[min(self.batch, self.n - start)]
            for i in range(last + 1):
                np.matmul(acts[i], W[i], out=acts[i + 1])
            for i in range(last, -1, -1):
                np.matmul(acts[i].T, deltas[i + 1], out=G[i])
                if i:
                    np.matmul(deltas[i + 1], W[i].T, out=deltas[i])


# -------------------------------------------------------------- measurement
def summarize(times):
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "n": len(times),
        "values": times,
    }


def paired_ratios(times, ratios):
    """Each ratio of ``ratios`` ("a/b") computed round by round, summarized.

    Contenders of one round run back to back, so a round's ratio is not moved
    by the host's drift between rounds, which a ratio of medians can be.
    """
    paired = {}
    for key in ratios:
        a, b = key.split("/")
        paired[key] = summarize([x / y for x, y in zip(times[a], times[b])])
    return paired


def alternate(contenders, reps, warmup, log, pause=0.0):
    """Run ``contenders`` (name -> callable returning (seconds, info)) in rounds.

    The order rotates every round; the first ``warmup`` rounds are discarded.
    Before each run, a garbage collection and ``pause`` seconds of sleep (when
    ``pause`` is set) let the previous contender's BLAS/OpenMP threads stop
    spinning. Returns name -> (list of seconds, info
    of the last run).
    """
    names = list(contenders)
    times = {k: [] for k in names}
    info = {}
    for r in range(warmup + reps):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            if pause:
                gc.collect()
                time.sleep(pause)
            seconds, info[name] = contenders[name]()
            if r >= warmup:
                times[name].append(seconds)
            note = " (warm-up)" if r < warmup else ""
            log(f"    {name:8s} round {r + 1 - warmup:>2d}{note}: {seconds:.4f} s")
    return times, info


def timed_fit(fit, task, hidden, batch, epochs, X, y):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            est, _ = fit(task, hidden, batch, epochs, X, y)
            elapsed = time.perf_counter() - t0
        return elapsed / epochs, est

    return run


def peak_fit_memory(fit, task, hidden, batch, X, y):
    """Peak bytes allocated (tracemalloc) during one 1-epoch ``fit``."""
    gc.collect()
    started = not tracemalloc.is_tracing()
    if started:
        tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit(task, hidden, batch, 1, X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if started:
            tracemalloc.stop()
    return peak - base


def run(mode="quick", use_torch=True, log=print):
    cfg = MODES[mode]
    torch = None
    if use_torch:
        try:
            import torch
        except ImportError:
            torch = None
    fits = {"sknn": fit_sknn, "sklearn": fit_sklearn}
    if torch is not None:
        fits["torch"] = make_fit_torch(torch)
    monitor = LoadMonitor()
    env = environment(torch)
    env["probe_start"] = machine_probe()
    env["mode"] = mode
    log(f"sknn benchmark ({mode}); contenders: {', '.join(fits)}")
    data = make_data(cfg)
    results, models = {}, {}

    for name, task, hidden, batch in workloads(cfg):
        X, y = data[name]
        epochs, reps = cfg["epochs"][name], cfg["reps"][name]
        log(
            f"{name}: X {X.shape} {X.dtype}, hidden {hidden}, batch {batch}, "
            f"{epochs} epoch(s) per fit, {reps} rounds"
        )
        contenders = {
            k: timed_fit(f, task, hidden, batch, epochs, X, y) for k, f in fits.items()
        }
        floor = None
        if name in ("W2", "W2-f64"):
            floor = GemmFloor(X.shape[0], [X.shape[1], *hidden, 10], batch, X.dtype)

            def floor_run(floor=floor):
                t0 = time.perf_counter()
                floor.epoch()
                return time.perf_counter() - t0, None

            contenders["floor"] = floor_run
            if _kernels.compiled() is not None:
                # The same fit with the NumPy loops, to show what numba buys.
                contenders["sknn-numpy"] = timed_fit(
                    _numpy_loops(fit_sknn), task, hidden, batch, epochs, X, y
                )
        times, info = alternate(contenders, reps, cfg["warmup"], log, cfg["pause"])
        entry = {
            "unit": "s/epoch",
            "epochs": epochs,
            "batch": batch,
            "hidden": list(hidden),
            "dtype": str(X.dtype),
            "contenders": {k: summarize(v) for k, v in times.items()},
        }
        med = {k: v["median"] for k, v in entry["contenders"].items()}
        entry["ratios"] = {
            f"sknn/{k}": med["sknn"] / med[k] for k in ("sklearn", "torch") if k in med
        }
        if floor is not None:
            entry["ratios"]["floor/sknn"] = med["floor"] / med["sknn"]
        if "sknn-numpy" in med:
            entry["ratios"]["sknn/sknn-numpy"] = med["sknn"] / med["sknn-numpy"]
        entry["paired"] = paired_ratios(times, entry["ratios"])
        losses = {k: float(info[k].loss_) for k in fits}
        rel = losses["sknn"] / losses["sklearn"] - 1
        entry["parity"] = {"loss": losses, "rel_diff": rel, "ok": abs(rel) <= 0.02}
        results[name] = entry
        models[name] = {k: info[k] for k in fits}

    # P1: predict W2's rows with the W2 models.
    X, _ = data["W2"]
    log(f"P1: predict {X.shape[0]} rows with the W2 models")

    def predict_run(model):
        def go():
            t0 = time.perf_counter()
            model.predict(X)
            return time.perf_counter() - t0, None

        return go

    times, _ = alternate(
        {k: predict_run(m) for k, m in models["W2"].items()},
        cfg["reps"]["P1"],
        cfg["warmup"],
        log,
        cfg["pause"],
    )
    entry = {"unit": "rows/s", "rows": X.shape[0], "contenders": {}}
    for k, v in times.items():
        rates = [X.shape[0] / t for t in v]
        entry["contenders"][k] = summarize(rates) | {"seconds": summarize(v)}
    med = {k: v["median"] for k, v in entry["contenders"].items()}
    entry["ratios"] = {
        f"sknn/{k}": med["sknn"] / med[k] for k in ("sklearn", "torch") if k in med
    }
    results["P1"] = entry

    # P2: single-row predict latency with the W1 models.
    x1 = data["W1"][0][:1]
    calls = cfg["p2_calls"]
    log(f"P2: single-row predict, {calls} calls per contender (alternating blocks)")
    lat = {k: [] for k in models["W1"]}
    for m in models["W1"].values():  # warm-up
        for _ in range(min(50, calls)):
            m.predict(x1)
    block = max(1, calls // 10)
    for r in range(calls // block):
        names = list(lat)
        shift = r % len(names)
        for k in names[shift:] + names[:shift]:
            m = models["W1"][k]
            for _ in range(block):
                t0 = time.perf_counter()
                m.predict(x1)
                lat[k].append(time.perf_counter() - t0)
    entry = {
        "unit": "s/call",
        "calls": calls,
        "contenders": {
            k: {kk: vv for kk, vv in summarize(v).items() if kk != "values"}
            for k, v in lat.items()
        },
    }
    med = {k: v["median"] for k, v in entry["contenders"].items()}
    entry["ratios"] = {
        f"sknn/{k}": med["sknn"] / med[k] for k in ("sklearn", "torch") if k in med
    }
    results["P2"] = entry

    # M1: peak memory of fit on W2 beyond X (tracemalloc sees NumPy's buffers).
    X, y = data["W2"]
    _, task, hidden, batch = workloads(cfg)[1]
    log("M1: peak memory during a 1-epoch fit on W2 (tracemalloc)")
    peaks = {
        k: peak_fit_memory(fits[k], task, hidden, batch, X, y)
        for k in ("sknn", "sklearn")
    }
    limit = 0.3 * X.nbytes + 64 * MiB
    results["M1"] = {
        "unit": "bytes",
        "X_nbytes": X.nbytes,
        "limit": limit,
        "peak": peaks,
        "ratios": {"sknn/limit": peaks["sknn"] / limit},
    }

    parity = max(abs(results[w]["parity"]["rel_diff"]) for w, *_ in workloads(cfg))
    results["parity"] = {"ratios": {"max_rel_diff": parity}}
    checks = []
    for key, what, op, limit in TARGETS:
        section, ratio = key.split(".", 1)
        value = results.get(section, {}).get("ratios", {}).get(ratio)
        paired = results.get(section, {}).get("paired", {}).get(ratio)
        ok = (
            None
            if value is None
            else (value <= limit if op == "<=" else value >= limit)
        )
        checks.append(
            {
                "target": key,
                "what": what,
                "value": value,
                "limit": f"{op} {limit}",
                "pass": ok,
                "paired": paired,
            }
        )
    env["load"] = monitor.report()
    env["probe_end"] = machine_probe()
    return {"environment": env, "results": results, "targets": checks}


# ------------------------------------------------------------------- output
def _fmt_time(s):
    if s >= 1:
        return f"{s:.2f} s"
    if s >= 1e-3:
        return f"{s * 1e3:.1f} ms"
    return f"{s * 1e6:.0f} µs"


def _fmt(entry, unit):
    if entry is None:
        return "—"
    med, lo, hi = entry["median"], entry["min"], entry["max"]
    if unit == "rows/s":
        return f"{med / 1e3:.0f}k ({lo / 1e3:.0f}–{hi / 1e3:.0f}k)"
    return f"{_fmt_time(med)} ({_fmt_time(lo)}–{_fmt_time(hi)})"


def table(report):
    """The results as a Markdown table, then the targets with pass/fail."""
    res = report["results"]
    lines = [
        "| measurement | sknn | sklearn | torch | sknn/sklearn | sknn/torch "
        "| loss sknn / sklearn |",
        "|---|---|---|---|---|---|---|",
    ]
    labels = {
        "W1": "W1 epoch",
        "W2": "W2 epoch (float32)",
        "W2-f64": "W2 epoch (float64)",
        "W3": "W3 epoch",
        "W4": "W4 epoch",
        "P1": "P1 predict 50k rows, rows/s",
        "P2": "P2 single-row predict",
    }
    for key, label in labels.items():
        if key not in res:
            continue
        e, c = res[key], res[key]["contenders"]
        r = e["ratios"]
        parity = ""
        if "parity" in e:
            loss = e["parity"]["loss"]
            parity = (
                f"{loss['sknn']:.5g} / {loss['sklearn']:.5g} "
                f"({100 * e['parity']['rel_diff']:+.2f}%)"
            )
        cells = [label] + [
            _fmt(c.get(k), e["unit"]) for k in ("sknn", "sklearn", "torch")
        ]
        cells += [
            f"{r[k]:.3f}" if k in r else "—" for k in ("sknn/sklearn", "sknn/torch")
        ]
        lines.append("| " + " | ".join(cells + [parity]) + " |")
    for key in ("W2", "W2-f64"):
        if key in res and "floor" in res[key]["contenders"]:
            f = res[key]["contenders"]["floor"]
            lines.append(
                f"| {key} GEMM-only floor | {_fmt(f, 's')} | | | | | "
                f"floor/sknn = {res[key]['ratios']['floor/sknn']:.3f} |"
            )
        if key in res and "sknn-numpy" in res[key]["contenders"]:
            f = res[key]["contenders"]["sknn-numpy"]
            lines.append(
                f"| {key} sknn with NumPy loops | {_fmt(f, 's')} | | | | | "
                f"sknn/this = {res[key]['ratios']['sknn/sknn-numpy']:.3f} |"
            )
    if "M1" in res:
        m = res["M1"]
        lines.append(
            f"| M1 peak fit memory beyond X (W2) | {m['peak']['sknn'] / MiB:.1f} MiB "
            f"| {m['peak']['sklearn'] / MiB:.1f} MiB | — | "
            f"{m['peak']['sknn'] / max(m['peak']['sklearn'], 1):.3f} | — | "
            f"limit {m['limit'] / MiB:.1f} MiB |"
        )
    lines += [
        "",
        "| target | value (ratio of medians) | limit | pass "
        "| per-round ratio: median (min–max) |",
        "|---|---|---|---|---|",
    ]
    for t in report["targets"]:
        value = "—" if t["value"] is None else f"{t['value']:.3f}"
        verdict = {True: "PASS", False: "FAIL", None: "n/a"}[t["pass"]]
        p = t.get("paired")
        paired = f"{p['median']:.3f} ({p['min']:.3f}–{p['max']:.3f})" if p else ""
        lines.append(f"| {t['what']} | {value} | {t['limit']} | {verdict} | {paired} |")
    return "\n".join(lines)


def describe(report):
    env = report["environment"]
    blas = "; ".join(
        f"{b['library']} ({b['internal_api']} {b['version']}, "
        f"{b['num_threads']} threads, {b['architecture']} kernels)"
        for b in env["blas"]
    )
    lines = [
        f"- machine: {env['cpu']}, {env['cores']} cores, {env['memory']}; "
        f"{env['platform']}",
        f"- Python {env['python']}, NumPy {env['numpy']}, SciPy {env['scipy']}, "
        f"scikit-learn {env['sklearn']}, sknn {env['sknn']} ({env['git_commit']})"
        + (
            f", torch {env['torch']} ({env['torch_threads']} threads, "
            f"{env['torch_blas']})"
            if "torch" in env
            else ", torch not installed"
        ),
        f"- BLAS: {blas}",
        f"- sknn's fused loops (Adam with L2, ReLU): {env.get('sknn_loops', '?')}",
        f"- mode: {env['mode']}; BLAS-related environment variables: "
        f"{env['env_vars'] or 'none set'}",
    ]
    forced = env["env_vars"].get("OPENBLAS_CORETYPE")
    if forced:
        lines.append(
            f"- OPENBLAS_CORETYPE={forced} forces OpenBLAS's kernels; the targets were "
            "set with OpenBLAS's own choice for the CPU. To measure in that "
            "configuration: env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "
            "python benchmarks/run.py"
        )
    if "probe_start" in env:
        a, b = env["probe_start"], env["probe_end"]
        lines.append(
            f"- machine speed probe (start / end): float32 GEMM {a['sgemm_gflops']} / "
            f"{b['sgemm_gflops']} GFLOP/s, in-place multiply {a['stream_gbs']} / "
            f"{b['stream_gbs']} GB/s"
        )
    load = env.get("load", {})
    if load:
        lines.append(
            f"- load: loadavg {load.get('loadavg_start')} at start, "
            f"{load.get('loadavg_end')} at end; other processes used "
            f"{load.get('other_cpu_s', '?')} CPU-s in {load['wall_s']} s "
            f"({100 * load.get('other_cpu_share', float('nan')):.1f}% of the machine)"
        )
    return "\n".join(lines)


def add_numpy_loops_option(parser):
    """Add ``--numpy-loops``: the caller then sets ``_kernels._compiled = False``."""
    parser.add_argument(
        "--numpy-loops",
        action="store_true",
        help="run sknn with its NumPy loops even when numba is installed",
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--quick", action="store_true", help="fewer epochs and rounds (a few minutes)"
    )
    group.add_argument(
        "--smoke",
        action="store_true",
        help="tiny workloads, seconds; checks the code path only",
    )
    parser.add_argument("--json", metavar="PATH", help="write the full results here")
    parser.add_argument(
        "--no-torch",
        action="store_true",
        help="leave PyTorch out even when it is installed",
    )
    add_numpy_loops_option(parser)
    args = parser.parse_args(argv)
    if args.numpy_loops:
        _kernels._compiled = False
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    report = run(mode, use_torch=not args.no_torch, log=log)
    print(describe(report))
    print()
    print(table(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=float))
    return report


if __name__ == "__main__":
    main()
