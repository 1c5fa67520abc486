"""A network over a sequence of layers, bound to one flat parameter vector.

The layers (:mod:`sknn.layers`) are configuration: each declares the shapes
of its parameters, which of them the L2 term covers, its forward and
backward passes and any fitted non-trained state. :class:`LayerLayout` gives
every parameter a segment of one flat vector, :class:`Network` runs the
passes over it, and the loss acts on the last layer's (raw) output with its
fused gradient, as in :mod:`sknn._engine`.

The segments the L2 term covers come first in the flat vector, layer by
layer, then every other segment: the L2 term is then ``params[:n_l2]``, the
``(n, scale)`` pair the optimizers that add it themselves take (``takes_l2``),
and a stack of dense layers has exactly :class:`sknn._engine.Layout`'s
layout (all weights, then all biases).

The objective of a batch is the (sample-weighted) mean of the per-sample loss
plus ``alpha * ||params[:n_l2]||^2 / (2 * sum(weights))``, the engine's.
Everything runs in the dtype of the parameters; float32 stays float32.

This module imports NumPy, :mod:`sknn._kernels` and the :class:`Layer` base.
"""

import numpy as np

from ._kernels import add_scaled
from .layers import Layer

__all__ = ["LayerLayout", "Network", "build", "forward"]

# Rows per block of the prediction path (see sknn._engine.forward).
_PREDICT_BLOCK = 2048


class LayerLayout:
    """Widths, parameter shapes and flat offsets of a sequence of layers.

    Parameters
    ----------
    layers : sequence of Layer
        The layers, input to output; the last one's output is the raw output.
    n_features : int
        Width of the input.
    state : list of dict
        Each layer's fitted state (shapes may depend on it, e.g. the columns
        an embedding applies to).

    Attributes
    ----------
    widths : list of int
        Input width of each layer, then the output width.
    shapes : list of dict
        Per layer, parameter name -> shape.
    n_members : int
        Number of ensemble members in the last layer's output (1: none).
    n_outputs : int
        Width of the network's raw output: the last layer's, divided by
        ``n_members`` (the members' outputs are averaged).
    n_l2 : int
        Number of leading entries of the flat vector the L2 term covers.
    n_params : int
        Length of the flat vector.

    Examples
    --------
    >>> from sknn._network import LayerLayout
    >>> from sknn.layers import Dense
    >>> layout = LayerLayout([Dense(3), Dense(1, activation="identity")], 2, [{}, {}])
    >>> layout.widths, layout.n_l2, layout.n_params
    ([2, 3, 1], 9, 13)
    """

    def __init__(self, layers, n_features, state):
        self.layers = list(layers)
        if len(state) != len(self.layers):
            raise ValueError(
                f"state must hold one dict per layer ({len(self.layers)}); got "
                f"{len(state)}."
            )
        self.widths = [int(n_features)]
        self.shapes = []
        for layer, s in zip(self.layers, state):
            n_in = self.widths[-1]
            shapes = {
                k: tuple(int(d) for d in shape)
                for k, shape in layer.param_shapes(n_in, s).items()
            }
            unknown = set(layer.l2) - set(shapes)
            if unknown:
                raise ValueError(
                    f"{layer!r} declares l2={tuple(layer.l2)!r} but has no parameter "
                    f"named {sorted(unknown)}; its parameters are {list(shapes)}."
                )
            self.shapes.append(shapes)
            self.widths.append(int(layer.output_width(n_in, s)))
        self.n_members = _members(self.layers)
        if self.widths[-1] % self.n_members:
            raise ValueError(
                f"The last layer, {self.layers[-1]!r}, has {self.n_members} members "
                f"but {self.widths[-1]} outputs, not a multiple of them."
            )
        self.n_outputs = self.widths[-1] // self.n_members
        # The segments the L2 term covers first, layer by layer, then the others.
        order = [
            (i, k, shape)
            for covered in (True, False)
            for i, (layer, shapes) in enumerate(zip(self.layers, self.shapes))
            for k, shape in shapes.items()
            if (k in layer.l2) == covered
        ]
        self._segments, start, self.n_l2 = [], 0, 0
        for i, k, shape in order:
            stop = start + int(np.prod(shape, dtype=np.int64))
            self._segments.append((i, k, shape, start, stop))
            if k in self.layers[i].l2:
                self.n_l2 = stop
            start = stop
        self.n_params = start

    def unpack(self, flat):
        """Per layer, a dict name -> view of ``flat`` (in the layer's order)."""
        views = [dict.fromkeys(shapes) for shapes in self.shapes]
        for i, k, shape, start, stop in self._segments:
            views[i][k] = flat[start:stop].reshape(shape)
        return views


def _has_state(layer):
    return type(layer).fit_state is not Layer.fit_state


