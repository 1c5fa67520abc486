"""Weight initializers: fill a layer's weights and biases in place.

Examples
--------
>>> import numpy as np
>>> from sknn.initializers import GlorotUniform
>>> W, b = np.empty((4, 3)), np.empty(3)
>>> GlorotUniform()(W, b, np.random.RandomState(0), "relu")
>>> bool(np.abs(W).max() <= np.sqrt(6 / 7))
True
"""

import numpy as np

from ._base import Component
from ._registry import _make_registry

__all__ = [
    "Initializer",
    "GlorotUniform",
    "GlorotNormal",
    "HeUniform",
    "HeNormal",
    "LecunNormal",
]


class Initializer(Component):
    """Base class of initializers."""

    def __call__(self, coef, intercept, rng, activation):
        """Fill ``coef`` (fan_in, fan_out) and ``intercept`` (fan_out,) in place.

        Parameters
        ----------
        coef : ndarray of shape (fan_in, fan_out)
        intercept : ndarray of shape (fan_out,)
        rng : numpy.random.RandomState
            The estimator's random state for this fit.
        activation : str
            Name of the hidden activation (some schemes depend on it).
        """
        raise NotImplementedError


registry = _make_registry("initializers", Initializer)
register_initializer = registry.register


@register_initializer("glorot_uniform")
class GlorotUniform(Initializer):
    """Glorot uniform with scikit-learn's factor, for weights and biases.

    Both are drawn from ``U(-b, b)``, ``b = sqrt(factor / (fan_in + fan_out))``
    with factor 6, or 2 for the logistic activation; drawn in the same order
    as scikit-learn's MLP, so the same seed gives the same start.
    """

    def __call__(self, coef, intercept, rng, activation):
        factor = 2.0 if activation == "logistic" else 6.0
        bound = np.sqrt(factor / sum(coef.shape))
        coef[...] = rng.uniform(-bound, bound, coef.shape)
        intercept[...] = rng.uniform(-bound, bound, intercept.shape)


class _ZeroBiasInitializer(Initializer):
    def __call__(self, coef, intercept, rng, activation):
        fan_in, fan_out = coef.shape
        coef[...] = self._draw(rng, fan_in, fan_out)
        intercept[...] = 0


@register_initializer("glorot_normal")
class GlorotNormal(_ZeroBiasInitializer):
    """Normal weights with variance ``2 / (fan_in + fan_out)``; zero biases."""

    def _draw(self, rng, fan_in, fan_out):
        return rng.normal(0, np.sqrt(2 / (fan_in + fan_out)), (fan_in, fan_out))


@register_initializer("he_uniform")
class HeUniform(_ZeroBiasInitializer):
    """Uniform weights in ``±sqrt(6 / fan_in)`` (for ReLU); zero biases."""

    def _draw(self, rng, fan_in, fan_out):
        bound = np.sqrt(6 / fan_in)
        return rng.uniform(-bound, bound, (fan_in, fan_out))


@register_initializer("he_normal")
class HeNormal(_ZeroBiasInitializer):
    """Normal weights with variance ``2 / fan_in`` (for ReLU); zero biases."""

    def _draw(self, rng, fan_in, fan_out):
        return rng.normal(0, np.sqrt(2 / fan_in), (fan_in, fan_out))


@register_initializer("lecun_normal")
class LecunNormal(_ZeroBiasInitializer):
    """Normal weights with variance ``1 / fan_in`` (for SELU); zero biases."""

    def _draw(self, rng, fan_in, fan_out):
        return rng.normal(0, np.sqrt(1 / fan_in), (fan_in, fan_out))
