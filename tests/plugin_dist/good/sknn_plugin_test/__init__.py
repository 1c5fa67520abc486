"""A tiny sknn plugin used by sknn's tests: one activation and one loss."""

import math

import numpy as np
from scipy import special

from sknn.activations import Activation
from sknn.losses import Loss

__all__ = ["Swish", "LogCosh"]


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
