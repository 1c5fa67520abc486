"""Contract checks for component authors.

The contract each kind of component must meet is split into small named
checks. Each ``check_*`` function runs all the checks for one component and
raises ``AssertionError`` at the first violation, with a message naming the
component, what is wrong and the check, as in
``"Tanh(): ... (check: backward_derivative)"``.
:func:`parametrize_with_component_checks` turns the same checks into one
pytest test each, so that a test report names every failing check. Use them
in the test suite of a package that adds components (see
:func:`sknn.register_activation` and the ``sknn.<kind>`` entry-point groups):

- :func:`check_activation`: derivative against central finite differences,
  in-place evaluation, ``uses_input``, dtype preservation, no mutation.
- :func:`check_loss`: gradient against central finite differences,
  ``loss_gradient`` consistency, inverse link, stability at extreme raw
  outputs, dtype preservation, no mutation.
- :func:`check_optimizer`: convergence on a convex quadratic and on the
  Rosenbrock function, dtype preservation, state kept outside the optimizer.
- :func:`check_schedule`: positive finite rates, purity, no mutation.

The last check of every component, ``unchanged_by_use``, verifies that the
component itself is left unchanged by all the others: its ``get_params``, its
``repr`` and its attributes are the same as before the first check.

Examples
--------
>>> import numpy as np
>>> from sknn.activations import Activation
>>> from sknn.testing import check_activation, yield_component_checks
>>> class Cube(Activation):
...     "f(z) = z**3"
...     uses_input = True
...     def forward(self, z, out=None):
...         return np.power(z, 3, out=out)
...     def backward(self, grad, a, z=None):
...         grad *= 3 * z * z
...         return grad
>>> check_activation(Cube())
>>> [name for name, check in yield_component_checks(Cube())][:3]
['forward_input_unchanged', 'backward_derivative', 'backward_return_value']
"""

import functools
import inspect
import math
import numbers

import numpy as np

from . import activations, layers, losses, optimizers, schedules

__all__ = [
    "check_activation",
    "check_layer",
    "check_loss",
    "check_optimizer",
    "check_schedule",
    "parametrize_with_component_checks",
    "yield_component_checks",
]

_DEFAULT_DTYPES = (np.float32, np.float64)
# Step of the central differences (float64): truncation ~h**2, roundoff ~eps/h.
_H = 1e-6
# kind -> (base class, yielder of its named checks); each kind's section adds
# its row after its ``_yield_<kind>_checks``.
_KINDS = {}


# ------------------------------------------------------------------ helpers
def _fail(component, message):
    raise AssertionError(f"{_describe(component)}: {message}")


def _describe(component):
    try:
        return repr(component)
    except Exception:  # a broken __repr__ is reported by _snapshot
        return type(component).__name__


def _a(noun):
    return f"a{'n' if noun[0] in 'aeiou' else ''} {noun}"


def _check_kind(component, base, kind):
    if not isinstance(component, base):
        raise AssertionError(
            f"{component!r} is not {_a(kind)}: "
            f"expected an instance of {base.__module__}.{base.__name__}."
        )


def _snapshot(component):
    """What must not change while a component is used: params, repr, attributes."""
    try:
        params = component.get_params(deep=True)
        text = repr(component)
    except Exception as exc:
        raise AssertionError(
            f"{type(component).__name__}: get_params and repr must work on every "
            f"component (estimators clone and print them); got "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    return _freeze(params), text, _freeze(vars(component))


def _freeze(value, depth=0):
    """A comparable copy of ``value``: arrays by content, objects by attributes."""
    if isinstance(value, np.ndarray):
        return ("ndarray", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple, set, frozenset)):
        items = (
            sorted(value, key=repr) if isinstance(value, (set, frozenset)) else value
        )
        return (type(value).__name__, tuple(_freeze(v, depth) for v in items))
    if isinstance(value, dict):
        return ("dict", tuple((repr(k), _freeze(v, depth)) for k, v in value.items()))
    if isinstance(value, (float, np.floating)):
        return ("float", repr(value))  # NaN equals NaN here
    if depth < 8 and not isinstance(value, type) and hasattr(value, "__dict__"):
        return (type(value), id(value), _freeze(vars(value), depth + 1))
    return value


def _check_unchanged(component, before, action):
    params, text, attributes = _snapshot(component)
    old_params, old_text, old_attributes = before
    if params != old_params:
        changed = sorted(
            k
            for k in set(dict(params[1])) | set(dict(old_params[1]))
            if dict(params[1]).get(k) != dict(old_params[1]).get(k)
        )
        _fail(
            component,
            f"{action} changed its parameters {changed}; a component is "
            "configuration only and must never be mutated (keep run-time state "
            "in the objects it returns).",
        )
    if text != old_text or attributes != old_attributes:
        _fail(
            component,
            f"{action} changed the component's attributes (it was {old_text}); a "
            "component is configuration only and must never be mutated (keep "
            "run-time state in the objects it returns).",
        )


def _assert_close(component, actual, desired, rtol, atol, what):
    actual = np.asarray(actual)
    desired = np.asarray(desired)
    if actual.shape != desired.shape:
        _fail(component, f"{what}: shape {actual.shape}, expected {desired.shape}.")
    if not np.all(np.isfinite(actual)):
        _fail(component, f"{what}: non-finite values {actual[~np.isfinite(actual)]}.")
    diff = np.abs(actual.astype(np.float64) - desired.astype(np.float64))
    bound = atol + rtol * np.abs(desired.astype(np.float64))
    bad = diff > bound
    if np.any(bad):
        i = np.unravel_index(np.argmax(diff - bound), diff.shape)
        _fail(
            component,
            f"{what}: {int(bad.sum())} of {bad.size} values differ; worst at index "
            f"{tuple(int(k) for k in i)}: got {actual[i]!r}, expected "
            f"{desired[i]!r} (rtol={rtol:g}, atol={atol:g}).",
        )


def _check_dtype(component, array, dtype, what):
    if not isinstance(array, np.ndarray):
        _fail(component, f"{what} must be a numpy array, got {type(array).__name__}.")
    if array.dtype != dtype:
        _fail(
            component,
            f"{what} has dtype {array.dtype} for {np.dtype(dtype)} input; the dtype "
            "must be preserved (float32 models run in float32).",
        )


def _check_not_mutated(component, array, original, what):
    if not np.array_equal(array, original, equal_nan=True):
        _fail(component, f"{what} changed its input array; it must only read it.")


def _tolerances(dtype):
    """(rtol, atol) for comparing results in ``dtype`` with float64 ones."""
    if np.dtype(dtype) == np.float64:
        return 1e-10, 1e-12
    return 1e-4, 1e-5


# ------------------------------------------------------------ named checks
class _Checks:
    """The named checks of one component, in order, then ``unchanged_by_use``.

    A kind's yielder registers plain functions with :meth:`add`; iterating
    gives ``(name, check)`` pairs where ``check()`` runs the function and
    ends the message of an ``AssertionError`` (which starts with the
    component) with the check's name. The component is snapshot when this
    object is made, before any check runs; ``unchanged_by_use`` first runs
    the checks that have not run yet (their failures are their own), so that
    it also holds when it runs alone.
    """

    def __init__(self, component, action):
        self.component = component
        self.action = action
        self.before = _snapshot(component)
        self._functions = {}
        self._ran = set()

    def add(self, function, name=None):
        self._functions[name or function.__name__] = function
        return function

    def __iter__(self):
        for name in self._functions:
            yield name, self._named(name, self._functions[name])
        yield "unchanged_by_use", self._named("unchanged_by_use", self._unchanged)

    def _named(self, name, function):
        def check():
            self._ran.add(name)
            try:
                function()
            except AssertionError as exc:
                exc.args = (f"{exc} (check: {name})",)
                raise

        check.__name__ = check.__qualname__ = name
        return check

    def _unchanged(self):
        for name, function in self._functions.items():
            if name not in self._ran:
                self._ran.add(name)
                try:
                    function()
                except AssertionError:
                    pass
        _check_unchanged(self.component, self.before, self.action)


def _run_all(checks):
    for _, check in checks:
        check()


