"""NNClassifier and NNRegressor: the scikit-learn side of sknn.

Everything that knows about scikit-learn lives here: parameters and their
checks, input validation, label encoding, validation splits and the fitted
attributes. The training loop is in :mod:`sknn._training`, the arithmetic in
:mod:`sknn._engine`.
"""

import functools
import inspect
import re
import types
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import check_random_state
from sklearn.utils.class_weight import compute_class_weight, compute_sample_weight
from sklearn.utils.multiclass import (
    check_classification_targets,
    type_of_target,
    unique_labels,
)
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from . import _engine, _network, _sklearn_callbacks, _state
from ._base import Component
from ._registry import REGISTRIES, ComponentParamsMixin, named_components
from ._sampling import content_split
from ._training import Trainer
from ._validation import _is_int, _is_real, array_api_inputs, check_bool, check_number
from .architectures import MLP
from .callbacks import ProgressTable, _EstimatorEarlyStopping
from .layers import Layer

__all__ = ["NNClassifier", "NNRegressor"]

_DTYPES = (np.float64, np.float32)
# Small, clean NumPy input skips validate_data at predict time (see _raw).
_FAST_ROWS = 64
_FAST_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
_SPARSE = ("csr", "csc")


class _Spec:
    """The estimator's parameters, checked and with components resolved."""


class _available_if:
    """A method that exists only where ``check(estimator)`` returns True.

    As :func:`sklearn.utils.metaestimators.available_if` (``hasattr`` is False
    where the method is missing), except that the message of the
    ``AttributeError`` that ``check`` raises is part of the message the user
    sees, so that it says why the method is missing and what to do.
    """

    def __init__(self, check):
        self.check = check

    def __call__(self, fn):
        self.fn = fn
        functools.update_wrapper(self, fn)
        return self

    def _check(self, estimator):
        try:
            self.check(estimator)
        except AttributeError as exc:
            raise AttributeError(
                f"This {type(estimator).__name__!r} has no attribute "
                f"{self.fn.__name__!r}: {exc}"
            ) from exc

    def __get__(self, obj, owner=None):
        if obj is not None:
            self._check(obj)
            return types.MethodType(self.fn, obj)

        @functools.wraps(self.fn)
        def unbound(estimator, *args, **kwargs):
            self._check(estimator)
            return self.fn(estimator, *args, **kwargs)

        return unbound


def _n_outputs(loss, y_type, n_classes, loss_param):
    """The number of network outputs a classifier has under ``loss``.

    Raises ``ValueError`` if the loss's output link cannot fit a ``y_type``
    target (:meth:`sknn.links.Link.n_outputs`). ``fit`` and the loader apply
    this one rule.
    """
    try:
        return loss.link.n_outputs(n_classes, y_type)
    except ValueError as exc:
        raise ValueError(f"loss={loss_param!r} ({loss.link.name} link) {exc}") from None


def _check_sample_weight(sample_weight, n, dtype, name="sample_weight", x="X"):
    """Sample weights as a 1-D float array of length ``n``, or None."""
    if sample_weight is None:
        return None
    if _is_real(sample_weight):
        sw = np.full(n, sample_weight, dtype=dtype)
    else:
        try:
            sw = np.asarray(sample_weight)
        except Exception as exc:
            raise TypeError(f"{name} must be array-like of numbers; {exc}") from exc
        if sw.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; got dtype {sw.dtype}.")
        if sw.ndim != 1 or sw.shape[0] != n:
            raise ValueError(
                f"{name} must have shape ({n},) to match {x}; got shape {sw.shape}."
            )
        sw = sw.astype(dtype)
    return _check_weight_values(sw, name)


def _check_weight_values(w, name):
    """The checks every weight vector the objective uses must pass."""
    with np.errstate(over="ignore"):
        finite = np.isfinite(w).all()
    if not finite:
        raise ValueError(f"{name} must be finite; it contains NaN or inf.")
    if (w < 0).any():
        raise ValueError(f"{name} must be non-negative; it has negative values.")
    if not w.any():
        raise ValueError(f"{name} must have at least one positive value; all are zero.")
    return w


def _float_dtypes(X):
    """The dtypes ``validate_data`` may give ``X``, float32 first for float32 frames.

    scikit-learn keeps the float32 of pandas frames but turns other data frames
    (polars) into float64; their common dtype is read from an empty slice.
    """
    if isinstance(X, np.ndarray) or not hasattr(X, "columns"):
        return _DTYPES
    try:
        dtype = np.asarray(X.head(0)).dtype
    except Exception:
        return _DTYPES
    return (np.float32, np.float64) if dtype == np.float32 else _DTYPES


# MLPClassifier/MLPRegressor parameters that sknn spells differently:
# name -> (the sknn spelling, with {value} for the value given; the name to
# search over, or None).
_MLP_SPELLINGS = {
    "solver": ("optimizer={value!r}", None),
    "learning_rate_init": ("learning_rate={value!r}", None),
    "momentum": (
        "optimizer=SGD(momentum={value!r}) with SGD from sknn.optimizers",
        "optimizer__momentum",
    ),
    "nesterovs_momentum": (
        "optimizer=SGD(nesterov={value!r}) with SGD from sknn.optimizers",
        "optimizer__nesterov",
    ),
    "beta_1": (
        "optimizer=Adam(beta_1={value!r}) with Adam from sknn.optimizers",
        "optimizer__beta_1",
    ),
    "beta_2": (
        "optimizer=Adam(beta_2={value!r}) with Adam from sknn.optimizers",
        "optimizer__beta_2",
    ),
    "epsilon": (
        "optimizer=Adam(epsilon={value!r}) with Adam from sknn.optimizers",
        "optimizer__epsilon",
    ),
    "power_t": (
        "lr_schedule=InvScaling(power_t={value!r}) with InvScaling from sknn.schedules",
        "lr_schedule__power_t",
    ),
    "max_fun": (
        "optimizer=LBFGS(max_fun={value!r}) with LBFGS from sknn.optimizers",
        "optimizer__max_fun",
    ),
}

# MLP's learning_rate values, which name schedules: the lr_schedule to use.
_MLP_SCHEDULES = {
    "constant": "lr_schedule='constant'",
    "invscaling": "lr_schedule='invscaling'",
    "adaptive": "lr_schedule='plateau' (the closest to MLP's 'adaptive')",
}


def _mlp_names(cls, params):
    """Say how sknn spells the MLP parameters in ``params``.

    Returns ``(names, text)``: the names quoted, and one sentence with the
    sknn spelling of each; two empty strings when there are none.
    """
    names, spellings = [], []
    if not _MLP_SPELLINGS.keys() & params.keys():
        return "", ""  # the common case, without inspecting the signature
    own = inspect.signature(cls.__init__).parameters
    for name, value in params.items():
        if name in _MLP_SPELLINGS and name not in own:
            spelling, searched = _MLP_SPELLINGS[name]
            text = f"{name}={value!r} -> {spelling.format(value=value)}"
            if searched:
                text += f" (tunable as {searched})"
            names.append(repr(name))
            spellings.append(text)
    return ", ".join(names), f"In sknn: {'; '.join(spellings)}." if names else ""


