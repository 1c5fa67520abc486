"""Parameter checks shared by the estimators and the components.

Each check raises ``TypeError`` for a value of the wrong type and
``ValueError`` for a value out of range, with a message that names the
parameter, shows the value and says what is accepted.
"""

import functools
import inspect
import numbers
import sys

import numpy as np
from sklearn import get_config

__all__ = [
    "check_number",
    "check_bool",
    "check_choice",
    "check_params",
    "array_api_inputs",
]


def _is_int(x):
    return isinstance(x, numbers.Integral) and not isinstance(x, bool | np.bool_)


def _is_real(x):
    return isinstance(x, numbers.Real) and not isinstance(x, bool | np.bool_)


def check_number(
    name,
    value,
    *,
    low=None,
    high=None,
    low_open=False,
    high_open=False,
    integer=False,
    allow_inf=False,
    allow_none=False,
):
    """Check that ``value`` is a finite number (int if ``integer``) in a range.

    Integers must also fit in 64 bits: NumPy and scipy take them as C
    integers.
    """
    if allow_none and value is None:
        return value
    inf_ok = allow_inf and _is_real(value) and value == np.inf
    ok_type = (_is_int(value) or inf_ok) if integer else _is_real(value)
    kind = "an int" if integer else "a float"
    if allow_inf:
        kind += " or np.inf"
    bounds = [
        "" if low is None else f"{'>' if low_open else '>='} {low}",
        "" if high is None else f"{'<' if high_open else '<='} {high}",
    ]
    accepted = " ".join([kind, " and ".join(b for b in bounds if b)]).strip()
    if allow_none:
        accepted += ", or None"
    if not ok_type:
        raise TypeError(
            f"{name} must be {accepted}; got {value!r} of type {type(value).__name__}."
        )
    bad = (
        (not _is_int(value) and (np.isnan(value) or (np.isinf(value) and not inf_ok)))
        or (low is not None and (value <= low if low_open else value < low))
        or (high is not None and (value >= high if high_open else value > high))
    )
    if bad:
        raise ValueError(f"{name} must be {accepted}; got {value!r}.")
    if _is_int(value) and not -(2**63) <= value < 2**63:
        raise ValueError(
            f"{name} must be {accepted} that fits in 64 bits (at most 2**63 - 1); "
            f"got {value!r}."
        )
    return value


def check_bool(name, value):
    """Check that ``value`` is a bool."""
    if not isinstance(value, bool | np.bool_):
        raise TypeError(
            f"{name} must be True or False; got {value!r} of type "
            f"{type(value).__name__}."
        )
    return bool(value)


def check_choice(name, value, choices):
    """Check that ``value`` is one of the strings in ``choices``."""
    if not isinstance(value, str):
        raise TypeError(
            f"{name} must be one of {sorted(choices)}; got {value!r} of type "
            f"{type(value).__name__}."
        )
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(choices)}; got {value!r}.")
    return value


def check_params(component):
    """Check a component's hyperparameters against its ``_param_checks``.

    ``_param_checks`` maps a parameter name to ``"bool"``, a set of allowed
    strings, or keyword arguments of :func:`check_number`. Messages name the
    parameter as ``ClassName.param``.
    """
    for name, rule in getattr(component, "_param_checks", {}).items():
        label = f"{type(component).__name__}.{name}"
        value = getattr(component, name)
        if rule == "bool":
            check_bool(label, value)
        elif isinstance(rule, set | frozenset):
            check_choice(label, value, rule)
        else:
            check_number(label, value, **rule)


def _namespace_of(x):
    """``(namespace, device)`` of an array-API array other than NumPy's, or None."""
    if isinstance(x, np.ndarray | np.generic) or not hasattr(x, "__dlpack__"):
        return None
    get_namespace = getattr(x, "__array_namespace__", None)
    if get_namespace is not None:
        xp = get_namespace()
    else:  # PyTorch: its tensors predate __array_namespace__
        xp = sys.modules[type(x).__module__.partition(".")[0]]
    return xp, getattr(x, "device", None)


def _to_numpy(name, x):
    """``x``, or a NumPy array (on the CPU) of it if it is an array-API array."""
    if _namespace_of(x) is None:
        return x
    try:
        return np.from_dlpack(x)
    except (BufferError, RuntimeError, TypeError, ValueError):
        pass
    try:
        return np.from_dlpack(x, device="cpu")
    except Exception as exc:
        raise TypeError(
            f"{name} is a {type(x).__module__}.{type(x).__name__} (device "
            f"{getattr(x, 'device', None)}) that cannot be copied to a NumPy array: "
            f"{exc}. sknn computes in NumPy on the CPU: pass an array that DLPack "
            "can export to the CPU (for a torch tensor, tensor.detach().cpu())."
        ) from exc


def array_api_inputs(method):
    """Let ``method`` take array-API arrays (PyTorch, array-api-strict, ...).

    With ``sklearn.set_config(array_api_dispatch=True)``, array arguments from
    another namespace than NumPy's are copied to NumPy through DLPack, the
    method computes in NumPy, and a numeric array it returns goes back to the
    namespace and device of ``X`` (the first argument), as scikit-learn's
    convention "everything follows X" asks. Without array API dispatch the
    arguments pass unchanged (and validation turns them into NumPy arrays).
    """
    names = list(inspect.signature(method).parameters)[1:]

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        if (
            len(args) == 1 and not kwargs and type(args[0]) is np.ndarray
        ) or not get_config()["array_api_dispatch"]:
            return method(self, *args, **kwargs)
        target = _namespace_of(args[0] if args else kwargs.get(names[0]))
        args = [_to_numpy(n, a) for n, a in zip(names, args)]
        kwargs = {k: _to_numpy(k, v) for k, v in kwargs.items()}
        result = method(self, *args, **kwargs)
        if target is None or not (
            isinstance(result, np.ndarray) and result.dtype.kind in "biuf"
        ):
            return result
        xp, device = target
        return xp.asarray(result, device=device)

    return wrapper
