"""The NumPy engine: gradients against finite differences, layout, dtypes."""

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import sknn
from sknn._engine import Layout, Network, forward
from sknn._registry import REGISTRIES

N_SAMPLES, N_FEATURES, N_OUTPUTS = 7, 4, 3
HIDDEN = {0: (), 1: (5,), 2: (5, 3), 3: (4, 3, 5)}
H = 1e-6


def activation(name):
    return REGISTRIES["activations"].get(name)()


def loss_of(name):
    return REGISTRIES["losses"].get(name)()


def targets(loss, rng, n=N_SAMPLES, k=N_OUTPUTS):
    """Targets in ``loss``'s encoding."""
    if loss.classification:
        if loss.link == "softmax":
            return np.eye(k)[rng.randint(k, size=n)]
        return (rng.uniform(size=(n, k)) < 0.5).astype(float)
    if loss.link == "exp":
        return rng.poisson(2.0, (n, k)).astype(float)
    return rng.normal(size=(n, k))


def make_problem(
    depth,
    act="tanh",
    loss="squared_error",
    alpha=0.0,
    dropout=0.0,
    dtype=np.float64,
    seed=0,
):
    rng = np.random.RandomState(seed)
    loss = loss_of(loss)
    layout = Layout((N_FEATURES, *HIDDEN[depth], N_OUTPUTS))
    scale = 0.3 if loss.link == "exp" else 0.8
    params = rng.normal(scale=scale, size=layout.n_params).astype(dtype)
    net = Network(layout, params, activation(act), loss, alpha=alpha, dropout=dropout)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES)).astype(dtype)
    Y = targets(loss, rng).astype(dtype)
    sw = rng.uniform(0.2, 2.0, N_SAMPLES).astype(dtype)
    return net, X, Y, sw


def objective(net, X, Y, sw, dropout_seed):
    rng = None if dropout_seed is None else np.random.RandomState(dropout_seed)
    return net.loss_grad(X, Y, sw, rng)


def check_gradient(net, X, Y, sw=None, dropout_seed=None):
    """Central differences of the objective against ``net.grad``, every parameter."""
    value = objective(net, X, Y, sw, dropout_seed)
    analytic = net.grad.copy()
    numeric = np.empty_like(analytic)
    params = net.params
    for i in range(params.size):
        saved = params[i]
        params[i] = saved + H
        up = objective(net, X, Y, sw, dropout_seed)
        params[i] = saved - H
        down = objective(net, X, Y, sw, dropout_seed)
        params[i] = saved
        numeric[i] = (up - down) / (2 * H)
    assert np.isfinite(value)
    assert np.abs(analytic).max() > 1e-3  # a vanishing gradient would prove nothing
    assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-7)
    return value, analytic


def naive_raw(X, coefs, intercepts, fn):
    a = X.toarray() if sp.issparse(X) else X
    for i, (W, b) in enumerate(zip(coefs, intercepts)):
        a = a @ W + b
        if i < len(coefs) - 1:
            a = fn(a)
    return a


NAIVE = {
    "identity": lambda z: z,
    "logistic": lambda z: 1 / (1 + np.exp(-z)),
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "softplus": lambda z: np.log1p(np.exp(z)),
}


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("depth", sorted(HIDDEN))
@pytest.mark.parametrize("loss", sknn.list_losses())
@pytest.mark.parametrize("act", ["tanh", "relu", "softplus"])
def test_gradient_every_loss_and_depth(depth, loss, act):
    net, X, Y, sw = make_problem(depth, act, loss)
    check_gradient(net, X, Y)
    net.alpha = 0.3
    check_gradient(net, X, Y, sw)


@pytest.mark.parametrize("act", sknn.list_activations())
def test_gradient_every_activation(act):
    net, X, Y, sw = make_problem(3, act, "log_loss", alpha=0.1)
    check_gradient(net, X, Y, sw)


