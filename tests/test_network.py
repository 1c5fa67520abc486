"""The network over layers (sknn._network) and the architectures' layer lists."""

import numpy as np
import pytest
import scipy.sparse as sp

from sknn import _engine
from sknn._network import Network, build
from sknn._sampling import KeyedUniforms, row_keys
from sknn.activations import ReLU, Tanh
from sknn.architectures import MLP, ResNet
from sknn.initializers import GlorotUniform
from sknn.layers import BatchNorm, Dense, PeriodicEmbedding, PiecewiseLinearEncoding
from sknn.losses import LogLoss

N, F, K = 24, 5, 3


def _data(dtype=np.float64, seed=0, n=N):
    rng = np.random.RandomState(seed)
    X = rng.standard_normal((n, F)).astype(dtype)
    X[:, -1] = rng.randint(2, size=n)  # a binary column: embeddings pass it through
    Y = np.eye(K, dtype=dtype)[rng.randint(K, size=n)]
    sw = rng.uniform(0.5, 2.0, n).astype(dtype)
    return X, Y, sw


def _network(layers, X, loss=None, alpha=0.1, sw=None, seed=1):
    layout, params, state = build(layers, X, sw, np.random.RandomState(seed), None)
    return Network(layout, params, state, loss or LogLoss(), alpha=alpha)


ARCHITECTURES = {
    "mlp": lambda: MLP().layers(F, K, hidden_layer_sizes=(7, 6), dropout=0.2),
    "resnet": lambda: ResNet(n_blocks=2, d_block=6, d_hidden=9, dropout2=0.1).layers(
        F, K
    ),
    "resnet+plr": lambda: ResNet(
        n_blocks=1,
        d_block=6,
        embedding=PeriodicEmbedding(
            n_frequencies=3, d_embedding=2, frequency_scale=0.5
        ),
    ).layers(F, K),
    "mlp+plr-lite": lambda: MLP(
        embedding=PeriodicEmbedding(n_frequencies=2, d_embedding=3, lite=True)
    ).layers(F, K, hidden_layer_sizes=(5,)),
    "resnet+ple": lambda: ResNet(n_blocks=1, d_block=5, embedding="ple").layers(F, K),
    "mlp+ple": lambda: MLP(embedding=PiecewiseLinearEncoding(n_bins=4)).layers(
        F, K, hidden_layer_sizes=(7,), activation="tanh"
    ),
    "mlp-ensemble+plr": lambda: MLP(
        n_members=3,
        embedding=PeriodicEmbedding(2, 0.5, d_embedding=2),
    ).layers(F, K, hidden_layer_sizes=(4, 3), dropout=0.2),
}


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_objective_gradient_matches_central_differences(name):
    # The whole network's gradient against every parameter, with sample
    # weights, the L2 term and dropout (masks fixed by keyed noise).
    X, Y, sw = _data()
    net = _network(ARCHITECTURES[name](), X, sw=sw)
    keys = row_keys(X, 3)

    def objective():
        return net.loss_grad(X, Y, sw, KeyedUniforms(keys, 5))

    objective()
    grad = net.grad.copy()
    h = 1e-6
    numeric = np.empty_like(grad)
    for i in range(net.params.size):
        p = net.params[i]
        net.params[i] = p + h
        up = objective()
        net.params[i] = p - h
        down = objective()
        net.params[i] = p
        numeric[i] = (up - down) / (2 * h)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)
    assert net.layout.n_l2 > 0 and np.abs(grad).max() > 0


@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("add_l2", [True, False])
def test_mlp_layers_equal_the_engine(activation, add_l2):
    # Equal parameters: the same flat layout, objective, gradient and L2 term
    # as the dense engine, dropout and sample weights included; and the same
    # initial parameters from the same random state.
    X, Y, sw = _data()
    hidden, p = (7, 4), 0.3
    layers = MLP().layers(
        F, K, hidden_layer_sizes=hidden, activation=activation, dropout=p
    )
    net = _network(layers, X, alpha=0.5)
    layout = _engine.Layout([F, *hidden, K])
    expected = np.empty(layout.n_params)
    rng = np.random.RandomState(1)
    for W, b in zip(*layout.unpack(expected)):
        GlorotUniform()(W, b, rng, activation)
    np.testing.assert_array_equal(net.params, expected)

    act = {"relu": ReLU(), "tanh": Tanh()}[activation]
    engine = _engine.Network(layout, net.params.copy(), act, LogLoss(), 0.5, p)
    keys = row_keys(X, 0)
    for weights in (None, sw):
        got = net.loss_grad(X, Y, weights, KeyedUniforms(keys, 2), add_l2=add_l2)
        want = engine.loss_grad(X, Y, weights, KeyedUniforms(keys, 2), add_l2=add_l2)
        assert got == want
        np.testing.assert_array_equal(net.grad, engine.grad)
        assert net.l2 == engine.l2