class _MLPNames:
    """Say the sknn spelling of MLPClassifier's parameter names.

    ``NNClassifier(solver="sgd")`` raises Python's ``TypeError`` for an
    unexpected keyword, and ``set_params(solver="sgd")`` scikit-learn's
    ``ValueError`` for an invalid parameter, each naming ``optimizer="sgd"``.
    ``__init__`` keeps its plain signature: the names are looked at in
    ``__new__``, which sees the same keywords.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Without this, inspect.signature(cls) describes __new__'s (*args,
        # **kwargs) on Python < 3.12, and scikit-learn's checks read it.
        init = inspect.signature(cls.__init__)
        cls.__signature__ = init.replace(parameters=list(init.parameters.values())[1:])

    def __new__(cls, *args, **kwargs):
        names, text = _mlp_names(cls, kwargs)
        if names:
            plural = "s" if "," in names else ""
            raise TypeError(
                f"{cls.__name__}.__init__() got {'an ' if not plural else ''}"
                f"unexpected keyword argument{plural} {names}. {text}"
            )
        return super().__new__(cls)

    def set_params(self, **params):
        names, text = _mlp_names(type(self), params)
        if names:
            raise ValueError(
                f"Invalid parameter {names} for estimator {type(self).__name__}. {text}"
            )
        return super().set_params(**params)


class _BaseNN(
    _sklearn_callbacks.CallbackSupportMixin,
    _MLPNames,
    ComponentParamsMixin,
    BaseEstimator,
):
    """Shared parameters, validation, fit and prediction path."""

    _default_loss = "squared_error"
    _default_weight_init = "glorot_uniform"
    _trainer = Trainer  # the training loop (sknn._training)
    _component_kinds = {name: p.kind for name, p in _state.COMPONENT_PARAMS.items()}
    _component_lists = frozenset(
        name for name, p in _state.COMPONENT_PARAMS.items() if p.many
    )

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        architecture="mlp",
        loss="auto",
        optimizer="adam",
        learning_rate=1e-3,
        lr_schedule="constant",
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        weight_init="auto",
        dropout=0.0,
        callbacks=None,
        random_state=None,
        verbose=0,
        warm_start=False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.architecture = architecture
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.shuffle = shuffle
        self.weight_init = weight_init
        self.dropout = dropout
        self.callbacks = callbacks
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ params
    def _check_params(self):
        """Validate every parameter and resolve the components (in ``fit``)."""
        s = _Spec()
        hls = self.hidden_layer_sizes
        if _is_int(hls):
            hls = (hls,)
        if (
            isinstance(hls, (str, bytes))
            or not np.iterable(hls)
            or not all(_is_int(h) for h in hls)
        ):
            raise TypeError(
                "hidden_layer_sizes must be an int or a sequence of ints (units "
                f"per hidden layer); got {self.hidden_layer_sizes!r}."
            )
        if any(h < 1 for h in hls):
            raise ValueError(
                "hidden_layer_sizes must contain only ints >= 1; got "
                f"{self.hidden_layer_sizes!r}."
            )
        s.hidden = [int(h) for h in hls]
        for name, p in _state.COMPONENT_PARAMS.items():
            if p.many:
                continue  # callbacks: a list, checked below
            value = getattr(self, name)
            default = getattr(self, f"_default_{name}") if p.auto else False
            if _is_auto(value) and p.auto:
                value = default
            if value is None and default is None:
                setattr(s, p.spec, None)  # chosen in fit from the target
            else:
                setattr(s, p.spec, REGISTRIES[p.kind].resolve(value, name))
        if isinstance(self.learning_rate, str) and self.learning_rate in _MLP_SCHEDULES:
            raise TypeError(
                "learning_rate must be a float > 0, the step size (MLP's "
                f"learning_rate_init); got {self.learning_rate!r}. MLP's schedule "
                "names are values of lr_schedule here: use "
                f"{_MLP_SCHEDULES[self.learning_rate]}. Available schedules: "
                f"{', '.join(REGISTRIES['schedules'].names())}."
            )
        check_number("learning_rate", self.learning_rate, low=0, low_open=True)
        check_number("alpha", self.alpha, low=0)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto"):
            if isinstance(self.batch_size, str):
                raise ValueError(
                    "batch_size must be 'auto' or an int >= 1; got "
                    f"{self.batch_size!r}."
                )
            check_number("batch_size", self.batch_size, low=1, integer=True)
        check_number("max_iter", self.max_iter, low=1, integer=True)
        check_number("tol", self.tol, low=0)
        check_number(
            "n_iter_no_change",
            self.n_iter_no_change,
            low=1,
            integer=True,
            allow_inf=True,
        )
        check_bool("early_stopping", self.early_stopping)
        check_number(
            "validation_fraction",
            self.validation_fraction,
            low=0,
            high=1,
            low_open=True,
            high_open=True,
        )
        check_bool("shuffle", self.shuffle)
        check_number("dropout", self.dropout, low=0, high=1, high_open=True)
        check_bool("warm_start", self.warm_start)
        if not isinstance(self.verbose, bool | np.bool_):
            check_number("verbose", self.verbose, low=0, integer=True)
        rs = self.random_state
        if not (rs is None or isinstance(rs, np.random.RandomState)):
            if not _is_int(rs):
                raise TypeError(
                    "random_state must be None, an int in [0, 2**32 - 1] or a "
                    f"numpy.random.RandomState; got {rs!r} of type {type(rs).__name__}."
                )
            check_number("random_state", rs, low=0, high=2**32 - 1, integer=True)
        registry = REGISTRIES["callbacks"]
        s.callbacks = [
            registry.resolve(cb, "callbacks" if name is None else f"callbacks__{name}")
            for name, cb in named_components(self.callbacks, "callbacks", registry)
        ]
        if self.verbose:
            s.callbacks.append(ProgressTable())
        s.settings = self._architecture_settings(s)
        if not s.optimizer.stochastic:
            self._refuse_noise(s)
        # The plain MLP trains on the dense engine; every other architecture
        # on the network of its layers, whose dropout layers draw noise.
        arch = s.architecture
        s.layered = not (
            type(arch) is MLP and arch.embedding is None and arch.n_members == 1
        )
        s.noise = s.layered or bool(self.dropout)
        base_lr = (
            s.optimizer.learning_rate
            if "learning_rate" in s.optimizer.get_params()
            else None
        )
        s.base_lr = float(self.learning_rate if base_lr is None else base_lr)
        return s

    def _architecture_settings(self, spec):
        """The estimator parameters the architecture reads, checked."""
        given = {
            "hidden_layer_sizes": tuple(spec.hidden),
            "activation": spec.activation,
            "dropout": float(self.dropout),
        }
        return {
            k: given[k] if k in given else getattr(self, k)
            for k in spec.architecture.estimator_params
        }

    def _network_layers(self, spec, n_features, n_outputs):
        """The layers the architecture gives, column names mapped to positions.

        A first layer's ``column_params`` (an embedding's ``columns``) may
        name columns of the DataFrame ``fit`` was given; the layers returned
        hold their positions in ``feature_names_in_``.
        """
        layers = spec.architecture.layers(n_features, n_outputs, **spec.settings)
        for i, layer in enumerate(layers):
            named = {
                name: value
                for name in layer.column_params
                if _names_columns(value := getattr(layer, name))
            }
            if named and i:
                raise ValueError(
                    f"{layer!r} is layer {i} of the network: only the first layer "
                    "sees the columns of X, by name."
                )
            if named:
                prefix = "architecture__embedding__"
                if getattr(spec.architecture, "embedding", None) is None:
                    prefix = f"{type(layer).__name__}."
                positions = {
                    k: self._column_positions(v, prefix + k) for k, v in named.items()
                }
                layers[i] = clone(layer).set_params(**positions)
        return layers

    def _column_positions(self, names, where):
        """The positions of the columns ``names`` in ``feature_names_in_``."""
        known = getattr(self, "feature_names_in_", None)
        if known is None:
            raise ValueError(
                f"{where}={names!r} names columns, which needs X as a DataFrame "
                "with string column names (they become feature_names_in_). With "
                "other input give column positions (int) or a boolean mask."
            )
        if isinstance(names, str) or not all(isinstance(n, str) for n in names):
            raise TypeError(
                f"{where} must be a sequence of column names (str) or of "
                f"positions (int), not a mix or a single str; got {names!r}."
            )
        index = {name: i for i, name in enumerate(known)}
        unknown = [n for n in names if n not in index]
        if unknown:
            raise ValueError(
                f"{where}={list(names)!r} names columns {unknown} that X does not "
                f"have; its columns are {list(known)!r}."
            )
        return [index[n] for n in names]

    def _refuse_noise(self, spec):
        """Refuse a full-batch optimizer for a network that draws noise in training.

        The layers say whether they draw noise (``Layer.stochastic``), whatever
        set their rates; the components' ``noise_params`` name what to change.
        """
        arch = spec.architecture
        # Whether a layer draws noise does not depend on the widths.
        layers = arch.layers(1, 1, **spec.settings)
        noisy = list(dict.fromkeys(repr(layer) for layer in layers if layer.stochastic))
        if not noisy:
            return
        sources = {}
        for name in arch.noise_params:
            if name in spec.settings:
                sources[name] = spec.settings[name]
            else:
                sources[f"architecture__{name}"] = getattr(arch, name)
        for param, value in arch.get_params(deep=False).items():
            if isinstance(value, Layer):
                for name in value.noise_params:
                    sources[f"architecture__{param}__{name}"] = getattr(value, name)
        sources = {k: v for k, v in sources.items() if v}
        optimizer = type(spec.optimizer).__name__
        why = (
            f"the full-batch optimizer {optimizer} minimises one deterministic "
            "objective and cannot train a network whose layers draw noise in "
            f"training ({', '.join(noisy)})"
        )
        instead = "or choose a stochastic optimizer such as optimizer='adam'."
        if not sources:
            raise ValueError(
                f"architecture={arch!r} needs a stochastic optimizer: {why}. Turn "
                f"their noise off, {instead}"
            )
        given = " and ".join(f"{k}={v!r}" for k, v in sources.items())
        off = " and ".join(f"{k}=0.0" for k in sources)
        raise ValueError(
            f"{given} need{'s' if len(sources) == 1 else ''} a stochastic optimizer: "
            f"{why}. Set {off}, {instead}"
        )

    @classmethod
    def from_recipe(cls, recipe, **params):
        """An estimator with the parameters of a named recipe, then ``params``.

        Parameters
        ----------
        recipe : str
            A name of :func:`sknn.recipes.list_recipes`, e.g. ``"tabular"``;
            the estimator gets the recipe's parameters for its type
            (:func:`sknn.recipes.get_recipe`).
        **params
            Estimator parameters set on top of the recipe's.

        Returns
        -------
        estimator : NNClassifier or NNRegressor
            An ordinary, unfitted estimator of this class.

        Examples
        --------
        >>> from sknn import NNRegressor
        >>> reg = NNRegressor.from_recipe("tabular", max_iter=50)
        >>> reg.get_params()["lr_schedule"], reg.max_iter
        ('cosine', 50)
        """
        from .recipes import get_recipe

        kind = "classifier" if issubclass(cls, ClassifierMixin) else "regressor"
        return cls(**{**get_recipe(recipe, kind), **params})

    def _partial_fit_available(self):
        try:
            registry = REGISTRIES[_state.COMPONENT_KINDS["optimizer"]]
            cls = registry.class_of(self.optimizer)
        except ValueError:
            return True  # an unknown name: partial_fit will say so
        if not getattr(cls, "stochastic", True):
            raise AttributeError(
                f"partial_fit is not available with the full-batch optimizer "
                f"{cls.__name__}: it needs all the data at once. Use fit, or a "
                "stochastic optimizer such as 'adam' or 'sgd'."
            )
        if self.early_stopping is True:
            raise AttributeError(
                "partial_fit is not available with early_stopping=True: it trains one "
                "epoch per call and has no validation split. Use fit, or set "
                "early_stopping=False."
            )
        return True

    # --------------------------------------------------------------- training
    @array_api_inputs
    def fit(
        self,
        X,
        y,
        sample_weight=None,
        *,
        X_val=None,
        y_val=None,
        sample_weight_val=None,
    ):
        """Train the network on ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; CSR/CSC sparse matrices are used without densifying.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the objective; None weighs all equally.
        X_val : {array-like, sparse matrix} of shape (n_val, n_features), \
                default=None
            Validation data for early stopping, used instead of a split of
            ``X`` (``validation_fraction`` is then not used): it is scored
            after each epoch into ``history_`` and ``validation_scores_``, seen
            by the callbacks, and picks the weights kept. Needs
            ``early_stopping=True`` and ``y_val``. In a
            :class:`~sklearn.pipeline.Pipeline`, the earlier steps transform
            it with ``Pipeline(..., transform_input=["X_val"])``.
        y_val : array-like of shape (n_val,) or (n_val, n_outputs), default=None
            Targets of ``X_val``; a classifier's must be among the classes of
            ``y``.
        sample_weight_val : array-like of shape (n_val,), default=None
            Weights of the validation samples (``class_weight`` applies to them
            as to the training samples).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit(
            X,
            y,
            sample_weight,
            incremental=False,
            validation=(X_val, y_val, sample_weight_val),
        )

    def _fit(self, X, y, sample_weight, incremental, classes=None, validation=None):
        """Train a private copy of the fitted state, then publish it at once.

        Until the call ends, the estimator (as other threads see it) keeps the
        state it had: unfitted before a first fit (``NotFittedError``), the
        previous model during a refit. A failed call leaves it exactly as it
        was. The copy is published by replacing ``__dict__`` in one step.
        """
        resume = incremental or self.warm_start
        held = _state.flat_weights(self.__dict__)[1] if resume else None
        held_params = self.__dict__.get("params_") if resume else None
        work = object.__new__(type(self))
        if resume:  # the declared state, copied as declared
            work.__dict__.update(_state.private_copy(self.__dict__, type(self)))
        else:  # a fresh fit replaces the state
            work.__dict__.update(self.__dict__)
        work._fit_unsafe(X, y, sample_weight, incremental, classes, validation)
        # Resumed training updates the arrays the user holds (coefs_ are live):
        # the new weights are copied into them, in one copy of the flat vector.
        new = _state.flat_weights(work.__dict__)[1]
        if new is not None and held is not None and new.shape == held.shape:
            if new.dtype == held.dtype:
                held[:] = new
                work.coefs_, work.intercepts_ = self.coefs_, self.intercepts_
        new, held = work.__dict__.get("params_"), held_params
        if new is not None and held is not None and new.shape == held.shape:
            if new.dtype == held.dtype:
                held[:] = new
                work.params_ = held
        self.__dict__ = work.__dict__
        return self

    @_sklearn_callbacks.with_callbacks
    def _fit_unsafe(self, X, y, sample_weight, incremental, classes, validation):
        spec = self._check_params()
        fitted = _state.is_fitted(self.__dict__)
        first = not fitted or not (incremental or self.warm_start)
        X, Y, labels = self._validate_training_data(
            X, y, spec, first, incremental, classes
        )
        sw = _check_sample_weight(sample_weight, X.shape[0], X.dtype)
        sw = self._apply_class_weight(sw, labels, X.dtype)
        spec.loss.check_target(Y)
        valid = None
        if validation is not None:
            valid = self._validation_set(*validation, spec, Y, labels)

        if incremental and fitted and hasattr(self, "_rng"):
            rng = self._rng  # partial_fit continues one random stream
        else:
            rng = check_random_state(self.random_state)
        if spec.layered:
            if first:
                layout, params = self._build(X, Y.shape[1], sw, spec, rng)
            else:
                layout, params = self._resume_layers(X, Y.shape[1], sw, spec)
        else:
            layout = _engine.Layout([X.shape[1], *spec.hidden, Y.shape[1]])
            if first:
                params = self._initialize(layout, spec, X.dtype, rng)
            else:
                params = self._resume(layout, spec, X.dtype)
        self._activation, self._loss = spec.activation, spec.loss
        if (self.early_stopping or spec.noise) and not (
            incremental and hasattr(self, "_salt")
        ):
            # Seeds the content-keyed validation split and dropout masks.
            self._salt = int(rng.randint(2**62))
        if first or not hasattr(self, "optimizer_state_"):
            self.optimizer_state_ = spec.optimizer.init(params)
        else:
            try:
                spec.optimizer.check_state(self.optimizer_state_, params)
            except ValueError as exc:
                warnings.warn(
                    f"optimizer_state_ does not belong to the optimizer "
                    f"{type(spec.optimizer).__name__} (was it changed since the last "
                    f"fit?): {exc} Its state is restarted; the weights continue "
                    "from the fitted ones.",
                    UserWarning,
                )
                self.optimizer_state_ = spec.optimizer.init(params)
        if spec.layered:
            net = _network.Network(
                layout, params, self.layer_state_, spec.loss, alpha=float(self.alpha)
            )
        else:
            net = _engine.Network(
                layout,
                params,
                spec.activation,
                spec.loss,
                alpha=float(self.alpha),
                dropout=float(self.dropout),
            )
        self._rng = rng
        self._trainer(self, net, spec, incremental, first).fit(
            X, y, Y, sw, labels, valid
        )
        return self

    def _default_callbacks(self, validation, stochastic):
        """The callbacks every fit runs before ``callbacks_``.

        The built-in early stopping, by the rule of
        :class:`~sknn.callbacks.EarlyStopping`: on the validation score with a
        validation set, else on the training loss (which full-batch
        optimizers only record: their own ``tol`` ends them). It keeps its
        state on the estimator (``best_loss_``, ``best_validation_score_``).
        """
        patience = self.n_iter_no_change + 1 if validation or stochastic else np.inf
        monitor = "valid_score" if validation else "train_loss"
        return [_EstimatorEarlyStopping(monitor, patience, self.tol)]

    def _initialize(self, layout, spec, dtype, rng):
        params = np.empty(layout.n_params, dtype=dtype)
        coefs, intercepts = layout.unpack(params)
        act_name = REGISTRIES["activations"].name_of(type(spec.activation))
        for W, b in zip(coefs, intercepts):
            spec.initializer(W, b, rng, act_name)
        for name in _LAYERED:
            self.__dict__.pop(name, None)
        self.coefs_, self.intercepts_ = coefs, intercepts
        self.n_layers_ = len(layout.sizes)
        self.n_outputs_ = layout.sizes[-1]
        self.out_activation_ = spec.loss.link.name
        _state.start(self)  # the training records, as declared
        return params

    def _build(self, X, n_outputs, sw, spec, rng):
        """Layers, fitted state and initial parameters of a layered architecture."""
        arch = spec.architecture
        layers = self._network_layers(spec, X.shape[1], n_outputs)
        try:
            layout, params, state = _network.build(layers, X, sw, rng, spec.initializer)
        except TypeError as exc:
            if isinstance(X, np.ndarray):
                raise
            raise TypeError(
                f"architecture={arch!r} cannot take sparse X: {exc}"
            ) from None
        for name in ("coefs_", "intercepts_"):
            self.__dict__.pop(name, None)
        self.layers_, self.params_, self.layer_state_ = layers, params, state
        self.n_layers_ = len(layers)
        self.n_outputs_ = n_outputs
        self.out_activation_ = spec.loss.link.name
        _state.start(self)
        return layout, params

    def _resume_layers(self, X, n_outputs, sw, spec):
        """Layout and parameters of the fitted network, in the dtype of ``X``.

        The layers are those the current architecture gives, so that a
        changed hyperparameter that keeps the network's shapes (a dropout
        rate) takes effect; the parameters and layer state are the fitted
        ones. A network of other shapes is refused (:meth:`_network_change`).
        """
        if "params_" not in self.__dict__:
            raise ValueError(
                "warm_start and partial_fit continue the fitted network, a plain "
                f"MLP; architecture={self.architecture!r} is another. Fit from "
                "scratch (warm_start=False) to change the architecture."
            )
        n_features, dtype = X.shape[1], X.dtype
        layers = self._network_layers(spec, n_features, n_outputs)
        change = self._network_change(layers, X, sw, spec)
        if change:
            raise ValueError(
                "warm_start and partial_fit continue the fitted network, and the "
                f"current parameters give another: {change}. Fit from scratch "
                "(warm_start=False) to change it."
            )
        self.layers_ = layers
        layout = _network.LayerLayout(layers, n_features, self.layer_state_)
        if self.params_.dtype != dtype:
            self.params_ = self.params_.astype(dtype)
            self.layer_state_ = [
                {k: v.astype(dtype) if v.dtype.kind == "f" else v for k, v in s.items()}
                for s in self.layer_state_
            ]
            self._cast_optimizer_state(self.params_.shape, dtype)
        _state.start(self, only_missing=True)
        return layout, self.params_

    def _network_change(self, layers, X, sw, spec):
        """How ``layers`` differ from the fitted network, or None if they match.

        They match when they are layers of the same classes with the same
        parameter and fitted-state shapes, and the same hyperparameters the
        fitted state was computed from (``column_params``, ``state_params``,
        since the fitted state is kept). Layers configured as the fitted
        ones match without a look at the data; otherwise their state is
        fitted on ``X`` to compare its shapes (the fitted state is kept).
        """
        fitted = self.layers_
        if list(map(type, layers)) != list(map(type, fitted)):
            given, had = _layer_names(layers), _layer_names(fitted)
            return f"layers {given}, not the fitted {had}"
        if all(map(_same_config, layers, fitted)):
            return None
        changes = [
            f"layer {i} ({type(layer).__name__}) {name}={getattr(layer, name)!r}, "
            f"not the fitted {getattr(had, name)!r}, which its fitted state was "
            "computed from"
            for i, (layer, had) in enumerate(zip(layers, fitted))
            for name in (*layer.column_params, *layer.state_params)
            if not _same_config(getattr(layer, name), getattr(had, name))
        ]
        if changes:
            return "; ".join(changes)
        n_features = X.shape[1]
        old = _network.LayerLayout(fitted, n_features, self.layer_state_)
        # The shapes only: the fit's random state is left untouched.
        rng = np.random.RandomState(0)
        new, _, state = _network.build(layers, X, sw, rng, spec.initializer)
        changes = []
        for i, layer in enumerate(layers):
            for what, a, b in (
                ("parameter", old.shapes[i], new.shapes[i]),
                ("state", _shapes(self.layer_state_[i]), _shapes(state[i])),
            ):
                for key in dict.fromkeys([*a, *b]):
                    if a.get(key) != b.get(key):
                        changes.append(
                            f"layer {i} ({type(layer).__name__}) {what} {key!r} of "
                            f"shape {b.get(key)}, not the fitted {a.get(key)}"
                        )
        if len(changes) > 3:
            changes[3:] = [f"and {len(changes) - 3} more"]
        return "; ".join(changes) or None

    def _cast_optimizer_state(self, shape, dtype):
        state = getattr(self, "optimizer_state_", None)
        if isinstance(state, dict):
            for key, value in state.items():
                if isinstance(value, np.ndarray) and value.shape == shape:
                    state[key] = value.astype(dtype, copy=False)

    def _resume(self, layout, spec, dtype):
        """The flat vector behind ``coefs_``/``intercepts_``, repacked if needed."""
        if "coefs_" not in self.__dict__:
            raise ValueError(
                "warm_start and partial_fit continue the fitted network, of "
                "another architecture than the plain MLP of architecture="
                f"{self.architecture!r}. Fit from scratch (warm_start=False) to "
                "change the architecture."
            )
        shapes = [c.shape for c in self.coefs_]
        if shapes != layout.coef_shapes:
            raise ValueError(
                "warm_start and partial_fit continue the fitted network, whose layer "
                f"shapes are {shapes}; the current data and hidden_layer_sizes give "
                f"{layout.coef_shapes}. Fit from scratch (warm_start=False) to change "
                "them."
            )
        params = layout.flat_of(self.coefs_, self.intercepts_)
        if params is None or params.dtype != dtype:
            params = layout.pack(self.coefs_, self.intercepts_, dtype)
            self.coefs_, self.intercepts_ = layout.unpack(params)
            self._cast_optimizer_state(params.shape, dtype)
        # What early_stopping, turned on or off since, needs.
        _state.start(self, only_missing=True)
        return params

    def _batch_size(self, n):
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn(
                f"batch_size={self.batch_size} is larger than the {n} training "
                f"samples; using {n}.",
                UserWarning,
            )
        return min(self.batch_size, n)

    def _validation_set(self, X_val, y_val, sample_weight_val, spec, Y, labels):
        """The validation set given to ``fit`` as ``(X, Y, sw, labels, keys)``.

        Checked and encoded like the training data (``Y`` and ``labels``);
        None when there is none.
        """
        if X_val is None and y_val is None:
            if sample_weight_val is not None:
                raise ValueError(
                    "sample_weight_val is given without X_val and y_val; it weighs "
                    "the samples of a validation set passed as X_val and y_val."
                )
            return None
        if X_val is None or y_val is None:
            given, missing = ("X_val", "y_val") if y_val is None else ("y_val", "X_val")
            raise ValueError(
                f"{given} is passed to fit without {missing}; pass both X_val and "
                "y_val."
            )
        if not self.early_stopping:
            raise ValueError(
                "X_val and y_val are passed to fit while early_stopping=False; they "
                "are the validation set of early stopping. Set early_stopping=True "
                "(with n_iter_no_change=np.inf to score the validation set without "
                "the built-in stopping rule)."
            )
        try:
            X_val = validate_data(
                self,
                X_val,
                reset=False,
                accept_sparse=_SPARSE,
                dtype=_DTYPES,
                ensure_min_samples=2,
            )
        except ValueError as exc:
            message = re.sub(r"\b(Input )?X (has|contains)", r"\1X_val \2", str(exc))
            raise ValueError(
                message if "X_val" in message else f"X_val: {message}"
            ) from None
        n, dtype = X_val.shape[0], Y.dtype
        y_val = check_array(y_val, ensure_2d=False, dtype=None, input_name="y_val")
        if y_val.shape[0] != n:
            raise ValueError(
                f"y_val has {y_val.shape[0]} samples but X_val has {n}; they must "
                "have the same length."
            )
        Y_val, labels_val = self._validation_targets(y_val, spec, Y)
        sw_val = _check_sample_weight(
            sample_weight_val, n, dtype, name="sample_weight_val", x="X_val"
        )
        sw_val = self._weigh_validation(sw_val, labels_val, labels, dtype)
        return X_val.astype(dtype, copy=False), Y_val, sw_val, labels_val, None

    def _weigh_validation(self, sw, labels_val, labels, dtype):
        return sw

    def _split_validation(self, X, Y, sw, labels, keys):
        """Hold out about ``validation_fraction`` of the data, keyed by content."""
        n = X.shape[0]
        if n < 3:
            raise ValueError(
                "early_stopping=True needs at least 3 samples (2 held out for "
                f"validation); got {n} sample{'s' if n != 1 else ''}. Use more data or "
                "set early_stopping=False."
            )
        weights = np.ones(n) if sw is None else sw
        stratify = self._stratify(labels)
        groups = labels if stratify else np.zeros(n)
        n_groups = len(np.unique(groups[weights > 0]))
        valid = content_split(
            keys,
            weights,
            groups,
            self.validation_fraction,
            min_take=1 if n_groups > 1 else 2,
        )
        if valid.sum() < 2:
            raise ValueError(
                "The validation set is too small for early_stopping: it would hold "
                f"{int(valid.sum())} distinct sample(s) of positive weight. Increase "
                "validation_fraction or the size of your dataset."
            )

        def take(mask):
            idx = np.flatnonzero(mask)
            return tuple(
                None if a is None else a[idx] for a in (X, Y, sw, labels, keys)
            )

        return take(~valid), take(valid)

    def _stratify(self, labels):
        return False

    def __setstate__(self, state):
        # Unpickling copies each array on its own: make coefs_ and intercepts_
        # views of one flat vector again, as after fit.
        super().__setstate__(state)
        _state.pack_weights(self.__dict__)

    # ------------------------------------------------------------- prediction
    def _raw(self, X):
        # Lean path for small, clean NumPy input: exactly the cases in which
        # validate_data would return X unchanged and raise or warn about nothing
        # (unfitted, wrong width, NaN/inf, feature names, other dtypes, lists,
        # sparse and large inputs all take the full path below).
        # One read of __dict__: a fit in another thread publishes a new one.
        state = self.__dict__
        if not (
            type(X) is np.ndarray
            and X.ndim == 2
            and 0 < X.shape[0] <= _FAST_ROWS
            and X.dtype in _FAST_DTYPES
            and X.shape[1] == state.get("n_features_in_")
            and _state.is_fitted(state)
            and "feature_names_in_" not in state
            and np.isfinite(X).all()
        ):
            check_is_fitted(self)
            X = validate_data(
                self, X, reset=False, accept_sparse=_SPARSE, dtype=_float_dtypes(X)
            )
        if "params_" in state:
            layers, layer_state = state["layers_"], state["layer_state_"]
            layout = _network.LayerLayout(layers, X.shape[1], layer_state)
            views = layout.unpack(state["params_"])
            return _network.forward(layers, views, layer_state, X)
        return _engine.forward(
            X, state["coefs_"], state["intercepts_"], state["_activation"]
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self._first_layer_accepts_sparse()
        return tags

    def _first_layer_accepts_sparse(self):
        """Whether the network's first layer takes sparse input (a plain MLP's does)."""
        arch = self.architecture
        if isinstance(arch, str) and arch == "mlp":
            return True
        try:
            arch = REGISTRIES["architectures"].resolve(arch, "architecture")
            settings = {"hidden_layer_sizes": (1,), "dropout": 0.0}
            settings = {k: settings[k] for k in arch.estimator_params if k in settings}
            return arch.layers(1, 1, **settings)[0].accepts_sparse
        except (TypeError, ValueError):
            return True  # an invalid architecture: fit says why


# The fitted attributes of architectures other than the plain MLP.
_LAYERED = ("layers_", "params_", "layer_state_")


def _names_columns(value):
    """Whether a column selection holds column names (str)."""
    if isinstance(value, str):
        return True
    return np.iterable(value) and any(isinstance(v, str) for v in value)


def _layer_names(layers):
    return f"[{', '.join(type(layer).__name__ for layer in layers)}]"


def _shapes(state):
    return {k: np.shape(v) for k, v in state.items()}


def _same_config(a, b):
    """Whether two hyperparameter values (components included) are equal."""
    if isinstance(a, Component) or isinstance(b, Component):
        return type(a) is type(b) and _same_config(
            a.get_params(deep=False), b.get_params(deep=False)
        )
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_config(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same_config, a, b))
    try:
        return type(a) is type(b) and bool(a == b)
    except (TypeError, ValueError):
        return False


