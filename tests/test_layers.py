"""Layers: the contract checks on every built-in, reference formulas, errors."""

import math
import re

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

import sknn
from sknn._engine import Layout, Network
from sknn._registry import REGISTRIES
from sknn._sampling import KeyedUniforms, row_keys
from sknn.activations import Tanh
from sknn.initializers import GlorotUniform
from sknn.layers import (
    ActivationLayer,
    BatchNorm,
    Dense,
    Dropout,
    EnsembleDense,
    Layer,
    LayerNorm,
    PeriodicEmbedding,
    PiecewiseLinearEncoding,
    ResNetBlock,
)
from sknn.losses import SquaredError
from sknn.testing import _yield_layer_checks, check_layer

LAYERS = [
    Dense(3),
    Dense(4, activation="tanh"),
    Dense(1, activation="identity"),
    Dense(3, activation="gelu"),
    Dense(2, activation=Tanh()),
    EnsembleDense(3, n_members=2),
    EnsembleDense(2, n_members=5, activation="tanh", input="split"),
    EnsembleDense(1, n_members=5, activation="identity", input="split"),
    ActivationLayer(),
    ActivationLayer("gelu"),
    ActivationLayer(Tanh()),
    BatchNorm(),
    BatchNorm(momentum=0.5, eps=1e-3),
    LayerNorm(),
    Dropout(0.3),
    Dropout(0.0),
    ResNetBlock(),
    ResNetBlock(d_hidden=6, dropout1=0.2, dropout2=0.1),
    ResNetBlock(d_hidden=3, dropout1=0.5, activation="tanh"),
    PeriodicEmbedding(n_frequencies=4, frequency_scale=0.5, d_embedding=3),
    PeriodicEmbedding(n_frequencies=3, frequency_scale=0.3, d_embedding=2, lite=True),
    PeriodicEmbedding(columns=[0, 2]),
    PeriodicEmbedding(n_frequencies=2, d_embedding=2, columns=[]),
    PiecewiseLinearEncoding(n_bins=4),
    PiecewiseLinearEncoding(columns=[4, 1]),
    PiecewiseLinearEncoding(n_bins=1, columns=[True, False, True, False, True]),
]
CASES = [
    pytest.param(layer, name, check, id=f"{layer!r}-{name}")
    for layer in LAYERS
    for name, check in _yield_layer_checks(layer)
]


def params_for(layer, n_in, state=None, seed=0, dtype=np.float64):
    shapes = layer.param_shapes(n_in, state)
    params = {k: np.empty(s, dtype) for k, s in shapes.items()}
    layer.initialize(params, n_in, np.random.RandomState(seed), GlorotUniform())
    return params


def grads_for(params):
    return {k: np.full_like(v, np.nan) for k, v in params.items()}


# ------------------------------------------------------------ contract checks
@pytest.mark.parametrize("layer, name, check", CASES)
def test_builtin_layers_pass_every_check(layer, name, check):
    check()


def test_every_registered_builtin_is_checked():
    checked = {type(layer) for layer in LAYERS}
    for name in sknn.list_layers():
        cls = REGISTRIES["layers"].get(name)
        if cls.__module__ == "sknn.layers":
            assert cls in checked, name
            check_layer(cls(), n_in=3, dtypes=["float64"])


def test_check_names():
    names = [name for name, _ in _yield_layer_checks(Dense(2))]
    assert names == [
        "param_shapes",
        "fit_state",
        "gradient_training",
        "gradient_prediction",
        "dtypes",
        "sample_weight_equals_repeated",
        "sparse_input",
        "unchanged_by_use",
    ]


