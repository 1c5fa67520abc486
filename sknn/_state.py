"""The fitted and run-time state of NNClassifier and NNRegressor, declared once.

:data:`STATE` lists every attribute that ``fit`` and ``partial_fit`` leave on
an estimator besides its parameters: its name, its kind of value, whether the
model file holds it, how a resumed fit copies it, whether it may be None or
absent, and its start value. Everything that needs the list reads it here:
initialisation and resumption, the private copy a fit trains on, unpickling,
``save``, ``load`` and the loader's checks. :data:`COMPONENT_PARAMS` is the
one table of the estimator parameters that hold components.

Examples
--------
>>> from sknn._state import STATE, declared
>>> STATE["history_"].kind, STATE["history_"].copy
('records', 'shallow')
>>> from sknn import NNRegressor
>>> "classes_" in declared(NNRegressor)
False
"""

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._engine import Layout

__all__ = [
    "Attribute",
    "ComponentParam",
    "COMPONENT_PARAMS",
    "COMPONENT_KINDS",
    "STATE",
    "all_finite",
    "best",
    "copy_arrays",
    "declared",
    "flat_weights",
    "is_fitted",
    "keep_best",
    "pack_weights",
    "private_copy",
    "saved",
    "start",
    "trained",
]


@dataclass(frozen=True)
class ComponentParam:
    """An estimator parameter that holds a component (or a list of them).

    ``kind`` is its registry (``sknn._registry.REGISTRIES[kind]``), ``spec``
    the attribute of the checked parameters (``_check_params``) that holds it
    resolved. ``auto``: the value ``"auto"`` stands for the estimator's
    ``_default_<name>`` (None: chosen in ``fit`` from the target). ``many``: a
    list of components.
    """

    name: str
    kind: str
    spec: str
    auto: bool = False
    many: bool = False


COMPONENT_PARAMS = {
    p.name: p
    for p in (
        ComponentParam("activation", "activations", "activation"),
        ComponentParam("architecture", "architectures", "architecture"),
        ComponentParam("loss", "losses", "loss", auto=True),
        ComponentParam("optimizer", "optimizers", "optimizer"),
        ComponentParam("lr_schedule", "schedules", "schedule"),
        ComponentParam("weight_init", "initializers", "initializer", auto=True),
        ComponentParam("callbacks", "callbacks", "callbacks", many=True),
    )
}
#: Estimator parameter -> registry kind.
COMPONENT_KINDS = {name: p.kind for name, p in COMPONENT_PARAMS.items()}


@dataclass(frozen=True)
class Attribute:
    """One attribute of a fitted estimator.

    Parameters
    ----------
    name : str
    kind : str
        The kind of value: ``"layers"`` (a list of float arrays, views of
        one flat parameter vector), ``"array"`` (a float array), ``"int"``,
        ``"float"``, ``"str"``, ``"layer_list"`` (a list of layers),
        ``"layer_state"`` (a list of dicts of arrays, one per layer),
        ``"floats"`` (a list of floats), ``"records"`` (a list of dicts),
        ``"labels"`` (a 1-D label array), ``"names"`` (an object array of
        str), ``"label_binarizer"``, ``"random_state"``,
        ``"optimizer_state"`` (a dict the optimizer checks), ``"component"``
        or ``"components"`` (a component, a list of components, of the
        registry of the parameter ``of``), ``"other"``.
    saved : bool
        Whether the model file holds it (run-time state is not saved).
    copy : {"deep", "shallow", "share"}
        How a fit that resumes (``partial_fit``, ``warm_start``) copies it
        before training, so that a failed fit leaves the estimator as it was:
        a deep copy, a new list of the same items (lists that only grow), or
        the same object (values a fit replaces and never changes in place).
    none : bool
        Whether it may be None.
    required : bool
        Whether every fitted estimator has it (else e.g. only with feature
        names, only with early stopping or dropout).
    only : str or None
        The only estimator class that has it (``"NNClassifier"``).
    start : callable or None
        The value a fresh fit starts from, as a function of the estimator
        (its parameters); attributes without one are set by the fit itself.
    of : str or None
        For components: the estimator parameter whose registry they belong to.
    trained : bool
        Whether training changes it in place, step by step (the weights,
        batch-norm running statistics). A rollback (divergence recovery,
        the best epoch of early stopping) restores every trained attribute
        together (:func:`trained`), and training has diverged when one of
        them is not finite.
    """

    name: str
    kind: str
    saved: bool = True
    copy: str = "deep"
    none: bool = False
    required: bool = True
    only: str | None = None
    start: Any = None
    of: str | None = None
    trained: bool = False


