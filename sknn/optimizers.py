"""Optimizers over one flat parameter vector.

An optimizer is configuration only. :meth:`Optimizer.init` returns a state
object (a dict of arrays and counters) that the estimator keeps as
``optimizer_state_``; :meth:`Optimizer.step` updates the parameters and that
state in place. The optimizer instance itself never changes, so it can be
cloned, searched over and reused.

Examples
--------
>>> import numpy as np
>>> from sknn.optimizers import SGD
>>> params = np.array([1.0, -2.0])
>>> opt = SGD(momentum=0.0)
>>> state = opt.init(params)
>>> opt.step(params, 2 * params, state, learning_rate=0.25)  # gradient of |p|^2
>>> params
array([ 0.5, -1. ])
"""

import math

import numpy as np
import scipy.optimize

from ._base import Component
from ._kernels import adam_update
from ._registry import _make_registry
from ._validation import _is_int, _is_real

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "LBFGS"]


class Optimizer(Component):
    """Base class of optimizers.

    A stochastic optimizer (``stochastic = True``) implements :meth:`init` and
    :meth:`step` and is driven batch by batch by the estimator. A full-batch
    optimizer (``stochastic = False``, e.g. :class:`LBFGS`) implements
    :meth:`minimize` instead.

    Parameters
    ----------
    learning_rate : float or None, default=None
        Step size; None means "use the estimator's ``learning_rate``".
    """

    stochastic = True
    #: Whether :meth:`step` takes ``l2=(n, scale)``, an L2 term that is not yet
    #: in the gradient (``scale * params[:n]``), so that it can add the term
    #: in its own pass over the parameters. Otherwise the engine adds it.
    takes_l2 = False

    def __init__(self, learning_rate=None):
        self.learning_rate = learning_rate

    def init(self, params):
        """Return the initial state for a parameter vector like ``params``."""
        return {"t": 0}

    def check_state(self, state, params):
        """Raise ``ValueError`` unless ``state`` could be this optimizer's state.

        The state must be what :meth:`init` creates for ``params``, possibly
        advanced by :meth:`step`: the same keys, arrays of the same shape and
        dtype with finite values, and counters that are ints >= 0. The
        estimator calls this before resuming (``warm_start``, ``partial_fit``)
        and :func:`sknn.load` calls it on the state read from a file. A state
        that is not a dict is only checked for the type :meth:`init` returns.

        Parameters
        ----------
        state : object
            The state to check, e.g. an estimator's ``optimizer_state_``.
        params : ndarray of shape (n_params,)
            The parameter vector the state would be used with.

        Examples
        --------
        >>> import numpy as np
        >>> from sknn.optimizers import SGD, Adam
        >>> params = np.zeros(3)
        >>> Adam().check_state(Adam().init(params), params)
        >>> Adam().check_state(SGD().init(params), params)
        Traceback (most recent call last):
        ...
        ValueError: Adam's state has the keys ['m', 't', 'v']; got ['t', 'velocity'].
        """
        # What init creates for one parameter; a (1,) array stands for one of
        # params' shape, so no state-sized array is allocated here.
        fresh = self.init(np.zeros(1, dtype=params.dtype))
        name = type(self).__name__
        if not isinstance(fresh, dict):
            if type(state) is not type(fresh):
                raise ValueError(
                    f"{name}'s state is a {type(fresh).__name__}; got "
                    f"{type(state).__name__}."
                )
            return
        if not isinstance(state, dict) or set(state) != set(fresh):
            got = sorted(map(str, state)) if isinstance(state, dict) else state
            raise ValueError(f"{name}'s state has the keys {sorted(fresh)}; got {got}.")
        for key, expected in fresh.items():
            value = state[key]
            if isinstance(expected, np.ndarray):
                shape = params.shape if expected.shape == (1,) else expected.shape
                ok = (
                    isinstance(value, np.ndarray)
                    and value.shape == shape
                    and value.dtype == expected.dtype
                    and bool(np.isfinite(value).all())
                )
                what = f"a finite {expected.dtype} array of shape {shape}"
            elif _is_int(expected):
                ok, what = _is_int(value) and value >= 0, "an int >= 0"
            elif _is_real(expected):
                ok, what = _is_real(value) and math.isfinite(value), "a finite float"
            else:
                ok, what = type(value) is type(expected), type(expected).__name__
            if not ok:
                got = (
                    f"{value.dtype} array of shape {value.shape}"
                    if isinstance(value, np.ndarray)
                    else repr(value)
                )
                raise ValueError(f"{name}'s state[{key!r}] must be {what}; got {got}.")

    def step(self, params, grad, state, learning_rate):
        """Update ``params`` and ``state`` in place from ``grad``.

        Parameters
        ----------
        params : ndarray of shape (n_params,)
            The flat parameter vector, updated in place.
        grad : ndarray of shape (n_params,)
            Gradient of the objective; the optimizer may overwrite it.
        state : dict
            The state returned by :meth:`init`, updated in place.
        learning_rate : float
            The step size for this step (the schedule's value).
        """
        raise NotImplementedError