def test_mlp_layers_equal_the_engine_on_sparse_input():
    X, Y, sw = _data()
    X[np.abs(X) < 0.8] = 0
    layers = MLP().layers(F, K, hidden_layer_sizes=(6,))
    dense = _network(layers, X)
    sparse = _network(layers, sp.csr_matrix(X))
    assert dense.loss_grad(X, Y, sw) == pytest.approx(
        sparse.loss_grad(sp.csr_matrix(X), Y, sw), rel=1e-12
    )
    np.testing.assert_allclose(dense.grad, sparse.grad, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dense.forward(X), sparse.forward(sp.csc_matrix(X)))


def test_sparse_input_to_a_layer_that_cannot_take_it_is_a_clear_type_error():
    X, _, _ = _data()
    layers = ResNet(d_block=4, embedding="plr").layers(F, K)
    with pytest.raises(TypeError, match="PeriodicEmbedding.*sparse"):
        build(layers, sp.csr_matrix(X), None, np.random.RandomState(0), None)


def test_l2_left_out_is_what_the_optimizer_adds():
    X, Y, sw = _data()
    net = _network(ResNet(n_blocks=1, d_block=4).layers(F, K), X, alpha=0.3)
    with_l2 = net.loss_grad(X, Y, sw, KeyedUniforms(row_keys(X, 0), 1))
    full = net.grad.copy()
    without = net.loss_grad(X, Y, sw, KeyedUniforms(row_keys(X, 0), 1), add_l2=False)
    n, scale = net.l2
    assert with_l2 == without
    assert scale == pytest.approx(0.3 / sw.sum())
    partial = net.grad.copy()
    partial[:n] += scale * net.params[:n]
    np.testing.assert_allclose(partial, full, rtol=1e-12)
    # The covered segments are exactly the linear maps' weights.
    covered = sum(
        np.prod(s)
        for layer, shapes in zip(net.layers, net.layout.shapes)
        for k, s in shapes.items()
        if k in layer.l2
    )
    assert n == covered


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_sample_weight_equals_repeated_rows(name):
    # Full batch, dropout on: the masks are keyed by row content and the
    # batch statistics weighted, so weight k trains exactly like k copies.
    X, Y, _ = _data(n=12)
    w = np.random.RandomState(4).randint(0, 4, len(X))
    w[0] = 2
    Xr, Yr = np.repeat(X, w, axis=0), np.repeat(Y, w, axis=0)
    layers = ARCHITECTURES[name]()
    weighted = _network(layers, X, sw=w.astype(float))
    repeated = _network(layers, Xr)
    np.testing.assert_allclose(weighted.params, repeated.params, rtol=1e-12)
    for s1, s2 in zip(weighted.state, repeated.state):
        for k in s1:
            np.testing.assert_allclose(s1[k], s2[k], rtol=1e-10, atol=1e-12)
    a = weighted.loss_grad(X, Y, w.astype(float), KeyedUniforms(row_keys(X, 7), 1))
    b = repeated.loss_grad(Xr, Yr, None, KeyedUniforms(row_keys(Xr, 7), 1))
    assert a == pytest.approx(b, rel=1e-10)
    np.testing.assert_allclose(weighted.grad, repeated.grad, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(
        weighted.forward(X), repeated.forward(X), rtol=1e-9, atol=1e-12
    )


@pytest.mark.parametrize("name", ARCHITECTURES)
def test_float32_stays_float32(name):
    X, Y, sw = _data(np.float32)
    net = _network(ARCHITECTURES[name](), X, sw=sw)
    assert net.params.dtype == net.grad.dtype == np.float32
    for s in net.state:
        for v in s.values():
            assert v.dtype == np.float32 or v.dtype.kind in "iu"
    loss32 = net.loss_grad(X, Y, sw, KeyedUniforms(row_keys(X, 0), 1))
    assert net.grad.dtype == np.float32 and np.isfinite(net.grad).all()
    assert net.forward(X).dtype == np.float32
    # The same network in float64 gives the same objective to float32 rounding.
    net64 = Network(
        net.layout,
        net.params.astype(np.float64),
        [
            {
                k: v.astype(np.float64) if v.dtype.kind == "f" else v
                for k, v in s.items()
            }
            for s in net.state
        ],
        LogLoss(),
        alpha=0.1,
    )
    loss64 = net64.loss_grad(
        X.astype(np.float64),
        Y.astype(np.float64),
        sw.astype(np.float64),
        KeyedUniforms(row_keys(X, 0), 1),
    )
    assert loss32 == pytest.approx(loss64, rel=1e-4)


def test_prediction_is_blocked_and_uses_running_statistics():
    X, Y, _ = _data(n=50)
    net = _network(ResNet(n_blocks=1, d_block=4, dropout1=0.5).layers(F, K), X)
    before = [{k: v.copy() for k, v in s.items()} for s in net.state]
    out = net.forward(X)
    np.testing.assert_allclose(net.forward(X, block=7), out, rtol=1e-12)
    np.testing.assert_array_equal(net.forward(X[:1]), out[:1])  # no batch statistics
    for s, b in zip(net.state, before):
        for k in s:
            np.testing.assert_array_equal(s[k], b[k])
    net.loss_grad(X[:10] * 3 + 1, Y[:10], None, KeyedUniforms(row_keys(X, 0), 1))
    moved = [
        k
        for s, b in zip(net.state, before)
        for k in s
        if not np.array_equal(s[k], b[k])
    ]
    assert moved  # training passes update the running statistics in place


def test_state_fitted_on_each_layers_own_input():
    # The second batch norm's running statistics start at the statistics of
    # its input: the first layers' prediction-mode output on the data.
    X, _, sw = _data(n=40)
    layers = [Dense(4, activation="tanh"), BatchNorm(), Dense(3), BatchNorm(), Dense(K)]
    net = _network(layers, X, sw=sw)
    h = X
    for layer, params, state in zip(layers[:3], net.layer_params, net.state):
        h, _ = layer.forward(params, state, h, training=False)
    p = sw / sw.sum()
    np.testing.assert_allclose(net.state[3]["running_mean"], p @ h, rtol=1e-10)
    assert net.state[4] == {}


def test_zero_total_weight_gives_zero_objective_and_gradient():
    X, Y, _ = _data()
    net = _network(ResNet(n_blocks=1, d_block=4).layers(F, K), X)
    assert net.loss_grad(X, Y, np.zeros(N), KeyedUniforms(row_keys(X, 0), 1)) == 0.0
    assert not net.grad.any() and net.l2 is None


def test_buffers_are_reused_across_batches():
    X, Y, _ = _data()
    net = _network(MLP().layers(F, K, hidden_layer_sizes=(5,)), X)
    idx = np.arange(8)
    assert net.gather(X, idx) is net.gather(X, idx[::-1])
    net.loss_grad(X[:8], Y[:8])
    delta = net._delta[8]
    net.loss_grad(X[8:16], Y[8:16])
    assert net._delta[8] is delta and len(net._delta) == 1


@pytest.mark.parametrize("weighted", [False, True])
def test_an_ensemble_is_the_mean_of_its_members(weighted):
    # Members copied from two separately built networks: the ensemble's
    # objective (without L2) is the mean of theirs, its gradient half of
    # each member's, and its raw prediction the mean of theirs.
    X, Y, sw = _data()
    sw = sw if weighted else None
    singles = [
        _network(MLP().layers(F, K, hidden_layer_sizes=(4, 3)), X, sw=sw, seed=s)
        for s in (1, 2)
    ]
    ensemble = _network(
        MLP(n_members=2).layers(F, K, hidden_layer_sizes=(4, 3)), X, sw=sw
    )
    u = (4, 3, K)
    for i, views in enumerate(ensemble.layer_params):
        for m, single in enumerate(singles):
            w, b = single.layer_params[i]["weight"], single.layer_params[i]["bias"]
            member = slice(m * u[i], (m + 1) * u[i])
            if i == 0:
                views["weight"][:, member] = w
            else:
                views["weight"][m] = w
            views["bias"][member] = b
    objective = ensemble.loss_grad(X, Y, sw)
    expected = [single.loss_grad(X, Y, sw) for single in singles]
    assert objective == pytest.approx(np.mean(expected), rel=1e-12)
    for i, views in enumerate(ensemble.layer_grads):
        for m, single in enumerate(singles):
            member = slice(m * u[i], (m + 1) * u[i])
            w = views["weight"][:, member] if i == 0 else views["weight"][m]
            np.testing.assert_allclose(w, single.layer_grads[i]["weight"] / 2)
            np.testing.assert_allclose(
                views["bias"][member], single.layer_grads[i]["bias"] / 2
            )
    np.testing.assert_allclose(
        ensemble.forward(X), np.mean([single.forward(X) for single in singles], axis=0)
    )