def _new(value):
    """A start value: a fresh copy of ``value`` for every estimator."""
    return lambda est: copy.copy(value)


def _early_stopping(on, off):
    """A start value that depends on the ``early_stopping`` parameter."""
    return lambda est: copy.copy(on if est.early_stopping else off)


STATE = {
    a.name: a
    for a in (
        # The data seen: set by validate_data and the label binarizer.
        Attribute("n_features_in_", "int", copy="share"),
        Attribute("feature_names_in_", "names", copy="share", required=False),
        Attribute("classes_", "labels", copy="share", only="NNClassifier"),
        Attribute("_label_binarizer", "label_binarizer", only="NNClassifier"),
        # The network.
        # The plain MLP: per-layer views of one flat vector.
        Attribute("coefs_", "layers", required=False, trained=True),
        Attribute("intercepts_", "layers", required=False, trained=True),
        # Every other architecture: its fitted layers, their flat parameter
        # vector and their state (batch-norm running statistics, which
        # training updates; embedding bins, which it does not).
        Attribute("layers_", "layer_list", copy="share", required=False),
        Attribute("params_", "array", required=False, trained=True),
        Attribute("layer_state_", "layer_state", required=False, trained=True),
        Attribute("n_layers_", "int", copy="share"),
        Attribute("n_outputs_", "int", copy="share"),
        Attribute("out_activation_", "str", copy="share"),
        Attribute("_activation", "component", of="activation"),
        Attribute("_loss", "component", of="loss"),
        # Training records.
        Attribute("n_iter_", "int", copy="share", start=_new(0)),
        Attribute("t_", "int", copy="share", start=_new(0)),
        Attribute("loss_", "float", copy="share", start=_new(np.nan)),
        Attribute("history_", "records", copy="shallow", start=_new([])),
        Attribute("loss_curve_", "floats", copy="shallow", start=_new([])),
        Attribute(
            "validation_scores_",
            "floats",
            copy="shallow",
            none=True,
            start=_early_stopping([], None),
        ),
        Attribute(
            "best_validation_score_",
            "float",
            copy="share",
            none=True,
            start=_early_stopping(-np.inf, None),
        ),
        Attribute(
            "best_loss_",
            "float",
            copy="share",
            none=True,
            start=_early_stopping(None, np.inf),
        ),
        # What resumed training continues from.
        Attribute("_no_improvement_count", "int", copy="share", start=_new(0)),
        # The best epoch's trained state (see keep_best and best).
        Attribute("_best_params", "array", none=True, start=_new(None)),
        Attribute(
            "_best_layer_state",
            "layer_state",
            none=True,
            required=False,
            start=_new(None),
        ),
        Attribute("_best_valid_loss", "float", copy="share", start=_new(np.inf)),
        Attribute("_salt", "int", copy="share", required=False),
        Attribute("optimizer_state_", "optimizer_state"),
        Attribute("_rng", "random_state"),
        Attribute("callbacks_", "components", of="callbacks"),
        # scikit-learn callbacks (set_callbacks): they observe fits, the user
        # holds them, and a file does not.
        Attribute("_skl_callbacks", "other", saved=False, copy="share", required=False),
    )
}


def is_fitted(state):
    """Whether ``state`` (an estimator's ``__dict__``) holds a fitted network."""
    return "coefs_" in state or "params_" in state


def declared(cls):
    """The declared attributes of estimator class ``cls``, name -> Attribute."""
    names = {c.__name__ for c in cls.__mro__}
    return {n: a for n, a in STATE.items() if a.only is None or a.only in names}


def saved(cls):
    """The attributes of ``cls`` that a model file holds, name -> Attribute."""
    return {n: a for n, a in declared(cls).items() if a.saved}


def start(estimator, only_missing=False):
    """Give ``estimator`` the start value of every attribute that has one.

    With ``only_missing``, only attributes that are None (or absent) are
    started, where the start value is not None: what a resumed fit needs when
    a parameter changed since (e.g. ``early_stopping`` turned on).
    """
    for name, attr in declared(type(estimator)).items():
        if attr.start is None:
            continue
        if only_missing and getattr(estimator, name, None) is not None:
            continue
        value = attr.start(estimator)
        if not (only_missing and value is None):
            setattr(estimator, name, value)


