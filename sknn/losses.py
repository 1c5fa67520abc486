"""Losses on raw network outputs; each owns its output link.

Shape contract: ``y`` and ``raw`` have shape ``(n_samples, n_outputs)`` and the
same floating dtype. :meth:`Loss.loss` returns the per-sample loss summed over
outputs, shape ``(n_samples,)``; :meth:`Loss.gradient` returns its derivative
with respect to ``raw``, shape ``(n_samples, n_outputs)``. The estimator
averages over samples (with sample weights) and adds the L2 term.

Examples
--------
>>> import numpy as np
>>> from sknn.losses import LogLoss
>>> raw = np.array([[0.0, 0.0]])
>>> LogLoss().inverse_link(raw)
array([[0.5, 0.5]])
>>> LogLoss().loss(np.array([[1.0, 0.0]]), raw)  # log(2)
array([0.69314718])
"""

import numpy as np
from scipy import special

from ._base import Component
from ._registry import _make_registry
from .links import (
    IdentityLink,
    LogitLink,
    LogLink,
    MultinomialLogit,
    _as_link,
    _softmax,
)

__all__ = [
    "Loss",
    "SquaredError",
    "AbsoluteError",
    "Huber",
    "Poisson",
    "LogLoss",
    "BinaryLogLoss",
]


class Loss(Component):
    """Base class of losses.

    Attributes
    ----------
    link : sknn.links.Link
        The link from raw outputs to predictions; its name is the estimator's
        ``out_activation_``. A subclass may also name a built-in link by its
        name ("identity", "logistic", "softmax" or "exp") or give a
        :class:`~sknn.links.Link` subclass.
    classification : bool
        Whether the loss expects class-indicator targets (classifier) or real
        targets (regressor).
    """

    link = IdentityLink()
    classification = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "link" in vars(cls):
            cls.link = _as_link(cls.link, cls.__qualname__)

    def inverse_link(self, raw, out=None):
        """Map raw outputs to predictions (probabilities for classifiers)."""
        return self.link.inverse(raw, out)

    def loss(self, y, raw):
        """Per-sample loss, summed over outputs: shape ``(n_samples,)``."""
        raise NotImplementedError

    def gradient(self, y, raw, out=None):
        """Derivative of the per-sample loss with respect to ``raw``."""
        raise NotImplementedError

    def loss_gradient(self, y, raw, out=None):
        """Return ``(loss(y, raw), gradient(y, raw))``; override to fuse them."""
        return self.loss(y, raw), self.gradient(y, raw, out=out)

    def check_target(self, y):
        """Raise ``ValueError`` if ``y`` is outside this loss's domain."""


registry = _make_registry("losses", Loss)
register_loss = registry.register


@register_loss("squared_error")
class SquaredError(Loss):
    """Half squared error ``(y - raw)**2 / 2`` with the identity link."""

    def loss(self, y, raw):
        r = raw - y
        return 0.5 * np.einsum("ij,ij->i", r, r)

    def gradient(self, y, raw, out=None):
        return np.subtract(raw, y, out=out)

    def loss_gradient(self, y, raw, out=None):
        r = np.subtract(raw, y, out=out)
        return 0.5 * np.einsum("ij,ij->i", r, r), r


@register_loss("absolute_error")
class AbsoluteError(Loss):
    """Absolute error ``|y - raw|`` with the identity link (median regression)."""

    def loss(self, y, raw):
        return np.abs(raw - y).sum(axis=1)

    def gradient(self, y, raw, out=None):
        return np.sign(np.subtract(raw, y, out=out), out=out)


@register_loss("huber")
class Huber(Loss):
    """Huber loss: quadratic within ``delta`` of the target, linear beyond.

    Parameters
    ----------
    delta : float, default=1.0
        Where the loss turns from quadratic to linear; must be positive.
    """

    _param_checks = {"delta": {"low": 0, "low_open": True}}

    def __init__(self, delta=1.0):
        self.delta = delta

    def loss(self, y, raw):
        r = np.abs(raw - y)
        d = self.delta
        return np.where(r <= d, 0.5 * r * r, d * (r - 0.5 * d)).sum(axis=1)

    def gradient(self, y, raw, out=None):
        r = np.subtract(raw, y, out=out)
        return np.clip(r, -self.delta, self.delta, out=r)


@register_loss("poisson")
class Poisson(Loss):
    """Half Poisson deviance with a log link; targets must be non-negative.

    ``loss = exp(raw) - y * raw + y * log(y) - y``, which is zero at the
    optimum, as in scikit-learn's MLPRegressor(loss="poisson").
    """

    link = LogLink()

    def loss(self, y, raw):
        return (np.exp(raw) - y * raw + special.xlogy(y, y) - y).sum(axis=1)

    def gradient(self, y, raw, out=None):
        out = np.exp(raw, out=out)
        out -= y
        return out

    def loss_gradient(self, y, raw, out=None):
        mu = np.exp(raw, out=out)
        loss = (mu - y * raw + special.xlogy(y, y) - y).sum(axis=1)
        mu -= y
        return loss, mu

    def check_target(self, y):
        if np.any(y < 0):
            raise ValueError(
                "loss='poisson' requires non-negative targets y; got a minimum of "
                f"{float(np.min(y))!r}."
            )


@register_loss("log_loss")
class LogLoss(Loss):
    """Cross-entropy with a softmax link (multiclass), via log-sum-exp."""

    link = MultinomialLogit()
    classification = True

    def loss(self, y, raw):
        return special.logsumexp(raw, axis=1) * y.sum(axis=1) - np.einsum(
            "ij,ij->i", y, raw
        )

    def gradient(self, y, raw, out=None):
        out = _softmax(raw, out)
        out -= y
        return out

    def loss_gradient(self, y, raw, out=None):
        # One pass: with m = max(raw), lse = m + log(sum(exp(raw - m))).
        p = np.empty_like(raw) if out is None else out
        m = raw.max(axis=1, keepdims=True)
        np.subtract(raw, m, out=p)
        np.exp(p, out=p)
        s = p.sum(axis=1, keepdims=True)
        lse = (m + np.log(s)).ravel()
        p /= s
        loss = lse * y.sum(axis=1) - np.einsum("ij,ij->i", y, raw)
        p -= y
        return loss, p


@register_loss("binary_log_loss")
class BinaryLogLoss(Loss):
    """Cross-entropy with a logistic link on each output (binary, multilabel)."""

    link = LogitLink()
    classification = True

    def loss(self, y, raw):
        # log(1 + exp(raw)) - y * raw, stable for any raw.
        return (np.logaddexp(0, raw) - y * raw).sum(axis=1)

    def gradient(self, y, raw, out=None):
        out = special.expit(raw, out=out)
        out -= y
        return out