class _Broken:
    """Layers that each break one rule of the contract."""

    class ForgetsDerivative(Dense):
        def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
            X, a, z, act = cache
            return super().backward(
                params,
                state,
                (X, a, z, sknn.activations.Identity()),
                d_out,
                grads,
                need_input_grad,
            )

    class Accumulates(LayerNorm):
        def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
            fresh = {k: np.zeros_like(v) for k, v in grads.items()}
            d_in = super().backward(params, state, cache, d_out, fresh, need_input_grad)
            for k in grads:
                grads[k] += fresh[k]
            return d_in

    class Upcasts(LayerNorm):
        def forward(self, params, state, X, **kwargs):
            out, cache = super().forward(params, state, X, **kwargs)
            return out.astype(np.float64), cache

    class IgnoresWeights(BatchNorm):
        def forward(
            self, params, state, X, *, training, sample_weight=None, noise=None
        ):
            return super().forward(params, state, X, training=training, noise=noise)

    class MaskedInPrediction(Dropout):
        def forward(
            self, params, state, X, *, training, sample_weight=None, noise=None
        ):
            return super().forward(
                params, state, X, training=True, noise=np.random.RandomState(0)
            )

    class Mutates(BatchNorm):
        def fit_state(self, X, sample_weight=None):
            self.momentum = 0.2
            return super().fit_state(X, sample_weight)

    class ReplacesState(BatchNorm):
        def forward(
            self, params, state, X, *, training, sample_weight=None, noise=None
        ):
            if training:
                state["running_mean"] = state["running_mean"] * 1.0
            return super().forward(
                params, state, X, training=training, sample_weight=sample_weight
            )

    class RandomState(PiecewiseLinearEncoding):
        def fit_state(self, X, sample_weight=None):
            state = super().fit_state(X, sample_weight)
            state["edges"] = state["edges"] + np.random.uniform(0, 1e-3)
            return state

    class WrongWidth(Dense):
        def output_width(self, n_in, state=None):
            return self.units + 1

    class SparseWrong(Dense):
        def forward(self, params, state, X, **kwargs):
            if not isinstance(X, np.ndarray):
                X = sp.csr_matrix(X.toarray() * 2)
            return super().forward(params, state, X, **kwargs)


@pytest.mark.parametrize(
    "layer, check, message",
    [
        (_Broken.ForgetsDerivative(3, "tanh"), "gradient_training", "gradient"),
        (_Broken.Accumulates(), "gradient_training", "overwrite grads"),
        (_Broken.Upcasts(), "dtypes", "float32"),
        (_Broken.IgnoresWeights(), "sample_weight_equals_repeated", "forward output"),
        (_Broken.MaskedInPrediction(0.5), "sample_weight_equals_repeated", "forward"),
        (_Broken.Mutates(), "unchanged_by_use", "momentum"),
        (_Broken.ReplacesState(), "fit_state", "in place"),
        (_Broken.RandomState(), "fit_state", "deterministic"),
        (_Broken.WrongWidth(2), "param_shapes", "output_width"),
        (_Broken.SparseWrong(2), "sparse_input", "sparse input"),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Layer) else str(v),
)
def test_broken_layers_fail_the_named_check(layer, check, message):
    with pytest.raises(AssertionError) as info:
        check_layer(layer)
    text = str(info.value)
    assert text.startswith(f"{layer!r}: ") and text.endswith(f"(check: {check})"), text
    assert message in text


def test_check_layer_rejects_other_objects():
    with pytest.raises(AssertionError, match="not a layer"):
        check_layer(Tanh())


# ------------------------------------------------------------------- registry
def test_registry_lists_and_resolves_the_builtins():
    assert sknn.list_layers() == sorted(
        [
            "activation",
            "batch_norm",
            "dense",
            "dropout",
            "ensemble_dense",
            "layer_norm",
            "periodic_embedding",
            "piecewise_linear_encoding",
            "resnet_block",
        ]
    )
    assert REGISTRIES["layers"].group == "sknn.layers"
    assert type(REGISTRIES["layers"].resolve("dense", "layer")) is Dense
    with pytest.raises(ValueError, match=r"Unknown layer 'conv'.*batch_norm"):
        REGISTRIES["layers"].get("conv")


def _invalid_hyperparameters():
    cases = []
    for name in sknn.list_layers():
        cls = REGISTRIES["layers"].get(name)
        for attr, rule in getattr(cls, "_param_checks", {}).items():
            if rule == "bool":
                values = [("yes", TypeError)]
            elif isinstance(rule, frozenset):
                values = [("nonsense", ValueError), (1, TypeError)]
            else:
                values = [(rule.get("low", 0) - 1, ValueError), ("1", TypeError)]
            for value, error in values:
                cases.append(
                    pytest.param(cls, attr, value, error, id=f"{cls.__name__}.{attr}")
                )
    return cases


@pytest.mark.parametrize("cls, attr, value, error", _invalid_hyperparameters())
def test_invalid_hyperparameters_are_named(cls, attr, value, error):
    with pytest.raises(error, match=re.escape(f"{cls.__name__}.{attr}")):
        REGISTRIES["layers"].resolve(cls(**{attr: value}), "layer")


