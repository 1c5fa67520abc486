"""The NumPy engine: a dense MLP over one flat parameter vector.

Every weight matrix and bias vector is a reshaped view into one flat vector
``params`` (all weights first, layer by layer, then all biases), and the
gradient lives in a twin flat vector ``grad`` with the same layout. An
optimizer step is then a few vectorised operations whatever the depth, and
L-BFGS works on the vector directly. Weights are ``(fan_in, fan_out)``, so a
layer computes ``z = a @ W + b``.

The objective of a batch is the (sample-weighted) mean of the per-sample loss
plus ``alpha * ||W||^2 / (2 * sum(weights))``, as in scikit-learn's MLP.

Training buffers are allocated once per batch size and reused with ``out=``.
Input may be a dense array or a scipy sparse matrix (CSR/CSC); only the first
layer's products touch it, so it is never densified. Everything runs in the
dtype of the parameters; float32 stays float32.

This module imports NumPy only (and :mod:`sknn._kernels`, whose compiled
loops are optional).
"""

import numpy as np

from ._kernels import add_scaled

__all__ = ["Layout", "Network", "forward", "take_rows"]


class Layout:
    """Shapes and offsets of the parameters of an MLP.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input and output included, e.g. ``(64, 100, 10)``.
    """

    def __init__(self, layer_sizes):
        self.sizes = tuple(int(s) for s in layer_sizes)
        self.coef_shapes = list(zip(self.sizes[:-1], self.sizes[1:]))
        self.n_coef = sum(i * o for i, o in self.coef_shapes)
        self.n_params = self.n_coef + sum(self.sizes[1:])

    def unpack(self, flat):
        """Views of ``flat`` as ``(coefs, intercepts)`` lists."""
        coefs, intercepts = [], []
        start, bias_start = 0, self.n_coef
        for fan_in, fan_out in self.coef_shapes:
            coefs.append(
                flat[start : start + fan_in * fan_out].reshape(fan_in, fan_out)
            )
            intercepts.append(flat[bias_start : bias_start + fan_out])
            start += fan_in * fan_out
            bias_start += fan_out
        return coefs, intercepts

    def pack(self, coefs, intercepts, dtype):
        """A new flat vector holding copies of ``coefs`` and ``intercepts``."""
        flat = np.empty(self.n_params, dtype=dtype)
        for view, value in zip(
            sum(self.unpack(flat), []), list(coefs) + list(intercepts)
        ):
            view[...] = value
        return flat

    def flat_of(self, coefs, intercepts):
        """The flat vector that ``coefs`` and ``intercepts`` are views of, or None.

        None when any array is not the view :meth:`unpack` would give, e.g.
        after unpickling or after the user assigned new arrays.
        """
        flat = coefs[0].base if len(coefs) else None
        if (
            not isinstance(flat, np.ndarray)
            or flat.ndim != 1
            or flat.shape[0] != self.n_params
        ):
            return None
        expected = sum(self.unpack(flat), [])
        actual = list(coefs) + list(intercepts)
        if len(actual) != len(expected):
            return None
        for a, e in zip(actual, expected):
            if a.base is not flat or a.shape != e.shape or _address(a) != _address(e):
                return None
        return flat


def _address(a):
    return a.__array_interface__["data"][0]


def take_rows(X, idx, out=None):
    """Rows ``idx`` of ``X`` (dense: gathered into ``out``; sparse: a new matrix).

    ``idx`` must hold valid row numbers: dense gathering does not check them
    (``mode="clip"``, which also spares NumPy a buffered copy).
    """
    if isinstance(X, np.ndarray):
        return np.take(X, idx, axis=0, out=out, mode="clip")
    return X[idx]


# Rows per block of the prediction path: large enough for full-speed matrix
# products, small enough that a block's hidden activations stay in cache.
_PREDICT_BLOCK = 2048