# ----------------------------------------------------------------- dispatch
def yield_component_checks(component, **options):
    """The named contract checks of a component, whatever its kind.

    Dispatches on the component's base class to the checks of its kind, the
    ones its ``check_*`` function runs.

    Parameters
    ----------
    component : Activation, Loss, Optimizer or Schedule
        The component instance to check.
    **options
        Keyword arguments of the kind's ``check_*`` function, such as
        ``dtypes`` or, for a loss, ``n_outputs``.

    Returns
    -------
    checks : iterator of (str, callable)
        ``(name, check)`` pairs; ``check()`` takes no argument and raises
        ``AssertionError`` naming the component and the check when the
        component fails it. The last one, ``unchanged_by_use``, verifies
        that the other checks left the component unchanged.

    Raises
    ------
    TypeError
        If ``component`` is a class, is not of a kind that has checks, or an
        option is not accepted by its kind.

    Examples
    --------
    >>> from sknn.schedules import StepDecay
    >>> from sknn.testing import yield_component_checks
    >>> for name, check in yield_component_checks(StepDecay(), max_iter=10):
    ...     check()
    ...     print(name)
    rates
    pure
    history_unchanged
    unchanged_by_use
    """
    if isinstance(component, type):
        raise TypeError(
            f"Pass a component instance, such as {component.__name__}(), not the "
            f"class {component.__name__}."
        )
    kind = next(
        (kind for kind, (base, _) in _KINDS.items() if isinstance(component, base)),
        None,
    )
    if kind is None:
        kinds = ", ".join(
            f"{kind} ({base.__module__}.{base.__name__})"
            for kind, (base, _) in _KINDS.items()
        )
        raise TypeError(
            f"There are no contract checks for {_describe(component)} (an instance "
            f"of {type(component).__module__}.{type(component).__qualname__}); "
            f"sknn.testing checks these kinds of component: {kinds}."
        )
    yielder = _KINDS[kind][1]
    accepted = list(inspect.signature(yielder).parameters)[1:]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise TypeError(
            f"Unknown option(s) {unknown} for the checks of {_a(kind)}; accepted: "
            f"{accepted}."
        )
    return yielder(component, **options)


def parametrize_with_component_checks(components):
    """Pytest decorator: one test per component and contract check.

    Like scikit-learn's ``parametrize_with_checks``: the decorated test
    receives ``component`` and ``check`` and calls ``check()``; the report
    names every failing check, with test ids
    ``"<repr of component>-<check name>"``.

    Parameters
    ----------
    components : iterable of component or (component, dict)
        Component instances of any kind that has checks. A
        ``(component, options)`` pair passes ``options`` to the checks of its
        kind (the keyword arguments of its ``check_*`` function); the options
        then appear in the test ids, ``"<repr>-<option>=<value>-<check>"``.

    Returns
    -------
    decorator : pytest.mark.parametrize
        The parametrization of ``component`` and ``check``.

    Raises
    ------
    ImportError
        If pytest is not installed.
    TypeError
        As :func:`yield_component_checks`.

    Examples
    --------
    >>> from sknn.activations import Tanh
    >>> from sknn.losses import LogLoss
    >>> from sknn.testing import parametrize_with_component_checks
    >>> @parametrize_with_component_checks([Tanh(), (LogLoss(), {"n_outputs": 2})])
    ... def test_contract(component, check):
    ...     check()
    >>> [p.id for p in test_contract.pytestmark[0].args[1]][:2]
    ['Tanh()-forward_input_unchanged', 'Tanh()-backward_derivative']
    """
    try:
        import pytest
    except ImportError as exc:
        raise ImportError(
            "parametrize_with_component_checks needs pytest; install it with "
            "`pip install pytest`, or run the checks with yield_component_checks "
            "or the check_* functions."
        ) from exc
    params = []
    for item in components:
        component, options = item if isinstance(item, tuple) else (item, {})
        prefix = _describe(component) + "".join(
            f"-{key}={_option_id(value)}" for key, value in options.items()
        )
        params += [
            pytest.param(component, check, id=f"{prefix}-{name}")
            for name, check in yield_component_checks(component, **options)
        ]
    return pytest.mark.parametrize("component, check", params)


def _option_id(value):
    if isinstance(value, (list, tuple)):
        return ",".join(_option_id(v) for v in value)
    if isinstance(value, (type, np.dtype)):
        try:
            return np.dtype(value).name
        except TypeError:
            return value.__name__
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    return str(value)


# --------------------------------------------------------------- activations
def check_activation(activation, dtypes=_DEFAULT_DTYPES):
    """Check an activation against the contract of :class:`sknn.activations.Activation`.

    Verifies, on a fixed random batch:

    - ``backward(grad, a, z)`` multiplies ``grad`` in place by ``f'(z)``,
      compared with central finite differences of ``forward`` in float64;
    - ``backward`` receives ``z=None`` and still works when ``uses_input`` is
      false (the engine then computes the activation in place and drops
      ``z``), and never changes ``a`` or ``z``;
    - ``forward(z, out=z)`` and ``forward(z, out=buffer)`` give the same
      values as ``forward(z)``, and ``forward(z)`` leaves ``z`` unchanged;
    - for every dtype in ``dtypes``, outputs keep that dtype and agree with
      the float64 results, and large inputs (±500) give finite values;
    - the component is not mutated.

    Parameters
    ----------
    activation : Activation
        The activation instance to check.
    dtypes : sequence of dtype, default=(np.float32, np.float64)
        The floating dtypes that must be preserved.

    Raises
    ------
    AssertionError
        At the first failing check, with a message naming the component, the
        check and the violation.

    See Also
    --------
    yield_component_checks : The same checks one by one, by name.

    Examples
    --------
    >>> from sknn.activations import Tanh
    >>> from sknn.testing import check_activation
    >>> check_activation(Tanh())

    A derivative that forgets a factor is caught:

    >>> class BadTanh(Tanh):
    ...     def backward(self, grad, a, z=None):
    ...         grad *= 1 - a
    ...         return grad
    >>> check_activation(BadTanh())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: BadTanh(): backward(grad, a, z=None) must multiply grad in place ...
    """
    _run_all(_yield_activation_checks(activation, dtypes=dtypes))


