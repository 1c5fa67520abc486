"""Layers: the building blocks of a network, forward and backward side by side.

A layer is configuration only (its hyperparameters). Its trained parameters
are segments of the network's one flat parameter vector, handed to it as a
dict of views; its fitted non-trained state (batch-norm running statistics,
piecewise-linear bin edges, the columns an embedding applies to) is a dict
of arrays that the estimator keeps, saves and restores.

Shape contract: a layer maps ``X`` of shape ``(n_samples, n_in)`` to an
output of shape ``(n_samples, output_width(n_in, state))``, in the dtype of
``X`` (float32 stays float32).

Examples
--------
>>> import numpy as np
>>> from sknn.initializers import GlorotUniform
>>> from sknn.layers import Dense
>>> layer = Dense(3)
>>> shapes = layer.param_shapes(2)
>>> shapes
{'weight': (2, 3), 'bias': (3,)}
>>> params = {k: np.empty(s) for k, s in shapes.items()}
>>> layer.initialize(params, 2, np.random.RandomState(0), GlorotUniform())
>>> out, cache = layer.forward(params, {}, np.ones((4, 2)), training=False)
>>> out.shape
(4, 3)
"""

import math

import numpy as np
from scipy import stats

from ._base import Component
from ._registry import _make_registry
from .activations import Activation
from .activations import registry as _activations

__all__ = [
    "Layer",
    "Dense",
    "EnsembleDense",
    "ActivationLayer",
    "BatchNorm",
    "LayerNorm",
    "Dropout",
    "ResNetBlock",
    "PeriodicEmbedding",
    "PiecewiseLinearEncoding",
    "register_layer",
]


class Layer(Component):
    """Base class of layers.

    A layer declares the shapes of its parameters and implements its forward
    and backward passes. Every method receives what it works on; nothing is
    stored on the layer.

    Building a network over layers, each layer in turn (its input ``A`` is
    the training data for the first layer, else the previous layers'
    prediction-mode output):

    1. ``state = layer.fit_state(A, sample_weight)``;
    2. ``layer.param_shapes(n_in, state)`` and ``layer.output_width(n_in,
       state)`` (they may depend on ``state``: an embedding's columns and
       bins are chosen from the data);
    3. ``layer.initialize(params, n_in, rng, initializer)``.

    Layers whose shapes do not depend on the data accept ``state=None`` in
    step 2; the others raise ``ValueError`` without it.

    Attributes
    ----------
    l2 : tuple of str
        Names of the parameters the estimator's L2 term (``alpha``) covers.
    accepts_sparse : bool
        Whether :meth:`forward` takes a scipy sparse matrix (as a first
        layer); a network gives any other layer a clear ``TypeError`` for
        sparse input.
    noise_params : tuple of str
        Names of the hyperparameters that make the training pass draw noise
        (from ``noise``) when they are not zero, such as dropout rates. They
        give :attr:`stochastic`, and name what to change when a full-batch
        optimizer meets a layer that draws noise.
    column_params : tuple of str
        Names of the hyperparameters that select input columns (an
        embedding's ``columns``). For a first layer the estimator accepts
        column names there when it is fitted on a DataFrame, and gives the
        fitted layer their positions. The fitted state depends on them, as
        on :attr:`state_params`.
    state_params : tuple of str
        Names of the other hyperparameters :meth:`fit_state` computes the
        fitted state from (a piecewise-linear encoding's ``n_bins``).
        ``warm_start`` and ``partial_fit`` keep the fitted state, so they
        refuse a change in these, or in :attr:`column_params`.
    n_members : int
        Number of ensemble members whose outputs the layer's output puts
        side by side (1 for an ordinary layer). When the last layer has
        ``k > 1``, the network's loss is the mean of the members' losses and
        its prediction the mean of their raw outputs.
    """

    l2 = ()
    accepts_sparse = False
    noise_params = ()
    column_params = ()
    state_params = ()
    n_members = 1

    @property
    def stochastic(self):
        """Whether the training pass draws noise (a dropout rate above 0).

        True when one of :attr:`noise_params` is not zero; override it for a
        layer that draws noise otherwise. A network with a stochastic layer
        trains only with a stochastic optimizer: full-batch optimizers
        (L-BFGS) minimise one deterministic objective and pass no ``noise``.

        Examples
        --------
        >>> from sknn.layers import Dropout, ResNetBlock
        >>> Dropout(0.2).stochastic, ResNetBlock(dropout1=0.0).stochastic
        (True, False)
        """
        return any(getattr(self, name) for name in self.noise_params)

    def output_width(self, n_in, state=None):
        """Number of output columns for ``n_in`` input columns.

        Parameters
        ----------
        n_in : int
            Width of the layer's input.
        state : dict or None, default=None
            The layer's fitted state (from :meth:`fit_state`).

        Returns
        -------
        n_out : int
        """
        return n_in

    def param_shapes(self, n_in, state=None):
        """Shapes of the trained parameters, in their order in the flat vector.

        Parameters
        ----------
        n_in : int
            Width of the layer's input.
        state : dict or None, default=None
            The layer's fitted state (from :meth:`fit_state`).

        Returns
        -------
        shapes : dict
            Parameter name -> shape tuple.
        """
        return {}

    def initialize(self, params, n_in, rng, initializer):
        """Fill the parameter views ``params`` in place.

        Parameters
        ----------
        params : dict
            Parameter name -> writable view, shaped as :meth:`param_shapes`.
        n_in : int
            Width of the layer's input.
        rng : numpy.random.RandomState
            The fit's random state.
        initializer : Initializer or None
            The estimator's weight initializer, called as
            ``initializer(weight, bias, rng, activation_name)`` for linear
            maps (None: Glorot uniform).
        """

    def fit_state(self, X, sample_weight=None):
        """Fitted non-trained state, computed once from the layer's training input.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_in)
            The layer's input on the training data.
        sample_weight : ndarray of shape (n_samples,) or None
            Statistics are weighted, so that a weight of ``k`` equals ``k``
            repeated rows.

        Returns
        -------
        state : dict
            Name -> ndarray (floating arrays in the dtype of ``X``); empty
            for a layer without state.
        """
        return {}

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        """Output of the layer for ``X``, and what :meth:`backward` needs.

        Parameters
        ----------
        params : dict
            Parameter name -> view.
        state : dict
            The fitted state; a training pass may update it in place
            (running statistics).
        X : ndarray of shape (n_samples, n_in)
            Never modified. Only :class:`Dense` takes a scipy sparse matrix.
        training : bool
            Training mode: batch statistics (weighted by ``sample_weight``)
            and dropout; prediction mode: running statistics, no dropout.
        sample_weight : ndarray of shape (n_samples,) or None, default=None
            Weights of the batch statistics in training mode.
        noise : object or None, default=None
            Draws dropout masks in training mode with
            ``noise.random_sample((n, m))``, uniforms in [0, 1).

        Returns
        -------
        out : ndarray of shape (n_samples, n_out)
            The next layer must not modify it.
        cache : object
            Passed to :meth:`backward`.
        """
        raise NotImplementedError

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        """Parameter gradients into ``grads``, and the gradient of the input.

        Parameters
        ----------
        params, state : dict
            As given to :meth:`forward`.
        cache : object
            What :meth:`forward` returned; may be overwritten.
        d_out : ndarray of shape (n_samples, n_out)
            Gradient of the objective with respect to the output; may be
            overwritten.
        grads : dict
            Parameter name -> view: every gradient is written (overwritten),
            not added to.
        need_input_grad : bool, default=True
            False for the first layer: the input's gradient is not computed.

        Returns
        -------
        d_in : ndarray of shape (n_samples, n_in) or None
        """
        raise NotImplementedError