def test_dropout_rate_one_is_rejected():
    with pytest.raises(ValueError, match=r"Dropout.rate must be .* < 1"):
        REGISTRIES["layers"].resolve(Dropout(1.0), "layer")


def test_unknown_activation_is_named():
    with pytest.raises(ValueError, match=r"Dense.activation='swishy'.*relu"):
        Dense(2, activation="swishy").forward(
            params_for(Dense(2), 3), {}, np.ones((2, 3)), training=False
        )


# ---------------------------------------------------------------------- dense
def test_dense_layers_compute_the_engine_mlp():
    rng = np.random.RandomState(0)
    X, Y = rng.normal(size=(9, 4)), rng.normal(size=(9, 2))
    layout = Layout([4, 5, 2])
    flat = rng.normal(size=layout.n_params)
    net = Network(layout, flat, sknn.activations.ReLU(), SquaredError())
    objective = net.loss_grad(X, Y)

    layers = [Dense(5), Dense(2, activation="identity")]
    params = [{"weight": W, "bias": b} for W, b in zip(*layout.unpack(flat))]
    a, caches = X, []
    for layer, p in zip(layers, params):
        a, cache = layer.forward(p, {}, a, training=True)
        caches.append(cache)
    loss = SquaredError()
    assert loss.loss(Y, a).mean() == pytest.approx(objective, rel=1e-12)
    delta = loss.gradient(Y, a) / len(X)
    grads = [grads_for(p) for p in params]
    for i in (1, 0):
        delta = layers[i].backward(params[i], {}, caches[i], delta, grads[i], i > 0)
    assert delta is None
    coef_grads, intercept_grads = layout.unpack(net.grad)
    for g, W, b in zip(grads, coef_grads, intercept_grads):
        assert_allclose(g["weight"], W, rtol=1e-12)
        assert_allclose(g["bias"], b, rtol=1e-12)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_takes_sparse_input(fmt, dtype):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(6, 5)) * (rng.uniform(size=(6, 5)) < 0.4)
    X = X.astype(dtype)
    layer = Dense(3)
    params = params_for(layer, 5, dtype=dtype)
    dense, c_dense = layer.forward(params, {}, X, training=True)
    sparse, c_sparse = layer.forward(
        params, {}, sp.csr_matrix(X).asformat(fmt), training=True
    )
    assert sparse.dtype == dtype
    assert_allclose(sparse, dense, rtol=1e-6)
    g_dense, g_sparse = grads_for(params), grads_for(params)
    d = rng.normal(size=dense.shape).astype(dtype)
    layer.backward(params, {}, c_dense, d.copy(), g_dense, False)
    layer.backward(params, {}, c_sparse, d.copy(), g_sparse, False)
    assert_allclose(g_sparse["weight"], g_dense["weight"], rtol=1e-5)
    assert_allclose(g_sparse["bias"], g_dense["bias"], rtol=1e-5)


@pytest.mark.parametrize(
    "layer", [layer for layer in LAYERS if not layer.accepts_sparse], ids=repr
)
def test_other_layers_reject_sparse_input_naming_themselves(layer):
    X = sp.csr_matrix(np.eye(5))
    name = type(layer).__name__
    with pytest.raises(TypeError, match=f"{name} takes a dense array.*first Dense"):
        state = layer.fit_state(X)
        params = params_for(layer, 5, state)
        layer.forward(params, state, X, training=True, noise=np.random.RandomState(0))


# ----------------------------------------------------------------- batch norm
def test_batch_norm_uses_weighted_batch_statistics_and_updates_running_ones():
    rng = np.random.RandomState(0)
    X = rng.normal(2.0, 3.0, size=(50, 3))
    w = rng.uniform(0, 2, size=50)
    layer = BatchNorm(momentum=0.25, eps=0.0)
    params = {"weight": np.array([1.0, 2.0, 0.5]), "bias": np.array([0.0, 1.0, -1.0])}
    state = {"running_mean": np.zeros(3), "running_var": np.ones(3)}
    out, _ = layer.forward(params, state, X, training=True, sample_weight=w)
    mean = np.average(X, axis=0, weights=w)
    var = np.average((X - mean) ** 2, axis=0, weights=w)
    assert_allclose(out, (X - mean) / np.sqrt(var) * params["weight"] + params["bias"])
    assert_allclose(state["running_mean"], 0.25 * mean)
    assert_allclose(state["running_var"], 0.75 + 0.25 * var)
    # Prediction: the running statistics, the state unchanged.
    saved = {k: v.copy() for k, v in state.items()}
    out, _ = layer.forward(params, state, X, training=False)
    expected = (X - saved["running_mean"]) / np.sqrt(saved["running_var"])
    assert_allclose(out, expected * params["weight"] + params["bias"])
    for k in saved:
        assert_array_equal(state[k], saved[k])