def _is_auto(value):
    return isinstance(value, str) and value == "auto"


_PARAMS_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(100,)
        Units per hidden layer; ``()`` gives a network with no hidden layer.
    activation : str, Activation class or instance, default="relu"
        Hidden activation: a name from :func:`sknn.list_activations` ("identity",
        "logistic", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu",
        "softplus", "silu" and plugins) or a component.
    architecture : str, Architecture class or instance, default="mlp"
        The network: "mlp" (:class:`sknn.architectures.MLP`, the multilayer
        perceptron of ``hidden_layer_sizes``), "resnet"
        (:class:`sknn.architectures.ResNet`) or a component of
        :func:`sknn.list_architectures`. Its hyperparameters are tunable as
        ``architecture__<name>``, those of a numerical embedding as
        ``architecture__embedding__<name>`` (e.g.
        ``architecture=MLP(embedding="ple")``, ``architecture__embedding__n_bins``).
        ``hidden_layer_sizes``, ``activation`` and ``dropout`` apply to "mlp"
        only; ResNet has its own widths and dropout rates. All other parameters
        apply to every architecture. The plain "mlp" (no embedding) is the
        network of scikit-learn's MLP and has ``coefs_`` and ``intercepts_``;
        every other architecture has ``layers_``, ``params_`` and
        ``layer_state_``. An embedding's ``columns`` may name columns of a
        DataFrame ``X`` (e.g. ``PiecewiseLinearEncoding(columns=["age",
        "bmi"])``); the fitted layer holds their positions. A changed
        hyperparameter under ``warm_start`` takes effect if the network keeps
        its shapes (see ``warm_start``).
    loss : "auto", str, Loss class or instance, default="auto"
        {loss_doc}
    optimizer : str, Optimizer class or instance, default="adam"
        "sgd", "adam", "adamw", "rmsprop", "adagrad", "lbfgs" or a component;
        an instance's hyperparameters are tunable as ``optimizer__<name>``.
        A full-batch optimizer ("lbfgs") needs a network that draws no noise
        in training: every dropout rate 0 (``dropout`` of "mlp",
        ``architecture__dropout1`` and ``architecture__dropout2`` of "resnet").
    learning_rate : float, default=1e-3
        Step size of string optimizers, and of optimizer instances whose own
        ``learning_rate`` is None. Not used by "lbfgs".
    lr_schedule : str, Schedule class or instance, default="constant"
        How the step size changes per epoch: "constant", "invscaling", "step",
        "exponential", "cosine", "plateau" or a component.
    alpha : float, default=1e-4
        L2 strength, scaled as in scikit-learn:
        ``alpha * ||W||^2 / (2 * sum(sample_weight))`` per batch.
    batch_size : int or "auto", default="auto"
        Minibatch size; "auto" is ``min(200, n_samples)``.
    max_iter : int, default=200
        Maximum number of epochs (iterations for "lbfgs").
    tol : float, default=1e-4
        Minimum improvement of the training loss (or validation score with
        ``early_stopping``) that resets the ``n_iter_no_change`` count; also
        the gradient tolerance of "lbfgs".
    n_iter_no_change : int, default=10
        Epochs without improvement of at least ``tol`` before stopping.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified for
        classifiers), or use the ``X_val`` and ``y_val`` given to ``fit``;
        score it after each epoch, stop when the score stops improving and
        restore the best weights.
    validation_fraction : float, default=0.1
        Share of the training data held out for early stopping (at least 2
        samples); not used when ``fit`` is given ``X_val``.
    shuffle : bool, default=True
        Reshuffle the samples at every epoch.
    weight_init : "auto", str, Initializer class or instance, default="auto"
        Weight initializer; "auto" is "glorot_uniform" with scikit-learn's
        factor (2 for the logistic activation, 6 otherwise).
    dropout : float, default=0.0
        Probability of dropping each hidden unit of "mlp" during training.
    callbacks : list of Callback or (str, Callback), default=None
        Hooks called during training; they are cloned at every fit into
        ``callbacks_``. A callback can stop training by raising
        :class:`sknn.StopTraining`. An entry named with a tuple,
        ``("es", EarlyStopping())``, exposes its hyperparameters as
        ``callbacks__es__patience`` to ``set_params`` and searches.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialization, shuffling, validation split and dropout.
        An int gives identical fits every time.
    verbose : int, default=0
        With 1 or more, print a table row per epoch.
    warm_start : bool, default=False
        Continue from the fitted weights and optimizer state when ``fit`` is
        called again. The network the current parameters give must have the
        fitted one's shapes (layers, parameters, layer state), else ``fit``
        raises ``ValueError``; hyperparameters that keep them (a dropout
        rate) take effect. The same holds between ``partial_fit`` calls."""

_ATTRS_DOC = """
    Attributes
    ----------
    coefs_ : list of ndarray of shape (fan_in, fan_out)
        Weight matrices, one per layer, of the plain MLP (absent for other
        architectures). Live views of the parameters: writing into them
        changes predictions.
    intercepts_ : list of ndarray of shape (fan_out,)
        Bias vectors, one per layer, of the plain MLP.
    layers_ : list of Layer
        The fitted network's layers (:mod:`sknn.layers`), input to raw
        output, for architectures other than the plain MLP.
    params_ : ndarray of shape (n_params,)
        Their trained parameters as one flat vector, each layer's segments
        in the order of ``sknn._network.LayerLayout``.
    layer_state_ : list of dict
        Each layer's fitted non-trained state (batch-norm running statistics,
        embedding bins), saved and resumed with the parameters.
    n_layers_ : int
        Number of layers, input and output included (the plain MLP), or
        ``len(layers_)``.
    n_outputs_ : int
        Number of output units.
    out_activation_ : str
        The name of the loss's output link (see :mod:`sknn.links`), such as
        "identity", "logistic", "softmax" or "exp".
    loss_ : float
        The objective (data loss plus L2 term) at the last epoch.
    loss_curve_ : list of float
        ``loss_`` after each epoch.
    best_loss_ : float or None
        Lowest ``loss_`` seen; None with ``early_stopping``.
    validation_scores_ : list of float or None
        Score on the validation set after each epoch; None without
        ``early_stopping``.
    best_validation_score_ : float or None
        Best validation score; None without ``early_stopping``.
    n_iter_ : int
        Epochs run by the last call to ``fit`` or ``partial_fit``.
    t_ : int
        Training samples seen over all calls.
    history_ : list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``valid_loss`` and
        ``valid_score`` (with a validation set; ``valid_loss`` is the data loss
        without the L2 term), ``learning_rate`` and ``duration`` in seconds.
    optimizer_state_ : dict
        The optimizer's state (moments, step count), used to resume.
    callbacks_ : list of Callback
        The clones of the callbacks used in the last fit, in the order of
        ``callbacks`` (names dropped: ``callbacks_[i]`` is the clone of entry
        ``i``), then the progress table that ``verbose`` adds.
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when ``X`` had string column names."""


class NNClassifier(ClassifierMixin, _BaseNN):
    __doc__ = (
        """Multilayer perceptron classifier with pluggable components.

    Binary, multiclass and multilabel classification with a NumPy engine; the
    parameters follow :class:`sklearn.neural_network.MLPClassifier` where the
    meaning is the same.