registry = _make_registry("layers", Layer)
register_layer = registry.register


# ----------------------------------------------------------------- helpers
def _require_dense(layer, X):
    if not isinstance(X, np.ndarray):
        raise TypeError(
            f"{type(layer).__name__} takes a dense array, got {type(X).__name__}; "
            "only a first Dense layer takes sparse input."
        )


def _activation(layer):
    spec = layer.activation
    if isinstance(spec, Activation):
        return spec
    return _activations.resolve(spec, f"{type(layer).__name__}.activation")


def _activation_name(layer):
    spec = layer.activation
    return (
        spec
        if isinstance(spec, str)
        else _activations.name_of(_activations.class_of(spec))
    )


def _initializer(initializer):
    if initializer is None:
        from .initializers import GlorotUniform

        return GlorotUniform()
    return initializer


def _row_weights(sample_weight, dtype):
    """Weights summing to 1 in ``dtype``, or None for equal weights."""
    if sample_weight is None:
        return None
    total = float(np.sum(sample_weight))
    if not total > 0:
        return None
    return np.asarray(sample_weight / total, dtype=dtype)


def _mean(X, p):
    """Column means of ``X`` weighted by ``p`` (None: equal weights).

    A matrix-vector product: several times faster than ``X.mean(axis=0)``.
    """
    if p is None:
        p = np.full(X.shape[0], 1 / max(X.shape[0], 1), X.dtype)
    return p @ X


def _matmul_t(A, B, out):
    """``A.T @ B`` into ``out``; ``A`` may be sparse."""
    if isinstance(A, np.ndarray):
        np.matmul(A.T, B, out=out)
    else:
        out[...] = A.T @ B


def _back_product(delta, W):
    """``delta @ W.T``; a one-column delta as a broadcast product (faster)."""
    if delta.shape[1] == 1:
        return delta * W.T
    return delta @ W.T


def _affine(X, W, b, act):
    """``act(X @ W + b)`` and the pre-activation when the derivative needs it."""
    z = X @ W
    if act.uses_input:
        return act.forward_biased(z, b, out=None), z
    return act.forward_biased(z, b, out=z), None


def _affine_backward(X, W, a, z, act, d, grad_w, grad_b, need_input_grad):
    """Backward pass of :func:`_affine`; ``d``, the output gradient, is overwritten."""
    act.backward_summed(d, a, z, grad_b)
    _matmul_t(X, d, grad_w)
    return _back_product(d, W) if need_input_grad else None


def _dropout_mask(layer, noise, shape, rate, dtype):
    """Inverted-dropout mask: 0 for dropped units, ``1 / (1 - rate)`` for kept ones."""
    if noise is None:
        raise ValueError(
            f"{layer!r} drops units in training mode and needs noise: an object "
            "with random_sample(shape); got noise=None."
        )
    keep = noise.random_sample(shape) >= rate
    return np.multiply(keep, 1 / (1 - rate), dtype=dtype)


# Batch normalisation, shared by BatchNorm and ResNetBlock. The batch
# statistics are weighted (p sums to 1), so that a weight of k equals k
# repeated rows; the variance is the biased one, in normalisation and in the
# running statistics alike.
def _bn_stats(X, p):
    mean = _mean(X, p)
    xc = X - mean
    sq = np.square(xc)
    return mean, _mean(sq, p), xc, sq


