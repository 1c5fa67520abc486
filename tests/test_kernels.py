"""The fused loops of sknn._kernels: compiled (numba) and NumPy versions agree."""

import importlib.abc
import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import make_classification

import sknn
from sknn import NNClassifier, _kernels
from sknn.activations import ReLU
from sknn.optimizers import Adam, AdamW

numba_missing = _kernels.compiled() is None


def numba_config():
    return None if numba_missing else sys.modules["numba"].config


needs_numba = pytest.mark.skipif(
    numba_missing, reason="numba is not installed (the 'fast' extra)"
)


@pytest.fixture
def numpy_only(monkeypatch):
    """Run with the NumPy loops whether or not numba is installed."""
    monkeypatch.setattr(_kernels, "_compiled", False)


@pytest.fixture(params=["compiled", "numpy"])
def path(request, monkeypatch):
    """Runs the test with the compiled loops, then with the NumPy versions."""
    if request.param == "compiled" and numba_missing:
        pytest.skip("numba is not installed (the 'fast' extra)")
    if request.param == "numpy":
        monkeypatch.setattr(_kernels, "_compiled", False)
    return request.param


def reference_adam(params, grad, m, v, t, lr, b1=0.9, b2=0.999, eps=1e-8):
    """scikit-learn's Adam update, written out in float64."""
    p, g, m, v = (np.asarray(a, dtype=np.float64).copy() for a in (params, grad, m, v))
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g**2
    lr_t = lr * math.sqrt(1 - b2**t) / (1 - b1**t)
    return p - lr_t * m / (np.sqrt(v) + eps), m, v


def random_state(dtype, n=1003, seed=0):
    rng = np.random.default_rng(seed)
    params = rng.standard_normal(n).astype(dtype)
    grad = rng.standard_normal(n).astype(dtype)
    m = (0.1 * rng.standard_normal(n)).astype(dtype)
    v = (0.01 * rng.random(n)).astype(dtype)
    return params, grad, m, v