def test_batch_norm_state_starts_at_the_training_statistics():
    rng = np.random.RandomState(0)
    X = rng.normal(1.0, 2.0, size=(30, 2)).astype(np.float32)
    w = rng.uniform(0, 2, size=30)
    state = BatchNorm().fit_state(X, w)
    assert state["running_mean"].dtype == np.float32
    assert_allclose(state["running_mean"], np.average(X, axis=0, weights=w), rtol=1e-5)
    mean = np.average(X, axis=0, weights=w)
    var = np.average((X - mean) ** 2, axis=0, weights=w)
    assert_allclose(state["running_var"], var, rtol=1e-4)
    for layer in (BatchNorm(), ResNetBlock()):
        assert set(layer.fit_state(X)) == {"running_mean", "running_var"}


def test_batch_norm_affine_parameters_are_not_l2_covered():
    assert BatchNorm.l2 == () and LayerNorm.l2 == ()
    assert Dense.l2 == ("weight",)
    assert set(ResNetBlock.l2) == {"weight1", "weight2"}
    params = params_for(BatchNorm(), 4)
    assert_array_equal(params["weight"], 1)
    assert_array_equal(params["bias"], 0)


# -------------------------------------------------------------------- dropout
def test_dropout_is_inverted_and_the_identity_in_prediction():
    X = np.ones((400, 50), dtype=np.float32)
    layer = Dropout(0.2)
    out, _ = layer.forward({}, {}, X, training=False)
    assert out is X
    noise = KeyedUniforms(row_keys(np.arange(400.0)[:, None], 1), 3)
    out, cache = layer.forward({}, {}, X, training=True, noise=noise)
    assert out.dtype == np.float32
    assert set(np.unique(out)) == {0.0, np.float32(1.25)}
    assert abs(float((out == 0).mean()) - 0.2) < 0.01
    d = layer.backward({}, {}, cache, np.ones_like(X), {})
    assert_array_equal(d, out)
    with pytest.raises(ValueError, match=r"Dropout\(rate=0.2\) drops units.*noise"):
        layer.forward({}, {}, X, training=True)


def test_dropout_masks_follow_row_content():
    rng = np.random.RandomState(0)
    rows = rng.normal(size=(3, 6))
    X = rows[[0, 1, 0, 2, 1]]
    noise = KeyedUniforms(row_keys(X, 4), 9)
    out, _ = Dropout(0.5).forward({}, {}, X, training=True, noise=noise)
    assert_array_equal(out[0], out[2])
    assert_array_equal(out[1], out[4])


# ---------------------------------------------------------------- resnet block
def test_resnet_block_is_the_composition_of_its_parts():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 4))
    w = rng.uniform(0.5, 2, size=12)
    block = ResNetBlock(d_hidden=7, dropout1=0.3, dropout2=0.2)
    state = block.fit_state(X, w)
    params = params_for(block, 4, state)
    parts = [
        (BatchNorm(), {"weight": params["norm_weight"], "bias": params["norm_bias"]}),
        (Dense(7), {"weight": params["weight1"], "bias": params["bias1"]}),
        (Dropout(0.3), {}),
        (Dense(4, "identity"), {"weight": params["weight2"], "bias": params["bias2"]}),
        (Dropout(0.2), {}),
    ]
    keys = row_keys(X, 2)
    part_state = {k: v.copy() for k, v in state.items()}
    a, caches, noise = X, [], KeyedUniforms(keys, 5)
    for layer, p in parts:
        s = part_state if isinstance(layer, BatchNorm) else {}
        a, cache = layer.forward(p, s, a, training=True, sample_weight=w, noise=noise)
        caches.append(cache)
    expected = X + a
    out, cache = block.forward(
        params, state, X, training=True, sample_weight=w, noise=KeyedUniforms(keys, 5)
    )
    assert_allclose(out, expected, rtol=1e-12)
    for k in state:
        assert_allclose(state[k], part_state[k], rtol=1e-12)

    d_out = rng.normal(size=out.shape)
    grads = grads_for(params)
    d_in = block.backward(params, state, cache, d_out.copy(), grads)
    d, part_grads = d_out.copy(), []
    for (layer, p), c in zip(parts[::-1], caches[::-1]):
        g = grads_for(p)
        d = layer.backward(p, part_state, c, d, g)
        part_grads.append(g)
    bn_g, d1_g, _, d2_g, _ = part_grads[::-1]
    assert_allclose(d_in, d + d_out, rtol=1e-10)
    assert_allclose(grads["norm_weight"], bn_g["weight"], rtol=1e-10)
    assert_allclose(grads["weight1"], d1_g["weight"], rtol=1e-10)
    assert_allclose(grads["bias2"], d2_g["bias"], rtol=1e-10)
    assert block.param_shapes(4)["weight1"] == (4, 7)
    assert ResNetBlock().param_shapes(5)["weight1"] == (5, 10)