"""
        + _PARAMS_DOC.format(
            loss_doc='"auto" uses "binary_log_loss" (logistic outputs) for binary '
            'and multilabel targets and "log_loss" (softmax) for multiclass.'
        )
        + """
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``; "balanced"
        uses ``n_samples / (n_classes * np.bincount(y))``, which ``partial_fit``
        cannot know from one chunk: it refuses "balanced" (pass a dict
        computed once with :func:`sklearn.utils.class_weight.compute_class_weight`).
"""
        + _ATTRS_DOC
        + """
    classes_ : ndarray of shape (n_classes,)
        Class labels.

    See Also
    --------
    NNRegressor : The regressor.
    sklearn.neural_network.MLPClassifier : scikit-learn's MLP.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sknn import NNClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = make_pipeline(StandardScaler(), NNClassifier(random_state=0))
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    """
    )

    _default_loss = None

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        activation="relu",
        *,
        architecture="mlp",
        loss="auto",
        optimizer="adam",
        learning_rate=1e-3,
        lr_schedule="constant",
        alpha=1e-4,
        batch_size="auto",
        max_iter=200,
        tol=1e-4,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        shuffle=True,
        weight_init="auto",
        dropout=0.0,
        callbacks=None,
        random_state=None,
        verbose=0,
        warm_start=False,
        class_weight=None,
    ):
        super().__init__(
            hidden_layer_sizes,
            activation,
            architecture=architecture,
            loss=loss,
            optimizer=optimizer,
            learning_rate=learning_rate,
            lr_schedule=lr_schedule,
            alpha=alpha,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            shuffle=shuffle,
            weight_init=weight_init,
            dropout=dropout,
            callbacks=callbacks,
            random_state=random_state,
            verbose=verbose,
            warm_start=warm_start,
        )
        self.class_weight = class_weight

    @_available_if(_BaseNN._partial_fit_available)
    @array_api_inputs
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one epoch on ``X`` and ``y``, continuing the last state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels, or a label indicator matrix for multilabel.
        classes : array-like of shape (n_classes,), default=None
            All the classes that will ever appear; required on the first call.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The estimator.
        """
        if _is_auto_like(self.class_weight):
            # As SGDClassifier: one chunk's class frequencies are not the data's.
            raise ValueError(
                "class_weight='balanced' is not supported by partial_fit: each call "
                "sees one chunk, whose class frequencies are not those of the whole "
                "data. Compute the weights once, from all the labels or a large "
                "enough sample of them, with sklearn.utils.class_weight."
                "compute_class_weight('balanced', classes=classes, y=y), and pass "
                "them as a dict: class_weight=dict(zip(classes, weights))."
            )
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)

    def _validate_training_data(self, X, y, spec, first, incremental, classes):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=_SPARSE,
            multi_output=True,
            dtype=_float_dtypes(X),
            reset=first,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        target_type = type_of_target(y)
        if target_type not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                "NNClassifier supports binary, multiclass and multilabel-indicator "
                f"targets; got a {target_type} target. For several multiclass "
                "outputs, wrap it in sklearn.multioutput.MultiOutputClassifier."
            )
        if first:
            lb = LabelBinarizer()
            if incremental:
                if classes is None:
                    raise ValueError(
                        "classes must be passed on the first call to partial_fit: "
                        "the list of every class that may appear."
                    )
                lb.fit(y if y.ndim == 2 else np.asarray(classes))
                unseen = (
                    np.setdiff1d(unique_labels(y), lb.classes_) if y.ndim == 1 else []
                )
                if len(unseen):
                    raise ValueError(
                        f"y has classes {unseen.tolist()} that are not in classes="
                        f"{lb.classes_.tolist()}."
                    )
            else:
                lb.fit(y)
            self._label_binarizer = lb
            self.classes_ = lb.classes_
        else:
            if (
                incremental
                and classes is not None
                and not np.array_equal(unique_labels(classes), self.classes_)
            ):
                raise ValueError(
                    f"classes={unique_labels(classes).tolist()} differs from the "
                    "classes of the first call to partial_fit, "
                    f"{self.classes_.tolist()}."
                )
            present = unique_labels(y)
            if self.warm_start and not incremental:
                if set(present) != set(self.classes_):
                    raise ValueError(
                        "warm_start can only be used where `y` has the same classes as "
                        f"in the previous call to fit. Previously got {self.classes_}, "
                        f"`y` has {present}"
                    )
            elif len(np.setdiff1d(present, self.classes_)):
                raise ValueError(
                    f"`y` has classes not in `self.classes_`. `self.classes_` has "
                    f"{self.classes_}. 'y' has {present}."
                )
        lb = self._label_binarizer
        if lb.y_type_ not in ("binary", "multiclass", "multilabel-indicator"):
            raise ValueError(
                f"Unsupported target type {lb.y_type_!r} for NNClassifier."
            )
        if len(lb.classes_) < 2 and lb.y_type_ != "multilabel-indicator":
            raise ValueError(
                "NNClassifier needs samples of at least 2 classes in the data; got "
                "only "
                f"one class: {lb.classes_.tolist()[0]!r}."
            )
        if spec.loss is None:
            name = "log_loss" if lb.y_type_ == "multiclass" else "binary_log_loss"
            spec.loss = REGISTRIES["losses"].resolve(name, "loss")
        if not spec.loss.classification:
            raise ValueError(
                f"loss={self.loss!r} is a regression loss; NNClassifier needs a "
                "classification loss such as 'log_loss' or 'binary_log_loss'."
            )
        _n_outputs(spec.loss, lb.y_type_, len(lb.classes_), self.loss)
        labels = None if lb.y_type_ == "multilabel-indicator" else y
        return X, self._encode(y, spec, X.dtype), labels

    def _encode(self, y, spec, dtype):
        """Class labels as the network's target matrix."""
        return spec.loss.link.encode(self._label_binarizer.transform(y).astype(dtype))

    def _validation_targets(self, y_val, spec, Y):
        if y_val.ndim == 2 and y_val.shape[1] == 1:
            y_val = column_or_1d(y_val, warn=True)
        check_classification_targets(y_val)
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            if (
                y_val.ndim != 2
                or y_val.shape[1] != len(self.classes_)
                or not np.isin(y_val, (0, 1)).all()
            ):
                raise ValueError(
                    "y_val must be a label indicator matrix with "
                    f"{len(self.classes_)} columns of 0 and 1, as y; got shape "
                    f"{y_val.shape}."
                )
            return self._encode(y_val, spec, Y.dtype), None
        if y_val.ndim != 1:
            raise ValueError(
                f"y_val must hold one class label per sample, as y; got shape "
                f"{y_val.shape}."
            )
        present = unique_labels(y_val)
        unseen = present[~np.isin(present, self.classes_)]
        if len(unseen):
            raise ValueError(
                f"y_val has classes {unseen.tolist()} that are not among the classes "
                f"of y, {self.classes_.tolist()}."
            )
        return self._encode(y_val, spec, Y.dtype), y_val

    def _weigh_validation(self, sw, labels_val, labels, dtype):
        # The weights of the classes in y, as for an internal validation split.
        if self.class_weight is None or labels_val is None:
            return sw
        per_class = compute_class_weight(
            self.class_weight, classes=self.classes_, y=labels
        )
        cw = per_class[np.searchsorted(self.classes_, labels_val)].astype(dtype)
        return cw if sw is None else sw * cw

    def _stratify(self, labels):
        return labels is not None

    def _apply_class_weight(self, sw, labels, dtype):
        if self.class_weight is None:
            return sw
        if not (
            isinstance(self.class_weight, dict) or _is_auto_like(self.class_weight)
        ):
            raise (TypeError if not isinstance(self.class_weight, str) else ValueError)(
                "class_weight must be None, 'balanced' or a dict mapping classes to "
                f"weights; got {self.class_weight!r}."
            )
        if labels is None:
            raise ValueError("class_weight is not supported for multilabel targets.")
        if isinstance(self.class_weight, dict):
            unknown = [c for c in self.class_weight if c not in set(self.classes_)]
            if unknown:
                raise ValueError(
                    f"class_weight names classes {unknown} that are not among the "
                    f"classes {self.classes_.tolist()}."
                )
        with np.errstate(over="ignore", invalid="ignore"):
            cw = compute_sample_weight(self.class_weight, labels).astype(dtype)
            w = cw if sw is None else sw * cw
        name = "class_weight" if sw is None else "sample_weight * class_weight"
        return _check_weight_values(w, name)

    def _validation_score(self, raw, Y, sw, labels):
        pred = self._labels_from_raw(raw)
        truth = labels if labels is not None else Y.astype(int)
        return accuracy_score(truth, pred, sample_weight=sw)

    def _proba_from_raw(self, raw):
        p = self._loss.inverse_link(raw)
        return self._loss.link.proba(p, self._label_binarizer.y_type_)

    def _labels_from_raw(self, raw):
        p = self._loss.link.decode(self._loss.inverse_link(raw))
        lb = self._label_binarizer
        if lb.y_type_ == "multiclass":
            # What LabelBinarizer.inverse_transform does, without its checks.
            return self.classes_.take(p.argmax(axis=1))
        return lb.inverse_transform(p)

    @array_api_inputs
    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Predicted labels (an indicator matrix for multilabel).
        """
        return self._labels_from_raw(self._raw(X))

    @array_api_inputs
    def predict_proba(self, X):
        """Class probabilities, strictly inside (0, 1) for logistic outputs.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class, columns ordered as ``classes_``.
        """
        return self._proba_from_raw(self._raw(X))

    @array_api_inputs
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (always finite).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        return np.log(self.predict_proba(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _is_auto_like(value):
    return isinstance(value, str) and value == "balanced"


class NNRegressor(RegressorMixin, _BaseNN):
    __doc__ = (
        """Multilayer perceptron regressor with pluggable components.

    Single- and multi-output regression with a NumPy engine; the parameters
    follow :class:`sklearn.neural_network.MLPRegressor` where the meaning is the
    same.
