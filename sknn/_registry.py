"""One open registry per component kind, with lazy entry-point loading."""

import importlib.metadata
import inspect
import pickle

from sklearn.base import clone

from ._validation import check_params

# Pickles classes from __main__ and functions by value. scikit-learn's joblib
# depends on cloudpickle (joblib >= 1.6) or ships a copy of it (before).
try:
    import cloudpickle as _pickler
except ImportError:  # pragma: no cover - depends on the joblib version
    try:
        from joblib.externals import cloudpickle as _pickler
    except ImportError:
        _pickler = pickle

__all__ = ["Registry", "REGISTRIES", "ComponentParamsMixin"]


class Registry:
    """Names of one kind of component mapped to their classes.

    Built-in components register themselves when their module is imported;
    third-party packages add names through the entry-point group
    ``sknn.<kind>`` (loaded lazily, on the first miss or listing) or in process
    with :meth:`register`.

    Parameters
    ----------
    kind : str
        The plural kind name, e.g. ``"activations"``; also the last part of the
        entry-point group.
    base : type
        The class every registered component must derive from.
    """

    def __init__(self, kind, base):
        self.kind = kind
        self.singular = kind[:-2] if kind.endswith("sses") else kind[:-1]
        self.group = f"sknn.{kind}"
        self.base = base
        self._classes = {}
        self._entry_points_loaded = False

    def register(self, name):
        """Return a class decorator that registers the class under ``name``."""
        if not isinstance(name, str) or not name:
            raise TypeError(f"A {self.singular} name must be a non-empty str.")

        def decorator(cls):
            self._check_class(cls, name)
            self._classes[name] = cls
            return cls

        return decorator

    def _check_class(self, cls, name, origin=""):
        if not (isinstance(cls, type) and issubclass(cls, self.base)):
            raise TypeError(
                f"{self.singular.capitalize()} {name!r}{origin} must be a subclass "
                f"of {self.base.__module__}.{self.base.__name__}, got {cls!r}."
            )

    def _load_entry_points(self):
        """Load the group's plugins; the group counts as loaded only if all load."""
        if self._entry_points_loaded:
            return
        for ep in importlib.metadata.entry_points(group=self.group):
            if ep.name in self._classes:
                continue
            dist = getattr(ep.dist, "name", None) or "an unknown distribution"
            origin = f" (entry point {ep.value!r} of {dist}, group {self.group!r})"
            try:
                cls = ep.load()
            except Exception as exc:
                raise ImportError(
                    f"Could not load the {self.singular} plugin {ep.name!r}{origin}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc
            self._check_class(cls, ep.name, origin)
            self._classes[ep.name] = cls
        self._entry_points_loaded = True

    def names(self):
        """Sorted names of every available component, plugins included."""
        self._load_entry_points()
        return sorted(self._classes)

    def get(self, name):
        """Return the class registered under ``name``."""
        if name not in self._classes:
            self._load_entry_points()
        try:
            return self._classes[name]
        except KeyError:
            raise ValueError(
                f"Unknown {self.singular} {name!r}. Available {self.kind}: "
                f"{', '.join(self.names())}."
            ) from None

    def name_of(self, cls):
        """The name ``cls`` is registered under, or None."""
        return next((n for n, c in self._classes.items() if c is cls), None)

    def class_of(self, spec):
        """The component class that ``spec`` names, is, or is an instance of."""
        if isinstance(spec, str):
            return self.get(spec)
        if isinstance(spec, type):
            return spec
        return type(spec)

    def resolve(self, spec, param):
        """Turn ``spec`` into a fresh component instance.

        Parameters
        ----------
        spec : str, component class or component instance
            A registered name, a class (instantiated with its defaults) or an
            instance (cloned, so the caller's object is never changed).
        param : str
            The estimator parameter being resolved, named in error messages.

        Returns
        -------
        component : Component
        """
        if isinstance(spec, str):
            try:
                component = self.get(spec)()
            except ValueError as exc:
                raise ValueError(f"{param}={spec!r}: {exc}") from None
        elif inspect.isclass(spec) and issubclass(spec, self.base):
            component = spec()
        elif isinstance(spec, self.base):
            component = clone(spec)
        else:
            raise TypeError(
                f"{param} must be a str naming a registered {self.singular}, a "
                f"{self.base.__name__} subclass or instance, got {spec!r}. "
                f"Available {self.kind}: {', '.join(self.names())}."
            )
        try:
            check_params(component)
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"{param}={spec!r}: {exc}") from None
        return component