# ----------------------------------------------------------------- embeddings
def _plr_reference(layer, params, X, cols):
    """PLR as written in the paper, with einsum: cos/sin, per-feature linear, ReLU."""
    xe = X[:, cols]
    v = 2 * math.pi * params["frequencies"][None] * xe[:, :, None]
    periodic = np.concatenate([np.cos(v), np.sin(v)], axis=-1)
    if layer.lite:
        z = periodic @ params["weight"] + params["bias"]
    else:
        z = np.einsum("nfk,fkd->nfd", periodic, params["weight"]) + params["bias"]
    others = [j for j in range(X.shape[1]) if j not in cols]
    return np.hstack([np.maximum(z, 0).reshape(len(X), -1), X[:, others]])


@pytest.mark.parametrize("lite", [False, True])
def test_periodic_embedding_matches_the_paper(lite):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(20, 4))
    X[:, 1] = rng.randint(0, 2, size=20)  # binary: passes through
    layer = PeriodicEmbedding(
        n_frequencies=5, frequency_scale=0.3, d_embedding=3, lite=lite
    )
    state = layer.fit_state(X)
    assert_array_equal(state["columns"], [0, 2, 3])
    assert layer.output_width(4, state) == 3 * 3 + 1
    params = params_for(layer, 4, state)
    assert params["frequencies"].shape == (3, 5)
    out, _ = layer.forward(params, state, X, training=False)
    assert_allclose(out, _plr_reference(layer, params, X, [0, 2, 3]), rtol=1e-12)
    assert_array_equal(out[:, -1], X[:, 1])


def test_periodic_embedding_initialisation():
    layer = PeriodicEmbedding(n_frequencies=400, frequency_scale=0.1, d_embedding=4)
    state = {"columns": np.arange(50)}
    params = params_for(layer, 50, state)
    c = params["frequencies"]
    assert abs(c.std() - 0.1 * 0.986) < 0.005  # a normal truncated at 3 sigma
    assert np.abs(c).max() <= 0.3
    bound = 1 / math.sqrt(800)
    assert np.abs(params["weight"]).max() <= bound
    assert np.abs(params["weight"]).max() > 0.9 * bound
    again = params_for(layer, 50, state)
    assert_array_equal(again["frequencies"], c)


def test_embedding_columns_option():
    X = np.column_stack(
        [np.arange(10.0), np.ones(10), np.arange(10) % 2, -np.arange(10.0)]
    )
    layer = PeriodicEmbedding()
    # Default: every column with more than two distinct values.
    assert_array_equal(layer.fit_state(X)["columns"], [0, 3])
    # Zero-weight rows do not count.
    w = np.r_[np.ones(2), np.zeros(8)]
    assert_array_equal(layer.fit_state(X, w)["columns"], [])
    for columns, expected in [
        ([3, 0, 0], [0, 3]),
        ([-1], [3]),
        ([True, False, False, True], [0, 3]),
        ([], []),
    ]:
        cols = PeriodicEmbedding(columns=columns).fit_state(X)["columns"]
        assert_array_equal(cols, expected)
        assert PeriodicEmbedding(columns=columns).output_width(4) == 4 + 23 * len(
            expected
        )
    for columns, error, match in [
        ([4], ValueError, r"PeriodicEmbedding.columns=\[4\] names columns outside"),
        ([True, False], ValueError, r"boolean mask must have one entry per input"),
        (["a"], TypeError, r"PeriodicEmbedding.columns must be None, a sequence"),
        ([[0, 1]], TypeError, r"sequence of column positions"),
    ]:
        with pytest.raises(error, match=match):
            PeriodicEmbedding(columns=columns).fit_state(X)
    with pytest.raises(ValueError, match=r"chooses its columns from the training data"):
        PeriodicEmbedding().output_width(4)
    with pytest.raises(ValueError, match=r"chooses its bins from the training data"):
        PiecewiseLinearEncoding(columns=[0]).output_width(4)