def _yield_activation_checks(activation, dtypes=_DEFAULT_DTYPES):
    _check_kind(activation, activations.Activation, "activation")
    checks = _Checks(activation, "Using the activation")
    uses_input = bool(getattr(activation, "uses_input", False))
    z_arg = "z" if uses_input else "z=None"
    backward_what = f"backward(grad, a, {z_arg})"
    rng = np.random.RandomState(0)
    # Stay away from 0, where several activations have a kink. Every check
    # passes copies of these, so that one that writes into them harms no other.
    z = rng.uniform(0.05, 3.0, (6, 5)) * rng.choice([-1.0, 1.0], (6, 5))
    grad_in = rng.normal(size=z.shape)
    extreme = np.array([[-500.0, -50.0, -10.0, 0.0, 10.0, 50.0, 500.0]])

    def forward(x, out=None, what="forward(z)"):
        try:
            return activation.forward(x, out=out)
        except Exception as exc:
            _fail(activation, f"{what} raised {type(exc).__name__}: {exc}")

    def backward(grad, a, x, what):
        try:
            return activation.backward(grad, a, x if uses_input else None)
        except Exception as exc:
            hint = (
                ""
                if uses_input
                else (
                    " (uses_input is False, so the engine passes z=None: set "
                    "uses_input = True if the derivative needs z)"
                )
            )
            _fail(activation, f"{what} raised {type(exc).__name__}: {exc}{hint}")

    @checks.add
    def forward_input_unchanged():
        x = z.copy()
        a = forward(x)
        _check_not_mutated(activation, x, z, "forward(z)")
        _check_dtype(activation, a, np.float64, "forward(z)")

    @functools.cache  # shared by the three backward_* checks below
    def backward_float64():
        """grad * f'(z) by central differences; backward's results and inputs."""
        expected = grad_in * (forward(z + _H) - forward(z - _H)) / (2 * _H)
        a = forward(z.copy())
        grad, a_arg, z_copy = grad_in.copy(), a.copy(), z.copy()
        result = backward(grad, a_arg, z_copy, backward_what)
        return expected, grad, result, (a_arg, a), z_copy

    @checks.add
    def backward_derivative():
        expected, grad, _, _, _ = backward_float64()
        _assert_close(
            activation,
            grad,
            expected,
            1e-5,
            1e-7,
            f"{backward_what} must multiply grad in place by f'(z) (checked "
            "against central differences of forward)",
        )

    @checks.add
    def backward_return_value():
        expected, _, result, _, _ = backward_float64()
        _assert_close(
            activation,
            result,
            expected,
            1e-5,
            1e-7,
            f"the value {backward_what} returns",
        )

    @checks.add
    def backward_inputs_unchanged():
        _, _, _, (a_arg, a), z_copy = backward_float64()
        _check_not_mutated(activation, a_arg, a, f"{backward_what} (argument a)")
        _check_not_mutated(activation, z_copy, z, f"{backward_what} (argument z)")

    def add_dtype_checks(dtype):
        name = dtype.name
        rtol, atol = _tolerances(dtype)
        zt = z.astype(dtype)
        what = f"{backward_what} ({name})"

        def forward_in_dtype():
            x = zt.copy()
            at = forward(x, what=f"forward(z) ({name})")
            _check_dtype(activation, at, dtype, f"forward(z) ({name})")
            _check_not_mutated(activation, x, zt, f"forward(z) ({name})")
            _assert_close(
                activation,
                at,
                forward(zt.astype(np.float64)),
                rtol,
                atol,
                f"forward(z) in {name} against float64",
            )

        def forward_out():
            at = forward(zt.copy(), what=f"forward(z) ({name})")
            buf = np.full_like(zt, np.nan)
            res = forward(zt.copy(), out=buf, what=f"forward(z, out=buffer) ({name})")
            _assert_close(activation, buf, at, 0, 0, f"forward(z, out=buffer) ({name})")
            _assert_close(
                activation,
                res,
                at,
                0,
                0,
                f"the value forward(z, out=buffer) returns ({name})",
            )
            inplace = zt.copy()
            res = forward(inplace, out=inplace, what=f"forward(z, out=z) ({name})")
            _assert_close(
                activation,
                inplace,
                at,
                0,
                0,
                f"forward(z, out=z) ({name}) must equal forward(z)",
            )
            _assert_close(
                activation,
                res,
                at,
                0,
                0,
                f"the value forward(z, out=z) returns ({name})",
            )

        def backward_in_dtype():
            at = forward(zt.copy(), what=f"forward(z) ({name})")
            grad, a_arg, z_arg = grad_in.astype(dtype), at.copy(), zt.copy()
            res = backward(grad, a_arg, z_arg, what)
            _check_dtype(activation, res, dtype, what)
            _check_not_mutated(activation, a_arg, at, what + " (argument a)")
            _check_not_mutated(activation, z_arg, zt, what + " (argument z)")
            z64 = zt.astype(np.float64)
            g64 = grad_in.astype(dtype).astype(np.float64)
            ref = backward(g64, forward(z64), z64, what)
            _assert_close(activation, grad, ref, rtol, atol, what + " against float64")

        def large_inputs():
            ze = extreme.astype(dtype)
            ae = forward(
                ze, what=f"forward(z) at z={extreme.ravel().tolist()} ({name})"
            )
            _check_dtype(activation, ae, dtype, f"forward(z) ({name})")
            ge = backward(
                np.ones_like(ze), ae.copy(), ze.copy(), what + " at large |z|"
            )
            for value, label in ((ae, "forward"), (ge, "backward")):
                if not np.all(np.isfinite(value)):
                    _fail(
                        activation,
                        f"{label} is not finite at z={extreme.ravel().tolist()} "
                        f"({name}): {value.ravel().tolist()}.",
                    )

        checks.add(forward_in_dtype, f"forward_{name}")
        checks.add(forward_out, f"forward_out_{name}")
        checks.add(backward_in_dtype, f"backward_{name}")
        checks.add(large_inputs, f"large_inputs_{name}")

    for dtype in dtypes:
        add_dtype_checks(np.dtype(dtype))
    yield from checks


_KINDS["activation"] = (activations.Activation, _yield_activation_checks)


# -------------------------------------------------------------------- losses
def _rejects_negative_targets(loss, shape):
    try:
        loss.check_target(-np.ones(shape))
    except ValueError:
        return True
    return False


def _default_targets(loss, n_samples, n_outputs, rng):
    if loss.classification:
        if loss.link == "softmax":
            return np.eye(n_outputs)[np.arange(n_samples) % n_outputs][
                rng.permutation(n_samples)
            ]
        y = (rng.uniform(size=(n_samples, n_outputs)) < 0.5).astype(np.float64)
        y[0], y[1] = 0.0, 1.0  # every column has both classes
        return y
    if _rejects_negative_targets(loss, (n_samples, n_outputs)):
        y = rng.poisson(2.0, (n_samples, n_outputs)).astype(np.float64)
        y[0] = 0.0  # the boundary of the domain
        return y
    return rng.normal(scale=2.0, size=(n_samples, n_outputs))