registry = _make_registry("optimizers", Optimizer)
register_optimizer = registry.register


def _zeros(params):
    return np.zeros_like(params)


@register_optimizer("sgd")
class SGD(Optimizer):
    """Stochastic gradient descent with (Nesterov) momentum, as in scikit-learn.

    ``velocity = momentum * velocity - lr * grad``; the update is ``velocity``,
    or ``momentum * velocity - lr * grad`` with Nesterov momentum.

    Parameters
    ----------
    learning_rate : float or None, default=None
        Step size; None uses the estimator's ``learning_rate``.
    momentum : float, default=0.9
        Momentum in [0, 1).
    nesterov : bool, default=True
        Use Nesterov's momentum.
    """

    _param_checks = {
        "learning_rate": {"low": 0, "low_open": True, "allow_none": True},
        "momentum": {"low": 0, "high": 1, "high_open": True},
        "nesterov": "bool",
    }

    def __init__(self, learning_rate=None, momentum=0.9, nesterov=True):
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov

    def init(self, params):
        return {"t": 0, "velocity": _zeros(params)}

    def step(self, params, grad, state, learning_rate):
        state["t"] += 1
        # Python floats keep float32 arithmetic in float32 (NEP 50).
        mu, lr = float(self.momentum), float(learning_rate)
        grad *= lr
        if mu == 0:
            params -= grad
            return
        v = state["velocity"]
        v *= mu
        v -= grad  # velocity = momentum * velocity - lr * grad
        if self.nesterov:
            # update = momentum * velocity - lr * grad
            params -= grad
            params += np.multiply(v, mu, out=grad)
        else:
            params += v


@register_optimizer("adam")
class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with scikit-learn's bias correction.

    Parameters
    ----------
    learning_rate : float or None, default=None
        Step size; None uses the estimator's ``learning_rate``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the first and second moment estimates, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.

    Notes
    -----
    With numba installed (the ``fast`` extra), the step is one compiled loop
    over the parameters instead of a dozen NumPy passes, and the L2 term of
    the estimator's ``alpha`` is added in that loop too (``takes_l2``); the
    update is the same up to rounding.
    """

    takes_l2 = True

    _param_checks = {
        "learning_rate": {"low": 0, "low_open": True, "allow_none": True},
        "beta_1": {"low": 0, "high": 1, "high_open": True},
        "beta_2": {"low": 0, "high": 1, "high_open": True},
        "epsilon": {"low": 0, "low_open": True},
    }

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def init(self, params):
        return {"t": 0, "m": _zeros(params), "v": _zeros(params)}

    def step(self, params, grad, state, learning_rate, l2=None):
        state["t"] = t = state["t"] + 1
        b1, b2 = float(self.beta_1), float(self.beta_2)
        lr_t = float(learning_rate) * math.sqrt(1 - b2**t) / (1 - b1**t)
        adam_update(
            params, grad, state["m"], state["v"], b1, b2, lr_t, float(self.epsilon), l2
        )


@register_optimizer("adamw")
class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019).

    Each step first shrinks every parameter by ``lr * weight_decay``, then takes
    the Adam step.

    Parameters
    ----------
    learning_rate : float or None, default=None
        Step size; None uses the estimator's ``learning_rate``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay rates of the moment estimates.
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.
    weight_decay : float, default=0.01
        Decoupled decay rate, >= 0.
    """

    _param_checks = {**Adam._param_checks, "weight_decay": {"low": 0}}
    takes_l2 = False  # the L2 term sees the weights before the decay

    def __init__(
        self,
        learning_rate=None,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        weight_decay=0.01,
    ):
        super().__init__(learning_rate, beta_1, beta_2, epsilon)
        self.weight_decay = weight_decay

    def step(self, params, grad, state, learning_rate):
        if self.weight_decay:
            params *= 1 - float(learning_rate) * float(self.weight_decay)
        super().step(params, grad, state, learning_rate)