def forward(X, coefs, intercepts, activation, block=_PREDICT_BLOCK):
    """Raw outputs of the network for ``X`` (the lean prediction path).

    Inputs of at most ``block`` rows (and sparse inputs) go straight through
    the layers. Larger dense inputs go through in blocks of ``block`` rows,
    reusing one buffer per hidden layer, so that no activation of the whole
    input is ever allocated and each block's activations stay in cache.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    coefs, intercepts : lists of ndarray
        Weights ``(fan_in, fan_out)`` and biases ``(fan_out,)`` per layer.
    activation : Activation
        The hidden activation.
    block : int, default=2048
        Rows per block for large dense inputs.

    Returns
    -------
    raw : ndarray of shape (n_samples, n_outputs)
        Outputs before the loss's inverse link.
    """
    last = len(coefs) - 1
    n = X.shape[0]
    if n <= block or not isinstance(X, np.ndarray):
        a = X
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            a = _affine_activation(a @ W, b, activation, i < last)
        return a
    dtypes, dtype = [], X.dtype
    for W, b in zip(coefs, intercepts):
        dtype = np.result_type(dtype, W.dtype, b.dtype)
        dtypes.append(dtype)
    hidden = [np.empty((block, W.shape[1]), dt) for W, dt in zip(coefs, dtypes[:last])]
    out = np.empty((n, coefs[-1].shape[1]), dtypes[-1])
    for start in range(0, n, block):
        stop = min(start + block, n)
        a = X[start:stop]
        for i, (W, b) in enumerate(zip(coefs, intercepts)):
            z = out[start:stop] if i == last else hidden[i][: stop - start]
            a = _affine_activation(np.matmul(a, W, out=z), b, activation, i < last)
    return out


def _affine_activation(z, b, activation, hidden):
    """``activation(z + b)`` for a hidden layer, ``z + b`` for the output, in place."""
    if hidden:
        return activation.forward_biased(z, b, out=z)
    z += b
    return z


class _Buffers:
    """Activation and delta buffers for one batch size."""

    def __init__(self, n, sizes, dtype, keep_z, dropout):
        hidden = sizes[1:-1]
        # z[i]: layer i's pre-activation (the activation in place unless keep_z)
        self.z = [np.empty((n, s), dtype) for s in sizes[1:]]
        self.a = [np.empty((n, s), dtype) for s in hidden] if keep_z else self.z[:-1]
        self.delta = [np.empty((n, s), dtype) for s in sizes[1:]]
        self.mask = [np.empty((n, s), dtype) for s in hidden] if dropout else None
        self.dropped = [np.empty((n, s), dtype) for s in hidden] if dropout else None
        self.x = None


