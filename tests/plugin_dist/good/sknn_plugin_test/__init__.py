"""A tiny sknn plugin used by sknn's tests: one activation, one loss, one layer."""

import math

import numpy as np
from scipy import special

from sknn.activations import Activation
from sknn.layers import Layer
from sknn.losses import Loss

__all__ = ["Swish", "LogCosh", "ScaleShift"]


class Swish(Activation):
    """``f(z) = z * sigmoid(beta * z)``.

    Parameters
    ----------
    beta : float, default=1.0
        Slope of the gate.
    """

    uses_input = True

    def __init__(self, beta=1.0):
        self.beta = beta

    def forward(self, z, out=None):
        gate = special.expit(self.beta * z)
        return np.multiply(z, gate, out=out)

    def backward(self, grad, a, z=None):
        # d/dz z s(bz) = s + b z s (1 - s) = s + b a (1 - s)
        gate = special.expit(self.beta * z)
        grad *= gate + self.beta * a * (1 - gate)
        return grad


class LogCosh(Loss):
    """``log(cosh(raw - y))`` with the identity link, computed without overflow."""

    def loss(self, y, raw):
        r = np.abs(raw - y)
        return (r + np.log1p(np.exp(-2 * r)) - math.log(2)).sum(axis=1)

    def gradient(self, y, raw, out=None):
        r = np.subtract(raw, y, out=out)
        return np.tanh(r, out=r)


class ScaleShift(Layer):
    """``out = X * scale + shift``, one scale and shift per column.

    Parameters
    ----------
    init_scale : float, default=1.0
        Initial value of every scale.
    """

    l2 = ("scale",)

    def __init__(self, init_scale=1.0):
        self.init_scale = init_scale

    def param_shapes(self, n_in, state=None):
        return {"scale": (n_in,), "shift": (n_in,)}

    def initialize(self, params, n_in, rng, initializer):
        params["scale"][...] = self.init_scale
        params["shift"][...] = rng.uniform(-0.1, 0.1, n_in)

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        out = X * params["scale"]
        out += params["shift"]
        return out, X

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        grads["scale"][...] = np.einsum("ij,ij->j", d_out, cache)
        np.add.reduce(d_out, axis=0, out=grads["shift"])
        if not need_input_grad:
            return None
        d_out *= params["scale"]
        return d_out