def build(layers, X, sample_weight, rng, initializer):
    """Fitted state, layout and initial parameters of a network for ``X``.

    Layer by layer: the layer's state is fitted on its input (``X`` for the
    first layer, then the previous layers' prediction-mode output), its
    shapes follow, and its parameters are initialized from ``rng`` (in
    layer order, as the engine does). Layers after the last one with a
    fitted state see no data, so no forward pass is spent on them.

    Parameters
    ----------
    layers : sequence of Layer
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        The training input; the parameters take its dtype.
    sample_weight : ndarray of shape (n_samples,) or None
        Weights of the layers' fitted statistics.
    rng : numpy.random.RandomState
    initializer : Initializer or None
        Passed to each layer's ``initialize``.

    Returns
    -------
    layout : LayerLayout
    params : ndarray of shape (layout.n_params,)
    state : list of dict
    """
    layers = list(layers)
    if not isinstance(X, np.ndarray) and layers and not layers[0].accepts_sparse:
        raise TypeError(
            f"{layers[0]!r} does not take sparse input: only a first Dense layer "
            "does. Densify X (X.toarray()) or start the network with a Dense layer."
        )
    last = max((i for i, layer in enumerate(layers) if _has_state(layer)), default=-1)
    state, values, a, n_in = [], [], X, X.shape[1]
    for i, layer in enumerate(layers):
        s = dict(layer.fit_state(a, sample_weight) or {}) if i <= last else {}
        shapes = layer.param_shapes(n_in, s)
        p = {k: np.empty(shape, X.dtype) for k, shape in shapes.items()}
        layer.initialize(p, n_in, rng, initializer)
        if i < last:
            a = _forward_block(layers[i : i + 1], [p], [s], a)
        state.append(s)
        values.append(p)
        n_in = layer.output_width(n_in, s)
    layout = LayerLayout(layers, X.shape[1], state)
    params = np.empty(layout.n_params, X.dtype)
    for views, p in zip(layout.unpack(params), values):
        for k, view in views.items():
            view[...] = p[k]
    return layout, params, state


def _forward_block(layers, params, state, X):
    a = X
    for layer, p, s in zip(layers, params, state):
        a, _ = layer.forward(p, s, a, training=False)
    return a


def _members(layers):
    """Number of ensemble members in the raw output (the last layer's)."""
    return int(layers[-1].n_members) if layers else 1


def _combine(raw, k):
    """The ensemble's raw output: the mean of its ``k`` members' raw outputs."""
    if k == 1:
        return raw
    return raw.reshape(raw.shape[0], k, -1).mean(axis=1)


def forward(layers, layer_params, state, X, block=_PREDICT_BLOCK):
    """Raw outputs of ``layers`` for ``X`` in prediction mode.

    ``layer_params`` and ``state`` hold each layer's parameter views and
    fitted state. Dense inputs of more than ``block`` rows go through in
    blocks, so no hidden activation of the whole input is allocated.
    """
    n, k = X.shape[0], _members(layers)
    if n <= block or not isinstance(X, np.ndarray):
        return _combine(_forward_block(layers, layer_params, state, X), k)
    out = None
    for start in range(0, n, block):
        stop = min(start + block, n)
        part = _combine(_forward_block(layers, layer_params, state, X[start:stop]), k)
        if out is None:
            out = np.empty((n, part.shape[1]), part.dtype)
        out[start:stop] = part
    return out


