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

__all__ = ["Registry", "REGISTRIES", "ComponentParamsMixin", "named_components"]


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


def named_components(value, param, registry):
    """The entries of a list parameter of components as ``(name, spec)`` pairs.

    Each entry is a component (a registered name, a class or an instance) or
    a ``(name, component)`` tuple; unnamed entries get the name None. Names
    are non-empty strs without ``"__"`` (which separates nested parameters),
    unique within the list.

    Raises
    ------
    TypeError
        If ``value`` is not None or a list/tuple, or an entry is neither a
        component nor a ``(str, component)`` tuple.
    ValueError
        If a name is empty, contains ``"__"`` or appears twice.
    """
    accepted = (
        f"{param} must be None or a list of {registry.base.__name__} instances, "
        f"classes or registered names, each optionally named as a (name, "
        f"{registry.singular}) tuple"
    )
    if value is None:
        return []
    if isinstance(value, str | registry.base) or not isinstance(value, list | tuple):
        raise TypeError(f"{accepted}; got {value!r}.")
    entries, seen = [], set()
    for i, entry in enumerate(value):
        if not isinstance(entry, tuple):
            entries.append((None, entry))
            continue
        if len(entry) != 2 or not isinstance(entry[0], str):
            raise TypeError(f"{accepted}; entry {i} is {entry!r}.")
        name = entry[0]
        if not name or "__" in name:
            raise ValueError(
                f"{param}: the name {name!r} of entry {i} must be a non-empty str "
                "without '__' (it separates nested parameters, as in "
                f"{param}__<name>__<parameter>)."
            )
        if name in seen:
            raise ValueError(
                f"{param}: the name {name!r} is used twice; each named "
                f"{registry.singular} needs its own name."
            )
        seen.add(name)
        entries.append(entry)
    return entries


class ComponentParamsMixin:
    """scikit-learn parameter glue for estimators whose parameters are components.

    ``_component_kinds`` maps each component parameter of the estimator to its
    registry kind; its value is one component or, for the parameters in
    ``_component_lists``, a list of components whose entries may be named
    ``(name, component)`` tuples (:func:`named_components`). Three
    behaviours follow:

    - ``set_params(<param>__<hyperparameter>=value)`` on a component given by
      name (or class) first replaces the name with a fresh instance of its
      class, then sets the hyperparameter on it, so nested search spaces such as
      ``optimizer__learning_rate`` work with the default ``optimizer="adam"``.
      ``get_params(deep=True)`` lists nested parameters only for instances: a
      name has none until it is turned into one.
    - In a list, a named entry is the parameter ``<param>__<name>`` (set it to
      replace the component) and its hyperparameters are
      ``<param>__<name>__<hyperparameter>``, with the same rule for names.
      Setting one gives the estimator a new list; unnamed entries have no
      nested parameters.
    - A pickled estimator carries the components registered in-process
      (``sknn.register_activation(name)`` and its siblings), and unpickling it
      registers those the receiving process lacks, so joblib's worker
      processes know the names the parent registered.
    """

    _component_kinds = {}
    _component_lists = frozenset()  # those of _component_kinds that hold lists

    def get_params(self, deep=True):
        """Get the parameters of this estimator.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of the component instances, as
            ``<component>__<parameter>``, and the named entries of component
            lists, as ``<list>__<name>`` and ``<list>__<name>__<parameter>``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        out = super().get_params(deep=deep)
        if not deep:
            return out
        for param in self._component_lists:
            kind, value = self._component_kinds[param], out.get(param)
            if not isinstance(value, list | tuple):
                continue
            for entry in value:
                if not (isinstance(entry, tuple) and len(entry) == 2):
                    continue
                key, component = f"{param}__{entry[0]}", entry[1]
                if isinstance(component, REGISTRIES[kind].base):
                    out.update(
                        (f"{key}__{k}", v) for k, v in component.get_params().items()
                    )
                out[key] = component
        return out

    def _resolve(self, kind, value, name, key):
        """A component given by name or class as a fresh instance, for ``key``."""
        if not isinstance(value, str | type):
            return value
        if value == "auto":
            raise ValueError(
                f"Cannot set {key!r}: {name}='auto' is chosen in fit. Give "
                f"{name} a name or an instance to set its parameters, e.g. "
                f"set_params({name}=<name>, {key}=...)."
            )
        return REGISTRIES[kind].resolve(value, name)

    def _set_list_params(self, param, nested):
        """Set ``<param>__<name>[__<parameter>]`` keys on a new list ``param``."""
        kind = self._component_kinds[param]
        registry = REGISTRIES[kind]
        entries = named_components(getattr(self, param), param, registry)
        index = {name: i for i, (name, _) in enumerate(entries) if name is not None}
        new = list(entries)
        sub = {}
        for key, value in nested.items():
            name, _, hyper = key[len(param) + 2 :].partition("__")
            if name not in index:
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}: {param} "
                    f"has no entry named {name!r}, so no parameters "
                    f"{param}__{name}__... (named entries: "
                    f"{', '.join(map(repr, index)) or 'none'}). Name an entry with "
                    f"a tuple, e.g. {param}=[('es', EarlyStopping())], to set "
                    f"{param}__es__patience."
                )
            if hyper:
                sub.setdefault(name, {})[hyper] = value
            else:
                new[index[name]] = (name, value)
        for name, hypers in sub.items():
            i = index[name]
            component = self._resolve(kind, new[i][1], f"{param}__{name}", key)
            if not isinstance(component, registry.base):
                raise ValueError(
                    f"Invalid parameter {param}__{name}__... for "
                    f"{type(self).__name__}: {param}__{name}={component!r} is not "
                    f"a {registry.base.__name__}."
                )
            component.set_params(**hypers)
            new[i] = (name, component)
        # Unnamed entries go back as they were given.
        setattr(self, param, [spec if n is None else (n, spec) for n, spec in new])

    def set_params(self, **params):
        """Set the parameters of this estimator.

        ``<component>__<parameter>`` also works where the component is given
        by name or class: the name is replaced by an instance of its class
        (with its defaults), on which the parameter is then set. A named
        entry of a component list is ``<list>__<name>`` and its parameters
        ``<list>__<name>__<parameter>``, e.g. ``callbacks__es__patience``
        for ``callbacks=[("es", EarlyStopping())]``.

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
        lists = {}
        for key in list(params):
            name, nested, _ = key.partition("__")
            if not nested or name not in valid:
                continue  # plain keys and invalid names: scikit-learn's rules
            value = params.get(name, getattr(self, name))
            kind = self._component_kinds.get(name)
            if name in self._component_lists:
                lists.setdefault(name, {})[key] = params.pop(key)
                continue
            if kind is not None:
                value = params[name] = self._resolve(kind, value, name, key)
            if not hasattr(value, "set_params"):
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}: "
                    f"{name}={value!r} has no parameters of its own."
                )
        super().set_params(**params)
        for name, nested in lists.items():
            self._set_list_params(name, nested)
        return self

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