@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-6), (np.float64, 1e-14)])
def test_adam_step_matches_sklearn_formula(dtype, rtol, path):
    params, grad, m, v = random_state(dtype)
    state = {"t": 4, "m": m.copy(), "v": v.copy()}
    expected_p, expected_m, expected_v = reference_adam(
        params, grad, m, v, t=5, lr=1e-2
    )
    Adam().step(params, grad.copy(), state, 1e-2)
    assert state["t"] == 5
    for got in (params, state["m"], state["v"]):
        assert got.dtype == dtype
    np.testing.assert_allclose(state["m"], expected_m, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(state["v"], expected_v, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(params, expected_p, rtol=rtol, atol=rtol)


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_and_numpy_adam_agree_to_rounding(dtype, monkeypatch):
    results = []
    for compiled in (True, False):
        if not compiled:
            monkeypatch.setattr(_kernels, "_compiled", False)
        params, grad, m, v = random_state(dtype, seed=1)
        _kernels.adam_update(params, grad, m, v, 0.9, 0.999, 3e-3, 1e-8)
        results.append((params, m, v))
    eps = np.finfo(dtype).eps
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=8 * eps, atol=8 * eps)


def test_add_scaled(path):
    rng = np.random.default_rng(2)
    for dtype in (np.float32, np.float64):
        y, x = rng.standard_normal((2, 257)).astype(dtype)
        expected = y.astype(np.float64) + 0.25 * x.astype(np.float64)
        _kernels.add_scaled(y, x, 0.25, np.empty_like(x))
        assert y.dtype == dtype
        np.testing.assert_allclose(y, expected, rtol=np.finfo(dtype).eps * 4)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_adam_with_l2_equals_adding_the_term_first(dtype, path):
    n, scale = 600, 3e-3
    results = []
    for fused in (True, False):
        params, grad, m, v = random_state(dtype, seed=4)
        if not fused:
            _kernels.add_scaled(grad[:n], params[:n], scale, np.empty(n, dtype))
        l2 = (n, scale) if fused else None
        _kernels.adam_update(params, grad, m, v, 0.9, 0.999, 1e-2, 1e-8, l2=l2)
        results.append((params, m, v))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    # The term acted on the first n entries only.
    params, grad, m, v = random_state(dtype, seed=4)
    plain = params.copy()
    _kernels.adam_update(plain, grad.copy(), m.copy(), v.copy(), 0.9, 0.999, 1e-2, 1e-8)
    np.testing.assert_array_equal(results[0][0][n:], plain[n:])
    assert not np.array_equal(results[0][0][:n], plain[:n])


def test_unfusable_arrays_take_the_numpy_path(monkeypatch):
    # Strided, 2-D or mixed-dtype arrays are valid input to Optimizer.step.
    params, grad, m, v = random_state(np.float64, n=40)
    original = params.copy()
    views = [a[::2] for a in (params, grad, m, v)]
    copies = [a.copy() for a in views]
    assert not _kernels._fusable(*views)
    assert not _kernels._fusable(params.astype(np.float32), grad, m, v)
    assert not _kernels._fusable(params.reshape(4, 10), grad, m, v)
    assert _kernels._fusable(*copies)
    _kernels.adam_update(*views, 0.9, 0.999, 1e-2, 1e-8)
    monkeypatch.setattr(_kernels, "_compiled", False)
    _kernels.adam_update(*copies, 0.9, 0.999, 1e-2, 1e-8)
    for a, b in zip(views, copies):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(params[1::2], original[1::2])


@needs_numba
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_is_the_same_with_and_without_numba(dtype, monkeypatch):
    X, y = make_classification(n_samples=300, n_features=12, random_state=0)
    X = X.astype(dtype)
    # 200 x 64 activations: large enough for the compiled ReLU passes.
    params = dict(hidden_layer_sizes=(64,), max_iter=5, random_state=0, alpha=1e-3)
    calls = _CountingLoops(_kernels.compiled())
    monkeypatch.setattr(_kernels, "_compiled", calls)
    fused = NNClassifier(**params).fit(X, y)
    # Adam adds the L2 term itself: add_scaled is not called.
    assert calls.seen == {"adam_update", "bias_relu", "relu_backward_sum"}
    monkeypatch.setattr(_kernels, "_compiled", False)
    plain = NNClassifier(**params).fit(X, y)
    # Five epochs of rounding differences at most.
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    for a, b in zip(fused.coefs_ + fused.intercepts_, plain.coefs_ + plain.intercepts_):
        assert a.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(fused.loss_curve_, plain.loss_curve_, rtol=rtol)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_l2_in_the_step_trains_like_l2_in_the_gradient(path):
    # Adam takes the L2 term into its step; AdamW (with no decay: the same
    # update) leaves it to the engine. Both must train the same network.
    assert Adam.takes_l2 and not AdamW.takes_l2
    X, y = make_classification(n_samples=300, n_features=12, random_state=0)
    params = dict(hidden_layer_sizes=(64,), max_iter=5, random_state=0, alpha=0.1)
    fused = NNClassifier(optimizer=Adam(), **params).fit(X, y)
    engine = NNClassifier(optimizer=AdamW(weight_decay=0.0), **params).fit(X, y)
    for a, b in zip(fused.coefs_, engine.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(fused.loss_curve_, engine.loss_curve_, rtol=1e-12)
    no_l2 = NNClassifier(optimizer=Adam(), **{**params, "alpha": 0.0}).fit(X, y)
    assert not np.allclose(fused.coefs_[0], no_l2.coefs_[0], rtol=1e-3)


class _CountingLoops:
    """The compiled loops, noting which ones were called."""

    def __init__(self, loops):
        self._loops, self.seen = loops, set()

    def __getattr__(self, name):
        self.seen.add(name)
        return getattr(self._loops, name)


def relu_arrays(dtype, shape=(70, 64), seed=3):
    """Pre-activations with exact zeros, NaN and infinities; deltas; a bias."""
    rng = np.random.default_rng(seed)
    z = rng.standard_normal(shape).astype(dtype)
    z[0, :5] = [0.0, -0.0, np.nan, np.inf, -np.inf]
    b = rng.standard_normal(shape[1]).astype(dtype)
    b[1] = 0.0
    grad = rng.standard_normal(shape).astype(dtype)
    return z, b, grad


@needs_numba
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_relu_passes_equal_the_numpy_ones(dtype, monkeypatch):
    relu = ReLU()
    z, b, grad = relu_arrays(dtype)
    assert z.size >= _kernels._MIN_COMPILED_ACTIVATION
    results = []
    for compiled in (True, False):
        if not compiled:
            monkeypatch.setattr(_kernels, "_compiled", False)
        zc, gc = z.copy(), grad.copy()
        gb = np.empty_like(b)
        assert _kernels.bias_relu(zc.copy(), b) is compiled
        a = relu.forward_biased(zc, b, out=zc)
        assert a is zc
        relu.backward_summed(gc, a, None, gb)
        results.append((a, gc, gb))
    for fused, plain in zip(*results):
        assert fused.dtype == dtype
        np.testing.assert_array_equal(fused, plain)  # NaN where NaN, bit for bit
    a, gc, gb = results[0]
    assert np.isnan(a[0, 2]) and a[0, 3] == np.inf and a[0, 4] == 0
    np.testing.assert_allclose(
        gb, (grad.astype(np.float64) * (a > 0)).sum(axis=0), rtol=1e-5
    )


@needs_numba
def test_activation_loops_take_only_what_they_can(monkeypatch):
    z, b, grad = relu_arrays(np.float64)
    small = z[:8].copy()
    assert small.size < _kernels._MIN_COMPILED_ACTIVATION
    assert not _kernels.bias_relu(small, b)  # a single-row predict stays in NumPy
    assert not _kernels.bias_relu(np.asfortranarray(z), b)
    assert not _kernels.bias_relu(z, b[:-1])  # wrong shape: never out of bounds
    assert not _kernels.bias_relu(z, b.astype(np.float32))
    assert not _kernels.relu_backward_sum(grad, z[:-1], b)
    # The activation's own NumPy passes then run.
    expected = np.maximum(small + b, 0)
    np.testing.assert_array_equal(ReLU().forward_biased(small, b, out=small), expected)
    out = np.empty_like(z)
    expected = np.maximum(z + b, 0)
    np.testing.assert_array_equal(ReLU().forward_biased(z, b, out=out), expected)


class _BrokenLoops(importlib.abc.MetaPathFinder):
    """Makes importing sknn._numba_loops fail the way a broken numba would."""

    def find_spec(self, name, path, target=None):
        if name == "sknn._numba_loops":
            raise OSError("libllvmlite.so: cannot open shared object file")
        return None


def test_a_broken_numba_falls_back_to_numpy_with_a_warning(monkeypatch):
    monkeypatch.delitem(sys.modules, "sknn._numba_loops", raising=False)
    monkeypatch.delattr(sknn, "_numba_loops", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_BrokenLoops(), *sys.meta_path])
    monkeypatch.setattr(_kernels, "_compiled", None)
    with pytest.warns(RuntimeWarning, match="compiled loops failed to load.*OSError"):
        assert _kernels.compiled() is None
    params, grad, m, v = random_state(np.float32)
    expected = reference_adam(params, grad, m, v, t=1, lr=1e-3)[0]
    _kernels.adam_update(
        params, grad, m, v, 0.9, 0.999, 1e-3 * math.sqrt(1e-3) / 0.1, 1e-8
    )
    np.testing.assert_allclose(params, expected, rtol=2e-6, atol=2e-6)


def test_numba_missing_falls_back_silently(monkeypatch, recwarn):
    monkeypatch.setitem(sys.modules, "sknn._numba_loops", None)  # ImportError
    monkeypatch.delattr(sknn, "_numba_loops", raising=False)
    monkeypatch.setattr(_kernels, "_compiled", None)
    assert _kernels.compiled() is None
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


LOOPS = ("add_scaled", "adam_update", "bias_relu", "relu_backward_sum")
CACHE_STATS = f"""
import json
from sknn import _kernels
loops = _kernels.compiled()
stats = {{n: getattr(loops, n).stats for n in {LOOPS!r}}}
print(json.dumps({{
    n: [str(s.cache_path), sum(s.cache_hits.values()), sum(s.cache_misses.values())]
    for n, s in stats.items()
}}))
"""


def run_compiled(env):
    """Load the compiled loops in a fresh process; numba's cache counts per loop."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root, **env)
    env.pop("NUMBA_DISABLE_JIT", None)
    proc = subprocess.run(
        [sys.executable, "-W", "error", "-c", CACHE_STATS],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@needs_numba
def test_a_second_process_loads_the_compiled_loops_from_disk(tmp_path):
    cache = tmp_path / "numba_cache"
    first = run_compiled({"NUMBA_CACHE_DIR": str(cache)})
    second = run_compiled({"NUMBA_CACHE_DIR": str(cache)})
    for name in LOOPS:
        path, hits, misses = first[name]
        assert path.startswith(str(cache)) and (hits, misses) == (0, 2), first
        # Both dtypes come from the cache: nothing is compiled again.
        assert second[name][1:] == [2, 0], second


@needs_numba
@pytest.mark.skipif(
    not hasattr(numba_config(), "CACHE_LOCATOR_CLASSES"),
    reason="this numba cannot restrict its cache locations",
)
def test_compiled_loops_without_a_writable_cache_directory(tmp_path):
    # Only the user-wide cache directory, under a regular file: numba finds no
    # place to cache. The loops still compile, and no warning says they failed.
    blocker = tmp_path / "not_a_directory"
    blocker.write_text("")
    env = {
        "NUMBA_CACHE_LOCATOR_CLASSES": "UserWideCacheLocator",
        "XDG_CACHE_HOME": str(blocker / "cache"),
    }
    stats = run_compiled(env)
    assert all(stats[name][1:] == [0, 2] for name in LOOPS), stats


@needs_numba
def test_compiled_keyed_uniforms_equal_the_numpy_ones(monkeypatch):
    from sknn._sampling import KeyedUniforms

    keys = np.random.default_rng(0).integers(0, 2**63, 300, dtype=np.uint64)
    shape = (257, 300)  # fewer rows than keys, as for a last short batch
    compiled = KeyedUniforms(keys, 5)
    draws = [compiled.random_sample(shape) for _ in range(2)]
    monkeypatch.setattr(_kernels, "_compiled", False)
    plain = KeyedUniforms(keys, 5)
    for draw in draws:
        expected = plain.random_sample(shape)
        assert draw.dtype == expected.dtype == np.float64
        np.testing.assert_array_equal(draw, expected)
    assert 0 <= draws[0].min() and draws[0].max() < 1
    assert not np.array_equal(draws[0], draws[1])