@pytest.mark.parametrize("depth", [0, 1, 3])
@pytest.mark.parametrize("loss", ["squared_error", "log_loss", "poisson"])
def test_objective_is_weighted_mean_plus_l2(depth, loss):
    net, X, Y, sw = make_problem(depth, "tanh", loss, alpha=0.7)
    raw = naive_raw(X, net.coefs, net.intercepts, np.tanh)
    per_sample = net.loss.loss(Y, raw)
    l2 = sum(float((W**2).sum()) for W in net.coefs)
    expected = (sw @ per_sample + 0.5 * 0.7 * l2) / sw.sum()
    assert net.loss_grad(X, Y, sw) == pytest.approx(expected, rel=1e-12)
    expected = per_sample.mean() + 0.5 * 0.7 * l2 / N_SAMPLES
    assert net.loss_grad(X, Y) == pytest.approx(expected, rel=1e-12)


def test_sample_weight_scaling_and_zero_sum():
    net, X, Y, sw = make_problem(2, "tanh", "squared_error")
    value = net.loss_grad(X, Y, sw)
    grad = net.grad.copy()
    # Without L2, scaling every weight changes nothing: a weighted mean.
    assert net.loss_grad(X, Y, 3.5 * sw) == pytest.approx(value, rel=1e-12)
    assert_allclose(net.grad, grad, rtol=1e-12)
    # The L2 term is alpha * ||W||^2 / (2 * sum(weights)), as in scikit-learn.
    net.alpha = 0.2
    l2 = (
        0.5
        * 0.2
        * float(net.params[: net.layout.n_coef] @ net.params[: net.layout.n_coef])
    )
    assert net.loss_grad(X, Y, 3.5 * sw) == pytest.approx(
        value + l2 / (3.5 * sw.sum()), rel=1e-12
    )
    # Unit weights are the unweighted objective.
    assert net.loss_grad(X, Y, np.ones(N_SAMPLES)) == pytest.approx(
        net.loss_grad(X, Y), rel=1e-12
    )
    # Integer weights repeat samples.
    reps = np.array([1, 2, 1, 3, 1, 1, 2])
    dup = np.repeat(np.arange(N_SAMPLES), reps)
    weighted = net.loss_grad(X, Y, reps.astype(float))
    weighted_grad = net.grad.copy()
    assert net.loss_grad(X[dup], Y[dup]) == pytest.approx(weighted, rel=1e-12)
    assert_allclose(net.grad, weighted_grad, rtol=1e-10, atol=1e-14)
    # All-zero weights: a zero objective and gradient, not NaN.
    assert net.loss_grad(X, Y, np.zeros(N_SAMPLES)) == 0.0
    assert not net.grad.any()


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("depth", [0, 1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sparse_input_matches_dense(fmt, depth, dtype):
    net, X, Y, sw = make_problem(depth, "relu", "log_loss", alpha=0.1, dtype=dtype)
    X[np.abs(X) < 0.8] = 0  # about 40% non-zeros
    Xs = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for weights in (None, sw):
        dense = net.loss_grad(X, Y, weights)
        dense_grad = net.grad.copy()
        assert net.loss_grad(Xs, Y, weights) == pytest.approx(dense, rel=rtol)
        assert net.grad.dtype == dtype
        assert_allclose(net.grad, dense_grad, rtol=rtol, atol=rtol * 1e-2)
    out = forward(Xs, net.coefs, net.intercepts, net.activation)
    assert out.dtype == dtype
    assert_allclose(
        out, forward(X, net.coefs, net.intercepts, net.activation), rtol=rtol
    )


def test_sparse_input_gradient_check():
    net, X, Y, sw = make_problem(2, "softplus", "binary_log_loss", alpha=0.1)
    X[np.abs(X) < 0.8] = 0
    check_gradient(net, sp.csr_matrix(X), Y, sw)


@pytest.mark.parametrize("act", ["relu", "softplus", "tanh"])
@pytest.mark.parametrize("depth", [1, 3])
def test_dropout_gradient_with_fixed_mask(act, depth):
    net, X, Y, sw = make_problem(depth, act, "squared_error", alpha=0.1, dropout=0.3)
    value, _ = check_gradient(net, X, Y, sw, dropout_seed=42)
    # The mask is really applied: other masks and no dropout change the objective.
    assert objective(net, X, Y, sw, 43) != pytest.approx(value)
    plain = Network(net.layout, net.params, net.activation, net.loss, alpha=0.1)
    assert plain.loss_grad(X, Y, sw) != pytest.approx(value)
    buf = net.buffers(N_SAMPLES)
    for mask in buf.mask:
        assert set(np.unique(mask)) <= {0.0, 1 / 0.7}
        assert 0 < (mask == 0).mean() < 1


def test_buffers_reused_across_batch_sizes():
    net, X, Y, sw = make_problem(3, "softplus", "log_loss", alpha=0.1)
    first = net.loss_grad(X, Y, sw)
    grad = net.grad.copy()
    net.loss_grad(X[:3], Y[:3], sw[:3])
    net.loss_grad(X[2:], Y[2:])
    assert net.loss_grad(X, Y, sw) == first
    assert_array_equal_exact(net.grad, grad)


def assert_array_equal_exact(a, b):
    assert a.dtype == b.dtype and np.array_equal(a, b)


# --------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("act", ["relu", "gelu", "logistic"])
@pytest.mark.parametrize("loss", sknn.list_losses())
def test_float32_stays_float32(act, loss):
    net32, X, Y, sw = make_problem(
        2, act, loss, alpha=0.1, dropout=0.2, dtype=np.float32
    )
    value = net32.loss_grad(X, Y, sw, np.random.RandomState(0))
    assert isinstance(value, float) and np.isfinite(value)
    assert net32.grad.dtype == np.float32
    assert all(g.dtype == np.float32 for g in net32.grad_coefs + net32.grad_intercepts)
    buf = net32.buffers(N_SAMPLES)
    for arrays in (buf.z, buf.a, buf.delta, buf.mask, buf.dropped):
        assert all(b.dtype == np.float32 for b in arrays)
    out = forward(X, net32.coefs, net32.intercepts, net32.activation)
    assert out.dtype == np.float32
    assert net32.loss.inverse_link(out).dtype == np.float32
    # Same numbers as float64, to float32 precision.
    net64 = Network(
        net32.layout,
        net32.params.astype(np.float64),
        net32.activation,
        net32.loss,
        alpha=0.1,
        dropout=0.2,
    )
    args64 = (X.astype(np.float64), Y.astype(np.float64), sw.astype(np.float64))
    value64 = net64.loss_grad(*args64, np.random.RandomState(0))
    assert value == pytest.approx(value64, rel=1e-5)
    scale = np.abs(net64.grad).max()
    assert_allclose(net32.grad, net64.grad, rtol=1e-4, atol=1e-5 * scale)


# --------------------------------------------------------------------- layout
def test_layout_offsets_and_views():
    layout = Layout((4, 5, 3, 2))
    assert layout.coef_shapes == [(4, 5), (5, 3), (3, 2)]
    assert layout.n_coef == 20 + 15 + 6
    assert layout.n_params == layout.n_coef + 5 + 3 + 2
    flat = np.arange(layout.n_params, dtype=float)
    coefs, intercepts = layout.unpack(flat)
    # Weights first, layer by layer (row-major), then the biases.
    assert_array_equal_exact(coefs[0], np.arange(20.0).reshape(4, 5))
    assert_array_equal_exact(coefs[1], np.arange(20.0, 35.0).reshape(5, 3))
    assert_array_equal_exact(coefs[2], np.arange(35.0, 41.0).reshape(3, 2))
    assert_array_equal_exact(intercepts[0], np.arange(41.0, 46.0))
    assert_array_equal_exact(intercepts[2], np.arange(49.0, 51.0))
    for view in coefs + intercepts:
        assert np.shares_memory(view, flat)
        assert view.base is flat
    coefs[1][2, 1] = -1.0
    intercepts[1][0] = -2.0
    assert flat[20 + 2 * 3 + 1] == -1.0
    assert flat[46] == -2.0
    flat[0] = 99.0
    assert coefs[0][0, 0] == 99.0


def test_layout_pack_copies():
    layout = Layout((3, 4, 2))
    flat = np.random.RandomState(0).normal(size=layout.n_params).astype(np.float32)
    coefs, intercepts = layout.unpack(flat)
    packed = layout.pack(coefs, intercepts, np.float32)
    assert packed.dtype == np.float32
    assert_array_equal_exact(packed, flat)
    assert not np.shares_memory(packed, flat)
    assert layout.pack(coefs, intercepts, np.float64).dtype == np.float64


def test_layout_flat_of_detects_views_and_copies():
    layout = Layout((3, 4, 2))
    flat = np.random.RandomState(0).normal(size=layout.n_params)
    coefs, intercepts = layout.unpack(flat)
    assert layout.flat_of(coefs, intercepts) is flat
    # Copies, an unpickled model, or a user's new arrays: not views.
    assert layout.flat_of([c.copy() for c in coefs], intercepts) is None
    assert layout.flat_of(coefs, [b.copy() for b in intercepts]) is None
    assert layout.flat_of(*pickle.loads(pickle.dumps((coefs, intercepts)))) is None
    other_coefs, other_intercepts = layout.unpack(flat.copy())
    assert layout.flat_of(coefs, other_intercepts) is None
    assert layout.flat_of(other_coefs, intercepts) is None
    # Views of the right vector in the wrong place.
    assert layout.flat_of(coefs, intercepts[::-1]) is None
    # A vector of another layout.
    big = np.zeros(layout.n_params + 1)
    bc, bi = layout.unpack(big[: layout.n_params])
    assert layout.flat_of(bc, bi) is None


def test_network_views_track_params():
    net, X, Y, _ = make_problem(2)
    before = net.loss_grad(X, Y)
    net.coefs[0][...] = 0.0  # writing through a view changes the network
    assert not net.params[: net.coefs[0].size].any()
    assert net.loss_grad(X, Y) != before
    for g in net.grad_coefs + net.grad_intercepts:
        assert np.shares_memory(g, net.grad)


# -------------------------------------------------------------------- forward
@pytest.mark.parametrize("depth", sorted(HIDDEN))
@pytest.mark.parametrize("act", sorted(NAIVE))
def test_forward_matches_naive(depth, act):
    net, X, Y, _ = make_problem(depth, act, "squared_error")
    X0, params0 = X.copy(), net.params.copy()
    raw = forward(X, net.coefs, net.intercepts, net.activation)
    assert_allclose(
        raw, naive_raw(X, net.coefs, net.intercepts, NAIVE[act]), rtol=1e-12, atol=1e-12
    )
    assert raw.shape == (N_SAMPLES, N_OUTPUTS)
    assert_array_equal_exact(X, X0)
    assert_array_equal_exact(net.params, params0)
    # loss_grad's forward pass is the same computation.
    assert net.loss_grad(X, Y) == pytest.approx(net.loss.loss(Y, raw).mean(), rel=1e-12)


@pytest.mark.parametrize(
    "x_dtype, w_dtype",
    [(np.float64, np.float64), (np.float32, np.float32), (np.float32, np.float64)],
)
@pytest.mark.parametrize("sizes", [(5, 3), (5, 7, 4, 2)])
def test_blocked_forward_equals_unblocked(x_dtype, w_dtype, sizes):
    from sknn._engine import Layout, forward
    from sknn.activations import Tanh

    rng = np.random.RandomState(0)
    layout = Layout(sizes)
    coefs, intercepts = layout.unpack(rng.normal(size=layout.n_params).astype(w_dtype))
    X = rng.normal(size=(10, sizes[0])).astype(x_dtype)
    whole = forward(X, coefs, intercepts, Tanh(), block=10)
    blocked = forward(X, coefs, intercepts, Tanh(), block=3)  # 3 + 3 + 3 + 1 rows
    assert blocked.dtype == whole.dtype == np.result_type(x_dtype, w_dtype)
    np.testing.assert_allclose(
        blocked, whole, rtol=1e-6 if x_dtype == np.float32 else 1e-12
    )