class Network:
    """Forward and backward passes of a sequence of layers over a flat vector.

    Has the surface the training loop uses on :class:`sknn._engine.Network`:
    ``params``, ``grad``, :meth:`loss_grad`, ``l2``, :meth:`gather`, and
    :meth:`forward`, the prediction-mode pass.

    Parameters
    ----------
    layout : LayerLayout
        The layers and their segments.
    params : ndarray of shape (layout.n_params,)
        The flat parameter vector (not copied: the network reads it live).
    state : list of dict
        Each layer's fitted state (see :func:`build`), not copied: training
        passes update it in place (running statistics).
    loss : Loss
        Loss on the raw outputs (the last layer's output).
    alpha : float, default=0.0
        L2 strength (of each member, for an ensemble: the L2 term is the
        mean over members, as the loss is).

    Attributes
    ----------
    layer_params, layer_grads : list of dict
        Each layer's views of ``params`` and ``grad``.
    grad : ndarray of shape (layout.n_params,)
        The gradient written by :meth:`loss_grad`.
    l2 : tuple (n, scale) or None
        The last batch's L2 term: its gradient is ``scale * params[:n]``.
        None when ``alpha`` is 0 or no parameter is covered.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn._network import Network, build
    >>> from sknn.layers import BatchNorm, Dense
    >>> from sknn.losses import SquaredError
    >>> X, Y = np.random.RandomState(0).rand(8, 2), np.ones((8, 1))
    >>> layers = [Dense(4), BatchNorm(), Dense(1, activation="identity")]
    >>> layout, params, state = build(layers, X, None, np.random.RandomState(0), None)
    >>> net = Network(layout, params, state, SquaredError(), alpha=1e-4)
    >>> objective = net.loss_grad(X, Y)  # the gradient is in net.grad
    >>> net.forward(X).shape
    (8, 1)
    """

    def __init__(self, layout, params, state, loss, alpha=0.0):
        if params.shape != (layout.n_params,):
            raise ValueError(
                f"params must have shape ({layout.n_params},); got {params.shape}."
            )
        self.layout = layout
        self.layers = layout.layers
        self.params = params
        self.state = state
        self.loss = loss
        self.alpha = alpha
        self.dtype = params.dtype
        self.layer_params = layout.unpack(params)
        self.members = layout.n_members
        self.grad = np.zeros_like(params)
        self.layer_grads = layout.unpack(self.grad)
        self.l2 = None
        self._delta = {}  # batch size -> output delta buffer
        self._x = {}  # batch size -> gathered rows buffer
        self._l2_scratch = None

    def gather(self, X, idx):
        """Rows ``idx`` of ``X``, gathered into a reused buffer when dense.

        ``idx`` must hold valid row numbers; the returned array is
        overwritten by the next gather of the same size.
        """
        if not isinstance(X, np.ndarray):
            return X[idx]
        n = len(idx)
        buf = self._x.get(n)
        if buf is None or buf.shape[1] != X.shape[1] or buf.dtype != X.dtype:
            buf = self._x[n] = np.empty((n, X.shape[1]), X.dtype)
        return np.take(X, idx, axis=0, out=buf, mode="clip")

    def forward(self, X, params=None, block=_PREDICT_BLOCK):
        """Raw outputs for ``X`` in prediction mode (running statistics).

        With the current parameters, or with the flat vector ``params``.
        Dense inputs of more than ``block`` rows go through in blocks, so no
        hidden activation of the whole input is allocated.
        """
        views = self.layer_params if params is None else self.layout.unpack(params)
        return forward(self.layers, views, self.state, X, block)

    def loss_grad(self, X, Y, sample_weight=None, noise=None, add_l2=True):
        """Objective on one batch (training mode); its gradient goes into ``grad``.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n, n_features)
        Y : ndarray of shape (n, n_outputs)
            Targets in the loss's encoding, same dtype as the parameters.
        sample_weight : ndarray of shape (n,) or None
            Weights of the objective and of the layers' batch statistics.
        noise : object with ``random_sample(shape)`` or None
            Draws the dropout masks (e.g. :class:`sknn._sampling.KeyedUniforms`);
            needed when a layer drops units.
        add_l2 : bool, default=True
            Whether ``grad`` includes the L2 term. When False it is left out
            (the objective still includes it), and :attr:`l2` says what it is,
            for an optimizer that adds it in its own pass.

        Returns
        -------
        objective : float
        """
        n = X.shape[0]
        if sample_weight is None:
            weight_sum = n
        else:
            weight_sum = float(sample_weight.sum())
            if weight_sum <= 0:
                self.grad[:] = 0
                self.l2 = None
                return 0.0

        # Forward, keeping each layer's cache for its backward pass.
        caches, a = [], X
        for layer, p, s in zip(self.layers, self.layer_params, self.state):
            a, cache = layer.forward(
                p, s, a, training=True, sample_weight=sample_weight, noise=noise
            )
            caches.append(cache)

        # Output delta (the loss's fused gradient), averaged over the batch;
        # an ensemble's members each take the loss on their own raw output,
        # and the objective is the mean over members.
        delta = self._delta.get(n)
        if delta is None or delta.shape != a.shape or delta.dtype != a.dtype:
            delta = self._delta[n] = np.empty_like(a)
        k = self.members
        if k == 1:
            per_sample, delta = self.loss.loss_gradient(Y, a, out=delta)
        else:
            rows = a.reshape(n * k, -1)
            per_sample, d = self.loss.loss_gradient(
                np.repeat(Y, k, axis=0), rows, out=delta.reshape(rows.shape)
            )
            per_sample = per_sample.reshape(n, k).mean(axis=1)
            delta = d.reshape(a.shape)
        if sample_weight is None:
            objective = float(per_sample.sum()) / n
            delta *= 1 / (n * k)
        else:
            objective = float(sample_weight @ per_sample) / weight_sum
            delta *= (sample_weight / (weight_sum * k))[:, None]
        n_l2 = self.layout.n_l2
        covered = self.params[:n_l2]
        # The L2 term is the members' mean too: alpha means what it means
        # for one network.
        alpha = self.alpha / k
        if alpha and n_l2:
            objective += 0.5 * alpha * float(covered @ covered) / weight_sum

        # Backward: each layer overwrites its parameter gradients.
        for i in range(len(self.layers) - 1, -1, -1):
            delta = self.layers[i].backward(
                self.layer_params[i],
                self.state[i],
                caches[i],
                delta,
                self.layer_grads[i],
                need_input_grad=i > 0,
            )

        self.l2 = (n_l2, alpha / weight_sum) if alpha and n_l2 else None
        if self.l2 and add_l2:
            if self._l2_scratch is None:
                self._l2_scratch = np.empty_like(covered)
            add_scaled(self.grad[:n_l2], covered, self.l2[1], self._l2_scratch)
        return objective