def _bn_train(X, gamma, beta, state, p, eps, momentum):
    mean, var, xhat, out = _bn_stats(X, p)
    inv = 1 / np.sqrt(var + eps)
    xhat *= inv
    np.multiply(xhat, gamma, out=out)
    out += beta
    if state:
        for name, value in (("running_mean", mean), ("running_var", var)):
            running = state[name]
            running *= 1 - momentum
            running += momentum * value
    return out, (True, xhat, inv, p)


def _bn_predict(X, gamma, beta, state, eps):
    inv = 1 / np.sqrt(state["running_var"] + eps)
    scale = gamma * inv
    out = X * scale
    out += beta - state["running_mean"] * scale
    return out, (False, X, inv, None)


def _bn_forward(X, gamma, beta, state, training, sample_weight, eps, momentum):
    if not training:
        return _bn_predict(X, gamma, beta, state, eps)
    p = _row_weights(sample_weight, X.dtype)
    return _bn_train(X, gamma, beta, state, p, eps, momentum)


def _bn_backward(cache, gamma, state, d, grad_gamma, grad_beta, need):
    """Backward pass of batch normalisation; ``d`` and the cache are overwritten."""
    training, xhat, inv, p = cache
    if not training:  # the cache holds X: normalise it with the running stats
        xhat = (xhat - state["running_mean"]) * inv
    np.add.reduce(d, axis=0, out=grad_beta)
    grad_gamma[...] = np.einsum("ij,ij->j", d, xhat)
    if not need:
        return None
    d *= gamma
    if training:
        # dx_i = inv * (g_i - p_i * (sum_j g_j + xhat_i * sum_j g_j xhat_j)),
        # g = d * gamma; both sums follow from the parameter gradients.
        xhat *= grad_gamma * gamma
        xhat += grad_beta * gamma
        xhat *= (1 / d.shape[0]) if p is None else p[:, None]
        d -= xhat
    d *= inv
    return d


def _bn_fit_state(X, sample_weight):
    p = _row_weights(sample_weight, X.dtype)
    mean, var, _, _ = _bn_stats(X, p)
    return {"running_mean": mean, "running_var": var}


# ------------------------------------------------------------------ layers
@register_layer("dense")
class Dense(Layer):
    """Fully connected layer ``activation(X @ weight + bias)``.

    Takes a scipy sparse matrix as input (then only its products touch it),
    so a first dense layer trains on sparse data without densifying it.

    Parameters
    ----------
    units : int, default=100
        Output width.
    activation : str or Activation, default="relu"
        A registered activation name (see :func:`sknn.list_activations`) or
        an instance; ``"identity"`` for a linear layer.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.layers import Dense
    >>> layer = Dense(2, activation="identity")
    >>> params = {"weight": np.eye(3)[:, :2], "bias": np.array([0.0, 1.0])}
    >>> out, _ = layer.forward(params, {}, np.array([[1.0, 2.0, 3.0]]), training=False)
    >>> out
    array([[1., 3.]])
    """

    l2 = ("weight",)
    accepts_sparse = True
    _param_checks = {"units": {"low": 1, "integer": True}}

    def __init__(self, units=100, activation="relu"):
        self.units = units
        self.activation = activation

    def output_width(self, n_in, state=None):
        return self.units

    def param_shapes(self, n_in, state=None):
        return {"weight": (n_in, self.units), "bias": (self.units,)}

    def initialize(self, params, n_in, rng, initializer):
        _initializer(initializer)(
            params["weight"], params["bias"], rng, _activation_name(self)
        )

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        act = _activation(self)
        a, z = _affine(X, params["weight"], params["bias"], act)
        return a, (X, a, z, act)

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        X, a, z, act = cache
        return _affine_backward(
            X,
            params["weight"],
            a,
            z,
            act,
            d_out,
            grads["weight"],
            grads["bias"],
            need_input_grad,
        )