def _ple_reference(edges, x):
    """PLE of Gorishniy et al. (2022), eq. 1, one feature, for bin edges ``edges``."""
    T = len(edges) - 1
    out = np.empty((len(x), T))
    for t in range(T):
        e = (x - edges[t]) / (edges[t + 1] - edges[t])
        lo = -np.inf if t == 0 else 0.0
        hi = np.inf if t == T - 1 else 1.0
        out[:, t] = np.clip(e, lo, hi)
    return out


def test_piecewise_linear_encoding_matches_the_paper():
    rng = np.random.RandomState(0)
    X_fit = np.column_stack(
        [rng.normal(size=200), rng.randint(0, 2, 200), rng.randint(0, 3, 200) * 1.0]
    )
    layer = PiecewiseLinearEncoding(n_bins=8)
    state = layer.fit_state(X_fit)
    assert_array_equal(state["columns"], [0, 2])
    # Column 2 has three distinct values: its coinciding quantiles merge.
    assert_array_equal(state["n_bins"], [8, 2])
    edges0 = np.quantile(X_fit[:, 0], np.linspace(0, 1, 9), method="inverted_cdf")
    assert_allclose(state["edges"][:9], edges0)
    assert_allclose(state["edges"][9:], [0.0, 1.0, 2.0])
    X = rng.normal(size=(30, 3)) * 2
    out, _ = layer.forward({}, state, X, training=False)
    assert out.shape == (30, layer.output_width(3, state)) == (30, 11)
    assert_allclose(out[:, :8], _ple_reference(edges0, X[:, 0]))
    assert_array_equal(out[:, 8], X[:, 1])
    assert_allclose(out[:, 9:], _ple_reference([0.0, 1.0, 2.0], X[:, 2]))


def test_piecewise_linear_encoding_weighted_quantiles_and_constant_columns():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.normal(size=50), np.full(50, 3.0)])
    w = rng.randint(0, 4, size=50).astype(float)
    layer = PiecewiseLinearEncoding(n_bins=5, columns=[0, 1])
    weighted = layer.fit_state(X, w)
    repeated = layer.fit_state(np.repeat(X, w.astype(int), axis=0))
    for k in weighted:
        assert_array_equal(weighted[k], repeated[k])
    # A constant column is encoded as x - c.
    assert_array_equal(weighted["n_bins"][1], 1)
    out, _ = layer.forward(
        {}, weighted, np.array([[0.0, 5.0], [0.1, -1.0]]), training=False
    )
    assert_allclose(out[:, -1], [2.0, -4.0])


def test_embeddings_keep_float32():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(64, 6)).astype(np.float32)
    for layer in (
        PeriodicEmbedding(),
        PiecewiseLinearEncoding(),
        ResNetBlock(8, 0.1, 0.1),
    ):
        state = layer.fit_state(X)
        params = params_for(layer, 6, state, dtype=np.float32)
        out, cache = layer.forward(
            params, state, X, training=True, noise=np.random.RandomState(0)
        )
        assert out.dtype == np.float32
        grads = grads_for(params)
        d_in = layer.backward(params, state, cache, np.ones_like(out), grads)
        assert d_in.dtype == np.float32
        assert all(np.isfinite(g).all() for g in grads.values())


def test_weighted_quantiles_are_numpys_inverted_cdf():
    from sknn.layers import _weighted_quantiles

    rng = np.random.RandomState(0)
    levels = np.linspace(0, 1, 9)
    for n in (1, 2, 7, 333):
        X = rng.normal(size=(n, 3))
        X[:, 2] = rng.randint(0, 3, n)
        expected = np.quantile(X, levels, axis=0, method="inverted_cdf")
        assert_array_equal(_weighted_quantiles(X, levels, None), expected)
        w = rng.randint(0, 4, n)
        if w.sum():
            repeated = np.quantile(
                np.repeat(X, w, axis=0), levels, axis=0, method="inverted_cdf"
            )
            assert_array_equal(_weighted_quantiles(X, levels, w * 1.0), repeated)