class Network:
    """Forward and backward passes of an MLP bound to a flat parameter vector.

    Parameters
    ----------
    layout : Layout
        Layer sizes.
    params : ndarray of shape (layout.n_params,)
        The flat parameter vector (not copied: the network reads it live).
    activation : Activation
        Hidden activation.
    loss : Loss
        Loss on raw outputs.
    alpha : float, default=0.0
        L2 strength.
    dropout : float, default=0.0
        Probability of dropping each hidden unit while training (inverted
        dropout: kept units are scaled by ``1 / (1 - dropout)``).

    Attributes
    ----------
    coefs, intercepts : lists of ndarray
        Views of ``params``.
    grad : ndarray of shape (layout.n_params,)
        The gradient written by :meth:`loss_grad`.
    grad_coefs, grad_intercepts : lists of ndarray
        Views of ``grad``.
    l2 : tuple (n, scale) or None
        The last batch's L2 term: its gradient is ``scale * params[:n]``.
        None when ``alpha`` is 0.
    """

    def __init__(self, layout, params, activation, loss, alpha=0.0, dropout=0.0):
        self.layout = layout
        self.params = params
        self.activation = activation
        self.loss = loss
        self.alpha = alpha
        self.dropout = dropout
        self.dtype = params.dtype
        self.coefs, self.intercepts = layout.unpack(params)
        self.grad = np.zeros_like(params)
        self.grad_coefs, self.grad_intercepts = layout.unpack(self.grad)
        self._buffers = {}
        self._l2_scratch = None
        self.l2 = None

    def forward(self, X, params=None):
        """Raw outputs for ``X`` with the current weights, or with ``params``."""
        if params is None:
            coefs, intercepts = self.coefs, self.intercepts
        else:
            coefs, intercepts = self.layout.unpack(params)
        return forward(X, coefs, intercepts, self.activation)

    def buffers(self, n):
        """The (cached) buffers for a batch of ``n`` rows."""
        buf = self._buffers.get(n)
        if buf is None:
            keep_z = self.activation.uses_input or self.dropout > 0
            buf = _Buffers(n, self.layout.sizes, self.dtype, keep_z, self.dropout > 0)
            self._buffers[n] = buf
        return buf

    def gather(self, X, idx):
        """Rows ``idx`` of ``X``, gathered into a reused buffer when dense.

        ``idx`` must hold valid row numbers (see :func:`take_rows`); the
        returned array is overwritten by the next gather of the same size.
        """
        if not isinstance(X, np.ndarray):
            return X[idx]
        buf = self.buffers(len(idx))
        if buf.x is None or buf.x.shape[1] != X.shape[1] or buf.x.dtype != X.dtype:
            buf.x = np.empty((len(idx), X.shape[1]), X.dtype)
        return np.take(X, idx, axis=0, out=buf.x, mode="clip")

    def loss_grad(self, X, Y, sample_weight=None, rng=None, add_l2=True):
        """Objective on one batch; its gradient is written into ``self.grad``.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n, n_features)
        Y : ndarray of shape (n, n_outputs)
            Targets in the loss's encoding, same dtype as the parameters.
        sample_weight : ndarray of shape (n,) or None
        rng : numpy.random.RandomState or None
            Draws the dropout masks; needed when ``dropout > 0``.
        add_l2 : bool, default=True
            Whether ``self.grad`` includes the L2 term. When False it is left
            out (the objective still includes it), and :attr:`l2` says what
            it is, for an optimizer that adds it in its own pass.

        Returns
        -------
        objective : float
        """
        n = X.shape[0]
        buf = self._buffers.get(n) or self.buffers(n)
        act, coefs, last = self.activation, self.coefs, len(self.coefs) - 1
        dense = isinstance(X, np.ndarray)
        z_bufs, a_bufs, d_bufs = buf.z, buf.a, buf.delta

        # Forward: inputs[i] is what layer i multiplies.
        inputs = [X]
        for i, b in enumerate(self.intercepts):
            z = z_bufs[i]
            if i or dense:
                np.matmul(inputs[i], coefs[i], out=z)
            else:
                z[...] = X @ coefs[i]
            if i == last:
                z += b
                break
            a = act.forward_biased(z, b, out=a_bufs[i])
            if self.dropout:
                keep = rng.random_sample(a.shape) >= self.dropout
                np.multiply(keep, 1 / (1 - self.dropout), out=buf.mask[i])
                a = np.multiply(a, buf.mask[i], out=buf.dropped[i])
            inputs.append(a)

        # Output delta (the loss's fused gradient), averaged over the batch.
        per_sample, delta = self.loss.loss_gradient(Y, z_bufs[last], out=d_bufs[last])
        if sample_weight is None:
            weight_sum = n
            objective = float(per_sample.sum()) / n
            delta *= 1 / n
        else:
            weight_sum = float(sample_weight.sum())
            if weight_sum <= 0:
                self.grad[:] = 0
                self.l2 = None
                return 0.0
            objective = float(sample_weight @ per_sample) / weight_sum
            delta *= (sample_weight / weight_sum)[:, None]
        coef_part = self.params[: self.layout.n_coef]
        if self.alpha:
            objective += 0.5 * self.alpha * float(coef_part @ coef_part) / weight_sum

        # Backward.
        # A hidden layer's bias gradient (the column sums of its delta) is
        # written by the activation's backward pass, with the delta.
        grad_coefs, grad_intercepts = self.grad_coefs, self.grad_intercepts
        np.add.reduce(delta, axis=0, out=grad_intercepts[last])
        for i in range(last, -1, -1):
            if i or dense:
                np.matmul(inputs[i].T, delta, out=grad_coefs[i])
            else:
                grad_coefs[i][...] = X.T @ delta
            if i == 0:
                break
            if delta.shape[1] == 1:
                # An outer product: BLAS runs a one-column GEMM ~5x slower
                # than this broadcast multiply, which gives the same numbers.
                prev = np.multiply(delta, coefs[i].T, out=d_bufs[i - 1])
            else:
                prev = np.matmul(delta, coefs[i].T, out=d_bufs[i - 1])
            if self.dropout:
                prev *= buf.mask[i - 1]
            act.backward_summed(
                prev,
                a_bufs[i - 1],
                z_bufs[i - 1] if act.uses_input else None,
                grad_intercepts[i - 1],
            )
            delta = prev
        # The L2 term's gradient: (alpha / weight_sum) * W.
        self.l2 = (self.layout.n_coef, self.alpha / weight_sum) if self.alpha else None
        if self.l2 and add_l2:
            if self._l2_scratch is None:
                self._l2_scratch = np.empty_like(coef_part)
            add_scaled(
                self.grad[: self.layout.n_coef], coef_part, self.l2[1], self._l2_scratch
            )
        return objective