def _link_reference(link, raw):
    """The documented inverse links, in float64; None for unknown names."""
    raw = raw.astype(np.float64)
    if link == "identity":
        return raw
    if link == "logistic":
        return 0.5 * (1 + np.tanh(0.5 * raw))
    if link == "softmax":
        e = np.exp(raw - raw.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if link == "exp":
        return np.exp(raw)
    return None


def check_loss(loss, dtypes=_DEFAULT_DTYPES, n_outputs=3, y=None, extreme=None):
    """Check a loss against the contract of :class:`sknn.losses.Loss`.

    Verifies, on a fixed random batch of raw outputs and suitable targets
    (one-hot rows for a ``"softmax"`` link, 0/1 labels for other
    classification losses, non-negative counts when ``check_target`` rejects
    negative targets, real values otherwise):

    - ``check_target`` accepts those targets;
    - ``gradient(y, raw)`` and the gradient of ``loss_gradient(y, raw)`` equal
      the central finite differences of ``loss(y, raw).sum()`` in float64;
    - ``loss_gradient`` agrees with ``loss`` and ``gradient``, also when
      given an ``out`` buffer (whose previous content must not matter);
    - ``loss`` has shape ``(n_samples,)``, the gradient and
      ``inverse_link(raw)`` the shape of ``raw``; the inverse link matches
      the documented ``link`` name (probabilities for classification);
    - loss, gradient and inverse link are finite at extreme raw outputs
      (±1e4 by default, ±30 for the ``"exp"`` link);
    - for every dtype in ``dtypes``, every output keeps that dtype and agrees
      with the float64 results; inputs are never changed;
    - the component is not mutated.

    Parameters
    ----------
    loss : Loss
        The loss instance to check.
    dtypes : sequence of dtype, default=(np.float32, np.float64)
        The floating dtypes that must be preserved.
    n_outputs : int, default=3
        Number of outputs (columns of ``y`` and ``raw``).
    y : array-like of shape (n_samples, n_outputs), optional
        Targets in the loss's encoding, for losses with an unusual domain;
        ``n_outputs`` is then taken from ``y``.
    extreme : float, optional
        Magnitude of the extreme raw outputs that must give finite values.

    Raises
    ------
    AssertionError
        At the first failing check, with a message naming the component, the
        check and the violation.

    See Also
    --------
    yield_component_checks : The same checks one by one, by name.

    Examples
    --------
    >>> from sknn.losses import LogLoss, Poisson
    >>> from sknn.testing import check_loss
    >>> check_loss(LogLoss())
    >>> check_loss(Poisson())

    A naive cross-entropy overflows for large raw outputs:

    >>> import numpy as np
    >>> class NaiveLogLoss(LogLoss):
    ...     def loss(self, y, raw):
    ...         e = np.exp(raw)
    ...         p = e / e.sum(axis=1, keepdims=True)
    ...         return -(y * np.log(p)).sum(axis=1)
    >>> with np.errstate(all="ignore"):  # doctest: +ELLIPSIS
    ...     check_loss(NaiveLogLoss())
    Traceback (most recent call last):
    ...
    AssertionError: NaiveLogLoss(): loss(y, raw) is not finite at extreme raw ...
    """
    _run_all(
        _yield_loss_checks(
            loss, dtypes=dtypes, n_outputs=n_outputs, y=y, extreme=extreme
        )
    )


def _yield_loss_checks(loss, dtypes=_DEFAULT_DTYPES, n_outputs=3, y=None, extreme=None):
    _check_kind(loss, losses.Loss, "loss")
    checks = _Checks(loss, "Using the loss")
    rng = np.random.RandomState(0)
    n_samples = 8
    if y is None:
        y = _default_targets(loss, n_samples, n_outputs, rng)
    else:
        y = np.array(y, dtype=np.float64)
        if y.ndim != 2:
            raise ValueError(
                f"y must be 2-d (n_samples, n_outputs); got shape {y.shape}."
            )
        n_samples, n_outputs = y.shape
    scale = 0.5 if loss.link == "exp" else 1.5
    raw = rng.normal(scale=scale, size=(n_samples, n_outputs))
    if extreme is None:
        extreme = 30.0 if loss.link == "exp" else 1e4

    def call(method, *args, what, **kwargs):
        """``loss.method`` on copies of ``args``, checking it leaves them unchanged."""
        copies = [a.copy() for a in args]
        try:
            result = getattr(loss, method)(*copies, **kwargs)
        except Exception as exc:
            _fail(loss, f"{what} raised {type(exc).__name__}: {exc}")
        names = ("y", "raw") if len(args) == 2 else ("raw",)
        for arg, copy, arg_name in zip(args, copies, names):
            _check_not_mutated(loss, copy, arg, f"{what} (argument {arg_name})")
        return result

    @functools.cache
    def numeric_gradient():
        """Central differences of ``loss(y, raw).sum()``, float64."""
        numeric = np.empty_like(raw)
        for idx in np.ndindex(raw.shape):
            step = np.zeros_like(raw)
            step[idx] = _H
            up = np.sum(call("loss", y, raw + step, what="loss(y, raw)"))
            down = np.sum(call("loss", y, raw - step, what="loss(y, raw)"))
            numeric[idx] = (float(up) - float(down)) / (2 * _H)
        return numeric

    @checks.add
    def accepts_targets():
        try:
            loss.check_target(y.copy())
        except ValueError as exc:
            _fail(loss, f"check_target rejected the targets {y.tolist()}: {exc}")

    @checks.add
    def per_sample_loss():
        values = call("loss", y, raw, what="loss(y, raw)")
        if np.shape(values) != (n_samples,):
            _fail(
                loss,
                f"loss(y, raw) must return the per-sample loss, shape ({n_samples},); "
                f"got shape {np.shape(values)}.",
            )
        _check_dtype(loss, values, np.float64, "loss(y, raw)")

    @checks.add
    def gradient_finite_differences():
        grad = call("gradient", y, raw, what="gradient(y, raw)")
        _assert_close(
            loss,
            grad,
            numeric_gradient(),
            1e-5,
            1e-7,
            "gradient(y, raw) against central differences of loss(y, raw).sum()",
        )

    @checks.add
    def loss_gradient_finite_differences():
        fused = call("loss_gradient", y, raw, what="loss_gradient(y, raw)")
        if not (isinstance(fused, tuple) and len(fused) == 2):
            _fail(loss, "loss_gradient(y, raw) must return a (loss, gradient) tuple.")
        _assert_close(
            loss,
            fused[1],
            numeric_gradient(),
            1e-5,
            1e-7,
            "the gradient of loss_gradient(y, raw) against central differences of "
            "loss(y, raw).sum()",
        )

    def add_dtype_checks(dtype):
        name = dtype.name
        rtol, atol = _tolerances(dtype)
        yt, rt = y.astype(dtype), raw.astype(dtype)

        def float64_results():
            y64, r64 = yt.astype(np.float64), rt.astype(np.float64)
            ref_loss = call("loss", y64, r64, what="loss(y, raw)")
            ref_grad = call("gradient", y64, r64, what="gradient(y, raw)")
            return ref_loss, ref_grad, atol * max(1.0, float(np.abs(ref_loss).max()))

        def loss_in_dtype():
            ref_loss, _, loss_atol = float64_results()
            lt = call("loss", yt, rt, what=f"loss(y, raw) ({name})")
            _check_dtype(loss, lt, dtype, f"loss(y, raw) ({name})")
            _assert_close(
                loss, lt, ref_loss, rtol, loss_atol, f"loss(y, raw) in {name}"
            )

        def gradient_in_dtype():
            _, ref_grad, _ = float64_results()
            gt = call("gradient", yt, rt, what=f"gradient(y, raw) ({name})")
            _check_dtype(loss, gt, dtype, f"gradient(y, raw) ({name})")
            _assert_close(loss, gt, ref_grad, rtol, atol, f"gradient(y, raw) in {name}")
            buf = np.full_like(rt, np.nan)
            what = f"gradient(y, raw, out) ({name})"
            gb = call("gradient", yt, rt, out=buf, what=what)
            _check_dtype(loss, gb, dtype, what)
            _assert_close(
                loss, gb, gt, rtol, atol, f"gradient(y, raw, out=buffer) ({name})"
            )

        def loss_gradient_in_dtype():
            _, _, loss_atol = float64_results()
            lt = call("loss", yt, rt, what=f"loss(y, raw) ({name})")
            gt = call("gradient", yt, rt, what=f"gradient(y, raw) ({name})")
            for out in (None, np.full_like(rt, np.nan)):
                what = (
                    f"loss_gradient(y, raw{'' if out is None else ', out=buffer'}) "
                    f"({name})"
                )
                fused = call("loss_gradient", yt, rt, out=out, what=what)
                if not (isinstance(fused, tuple) and len(fused) == 2):
                    _fail(loss, f"{what} must return a (loss, gradient) tuple.")
                fl, fg = fused
                _check_dtype(loss, fl, dtype, what + " loss")
                _check_dtype(loss, fg, dtype, what + " gradient")
                _assert_close(
                    loss, fl, lt, rtol, loss_atol, what + " loss against loss()"
                )
                _assert_close(
                    loss, fg, gt, rtol, atol, what + " gradient against gradient()"
                )

        def inverse_link_in_dtype():
            pred = call("inverse_link", rt, what=f"inverse_link(raw) ({name})")
            _check_dtype(loss, pred, dtype, f"inverse_link(raw) ({name})")
            ref = _link_reference(loss.link, rt)
            if ref is not None:
                _assert_close(
                    loss,
                    pred,
                    ref,
                    rtol,
                    atol,
                    f"inverse_link(raw) ({name}) against the {loss.link.name!r} link",
                )
            buf = np.full_like(rt, np.nan)
            what = f"inverse_link(raw, out) ({name})"
            pb = call("inverse_link", rt, out=buf, what=what)
            _assert_close(
                loss, pb, pred, 0, 0, f"inverse_link(raw, out=buffer) ({name})"
            )
            if loss.classification and not np.all((pred >= 0) & (pred <= 1)):
                _fail(
                    loss,
                    f"inverse_link(raw) ({name}) must give probabilities in [0, 1].",
                )
            if loss.link == "softmax":
                _assert_close(
                    loss,
                    pred.sum(axis=1),
                    np.ones(n_samples),
                    rtol,
                    atol,
                    f"rows of inverse_link(raw) ({name}) must sum to 1",
                )

        def extreme_outputs():
            # +-extreme and 0, mixed within every row.
            pattern = np.array([1.0, -1.0, 0.0])[
                (np.arange(n_samples)[:, None] + np.arange(n_outputs)) % 3
            ]
            re = (extreme * pattern).astype(dtype)
            where = f"at extreme raw outputs (±{extreme:g}, {name})"
            with np.errstate(all="ignore"):
                values = [
                    (
                        "loss(y, raw)",
                        call("loss", yt, re, what="loss(y, raw) " + where),
                    ),
                    (
                        "gradient(y, raw)",
                        call("gradient", yt, re, what="gradient " + where),
                    ),
                    (
                        "inverse_link(raw)",
                        call("inverse_link", re, what="inverse_link " + where),
                    ),
                ]
                fl, fg = call("loss_gradient", yt, re, what="loss_gradient " + where)
            values += [
                ("loss_gradient(y, raw) loss", fl),
                ("loss_gradient(y, raw) gradient", fg),
            ]
            for label, value in values:
                if not np.all(np.isfinite(value)):
                    _fail(
                        loss,
                        f"{label} is not finite {where}: {np.asarray(value).tolist()} "
                        "(use a stable formulation such as log-sum-exp).",
                    )

        checks.add(loss_in_dtype, f"loss_{name}")
        checks.add(gradient_in_dtype, f"gradient_{name}")
        checks.add(loss_gradient_in_dtype, f"loss_gradient_{name}")
        checks.add(inverse_link_in_dtype, f"inverse_link_{name}")
        checks.add(extreme_outputs, f"extreme_outputs_{name}")

    for dtype in dtypes:
        add_dtype_checks(np.dtype(dtype))
    yield from checks


_KINDS["loss"] = (losses.Loss, _yield_loss_checks)


# ---------------------------------------------------------------- optimizers
def _quadratic(dim=10):
    """A, b and the minimiser of 0.5 x'Ax - b'x, eigenvalues of A in [1, 10]."""
    rng = np.random.RandomState(0)
    q, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
    a = (q * np.linspace(1.0, 10.0, dim)) @ q.T
    a = 0.5 * (a + a.T)
    b = rng.normal(size=dim)
    return a, b, np.linalg.solve(a, b)


def _rosenbrock(x, grad):
    """Value of the Rosenbrock function at ``x``; its gradient into ``grad``."""
    u, v = x[0], x[1]
    r = v - u * u
    grad[0] = -2 * (1 - u) - 400 * u * r
    grad[1] = 200 * r
    return (1 - u) ** 2 + 100 * r * r


def _default_settings(optimizer):
    """(learning_rate, n_steps) that the built-in optimizer kinds converge with."""
    from . import optimizers as o

    if isinstance(optimizer, o.SGD):
        return 1e-3, 5000
    if isinstance(optimizer, o.Adagrad):
        return 1.0, 10000
    if isinstance(optimizer, o.RMSprop):
        return 3e-3, 10000
    return 2e-2, 10000  # Adam and other adaptive methods


def _lr_at(learning_rate, i, n_steps):
    """Constant for the first half, then cosine decay to learning_rate / 1000."""
    half = n_steps // 2
    if i < half:
        return learning_rate
    progress = (i - half) / max(n_steps - half, 1)
    return learning_rate * (
        1e-3 + (1 - 1e-3) * 0.5 * (1 + math.cos(math.pi * progress))
    )


def check_optimizer(
    optimizer, dtypes=_DEFAULT_DTYPES, learning_rate=None, n_steps=None
):
    """Check an optimizer against the contract of :class:`sknn.optimizers.Optimizer`.

    For every dtype in ``dtypes``, the optimizer must reach the minimiser of a
    convex quadratic ``0.5 x'Ax - b'x`` (dimension 10, eigenvalues of ``A`` in
    [1, 10], from 0) to a relative distance of 1e-3, and the minimum (1, 1) of
    the Rosenbrock function from (-1.2, 1) to a distance of 1e-2.

    A stochastic optimizer (``optimizer.stochastic``) is driven as the
    estimator drives it: ``state = optimizer.init(params)``, then
    ``optimizer.step(params, grad, state, lr)`` with a fresh gradient each
    step. The step size is constant for the first half of the ``n_steps``
    steps and then decays along a cosine to a thousandth of it, as a
    learning-rate schedule would at the end of training. A full-batch
    optimizer is run as ``optimizer.minimize(fun, params, max_iter, tol)``.

    Also verified: ``params`` is updated in place and keeps its dtype, the
    state's arrays have that dtype and share no memory with ``params``,
    ``init`` leaves ``params`` unchanged, two runs from the same start give
    identical results, and the optimizer itself is not mutated.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer instance to check.
    dtypes : sequence of dtype, default=(np.float32, np.float64)
        The floating dtypes that must be preserved.
    learning_rate : float, optional
        Peak step size for a stochastic optimizer. Defaults to the
        optimizer's own ``learning_rate`` when set, else a value suited to
        its kind (1e-3 for SGD, 3e-3 for RMSprop, 1.0 for Adagrad, 2e-2
        otherwise).
    n_steps : int, optional
        Steps per problem for a stochastic optimizer (default 5000 for SGD,
        10000 otherwise), or ``max_iter`` for a full-batch one (default 500).

    Raises
    ------
    AssertionError
        At the first failing check, with a message naming the component, the
        check and the violation.

    See Also
    --------
    yield_component_checks : The same checks one by one, by name.

    Examples
    --------
    >>> from sknn.optimizers import SGD, LBFGS
    >>> from sknn.testing import check_optimizer
    >>> check_optimizer(SGD(), n_steps=3000, dtypes=["float64"])
    >>> check_optimizer(LBFGS())

    Too large a step makes SGD diverge on the Rosenbrock function:

    >>> import numpy as np
    >>> with np.errstate(all="ignore"):  # doctest: +ELLIPSIS
    ...     check_optimizer(SGD(learning_rate=0.01), dtypes=["float64"])
    Traceback (most recent call last):
    ...
    AssertionError: SGD(learning_rate=0.01): diverged on the Rosenbrock function ...
    """
    _run_all(
        _yield_optimizer_checks(
            optimizer, dtypes=dtypes, learning_rate=learning_rate, n_steps=n_steps
        )
    )


def _yield_optimizer_checks(
    optimizer, dtypes=_DEFAULT_DTYPES, learning_rate=None, n_steps=None
):
    _check_kind(optimizer, optimizers.Optimizer, "optimizer")
    checks = _Checks(optimizer, "Running the optimizer")
    stochastic = bool(getattr(optimizer, "stochastic", True))
    if stochastic:
        default_lr, default_steps = _default_settings(optimizer)
        if learning_rate is None:
            learning_rate = getattr(optimizer, "learning_rate", None) or default_lr
        n_steps = default_steps if n_steps is None else int(n_steps)
    else:
        n_steps = 500 if n_steps is None else int(n_steps)
    run = _run_stochastic if stochastic else _run_full_batch
    a64, b64, x_star = _quadratic()

    def add_problem_checks(key, label, fun, start, target, tol, relative, dtype):
        where = f"on {label} ({dtype.name}, {n_steps} steps"
        where += f", learning_rate={learning_rate:g})" if stochastic else ")"

        def run_once():
            return run(
                optimizer, fun, start.astype(dtype), learning_rate, n_steps, label
            )

        first_run = functools.cache(run_once)  # shared by both checks

        def converges():
            x = first_run()
            if x.dtype != dtype:
                _fail(optimizer, f"params changed dtype to {x.dtype} {where}.")
            if not np.all(np.isfinite(x)):
                _fail(optimizer, f"diverged {where}: params {x.tolist()}.")
            dist = float(np.linalg.norm(x.astype(np.float64) - target))
            if relative:
                dist /= float(np.linalg.norm(target))
            if dist > tol:
                _fail(
                    optimizer,
                    f"did not converge {where}: {'relative ' if relative else ''}"
                    f"distance to the minimiser {dist:.3g} > {tol:g}; reached "
                    f"{x.tolist()}, minimiser {target.tolist()}.",
                )

        def reproducible():
            if not np.array_equal(run_once(), first_run(), equal_nan=True):
                _fail(
                    optimizer,
                    f"two runs from the same start gave different results {where}; "
                    "all run-time state must live in the state object, not the "
                    "optimizer.",
                )

        checks.add(converges, f"{key}_{dtype.name}")
        checks.add(reproducible, f"{key}_{dtype.name}_reproducible")

    for dtype in map(np.dtype, dtypes):
        a, b = a64.astype(dtype), b64.astype(dtype)

        def quad(x, grad, a=a, b=b):
            np.matmul(a, x, out=grad)
            grad -= b
            return float(0.5 * (grad - b) @ x)

        add_problem_checks(
            "quadratic",
            "the quadratic 0.5 x'Ax - b'x",
            quad,
            np.zeros(10),
            x_star,
            1e-3,
            True,
            dtype,
        )
        add_problem_checks(
            "rosenbrock",
            "the Rosenbrock function",
            _rosenbrock,
            np.array([-1.2, 1.0]),
            np.ones(2),
            1e-2,
            False,
            dtype,
        )
    yield from checks


_KINDS["optimizer"] = (optimizers.Optimizer, _yield_optimizer_checks)


def _run_stochastic(optimizer, fun, params, learning_rate, n_steps, label):
    start = params.copy()
    try:
        state = optimizer.init(params)
    except Exception as exc:
        _fail(optimizer, f"init(params) raised {type(exc).__name__}: {exc}")
    if not np.array_equal(params, start):
        _fail(optimizer, "init(params) changed params; it must only read them.")
    if isinstance(state, dict):
        arrays = list(state.values())
    elif isinstance(state, (list, tuple)):
        arrays = list(state)
    else:
        arrays = list(getattr(state, "__dict__", {}).values())
    for value in arrays:
        if isinstance(value, np.ndarray):
            if np.shares_memory(value, params):
                _fail(
                    optimizer, "the state returned by init shares memory with params."
                )
            if value.dtype.kind == "f" and value.dtype != params.dtype:
                _fail(
                    optimizer,
                    f"init(params) returned state arrays of dtype {value.dtype} for "
                    f"{params.dtype} params; they must match so that float32 "
                    "training stays float32.",
                )
    grad = np.empty_like(params)
    for i in range(n_steps):
        fun(params, grad)
        try:
            result = optimizer.step(
                params, grad, state, _lr_at(learning_rate, i, n_steps)
            )
        except Exception as exc:
            _fail(optimizer, f"step raised {type(exc).__name__} on {label}: {exc}")
        if i == 0:
            if result is not None and result is not params:
                _fail(
                    optimizer,
                    "step must update params in place (the estimator ignores "
                    "its return value).",
                )
            if np.array_equal(params, start):
                _fail(optimizer, f"the first step on {label} left params unchanged.")
        if not np.all(np.isfinite(params)):
            break
    return params


def _run_full_batch(optimizer, fun, params, learning_rate, n_steps, label):
    dtype = params.dtype
    seen = set()

    def fun_grad(p):
        seen.add(np.asarray(p).dtype)
        grad = np.empty_like(p)
        return fun(p, grad), grad

    try:
        optimizer.minimize(fun_grad, params, n_steps, 1e-10)
    except Exception as exc:
        _fail(optimizer, f"minimize raised {type(exc).__name__} on {label}: {exc}")
    if seen - {dtype}:
        _fail(
            optimizer,
            f"minimize evaluated the objective at {sorted(map(str, seen))} params "
            f"for {dtype} params; it must keep their dtype.",
        )
    return params


# ----------------------------------------------------------------- schedules
def check_schedule(schedule, base_lr=0.01, max_iter=50):
    """Check a learning-rate schedule against :class:`sknn.schedules.Schedule`.

    The schedule is called as the estimator calls it,
    ``schedule(base_lr, epoch, history, max_iter)``, for epochs ``0`` to
    ``max_iter`` with a synthetic training history (the loss falls, then
    stalls, as it does when a plateau is reached). Verified:

    - every epoch of the run (``0`` to ``max_iter - 1``) gets a positive,
      finite real learning rate, and the epoch after it (where ``warm_start``
      continues) a finite, non-negative one;
    - the schedule is pure: the same arguments give the same rate, and the
      history it is given is not changed;
    - the component is not mutated.

    Parameters
    ----------
    schedule : Schedule
        The schedule instance to check.
    base_lr : float, default=0.01
        The base learning rate.
    max_iter : int, default=50
        The estimator's ``max_iter``.

    Raises
    ------
    AssertionError
        At the first failing check, with a message naming the component, the
        check and the violation.

    See Also
    --------
    yield_component_checks : The same checks one by one, by name.

    Examples
    --------
    >>> from sknn.schedules import Cosine
    >>> from sknn.testing import check_schedule
    >>> check_schedule(Cosine(warmup=5))
    """
    _run_all(_yield_schedule_checks(schedule, base_lr=base_lr, max_iter=max_iter))


def _yield_schedule_checks(schedule, base_lr=0.01, max_iter=50):
    _check_kind(schedule, schedules.Schedule, "schedule")
    checks = _Checks(schedule, "Calling the schedule")

    def make_history():
        history = []
        for epoch in range(max_iter + 1):
            loss = 1.0 / (1 + min(epoch, max_iter // 3))  # falls, then stalls
            history.append(
                {
                    "epoch": epoch + 1,
                    "train_loss": loss,
                    "valid_loss": 1.1 * loss,
                    "valid_score": 1.0 - loss,
                    "learning_rate": base_lr,
                    "duration": 0.01,
                }
            )
        return history

    def call(epoch, history):
        try:
            return schedule(base_lr, epoch, history[:epoch], max_iter)
        except Exception as exc:
            _fail(
                schedule,
                f"schedule({base_lr}, {epoch}, history, {max_iter}) raised "
                f"{type(exc).__name__}: {exc}",
            )

    def where(epoch):
        return f"at epoch {epoch} (base_lr={base_lr}, max_iter={max_iter})"

    @checks.add
    def rates():
        history = make_history()
        for epoch in range(max_iter + 1):
            lr = call(epoch, history)
            if not isinstance(lr, numbers.Real) or isinstance(lr, bool):
                _fail(
                    schedule,
                    f"returned {lr!r} {where(epoch)}; it must return a real number.",
                )
            in_run = epoch < max_iter
            if not math.isfinite(lr) or lr < 0 or (in_run and lr == 0):
                need = "positive" if in_run else "non-negative"
                _fail(
                    schedule,
                    f"returned {lr!r} {where(epoch)}; it must be finite and {need}.",
                )

    @checks.add
    def pure():
        history = make_history()
        for epoch in range(max_iter + 1):
            if _freeze(call(epoch, history)) != _freeze(call(epoch, history)):
                _fail(
                    schedule,
                    f"is not pure: two calls {where(epoch)} returned different rates.",
                )

    @checks.add
    def history_unchanged():
        history = make_history()
        frozen = _freeze(history)
        for epoch in range(max_iter + 1):
            call(epoch, history)
            if _freeze(history) != frozen:
                _fail(
                    schedule,
                    f"changed the training history it was given {where(epoch)}.",
                )

    yield from checks


_KINDS["schedule"] = (schedules.Schedule, _yield_schedule_checks)


# -------------------------------------------------------------------- layers
# The checks of a layer are yielded one by one (name, check), each check a
# function of no arguments that raises AssertionError naming the layer and the
# check; check_layer runs them all.
def _layer_data(n_in, rng):
    """Fitting data (last column binary), evaluation rows, sample weights.

    The evaluation rows have no exact zeros or repeated values, where
    piecewise-linear functions (ReLU, bins) have kinks.
    """
    X_fit = rng.normal(size=(40, n_in))
    X = rng.normal(size=(7, n_in))
    if n_in > 1:
        X_fit[:, -1] = np.arange(40) % 2
        X[:, -1] = rng.uniform(0.1, 0.9, size=7)
    weight = rng.uniform(0.5, 2.0, size=7)
    return X_fit, X, weight


def _row_noise(n):
    """Dropout noise that is the same at every call (fixed keys and salt)."""
    from ._sampling import KeyedUniforms

    keys = (np.arange(n, dtype=np.uint64) + np.uint64(1)) * np.uint64(
        0x9E3779B97F4A7C15
    )
    return KeyedUniforms(keys, salt=7)


def _copy_state(state):
    return {k: np.array(v, copy=True) for k, v in state.items()}


class _LayerRun:
    """Calls a layer the way a network does, reporting errors as check failures."""

    def __init__(self, layer, n_in, dtype=np.float64, seed=0):
        from .initializers import GlorotUniform

        self.layer, self.n_in, self.dtype = layer, n_in, np.dtype(dtype)
        rng = np.random.RandomState(seed)
        X_fit, X, self.weight = _layer_data(n_in, rng)
        self.X_fit, self.X = X_fit.astype(dtype), X.astype(dtype)
        self.state = self.call("fit_state", self.X_fit, None)
        if not isinstance(self.state, dict):
            _fail(
                layer, f"fit_state must return a dict, got {type(self.state).__name__}."
            )
        self.shapes = self.call("param_shapes", n_in, self.state)
        self.width = self.call("output_width", n_in, self.state)
        self.params = self.new_params()
        self.call(
            "initialize",
            self.params,
            n_in,
            np.random.RandomState(seed),
            GlorotUniform(),
        )
        self.R = np.random.RandomState(seed + 1).normal(size=(len(X), self.width))

    def call(self, method, *args, **kwargs):
        try:
            return getattr(self.layer, method)(*args, **kwargs)
        except AssertionError:
            raise
        except Exception as exc:
            _fail(self.layer, f"{method} raised {type(exc).__name__}: {exc}")

    def new_params(self, fill=np.nan):
        """Views of one flat vector, as a network gives them."""
        sizes = [int(np.prod(s, dtype=np.int64)) for s in self.shapes.values()]
        flat = np.full(sum(sizes), fill, dtype=self.dtype)
        views, start = {}, 0
        for (name, shape), size in zip(self.shapes.items(), sizes):
            views[name] = flat[start : start + size].reshape(shape)
            start += size
        return views

    def forward(
        self, X, training, params=None, state=None, sample_weight=None, noise=None
    ):
        params = self.params if params is None else params
        state = _copy_state(self.state) if state is None else state
        if training and noise is None:
            noise = _row_noise(X.shape[0])
        result = self.call(
            "forward",
            params,
            state,
            X,
            training=training,
            sample_weight=sample_weight,
            noise=noise,
        )
        if not (isinstance(result, tuple) and len(result) == 2):
            _fail(self.layer, "forward must return a tuple (out, cache).")
        return result

    def objective(self, X, training, params=None, sample_weight=None):
        out, _ = self.forward(X, training, params, sample_weight=sample_weight)
        return float(np.sum(np.asarray(out, dtype=np.float64) * self.R))

    def gradients(self, X, training, sample_weight=None, need_input_grad=True, R=None):
        """Input gradient and parameter gradients of sum(out * R)."""
        state = _copy_state(self.state)
        out, cache = self.forward(X, training, state=state, sample_weight=sample_weight)
        grads = self.new_params(np.nan)
        R = self.R if R is None else R
        d_in = self.call(
            "backward",
            self.params,
            state,
            cache,
            R.astype(self.dtype),
            grads,
            need_input_grad=need_input_grad,
        )
        return out, d_in, grads


def _numeric_gradient(f, array, rng, max_entries=60):
    """Central differences of ``f()`` at up to ``max_entries`` entries of ``array``."""
    flat = array.reshape(-1)
    idx = np.arange(flat.size)
    if flat.size > max_entries:
        idx = np.sort(rng.choice(flat.size, max_entries, replace=False))
    numeric = np.empty(len(idx))
    for j, i in enumerate(idx):
        saved = flat[i]
        flat[i] = saved + _H
        up = f()
        flat[i] = saved - _H
        down = f()
        flat[i] = saved
        numeric[j] = (up - down) / (2 * _H)
    return idx, numeric


def _check_layer_shapes(layer, n_in):
    run = _LayerRun(layer, n_in)
    shapes = run.shapes
    if not isinstance(shapes, dict):
        _fail(layer, f"param_shapes must return a dict, got {type(shapes).__name__}.")
    for name, shape in shapes.items():
        ok = isinstance(name, str) and isinstance(shape, tuple)
        if not ok or not all(isinstance(d, numbers.Integral) and d >= 0 for d in shape):
            _fail(
                layer,
                f"param_shapes entry {name!r}: {shape!r}; names must be str and "
                "shapes tuples of non-negative ints.",
            )
    again = run.call("param_shapes", n_in, run.state)
    if again != shapes or list(again) != list(shapes):
        _fail(layer, "two calls of param_shapes gave different shapes (or orders).")
    l2 = getattr(layer, "l2", ())
    if not isinstance(l2, tuple) or set(l2) - set(shapes):
        _fail(
            layer,
            f"l2={l2!r} must be a tuple naming parameters among {list(shapes)}.",
        )
    width = run.width
    if not isinstance(width, numbers.Integral) or isinstance(width, bool) or width < 1:
        _fail(layer, f"output_width must return a positive int, got {width!r}.")
    for name, view in run.params.items():
        if not np.all(np.isfinite(view)):
            _fail(layer, f"initialize left parameter {name!r} unfilled or non-finite.")
    twin = _LayerRun(layer, n_in)
    for name in shapes:
        if not np.array_equal(run.params[name], twin.params[name]):
            _fail(layer, f"initialize is not deterministic for {name!r} given the rng.")
    for training in (True, False):
        out, _ = run.forward(run.X, training)
        mode = "training" if training else "prediction"
        _check_dtype(layer, out, np.float64, f"forward ({mode} mode)")
        if out.shape != (len(run.X), width):
            _fail(
                layer,
                f"forward ({mode} mode) returned shape {out.shape}; output_width "
                f"says ({len(run.X)}, {width}).",
            )


def _check_layer_fit_state(layer, n_in):
    run = _LayerRun(layer, n_in)
    X0 = run.X_fit.copy()
    again = run.call("fit_state", run.X_fit, None)
    _check_not_mutated(layer, run.X_fit, X0, "fit_state")
    if set(again) != set(run.state) or any(
        not np.array_equal(again[k], run.state[k]) for k in again
    ):
        _fail(layer, "fit_state is not deterministic: two calls gave different states.")
    for name, value in run.state.items():
        if not isinstance(value, np.ndarray):
            _fail(layer, f"state entry {name!r} must be an ndarray, got {type(value)}.")
    before = _copy_state(run.state)
    state = _copy_state(run.state)
    X0 = run.X.copy()
    run.forward(run.X, False, state=state)
    _check_not_mutated(layer, run.X, X0, "forward (prediction mode)")
    for name in before:
        if not np.array_equal(state[name], before[name]):
            _fail(layer, f"forward in prediction mode changed state entry {name!r}.")
    arrays = {k: state[k] for k in state}
    run.forward(run.X, True, state=state, sample_weight=run.weight)
    _check_not_mutated(layer, run.X, X0, "forward (training mode)")
    if set(state) != set(before):
        _fail(layer, "forward in training mode added or removed state entries.")
    for name, value in state.items():
        if value is not arrays[name] or value.shape != before[name].shape:
            _fail(
                layer,
                f"forward in training mode replaced state entry {name!r}; update "
                "it in place (the estimator keeps that array).",
            )


def _check_layer_gradient(layer, n_in, training):
    run = _LayerRun(layer, n_in)
    mode = "training" if training else "prediction"
    sw = run.weight if training else None
    rng = np.random.RandomState(3)
    X = run.X.copy()
    for need in (True, False):
        out, d_in, grads = run.gradients(X, training, sw, need_input_grad=need)
        if not need and d_in is not None:
            _fail(layer, "backward(..., need_input_grad=False) must return None.")
    _, d_in, grads = run.gradients(X, training, sw)
    for name, view in run.params.items():
        idx, numeric = _numeric_gradient(
            lambda: run.objective(X, training, sample_weight=sw), view, rng
        )
        _assert_close(
            layer,
            grads[name].reshape(-1)[idx],
            numeric,
            1e-5,
            1e-7,
            f"the gradient of parameter {name!r} written by backward ({mode} mode; "
            "checked against central differences; it must overwrite grads)",
        )
    if d_in is None:
        _fail(layer, f"backward ({mode} mode) returned None for need_input_grad=True.")
    _check_dtype(layer, d_in, np.float64, f"backward ({mode} mode)")
    idx, numeric = _numeric_gradient(
        lambda: run.objective(X, training, sample_weight=sw), X, rng
    )
    _assert_close(
        layer,
        np.asarray(d_in).reshape(-1)[idx],
        numeric,
        1e-5,
        1e-7,
        f"the input gradient backward returns ({mode} mode; checked against central "
        "differences)",
    )


def _check_layer_dtypes(layer, n_in, dtypes):
    ref = _LayerRun(layer, n_in)
    for dtype in dtypes:
        dtype = np.dtype(dtype)
        run = _LayerRun(layer, n_in, dtype)
        for name, value in run.state.items():
            if value.dtype.kind == "f":
                _check_dtype(layer, value, dtype, f"fit_state entry {name!r}")
        # The float64 reference on the same (rounded) values.
        ref.X, ref.state = run.X.astype(np.float64), _copy_state(run.state)
        ref.state = {
            k: v.astype(np.float64) if v.dtype.kind == "f" else v
            for k, v in ref.state.items()
        }
        for name in ref.params:
            ref.params[name][...] = run.params[name]
        for training in (True, False):
            mode = f"{'training' if training else 'prediction'} mode, {dtype.name}"
            out, d_in, grads = run.gradients(run.X, training, run.weight)
            out64, d64, grads64 = ref.gradients(ref.X, training, run.weight)
            _check_dtype(layer, out, dtype, f"forward ({mode})")
            _check_dtype(layer, d_in, dtype, f"backward ({mode})")
            rtol, atol = _tolerances(dtype)
            if dtype != np.float64:
                rtol, atol = 1e-3, 1e-4
            pairs = [("forward", out, out64), ("the input gradient", d_in, d64)]
            pairs += [(f"the gradient of {k!r}", grads[k], grads64[k]) for k in grads]
            for what, actual, desired in pairs:
                scale = max(1.0, float(np.max(np.abs(desired), initial=0)))
                _assert_close(
                    layer,
                    actual,
                    desired,
                    rtol,
                    atol * scale,
                    f"{what} ({mode}) against float64",
                )


def _check_layer_weights(layer, n_in):
    """A weight of k gives the statistics, outputs and gradients of k repeated rows."""
    from ._sampling import KeyedUniforms, row_keys

    run = _LayerRun(layer, n_in)
    counts = np.array([0, 1, 2, 3, 1, 2, 1])
    rep = np.repeat(np.arange(len(counts)), counts)
    X_fit_w = np.array([0, 1, 2] * 13 + [1], dtype=float)
    fit_rep = np.repeat(np.arange(len(run.X_fit)), X_fit_w.astype(int))
    state_w = run.call("fit_state", run.X_fit, X_fit_w)
    state_r = run.call("fit_state", run.X_fit[fit_rep], None)
    for name in state_r:
        _assert_close(
            layer,
            state_w[name],
            state_r[name],
            1e-10,
            1e-12,
            f"fit_state entry {name!r} with integer sample weights against repeated "
            "rows",
        )
    width = run.call("output_width", n_in, state_r)
    R_rows = np.random.RandomState(2).normal(size=(len(counts), width))
    for training in (True, False):
        mode = "training" if training else "prediction"
        results = []
        for X, sw in ((run.X, counts.astype(float)), (run.X[rep], None)):
            state = _copy_state(state_r)
            noise = KeyedUniforms(row_keys(X, 5), 11)
            out, cache = run.forward(
                X, training, state=state, sample_weight=sw, noise=noise
            )
            out = np.array(out, copy=True)
            R = R_rows * counts[:, None] if sw is not None else R_rows[rep]
            grads = run.new_params(np.nan)
            d_in = run.call("backward", run.params, state, cache, R, grads)
            results.append((out, d_in, grads, state))
        (out_w, d_w, g_w, s_w), (out_r, d_r, g_r, s_r) = results
        where = f"({mode} mode, integer sample_weight against repeated rows)"
        keep = counts > 0
        _assert_close(layer, out_w[rep], out_r, 1e-10, 1e-12, f"forward output {where}")
        summed = np.zeros_like(d_w)
        np.add.at(summed, rep, d_r)
        _assert_close(
            layer, d_w[keep], summed[keep], 1e-9, 1e-11, f"input gradient {where}"
        )
        for name in g_w:
            _assert_close(
                layer,
                g_w[name],
                g_r[name],
                1e-9,
                1e-11,
                f"gradient of {name!r} {where}",
            )
        for name in s_w:
            _assert_close(
                layer, s_w[name], s_r[name], 1e-10, 1e-12, f"state {name!r} {where}"
            )


def _check_layer_sparse(layer, n_in):
    """A layer that declares ``accepts_sparse`` computes the same on sparse input."""
    import scipy.sparse as sp

    if not getattr(layer, "accepts_sparse", False):
        return
    run = _LayerRun(layer, n_in)
    X = run.X.copy()
    X[np.abs(X) < 0.5] = 0
    for training in (True, False):
        mode = "training" if training else "prediction"
        out, d_in, grads = run.gradients(X, training, run.weight)
        out_s, d_s, grads_s = run.gradients(sp.csr_matrix(X), training, run.weight)
        _check_dtype(layer, out_s, np.float64, f"forward of sparse input ({mode})")
        _assert_close(
            layer, out_s, out, 1e-12, 1e-12, f"forward of sparse input ({mode})"
        )
        for name in grads:
            _assert_close(
                layer,
                grads_s[name],
                grads[name],
                1e-12,
                1e-12,
                f"the gradient of {name!r} for sparse input ({mode})",
            )


def _yield_layer_checks(layer, n_in=5, dtypes=_DEFAULT_DTYPES):
    """Yield ``(name, check)`` for every contract check of ``layer``."""
    _check_kind(layer, layers.Layer, "layer")
    checks = _Checks(layer, "Using the layer")
    for name, body in [
        ("param_shapes", lambda: _check_layer_shapes(layer, n_in)),
        ("fit_state", lambda: _check_layer_fit_state(layer, n_in)),
        ("gradient_training", lambda: _check_layer_gradient(layer, n_in, True)),
        ("gradient_prediction", lambda: _check_layer_gradient(layer, n_in, False)),
        ("dtypes", lambda: _check_layer_dtypes(layer, n_in, dtypes)),
        ("sample_weight_equals_repeated", lambda: _check_layer_weights(layer, n_in)),
        ("sparse_input", lambda: _check_layer_sparse(layer, n_in)),
    ]:
        checks.add(body, name)
    yield from checks


_KINDS["layer"] = (layers.Layer, _yield_layer_checks)


def check_layer(layer, n_in=5, dtypes=_DEFAULT_DTYPES):
    """Check a layer against the contract of :class:`sknn.layers.Layer`.

    The layer's state is fitted on 40 random rows (whose last column is
    binary), its parameters initialised by :meth:`~sknn.layers.Layer.initialize`,
    and it is run on 7 other rows, as a network runs it. Each check is named
    in the error message:

    - ``param_shapes``: shapes are tuples of non-negative ints, the same at
      every call; ``l2`` names parameters; ``output_width`` is a positive int
      and the width of the output; ``initialize`` fills every parameter,
      deterministically given the rng;
    - ``fit_state``: deterministic, arrays only, the input unchanged;
      prediction mode leaves the state unchanged and training mode updates
      it in place; ``forward`` never changes its input;
    - ``gradient_training`` and ``gradient_prediction``: the parameter
      gradients ``backward`` writes (over NaN-filled views: they must be
      overwritten) and the input gradient it returns equal central finite
      differences of ``sum(out * R)`` in float64, in training mode (with
      sample weights and fixed dropout noise) and prediction mode;
      ``need_input_grad=False`` returns None;
    - ``dtypes``: for each dtype, state, output and gradients keep it and
      agree with float64;
    - ``sample_weight_equals_repeated``: integer sample weights give the
      state, outputs, gradients and state updates of repeated rows, with
      dropout noise keyed by row content;
    - ``sparse_input``: a layer that declares ``accepts_sparse`` gives the
      same output and gradients for a sparse input as for the dense one;
    - and no check changes the layer itself.

    Parameters
    ----------
    layer : Layer
        The layer instance to check.
    n_in : int, default=5
        Width of the input.
    dtypes : sequence of dtype, default=(np.float32, np.float64)
        The floating dtypes that must be preserved.

    Raises
    ------
    AssertionError
        At the first failing check, naming the layer and the check.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.layers import Dense, Layer
    >>> from sknn.testing import check_layer
    >>> check_layer(Dense(4, activation="tanh"))

    A layer of one's own, ``out = X * weight`` (one weight per column):

    >>> class Scale(Layer):
    ...     def param_shapes(self, n_in, state=None):
    ...         return {"weight": (n_in,)}
    ...     def initialize(self, params, n_in, rng, initializer):
    ...         params["weight"][...] = rng.uniform(0.5, 2.0, n_in)
    ...     def forward(self, params, state, X, *, training, sample_weight=None,
    ...                 noise=None):
    ...         return X * params["weight"], X
    ...     def backward(self, params, state, cache, d_out, grads,
    ...                  need_input_grad=True):
    ...         grads["weight"][...] = np.einsum("ij,ij->j", d_out, cache)
    ...         return d_out * params["weight"] if need_input_grad else None
    >>> check_layer(Scale())

    A weight gradient that forgets the input is caught:

    >>> class BadScale(Scale):
    ...     def backward(self, params, state, cache, d_out, grads,
    ...                  need_input_grad=True):
    ...         grads["weight"][...] = d_out.sum(axis=0)
    ...         return d_out * params["weight"] if need_input_grad else None
    >>> check_layer(BadScale())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    AssertionError: BadScale(): ...the gradient of ... (check: gradient_training)
    """
    _run_all(_yield_layer_checks(layer, n_in=n_in, dtypes=dtypes))
