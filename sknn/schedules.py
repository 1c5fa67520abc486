"""Learning-rate schedules, evaluated once per epoch.

A schedule maps the base learning rate and the epoch about to run to the
step size for that epoch. It is a pure function of its arguments: anything it
needs to remember (a plateau, say) it reads from the training history, so the
schedule itself never changes and resumption (``warm_start``,
``partial_fit``) is exact.

Examples
--------
>>> from sknn.schedules import StepDecay
>>> [StepDecay(step_size=2, gamma=0.5)(0.1, epoch) for epoch in range(5)]
[0.1, 0.1, 0.05, 0.05, 0.025]
"""

import math

from ._base import Component
from ._registry import _make_registry

__all__ = [
    "Schedule",
    "Constant",
    "InvScaling",
    "StepDecay",
    "Exponential",
    "Cosine",
    "Plateau",
]


class Schedule(Component):
    """Base class of learning-rate schedules."""

    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        """Return the learning rate for ``epoch``.

        Parameters
        ----------
        base_lr : float
            The optimizer's (or estimator's) learning rate.
        epoch : int
            Zero-based index of the epoch about to run, counted over the whole
            training history (it keeps counting under ``warm_start``).
        history : sequence of dict, default=()
            One dict per finished epoch (the estimator's ``history_``).
        max_iter : int or None, default=None
            The estimator's ``max_iter``, for schedules that span a run.

        Returns
        -------
        lr : float
        """
        raise NotImplementedError


registry = _make_registry("schedules", Schedule)
register_schedule = registry.register


@register_schedule("constant")
class Constant(Schedule):
    """The base learning rate at every epoch."""

    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        return base_lr


@register_schedule("invscaling")
class InvScaling(Schedule):
    """``base_lr / (epoch + 1) ** power_t``.

    Parameters
    ----------
    power_t : float, default=0.5
        The exponent, >= 0.
    """

    _param_checks = {"power_t": {"low": 0}}

    def __init__(self, power_t=0.5):
        self.power_t = power_t

    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        return base_lr / (epoch + 1) ** self.power_t


@register_schedule("step")
class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs.

    Parameters
    ----------
    step_size : int, default=10
        Epochs between decays, >= 1.
    gamma : float, default=0.1
        Decay factor, in (0, 1].
    """

    _param_checks = {
        "step_size": {"low": 1, "integer": True},
        "gamma": {"low": 0, "high": 1, "low_open": True},
    }

    def __init__(self, step_size=10, gamma=0.1):
        self.step_size = step_size
        self.gamma = gamma

    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        return base_lr * self.gamma ** (epoch // self.step_size)


@register_schedule("exponential")
class Exponential(Schedule):
    """``base_lr * gamma ** epoch``.

    Parameters
    ----------
    gamma : float, default=0.95
        Decay factor per epoch, in (0, 1].
    """

    _param_checks = {"gamma": {"low": 0, "high": 1, "low_open": True}}

    def __init__(self, gamma=0.95):
        self.gamma = gamma

    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        return base_lr * self.gamma**epoch


@register_schedule("cosine")
class Cosine(Schedule):
    """Linear warm-up, then cosine decay to ``min_lr``.

    Parameters
    ----------
    warmup : int, default=0
        Epochs of linear warm-up from ``base_lr / (warmup + 1)``.
    period : int or None, default=None
        Epochs from the end of warm-up to the bottom of the cosine; None uses
        the estimator's ``max_iter`` minus ``warmup``. Later epochs stay at
        ``min_lr``.
    min_lr : float, default=0.0
        The final learning rate, >= 0.
    """

    _param_checks = {
        "warmup": {"low": 0, "integer": True},
        "period": {"low": 1, "integer": True, "allow_none": True},
        "min_lr": {"low": 0},
    }

    def __init__(self, warmup=0, period=None, min_lr=0.0):
        self.warmup = warmup
        self.period = period
        self.min_lr = min_lr

    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        if epoch < self.warmup:
            return base_lr * (epoch + 1) / (self.warmup + 1)
        period = self.period or max((max_iter or 1) - self.warmup, 1)
        progress = min((epoch - self.warmup) / period, 1.0)
        return self.min_lr + 0.5 * (base_lr - self.min_lr) * (
            1 + math.cos(math.pi * progress)
        )


@register_schedule("plateau")
class Plateau(Schedule):
    """Divide the rate by ``1 / factor`` when the monitored value stalls.

    Like scikit-learn's ``learning_rate="adaptive"``: each time ``patience``
    consecutive epochs fail to improve the monitored value by at least
    ``threshold``, the rate is multiplied by ``factor`` (not below
    ``min_lr``).

    Parameters
    ----------
    factor : float, default=0.2
        Multiplier applied on a plateau, in (0, 1).
    patience : int, default=2
        Epochs without improvement before the rate drops, >= 1.
    threshold : float, default=1e-4
        Minimum improvement that counts, >= 0.
    monitor : {"train_loss", "valid_loss"}, default="train_loss"
        The history value to watch; lower is better.
    min_lr : float, default=1e-6
        Lower bound of the rate.
    """

    _param_checks = {
        "factor": {"low": 0, "high": 1, "low_open": True, "high_open": True},
        "patience": {"low": 1, "integer": True},
        "threshold": {"low": 0},
        "monitor": {"train_loss", "valid_loss"},
        "min_lr": {"low": 0},
    }

    def __init__(
        self,
        factor=0.2,
        patience=2,
        threshold=1e-4,
        monitor="train_loss",
        min_lr=1e-6,
    ):
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.monitor = monitor
        self.min_lr = min_lr

    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        lr, best, bad = base_lr, math.inf, 0
        for record in history:
            value = record.get(self.monitor)
            if value is None:
                continue
            if value < best - self.threshold:
                bad = 0
            else:
                bad += 1
                if bad >= self.patience:
                    lr, bad = max(lr * self.factor, self.min_lr), 0
            best = min(best, value)
        return min(lr, base_lr)
