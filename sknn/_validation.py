"""Parameter checks shared by the estimators and the components.

Each check raises ``TypeError`` for a value of the wrong type and
``ValueError`` for a value out of range, with a message that names the
parameter, shows the value and says what is accepted.
"""

import numbers

import numpy as np

__all__ = ["check_number", "check_bool", "check_choice", "check_params"]


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
    """Check that ``value`` is a finite number (int if ``integer``) in a range."""
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
        np.isnan(value)
        or (np.isinf(value) and not inf_ok)
        or (low is not None and (value <= low if low_open else value < low))
        or (high is not None and (value >= high if high_open else value > high))
    )
    if bad:
        raise ValueError(f"{name} must be {accepted}; got {value!r}.")
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