@register_layer("ensemble_dense")
class EnsembleDense(Layer):
    """``n_members`` independent dense layers side by side: an ensemble in one network.

    With ``input="shared"`` every member reads the whole input (the first
    layer of an ensemble, or the one after a shared embedding); with
    ``input="split"`` the input holds the members' previous outputs side by
    side (``n_members`` blocks of ``n_in / n_members`` columns) and member
    ``m`` reads block ``m`` only. The output is the members' outputs side by
    side, ``n_members * units`` columns. Members are initialized one by
    one, each as a :class:`Dense` layer of ``units``; L2 covers the weights.

    Trained as the last layer of a network, the members are a deep ensemble
    trained at once: the objective is the mean of the members' losses (each
    member learns on its own) and the prediction the mean of their raw
    outputs (the multilayer-perceptron ensemble of Gorishniy et al. (2024),
    "TabM: Advancing Tabular Deep Learning with Parameter-Efficient
    Ensembling", without weight sharing).

    Parameters
    ----------
    units : int, default=100
        Output width of each member.
    n_members : int, default=4
        Number of members.
    activation : str or Activation, default="relu"
        A registered activation name (see :func:`sknn.list_activations`) or
        an instance; ``"identity"`` for the output layer.
    input : {"shared", "split"}, default="shared"
        Whether the members share the whole input or each reads its own block.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.layers import EnsembleDense
    >>> first = EnsembleDense(3, n_members=2)
    >>> first.param_shapes(4), first.output_width(4)
    ({'weight': (4, 6), 'bias': (6,)}, 6)
    >>> EnsembleDense(1, n_members=2, input="split").param_shapes(6)
    {'weight': (2, 3, 1), 'bias': (2,)}
    """

    l2 = ("weight",)
    _param_checks = {
        "units": {"low": 1, "integer": True},
        "n_members": {"low": 1, "integer": True},
        "input": frozenset({"shared", "split"}),
    }

    def __init__(self, units=100, n_members=4, activation="relu", input="shared"):
        self.units = units
        self.n_members = n_members
        self.activation = activation
        self.input = input

    @property
    def accepts_sparse(self):
        return self.input == "shared"

    def output_width(self, n_in, state=None):
        return self.n_members * self.units

    def param_shapes(self, n_in, state=None):
        k, u = self.n_members, self.units
        if self.input == "shared":
            return {"weight": (n_in, k * u), "bias": (k * u,)}
        if n_in % k:
            raise ValueError(
                f"{self!r} splits its input into {k} members' blocks, but the "
                f"input has {n_in} columns, not a multiple of {k}."
            )
        return {"weight": (k, n_in // k, u), "bias": (k * u,)}

    def initialize(self, params, n_in, rng, initializer):
        init, name = _initializer(initializer), _activation_name(self)
        W, b, u = params["weight"], params["bias"], self.units
        for m in range(self.n_members):
            w = W[:, m * u : (m + 1) * u] if W.ndim == 2 else W[m]
            init(w, b[m * u : (m + 1) * u], rng, name)

    def _members(self, A):
        """``A`` (n, k * d) as the members' blocks, shape (k, n, d) (a view)."""
        n = A.shape[0]
        return A.reshape(n, self.n_members, -1).transpose(1, 0, 2)

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        act, W, b = _activation(self), params["weight"], params["bias"]
        if W.ndim == 2:
            a, z = _affine(X, W, b, act)
            return a, (X, a, z, act)
        _require_dense(self, X)
        z = np.matmul(self._members(X), W).transpose(1, 0, 2).reshape(X.shape[0], -1)
        if act.uses_input:
            a = act.forward_biased(z, b, out=None)
        else:
            a, z = act.forward_biased(z, b, out=z), None
        return a, (X, a, z, act)

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        X, a, z, act = cache
        W = params["weight"]
        if W.ndim == 2:
            return _affine_backward(
                X, W, a, z, act, d_out, grads["weight"], grads["bias"], need_input_grad
            )
        act.backward_summed(d_out, a, z, grads["bias"])
        d = self._members(d_out)
        np.matmul(self._members(X).transpose(0, 2, 1), d, out=grads["weight"])
        if not need_input_grad:
            return None
        d_in = np.matmul(d, W.transpose(0, 2, 1))
        return d_in.transpose(1, 0, 2).reshape(X.shape[0], -1)


@register_layer("activation")
class ActivationLayer(Layer):
    """An activation function on its own, e.g. the ReLU between a batch norm and
    the output layer of a ResNet's head.

    Parameters
    ----------
    activation : str or Activation, default="relu"
        A registered activation name (see :func:`sknn.list_activations`) or
        an instance.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.layers import ActivationLayer
    >>> out, _ = ActivationLayer().forward({}, {}, np.array([[-1.0, 2.0]]),
    ...                                    training=False)
    >>> out
    array([[0., 2.]])
    """

    def __init__(self, activation="relu"):
        self.activation = activation

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        _require_dense(self, X)
        act = _activation(self)
        a = act.forward(X)
        return a, (a, X if act.uses_input else None, act)

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        if not need_input_grad:
            return None
        a, z, act = cache
        return act.backward(d_out, a, z)


@register_layer("batch_norm")
class BatchNorm(Layer):
    """Batch normalisation with a learned per-column scale and shift.

    In training mode each column is normalised with the batch's mean and
    (biased) variance, weighted by ``sample_weight``, and the running
    statistics move towards them: ``running = (1 - momentum) * running +
    momentum * batch``. In prediction mode the running statistics are used.
    They start at the statistics of the layer's training input. The scale
    ``weight`` (initially 1) and shift ``bias`` (0) are not covered by L2.

    Parameters
    ----------
    momentum : float, default=0.1
        Weight of each batch in the running statistics, in (0, 1].
    eps : float, default=1e-5
        Added to the variance.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.layers import BatchNorm
    >>> X = np.array([[1.0], [3.0]])
    >>> params = {"weight": np.ones(1), "bias": np.zeros(1)}
    >>> state = BatchNorm().fit_state(X)
    >>> out, _ = BatchNorm(eps=0.0).forward(params, state, X, training=True)
    >>> out
    array([[-1.],
           [ 1.]])
    """

    _param_checks = {
        "momentum": {"low": 0, "high": 1, "low_open": True},
        "eps": {"low": 0},
    }

    def __init__(self, momentum=0.1, eps=1e-5):
        self.momentum = momentum
        self.eps = eps

    def param_shapes(self, n_in, state=None):
        return {"weight": (n_in,), "bias": (n_in,)}

    def initialize(self, params, n_in, rng, initializer):
        params["weight"][...] = 1
        params["bias"][...] = 0

    def fit_state(self, X, sample_weight=None):
        _require_dense(self, X)
        return _bn_fit_state(X, sample_weight)

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        _require_dense(self, X)
        return _bn_forward(
            X,
            params["weight"],
            params["bias"],
            state,
            training,
            sample_weight,
            float(self.eps),
            float(self.momentum),
        )

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        return _bn_backward(
            cache,
            params["weight"],
            state,
            d_out,
            grads["weight"],
            grads["bias"],
            need_input_grad,
        )


@register_layer("layer_norm")
class LayerNorm(Layer):
    """Layer normalisation: each row normalised over its columns, then scaled.

    ``out = (x - mean(x)) / sqrt(var(x) + eps) * weight + bias`` per row,
    the same in training and prediction. The scale ``weight`` (initially 1)
    and shift ``bias`` (0) are not covered by L2.

    Parameters
    ----------
    eps : float, default=1e-5
        Added to the variance.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.layers import LayerNorm
    >>> params = {"weight": np.ones(2), "bias": np.zeros(2)}
    >>> out, _ = LayerNorm(eps=0.0).forward(
    ...     params, {}, np.array([[1.0, 3.0]]), training=False)
    >>> out
    array([[-1.,  1.]])
    """

    _param_checks = {"eps": {"low": 0}}

    def __init__(self, eps=1e-5):
        self.eps = eps

    def param_shapes(self, n_in, state=None):
        return {"weight": (n_in,), "bias": (n_in,)}

    def initialize(self, params, n_in, rng, initializer):
        params["weight"][...] = 1
        params["bias"][...] = 0

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        _require_dense(self, X)
        xhat = X - X.mean(axis=1, keepdims=True)
        out = np.square(xhat)
        inv = 1 / np.sqrt(out.mean(axis=1, keepdims=True) + float(self.eps))
        xhat *= inv
        np.multiply(xhat, params["weight"], out=out)
        out += params["bias"]
        return out, (xhat, inv)

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        xhat, inv = cache
        gamma = params["weight"]
        np.add.reduce(d_out, axis=0, out=grads["bias"])
        grads["weight"][...] = np.einsum("ij,ij->j", d_out, xhat)
        if not need_input_grad:
            return None
        # dx = inv * (g - mean(g) - xhat * mean(g * xhat)) per row, g = d * gamma
        g = d_out
        g *= gamma
        m = g.shape[1]
        s2 = np.einsum("ij,ij->i", g, xhat)[:, None]
        s2 *= 1 / m
        xhat *= s2
        xhat += g.mean(axis=1, keepdims=True)
        g -= xhat
        g *= inv
        return g


@register_layer("dropout")
class Dropout(Layer):
    """Inverted dropout: in training, each unit is zeroed with probability ``rate``.

    Kept units are scaled by ``1 / (1 - rate)``, so prediction (where the
    layer is the identity) needs no rescaling. The masks come from the
    ``noise`` the network passes, keyed by row content, so a row repeated
    ``k`` times is dropped like the row with weight ``k``.

    Parameters
    ----------
    rate : float, default=0.5
        Probability of dropping a unit, in [0, 1).

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.layers import Dropout
    >>> X = np.ones((2, 3))
    >>> out, _ = Dropout(0.5).forward({}, {}, X, training=False)
    >>> out is X
    True
    >>> out, _ = Dropout(0.5).forward(
    ...     {}, {}, X, training=True, noise=np.random.RandomState(0))
    >>> out
    array([[2., 2., 2.],
           [2., 0., 2.]])
    """

    noise_params = ("rate",)
    _param_checks = {"rate": {"low": 0, "high": 1, "high_open": True}}

    def __init__(self, rate=0.5):
        self.rate = rate

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        _require_dense(self, X)
        if not training or not self.rate:
            return X, None
        mask = _dropout_mask(self, noise, X.shape, self.rate, X.dtype)
        return X * mask, mask

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        if not need_input_grad:
            return None
        if cache is not None:
            d_out *= cache
        return d_out


# Batch-norm constants of the ResNet block (PyTorch's defaults, as in the paper).
_BN_MOMENTUM, _BN_EPS = 0.1, 1e-5


@register_layer("resnet_block")
class ResNetBlock(Layer):
    """Residual block of Gorishniy et al. (2021), width kept.

    ``out = x + dropout2(linear2(dropout1(activation(linear1(batch_norm(x))))))``,
    the block of the ResNet baseline in "Revisiting Deep Learning Models for
    Tabular Data" (NeurIPS 2021). The batch normalisation uses momentum 0.1
    and eps 1e-5, with weighted batch statistics as in :class:`BatchNorm`;
    its running statistics are the block's state. L2 covers the two linear
    maps' weights.

    Parameters
    ----------
    d_hidden : int or None, default=None
        Width of the hidden layer; None for twice the block's width.
    dropout1 : float, default=0.0
        Dropout rate after the activation (hidden dropout), in [0, 1).
    dropout2 : float, default=0.0
        Dropout rate of the residual branch's output, in [0, 1).
    activation : str or Activation, default="relu"
        The hidden activation.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.layers import ResNetBlock
    >>> block = ResNetBlock(d_hidden=8, dropout1=0.1)
    >>> block.output_width(4), block.param_shapes(4)["weight1"]
    (4, (4, 8))
    """

    l2 = ("weight1", "weight2")
    noise_params = ("dropout1", "dropout2")
    _param_checks = {
        "d_hidden": {"low": 1, "integer": True, "allow_none": True},
        "dropout1": {"low": 0, "high": 1, "high_open": True},
        "dropout2": {"low": 0, "high": 1, "high_open": True},
    }

    def __init__(self, d_hidden=None, dropout1=0.0, dropout2=0.0, activation="relu"):
        self.d_hidden = d_hidden
        self.dropout1 = dropout1
        self.dropout2 = dropout2
        self.activation = activation

    def param_shapes(self, n_in, state=None):
        h = 2 * n_in if self.d_hidden is None else self.d_hidden
        return {
            "weight1": (n_in, h),
            "weight2": (h, n_in),
            "norm_weight": (n_in,),
            "norm_bias": (n_in,),
            "bias1": (h,),
            "bias2": (n_in,),
        }

    def initialize(self, params, n_in, rng, initializer):
        init, name = _initializer(initializer), _activation_name(self)
        params["norm_weight"][...] = 1
        params["norm_bias"][...] = 0
        init(params["weight1"], params["bias1"], rng, name)
        init(params["weight2"], params["bias2"], rng, name)

    def fit_state(self, X, sample_weight=None):
        _require_dense(self, X)
        return _bn_fit_state(X, sample_weight)

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        _require_dense(self, X)
        h, bn = _bn_forward(
            X,
            params["norm_weight"],
            params["norm_bias"],
            state,
            training,
            sample_weight,
            _BN_EPS,
            _BN_MOMENTUM,
        )
        act = _activation(self)
        a, z = _affine(h, params["weight1"], params["bias1"], act)
        mask1 = mask2 = None
        a_drop = a
        if training and self.dropout1:
            mask1 = _dropout_mask(self, noise, a.shape, self.dropout1, X.dtype)
            a_drop = a * mask1
        out = a_drop @ params["weight2"]
        out += params["bias2"]
        if training and self.dropout2:
            mask2 = _dropout_mask(self, noise, out.shape, self.dropout2, X.dtype)
            out *= mask2
        out += X
        return out, (bn, h, a, z, act, mask1, a_drop, mask2)

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        bn, h, a, z, act, mask1, a_drop, mask2 = cache
        # d_out is also the skip connection's gradient: read, not overwritten.
        g = d_out if mask2 is None else d_out * mask2
        np.add.reduce(g, axis=0, out=grads["bias2"])
        np.matmul(a_drop.T, g, out=grads["weight2"])
        g = g @ params["weight2"].T
        if mask1 is not None:
            g *= mask1
        g = _affine_backward(
            h, params["weight1"], a, z, act, g, grads["weight1"], grads["bias1"], True
        )
        g = _bn_backward(
            bn,
            params["norm_weight"],
            state,
            g,
            grads["norm_weight"],
            grads["norm_bias"],
            need_input_grad,
        )
        if g is None:
            return None
        g += d_out
        return g


# ------------------------------------------------- numerical embeddings
def _given_columns(layer, n_in):
    """The sorted column positions ``layer.columns`` names, for ``n_in`` columns."""
    name = f"{type(layer).__name__}.columns"
    cols = np.asarray(layer.columns)
    if cols.dtype == bool:
        if cols.shape != (n_in,):
            raise ValueError(
                f"{name} as a boolean mask must have one entry per input column "
                f"({n_in}); got shape {cols.shape}."
            )
        return np.flatnonzero(cols)
    if cols.ndim != 1 or (cols.size and cols.dtype.kind not in "iu"):
        names = (
            " Column names are mapped to positions by an estimator fitted on a "
            "DataFrame, for its first layer."
            if cols.dtype.kind == "U"
            else ""
        )
        raise TypeError(
            f"{name} must be None, a sequence of column positions (int) or a "
            f"boolean mask; got {layer.columns!r}.{names}"
        )
    cols = cols.astype(np.int64)
    if cols.size and (cols.min() < -n_in or cols.max() >= n_in):
        raise ValueError(
            f"{name}={layer.columns!r} names columns outside the input's "
            f"{n_in} columns."
        )
    return np.unique(cols % n_in) if cols.size else cols


def _fit_columns(layer, X, sample_weight):
    """The embedded columns: as given, or every non-binary column of ``X``."""
    _require_dense(layer, X)
    if layer.columns is not None:
        return _given_columns(layer, X.shape[1])
    rows = X if sample_weight is None else X[np.asarray(sample_weight) > 0]
    s = np.sort(rows, axis=0)
    n_distinct = np.count_nonzero(s[1:] != s[:-1], axis=0) + (len(s) > 0)
    return np.flatnonzero(n_distinct > 2)


def _columns(layer, n_in, state):
    if state is not None and "columns" in state:
        return state["columns"]
    if layer.columns is None:
        raise ValueError(
            f"{layer!r} chooses its columns from the training data: pass the state "
            "that fit_state returns."
        )
    return _given_columns(layer, n_in)


def _others(n_in, cols):
    keep = np.ones(n_in, dtype=bool)
    keep[cols] = False
    return np.flatnonzero(keep)


@register_layer("periodic_embedding")
class PeriodicEmbedding(Layer):
    """Periodic embeddings of numerical features (PLR), Gorishniy et al. (2022).

    Each embedded feature ``x`` becomes ``relu(linear([cos(2 pi c x),
    sin(2 pi c x)]))`` of width ``d_embedding``, with ``n_frequencies``
    trained frequencies ``c`` per feature, drawn at initialisation from a
    normal distribution of standard deviation ``frequency_scale``
    (truncated at three standard deviations), and a linear map of its own per
    feature (shared by all features when ``lite``), from "On Embeddings for
    Numerical Features in Tabular Deep Learning" (NeurIPS 2022). The linear
    maps start uniform in ``±1 / sqrt(2 * n_frequencies)``, as in the
    authors' package.

    The output holds the embeddings, feature after feature, then the
    columns that pass through: ``n_embedded * d_embedding + n_other``
    columns. L2 covers the linear maps' weights, not the frequencies.

    Parameters
    ----------
    n_frequencies : int, default=48
        Frequencies per feature.
    frequency_scale : float, default=0.01
        Standard deviation of the initial frequencies; the most important
        hyperparameter of this embedding (it depends on the scale of the
        features, which should be standardised).
    d_embedding : int, default=24
        Width of each feature's embedding.
    lite : bool, default=False
        Share one linear map between the features.
    columns : sequence of int or str, boolean mask or None, default=None
        Input columns to embed; the others pass through unchanged. None
        embeds every column with more than two distinct values in the
        training data (binary and constant columns, e.g. one-hot encoded
        categories, pass through). Column names (str) are accepted when the
        layer is an estimator's embedding and the estimator is fitted on a
        DataFrame: the estimator maps them to positions in ``X``'s columns
        (``feature_names_in_``) once, at fit, and its fitted layer
        (``layers_[0]``) holds the positions, so it also predicts on an
        array of the same columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.layers import PeriodicEmbedding
    >>> X = np.array([[0.5, 1.0], [1.5, 0.0], [2.5, 1.0]])
    >>> layer = PeriodicEmbedding(n_frequencies=4, d_embedding=3)
    >>> state = layer.fit_state(X)  # column 1 is binary: it passes through
    >>> state["columns"], layer.output_width(2, state)
    (array([0]), 4)
    """

    l2 = ("weight",)
    column_params = ("columns",)
    _param_checks = {
        "n_frequencies": {"low": 1, "integer": True},
        "frequency_scale": {"low": 0, "low_open": True},
        "d_embedding": {"low": 1, "integer": True},
        "lite": "bool",
    }

    def __init__(
        self,
        n_frequencies=48,
        frequency_scale=0.01,
        d_embedding=24,
        lite=False,
        columns=None,
    ):
        self.n_frequencies = n_frequencies
        self.frequency_scale = frequency_scale
        self.d_embedding = d_embedding
        self.lite = lite
        self.columns = columns

    def output_width(self, n_in, state=None):
        f = len(_columns(self, n_in, state))
        return n_in - f + f * self.d_embedding

    def param_shapes(self, n_in, state=None):
        f = len(_columns(self, n_in, state))
        k2, d = 2 * self.n_frequencies, self.d_embedding
        return {
            "weight": (k2, d) if self.lite else (f, k2, d),
            "frequencies": (f, self.n_frequencies),
            "bias": (d,) if self.lite else (f, d),
        }

    def initialize(self, params, n_in, rng, initializer):
        c = params["frequencies"]
        sigma = float(self.frequency_scale)
        c[...] = stats.truncnorm.rvs(-3, 3, scale=sigma, size=c.shape, random_state=rng)
        bound = 1 / math.sqrt(2 * self.n_frequencies)
        for name in ("weight", "bias"):
            p = params[name]
            p[...] = rng.uniform(-bound, bound, p.shape)

    def fit_state(self, X, sample_weight=None):
        return {"columns": _fit_columns(self, X, sample_weight)}

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        _require_dense(self, X)
        n, n_in = X.shape
        cols = state["columns"]
        f, k, d = len(cols), self.n_frequencies, self.d_embedding
        c, W = params["frequencies"], params["weight"]
        # Feature-major: (f, n, .) arrays make the per-feature linear maps one
        # batched matrix product.
        xe = np.take(X, cols, axis=1).T
        v = (2 * math.pi) * c[:, None, :] * xe[:, :, None]
        periodic = np.empty((f, n, 2 * k), X.dtype)
        np.cos(v, out=periodic[..., :k])
        np.sin(v, out=periodic[..., k:])
        if self.lite:
            z = (periodic.reshape(f * n, 2 * k) @ W).reshape(f, n, d)
            z += params["bias"]
        else:
            z = np.matmul(periodic, W)
            z += params["bias"][:, None, :]
        out = np.empty((n, n_in - f + f * d), X.dtype)
        emb = out[:, : f * d].reshape(n, f, d)
        np.maximum(z.transpose(1, 0, 2), 0, out=emb)
        out[:, f * d :] = np.take(X, _others(n_in, cols), axis=1)
        return out, (xe, periodic, emb)

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        xe, periodic, emb = cache
        cols = state["columns"]
        (f, n), k, d = xe.shape, self.n_frequencies, self.d_embedding
        c, W = params["frequencies"], params["weight"]
        dz = np.empty((f, n, d), d_out.dtype)
        d_emb = d_out[:, : f * d].reshape(n, f, d).transpose(1, 0, 2)
        np.multiply(d_emb, emb.transpose(1, 0, 2) > 0, out=dz)
        if self.lite:
            flat = periodic.reshape(f * n, 2 * k)
            np.matmul(flat.T, dz.reshape(f * n, d), out=grads["weight"])
            np.add.reduce(dz.reshape(f * n, d), axis=0, out=grads["bias"])
            dp = (dz.reshape(f * n, d) @ W.T).reshape(f, n, 2 * k)
        else:
            np.matmul(periodic.transpose(0, 2, 1), dz, out=grads["weight"])
            np.add.reduce(dz, axis=1, out=grads["bias"])
            # A contiguous W.T (small) is twice as fast in the batched product.
            dp = np.matmul(dz, np.ascontiguousarray(W.transpose(0, 2, 1)))
        # d/dv [cos v, sin v] = [-sin v, cos v]
        dv = dp[..., k:] * periodic[..., :k]
        dv -= dp[..., :k] * periodic[..., k:]
        dv *= 2 * math.pi
        grads["frequencies"][...] = np.einsum("fn,fnk->fk", xe, dv)
        if not need_input_grad:
            return None
        d_in = np.empty((n, xe.shape[0] + d_out.shape[1] - f * d), d_out.dtype)
        d_in[:, cols] = np.einsum("fnk,fk->nf", dv, c)
        d_in[:, _others(d_in.shape[1], cols)] = d_out[:, f * d :]
        return d_in


def _weighted_quantiles(X, levels, sample_weight):
    """Inverted-CDF quantiles of each column of ``X``, shape ``(len(levels), n_cols)``.

    The quantile at level ``q`` is the smallest value whose cumulative weight
    reaches ``q`` of the total (NumPy's ``method="inverted_cdf"``): always a
    data value, and a weight of ``k`` counts as ``k`` repeated rows; rows of
    zero weight are left out.
    """
    if sample_weight is not None:
        w = np.asarray(sample_weight, dtype=np.float64)
        X, w = X[w > 0], w[w > 0]
    else:
        w = np.ones(len(X))
    order = np.argsort(X, axis=0, kind="stable")
    values = np.take_along_axis(X, order, axis=0)
    cumulative = np.cumsum(w[order], axis=0)
    targets = levels * cumulative[-1:].T  # (n_cols, n_levels)
    idx = np.array(
        [np.searchsorted(c, t) for c, t in zip(cumulative.T, targets)], dtype=np.int64
    ).reshape(X.shape[1], len(levels))
    idx = np.minimum(idx, len(X) - 1)
    return np.take_along_axis(values, idx.T, axis=0)


@register_layer("piecewise_linear_encoding")
class PiecewiseLinearEncoding(Layer):
    """Piecewise-linear encoding of numerical features (PLE), Gorishniy et al. (2022).

    Each embedded feature is split into ``n_bins`` bins at (weighted)
    quantiles of the training data, and ``x`` in bin ``t`` (of ``T``)
    becomes ``[1, ..., 1, (x - left_t) / width_t, 0, ..., 0]``: one column
    per bin, clipped to [0, 1] except below the first bin and above the
    last, where it extends linearly. Quantiles that coincide (discrete
    features) merge their bins; a constant column is encoded as ``x - c``.
    No trained parameters: the encoding needs no feature scaling and is
    robust to outliers.

    The output keeps the input's column order, each embedded column replaced
    by its encoding.

    Parameters
    ----------
    n_bins : int, default=48
        Most bins per feature.
    columns : sequence of int or str, boolean mask or None, default=None
        Input columns to embed; the others pass through unchanged. None
        embeds every column with more than two distinct values in the
        training data (binary and constant columns, e.g. one-hot encoded
        categories, pass through). Column names (str) are accepted when the
        layer is an estimator's embedding and the estimator is fitted on a
        DataFrame: the estimator maps them to positions in ``X``'s columns
        (``feature_names_in_``) once, at fit, and its fitted layer
        (``layers_[0]``) holds the positions, so it also predicts on an
        array of the same columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.layers import PiecewiseLinearEncoding
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0], [4.0]])
    >>> layer = PiecewiseLinearEncoding(n_bins=2)
    >>> state = layer.fit_state(X)
    >>> state["edges"]
    array([0., 2., 4.])
    >>> out, _ = layer.forward({}, state, np.array([[1.0], [3.0], [5.0]]),
    ...                        training=False)
    >>> out
    array([[0.5, 0. ],
           [1. , 0.5],
           [1. , 1.5]])
    """

    column_params = ("columns",)
    state_params = ("n_bins",)
    _param_checks = {"n_bins": {"low": 1, "integer": True}}

    def __init__(self, n_bins=48, columns=None):
        self.n_bins = n_bins
        self.columns = columns

    def output_width(self, n_in, state=None):
        if state is None:
            raise ValueError(
                f"{self!r} chooses its bins from the training data: pass the state "
                "that fit_state returns."
            )
        return n_in - len(state["columns"]) + int(state["n_bins"].sum())

    def fit_state(self, X, sample_weight=None):
        cols = _fit_columns(self, X, sample_weight)
        levels = np.linspace(0, 1, self.n_bins + 1)
        q = _weighted_quantiles(np.take(X, cols, axis=1), levels, sample_weight)
        keep = np.ones(q.shape, dtype=bool)
        keep[1:] = q[1:] > q[:-1]
        constant = keep.sum(axis=0) == 1
        q[-1, constant] = q[0, constant] + 1
        keep[-1, constant] = True
        return {
            "columns": cols,
            "n_bins": keep.sum(axis=0).astype(np.int64) - 1,
            "edges": q.T[keep.T],
        }

    def _tables(self, state, n_in, dtype):
        """Per output column: input column, scale, offset, lower and upper bound."""
        cols, n_bins, edges = state["columns"], state["n_bins"], state["edges"]
        block = np.ones(n_in, dtype=np.int64)
        block[cols] = n_bins
        source = np.repeat(np.arange(n_in), block)
        pos = np.arange(len(source)) - np.repeat(np.cumsum(block) - block, block)
        first_edge = np.zeros(n_in, dtype=np.int64)
        first_edge[cols] = np.cumsum(n_bins + 1) - (n_bins + 1)
        embedded = np.zeros(n_in, dtype=bool)
        embedded[cols] = True
        embedded = embedded[source]
        idx = first_edge[source][embedded] + pos[embedded]
        left, width = np.zeros(len(source), dtype), np.ones(len(source), dtype)
        left[embedded] = edges[idx]
        width[embedded] = edges[idx + 1] - edges[idx]
        scale = 1 / width
        low = np.where(embedded & (pos > 0), 0, -np.inf).astype(dtype)
        high = np.where(embedded & (pos < block[source] - 1), 1, np.inf).astype(dtype)
        return source, scale, -left * scale, low, high, block

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        _require_dense(self, X)
        source, scale, offset, low, high, block = self._tables(
            state, X.shape[1], X.dtype
        )
        out = np.take(X, source, axis=1)
        out *= scale
        out += offset
        np.clip(out, low, high, out=out)
        return out, (out, scale, low, high, block)

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        if not need_input_grad:
            return None
        out, scale, low, high, block = cache
        d_out *= (out > low) & (out < high)
        d_out *= scale
        starts = np.cumsum(block) - block
        return np.add.reduceat(d_out, starts, axis=1)