@register_optimizer("rmsprop")
class RMSprop(Optimizer):
    """RMSprop: steps scaled by a running root mean square of the gradient.

    Parameters
    ----------
    learning_rate : float or None, default=None
        Step size; None uses the estimator's ``learning_rate``.
    rho : float, default=0.9
        Decay rate of the squared-gradient average, in [0, 1).
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.
    """

    _param_checks = {
        "learning_rate": {"low": 0, "low_open": True, "allow_none": True},
        "rho": {"low": 0, "high": 1, "high_open": True},
        "epsilon": {"low": 0, "low_open": True},
    }

    def __init__(self, learning_rate=None, rho=0.9, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.rho = rho
        self.epsilon = epsilon

    def init(self, params):
        return {"t": 0, "v": _zeros(params)}

    def step(self, params, grad, state, learning_rate):
        state["t"] += 1
        rho, v = float(self.rho), state["v"]
        v *= rho
        sq = np.multiply(grad, grad)
        sq *= 1 - rho
        v += sq
        _scaled_step(params, grad, v, self.epsilon, learning_rate, sq)


def _scaled_step(params, grad, v, epsilon, learning_rate, scratch):
    """``params -= lr * grad / (sqrt(v) + eps)``; overwrites grad and scratch."""
    denom = np.sqrt(v, out=scratch)
    denom += float(epsilon)
    grad /= denom
    grad *= -float(learning_rate)
    params += grad


@register_optimizer("adagrad")
class Adagrad(Optimizer):
    """Adagrad: steps scaled by the root of the summed squared gradients.

    Parameters
    ----------
    learning_rate : float or None, default=None
        Step size; None uses the estimator's ``learning_rate``.
    epsilon : float, default=1e-8
        Added to the denominator for numerical stability.
    """

    _param_checks = {
        "learning_rate": {"low": 0, "low_open": True, "allow_none": True},
        "epsilon": {"low": 0, "low_open": True},
    }

    def __init__(self, learning_rate=None, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.epsilon = epsilon

    def init(self, params):
        return {"t": 0, "sum_sq": _zeros(params)}

    def step(self, params, grad, state, learning_rate):
        state["t"] += 1
        s = state["sum_sq"]
        sq = np.multiply(grad, grad)
        s += sq
        _scaled_step(params, grad, s, self.epsilon, learning_rate, sq)


@register_optimizer("lbfgs")
class LBFGS(Optimizer):
    """Full-batch L-BFGS-B (scipy) on the flat parameter vector.

    The parameters keep their dtype: float32 models stay float32, scipy's
    float64 iterate is copied into them at each evaluation.

    Parameters
    ----------
    max_fun : int, default=15000
        Maximum number of objective evaluations.
    """

    stochastic = False

    _param_checks = {"max_fun": {"low": 1, "integer": True}}

    def __init__(self, max_fun=15000):
        self.max_fun = max_fun

    def minimize(self, fun, params, max_iter, tol, callback=None):
        """Minimise ``fun`` from ``params``; ``params`` holds the result.

        Parameters
        ----------
        fun : callable
            ``fun(params) -> (loss, grad)``: the objective and its gradient at
            the current content of ``params``.
        params : ndarray of shape (n_params,)
            Start point, overwritten in place with each iterate and finally
            with the solution.
        max_iter : int
            Maximum number of iterations.
        tol : float
            Projected-gradient tolerance (scipy's ``gtol``).
        callback : callable, optional
            Called after each iteration with its loss; it may raise
            ``StopIteration`` to end the minimisation.

        Returns
        -------
        result : scipy.optimize.OptimizeResult
        """

        def fun_grad(x):
            params[:] = x
            loss, grad = fun(params)
            return loss, grad.astype(np.float64)

        def iteration_end(intermediate_result):
            params[:] = intermediate_result.x
            if callback is not None:
                callback(float(intermediate_result.fun))

        result = scipy.optimize.minimize(
            fun_grad,
            params.astype(np.float64),
            method="L-BFGS-B",
            jac=True,
            callback=iteration_end,
            options={"maxiter": max_iter, "maxfun": self.max_fun, "gtol": tol},
        )
        params[:] = result.x
        return result
