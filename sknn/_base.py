"""Component base class and the exception a callback raises to stop training."""

import inspect

__all__ = ["Component", "StopTraining"]


class StopTraining(Exception):
    """Raised by a callback's ``on_epoch_end`` to end training after this epoch.

    The message, if any, is shown in the estimator's verbose output.
    """


class Component:
    """Base class of every pluggable component.

    A component is configuration only: its hyperparameters are the arguments of
    ``__init__``, stored unchanged under the same names, readable with
    :meth:`get_params` and writable with :meth:`set_params`, so that
    :func:`sklearn.base.clone` copies it and a grid search can tune it
    (``optimizer__learning_rate``). Anything that changes during training lives
    in state objects returned by the component and kept by the estimator.
    """

    @classmethod
    def _param_names(cls):
        init = cls.__init__
        if init is object.__init__:
            return []
        params = inspect.signature(init).parameters.values()
        for p in params:
            if p.kind is p.VAR_POSITIONAL or p.kind is p.VAR_KEYWORD:
                raise TypeError(
                    f"{cls.__name__}.__init__ must name its parameters explicitly "
                    "(no *args or **kwargs), so that get_params can find them."
                )
        return sorted(p.name for p in params if p.name != "self")

    def get_params(self, deep=True):
        """Return the hyperparameters of this component.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of nested components, as
            ``name__param``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        out = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                out.update((f"{name}__{k}", v) for k, v in value.get_params().items())
            out[name] = value
        return out

    def set_params(self, **params):
        """Set hyperparameters of this component.

        Parameters
        ----------
        **params : dict
            New values, by parameter name (``name__param`` for nested
            components).

        Returns
        -------
        self : Component
            This component.
        """
        valid = self._param_names()
        nested = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for {type(self).__name__}. "
                    f"Valid parameters are: {valid}."
                )
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def __repr__(self):
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
        }
        args = []
        for name in self._param_names():
            value = getattr(self, name)
            default = defaults.get(name, inspect.Parameter.empty)
            try:
                same = value is default or bool(value == default)
            except Exception:  # arrays and other objects without a plain ==
                same = False
            if not same:
                args.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(args)})"