def private_copy(state, cls):
    """A copy of the fitted ``state`` (a ``__dict__``) that a fit may change.

    Each declared attribute is copied as declared, the weights as one flat
    vector; parameters and undeclared entries are the same objects.
    """
    layout, flat = flat_weights(state)
    out = dict(state)
    for name, attr in declared(cls).items():
        if name not in state or attr.copy == "share":
            continue
        if attr.kind == "layers" and flat is not None:
            continue
        value = state[name]
        shallow = attr.copy == "shallow" and value is not None
        out[name] = list(value) if shallow else copy.deepcopy(value)
    if flat is not None:
        out["coefs_"], out["intercepts_"] = layout.unpack(flat.copy())
    return out


def trained(state):
    """The live arrays of the trained attributes of ``state`` (a ``__dict__``).

    In declaration order: the flat vector behind ``coefs_`` and
    ``intercepts_`` (their arrays when they are not views of one), or
    ``params_``, then every array of each dict of ``layer_state_``. Training
    changes them in place; a copy of them (:func:`copy_arrays`) is a point
    that training can be rolled back to.
    """
    arrays, flat = [], flat_weights(state)[1]
    for name, attr in STATE.items():
        value = state.get(name)
        if not attr.trained or value is None:
            continue
        if attr.kind == "layers" and flat is not None:
            if not any(a is flat for a in arrays):
                arrays.append(flat)
        elif attr.kind == "layers":
            arrays.extend(value)
        elif attr.kind == "layer_state":
            arrays.extend(v for layer in value for v in layer.values())
        else:
            arrays.append(value)
    return arrays


def copy_arrays(arrays, into=None):
    """Copies of ``arrays``, new or written into the arrays ``into``.

    ``copy_arrays(trained(state))`` keeps a point of training;
    ``copy_arrays(kept, into=trained(state))`` rolls back to it.
    """
    if into is None:
        return [a.copy() for a in arrays]
    for target, a in zip(into, arrays):
        target[...] = a
    return into


def all_finite(arrays):
    """Whether every array of ``arrays`` is finite."""
    return all(np.isfinite(a).all() for a in arrays)


def keep_best(state):
    """Keep the trained state of ``state`` as the best epoch's.

    The weights as one flat vector in ``_best_params``, the layer state in
    ``_best_layer_state``; :func:`best` gives them back as a point of
    training.
    """
    weights = _trained_weights(state)
    state["_best_params"] = np.concatenate([a.ravel() for a in weights])
    layers = state.get("layer_state_")
    state["_best_layer_state"] = None if layers is None else copy.deepcopy(layers)


def best(state):
    """The best epoch's point of training, as :func:`trained` lists it, or None.

    Without ``_best_layer_state`` (a model saved before it was kept), only
    the weights.
    """
    flat = state.get("_best_params")
    if flat is None:
        return None
    weights = _trained_weights(state)
    stops = np.cumsum([a.size for a in weights])[:-1]
    kept = [w.reshape(a.shape) for w, a in zip(np.split(flat, stops), weights)]
    layers = state.get("_best_layer_state") or []
    return kept + [v for layer in layers for v in layer.values()]


def _trained_weights(state):
    """The arrays of :func:`trained` that hold weights (all but the layer state)."""
    arrays = trained(state)
    return arrays[: len(arrays) - sum(map(len, state.get("layer_state_") or []))]


def flat_weights(state):
    """``(layout, flat vector)`` behind ``state``'s ``coefs_`` and ``intercepts_``.

    ``(None, None)`` when they are not the views of one flat vector.
    """
    layout = _layout(state)
    flat = None if layout is None else layout.flat_of(*_weights(state))
    return (None, None) if flat is None else (layout, flat)


def pack_weights(state):
    """Make ``state``'s ``coefs_`` and ``intercepts_`` views of one flat vector.

    ``state`` is a dict, changed in place; returns its layout (None without
    weights). Unpickling and loading copy each array on its own: this gives
    the layout ``fit`` makes.
    """
    layout = _layout(state)
    if layout is not None and layout.flat_of(*_weights(state)) is None:
        coefs, intercepts = _weights(state)
        flat = layout.pack(coefs, intercepts, coefs[0].dtype)
        state["coefs_"], state["intercepts_"] = layout.unpack(flat)
    return layout


def _weights(state):
    return state.get("coefs_"), state.get("intercepts_")


def _layout(state):
    coefs, intercepts = _weights(state)
    if not (isinstance(coefs, list) and isinstance(intercepts, list) and coefs):
        return None
    return Layout([coefs[0].shape[0], *(c.shape[1] for c in coefs)])