REGISTRIES = {}


def _make_registry(kind, base):
    REGISTRIES[kind] = Registry(kind, base)
    return REGISTRIES[kind]


def _registrations_to_carry():
    """Every component registered by a name outside sknn, each pickled alone.

    A class importable by reference pickles as its module and name; one
    defined in ``__main__``, a notebook or a function pickles by value
    (cloudpickle). A class that cannot be pickled at all is left out: a
    process that gets the estimator then reports the name as unknown.
    """
    carried = []
    for kind, registry in REGISTRIES.items():
        for name, cls in registry._classes.items():
            if cls.__module__.split(".")[0] == "sknn":
                continue
            try:
                carried.append((kind, name, _pickler.dumps(cls)))
            except Exception:
                continue
    return carried


def _register_carried(carried):
    """Register the carried classes whose names this process does not know.

    A name already registered here keeps its class; a class that cannot be
    loaded here (its module is not importable) is skipped.
    """
    for kind, name, blob in carried:
        registry = REGISTRIES.get(kind)
        if registry is None or name in registry._classes:
            continue
        try:
            cls = pickle.loads(blob)
        except Exception:
            continue
        if isinstance(cls, type) and issubclass(cls, registry.base):
            registry._classes[name] = cls


_CARRIED = "_sknn_registered_components"


class ComponentParamsMixin:
    """scikit-learn parameter glue for estimators whose parameters are components.

    ``_component_kinds`` maps each component parameter of the estimator to its
    registry kind. Two behaviours follow:

    - ``set_params(<param>__<hyperparameter>=value)`` on a component given by
      name (or class) first replaces the name with a fresh instance of its
      class, then sets the hyperparameter on it, so nested search spaces such as
      ``optimizer__learning_rate`` work with the default ``optimizer="adam"``.
      ``get_params(deep=True)`` lists nested parameters only for instances: a
      name has none until it is turned into one.
    - A pickled estimator carries the components registered in-process
      (``sknn.register_activation(name)`` and its siblings), and unpickling it
      registers those the receiving process lacks, so joblib's worker
      processes know the names the parent registered.
    """

    _component_kinds = {}

    def set_params(self, **params):
        """Set the parameters of this estimator.

        ``<component>__<parameter>`` also works where the component is given
        by name or class: the name is replaced by an instance of its class
        (with its defaults), on which the parameter is then set.

        Parameters
        ----------
        **params : dict
            Estimator parameters, ``<component>__<parameter>`` for nested ones.

        Returns
        -------
        self : estimator instance
            This estimator.
        """
        valid = self._get_param_names()
        for key in list(params):
            name, nested, _ = key.partition("__")
            if not nested or name not in valid:
                continue  # plain keys and invalid names: scikit-learn's rules
            value = params.get(name, getattr(self, name))
            kind = self._component_kinds.get(name)
            if kind is not None and isinstance(value, str | type):
                if value == "auto":
                    raise ValueError(
                        f"Cannot set {key!r}: {name}='auto' is chosen in fit. Give "
                        f"{name} a name or an instance to set its parameters, e.g. "
                        f"set_params({name}=<name>, {key}=...)."
                    )
                value = params[name] = REGISTRIES[kind].resolve(value, name)
            if not hasattr(value, "set_params"):
                hint = (
                    " Pass configured instances in the list instead, e.g. "
                    "callbacks=[EarlyStopping(patience=5)]."
                    if name == "callbacks"
                    else ""
                )
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}: "
                    f"{name}={value!r} has no parameters of its own.{hint}"
                )
        return super().set_params(**params)

    def __getstate__(self):
        state = super().__getstate__()
        carried = _registrations_to_carry()
        if carried:
            state = {**state, _CARRIED: carried}
        return state

    def __setstate__(self, state):
        if _CARRIED in state:
            state = dict(state)
            _register_carried(state.pop(_CARRIED))
        super().__setstate__(state)