"""
        + _PARAMS_DOC.format(
            loss_doc='"auto" uses "squared_error"; also "absolute_error", "huber", '
            '"poisson" (log link, y >= 0) or any registered regression loss.'
        )
        + _ATTRS_DOC
        + """

    See Also
    --------
    NNClassifier : The classifier.
    sklearn.neural_network.MLPRegressor : scikit-learn's MLP.

    Examples
    --------
    >>> from sklearn.datasets import make_regression
    >>> from sknn import NNRegressor
    >>> X, y = make_regression(n_samples=200, n_features=5, noise=1, random_state=0)
    >>> reg = NNRegressor(hidden_layer_sizes=(32,), learning_rate=0.01, max_iter=500,
    ...                   random_state=0).fit(X, y)
    >>> reg.score(X, y) > 0.95
    True
    """
    )

    @_available_if(_BaseNN._partial_fit_available)
    @array_api_inputs
    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch on ``X`` and ``y``, continuing the last state.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        self : object
            The estimator.
        """
        return self._fit(X, y, sample_weight, incremental=True)

    def _validate_training_data(self, X, y, spec, first, incremental, classes):
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=_SPARSE,
            multi_output=True,
            y_numeric=True,
            dtype=_float_dtypes(X),
            reset=first,
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if spec.loss.classification:
            raise ValueError(
                f"loss={self.loss!r} is a classification loss; NNRegressor needs a "
                "regression loss such as 'squared_error', 'absolute_error', 'huber' "
                "or 'poisson'."
            )
        Y = np.asarray(y, dtype=X.dtype).reshape(len(y), -1)
        if not np.isfinite(Y).all():
            raise ValueError("y must be finite; it contains NaN or inf.")
        return X, Y, None

    def _validation_targets(self, y_val, spec, Y):
        if y_val.dtype.kind not in "biuf":
            raise ValueError(f"y_val must hold numbers, as y; got dtype {y_val.dtype}.")
        Y_val = y_val.astype(Y.dtype).reshape(len(y_val), -1)
        if Y_val.shape[1] != Y.shape[1]:
            raise ValueError(
                f"y_val has {Y_val.shape[1]} output(s) but y has {Y.shape[1]}."
            )
        spec.loss.check_target(Y_val)
        return Y_val, None

    def _apply_class_weight(self, sw, labels, dtype):
        return sw

    def _validation_score(self, raw, Y, sw, labels):
        return r2_score(Y, self._loss.inverse_link(raw), sample_weight=sw)

    @array_api_inputs
    def predict(self, X):
        """Predict targets.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Input data.

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions (1-D when the network has one output).
        """
        raw = self._raw(X)
        pred = self._loss.inverse_link(raw)
        return pred.ravel() if pred.shape[1] == 1 else pred
