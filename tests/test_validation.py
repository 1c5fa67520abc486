"""Every bad parameter and every kind of bad input gets a clear error.

The tables here are the source of the bad-input table in docs/errors.md.
"""

import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from sknn import NNClassifier, NNRegressor
from sknn.activations import ReLU
from sknn.optimizers import Adam

rng = np.random.RandomState(0)
X = rng.normal(size=(40, 5))
y_clf = np.arange(40) % 3
y_reg = X @ rng.normal(size=5)

# (parameter, invalid value, exception, text the message must contain)
INVALID_PARAMS = [
    ("hidden_layer_sizes", 0, ValueError, ">= 1"),
    ("hidden_layer_sizes", (10, -1), ValueError, ">= 1"),
    ("hidden_layer_sizes", "100", TypeError, "sequence of ints"),
    ("hidden_layer_sizes", (10, 2.5), TypeError, "sequence of ints"),
    ("hidden_layer_sizes", None, TypeError, "sequence of ints"),
    ("activation", "relux", ValueError, "Available activations: elu, gelu"),
    ("activation", 3, TypeError, "registered activation"),
    ("activation", None, TypeError, "registered activation"),
    ("activation", Adam(), TypeError, "Activation subclass or instance"),
    ("architecture", "resnett", ValueError, "Available architectures: mlp, resnet"),
    ("architecture", 3, TypeError, "registered architecture"),
    ("architecture", Adam(), TypeError, "Architecture subclass or instance"),
    ("loss", "squared", ValueError, "Available losses"),
    ("loss", 1.0, TypeError, "registered loss"),
    ("optimizer", "adamx", ValueError, "Available optimizers: adagrad, adam"),
    ("optimizer", 0, TypeError, "registered optimizer"),
    ("optimizer", ReLU(), TypeError, "Optimizer subclass or instance"),
    ("learning_rate", 0, ValueError, "> 0"),
    ("learning_rate", -1e-3, ValueError, "> 0"),
    ("learning_rate", float("nan"), ValueError, "> 0"),
    ("learning_rate", float("inf"), ValueError, "> 0"),
    ("learning_rate", "0.1", TypeError, "a float"),
    ("learning_rate", None, TypeError, "a float"),
    ("lr_schedule", "adaptive", ValueError, "Available schedules"),
    ("lr_schedule", 0.5, TypeError, "registered schedule"),
    ("alpha", -1.0, ValueError, ">= 0"),
    ("alpha", "0", TypeError, "a float"),
    ("alpha", float("nan"), ValueError, ">= 0"),
    ("batch_size", 0, ValueError, ">= 1"),
    ("batch_size", 1.5, TypeError, "an int"),
    ("batch_size", "big", ValueError, "'auto' or an int"),
    ("batch_size", None, TypeError, "an int"),
    ("max_iter", 0, ValueError, ">= 1"),
    ("max_iter", 2.5, TypeError, "an int"),
    ("max_iter", "10", TypeError, "an int"),
    ("tol", -1e-4, ValueError, ">= 0"),
    ("tol", "x", TypeError, "a float"),
    ("n_iter_no_change", 0, ValueError, ">= 1"),
    ("n_iter_no_change", 1.5, TypeError, "an int or np.inf"),
    ("early_stopping", "yes", TypeError, "True or False"),
    ("early_stopping", 1, TypeError, "True or False"),
    ("validation_fraction", 0.0, ValueError, "> 0 and < 1"),
    ("validation_fraction", 1.0, ValueError, "> 0 and < 1"),
    ("validation_fraction", "0.1", TypeError, "a float"),
    ("shuffle", "no", TypeError, "True or False"),
    ("weight_init", "xavier", ValueError, "Available initializers"),
    ("weight_init", 1, TypeError, "registered initializer"),
    ("dropout", 1.0, ValueError, ">= 0 and < 1"),
    ("dropout", -0.1, ValueError, ">= 0 and < 1"),
    ("dropout", "0.5", TypeError, "a float"),
    ("callbacks", "early_stopping", TypeError, "list of Callback"),
    ("callbacks", [1], TypeError, "registered callback"),
    ("callbacks", ["nope"], ValueError, "Available callbacks"),
    ("callbacks", [ReLU()], TypeError, "Callback subclass or instance"),
    ("random_state", "seed", TypeError, "random_state must be None, an int"),
    ("random_state", -1, ValueError, "random_state must be an int >= 0"),
    ("random_state", 1.5, TypeError, "random_state must be None, an int"),
    ("verbose", -1, ValueError, ">= 0"),
    ("verbose", "loud", TypeError, "an int"),
    ("warm_start", "no", TypeError, "True or False"),
]
CLASSIFIER_ONLY = [
    ("class_weight", "auto", ValueError, "'balanced' or a dict"),
    ("class_weight", 5, TypeError, "'balanced' or a dict"),
    ("class_weight", {7: 1.0}, ValueError, "not among the classes"),
    ("loss", "huber", ValueError, "regression loss"),
]
REGRESSOR_ONLY = [("loss", "log_loss", ValueError, "classification loss")]


def _params(table, est_name):
    return [pytest.param(*row, id=f"{est_name}-{row[0]}={row[1]!r}") for row in table]


@pytest.mark.parametrize(
    "param, value, error, text",
    _params(INVALID_PARAMS + CLASSIFIER_ONLY, "clf"),
)
def test_invalid_classifier_params(param, value, error, text):
    with pytest.raises(error, match=re.escape(text)) as info:
        NNClassifier(**{param: value}).fit(X, y_clf)
    assert param in str(info.value) or param in ("activation", "loss")


@pytest.mark.parametrize(
    "param, value, error, text",
    _params(INVALID_PARAMS + REGRESSOR_ONLY, "reg"),
)
def test_invalid_regressor_params(param, value, error, text):
    with pytest.raises(error, match=re.escape(text)) as info:
        NNRegressor(**{param: value}).fit(X, y_reg)
    assert param in str(info.value) or param in ("activation", "loss")


def test_every_parameter_is_covered():
    covered = {row[0] for row in INVALID_PARAMS + CLASSIFIER_ONLY}
    assert covered == set(NNClassifier().get_params())
    assert {row[0] for row in INVALID_PARAMS} == set(NNRegressor().get_params())


def test_invalid_params_leave_the_fitted_model_intact():
    clf = NNClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y_clf)
    before = clf.predict_proba(X)
    with pytest.raises(ValueError):
        clf.set_params(learning_rate=-1).fit(X, y_clf)
    np.testing.assert_array_equal(clf.predict_proba(X), before)


def _component_cases():
    """Two invalid values for every checked hyperparameter of every component."""
    from sknn._registry import REGISTRIES

    param_of = {
        "activations": "activation",
        "losses": "loss",
        "optimizers": "optimizer",
        "schedules": "lr_schedule",
        "initializers": "weight_init",
        "callbacks": "callbacks",
    }
    bad_values = {"bool": [("yes", TypeError), (1, TypeError)]}
    cases = []
    for kind, registry in REGISTRIES.items():
        if kind not in param_of:
            continue  # no estimator parameter (layers: tests/test_layers.py)
        for name in registry.names():
            cls = registry.get(name)
            for attr, rule in getattr(cls, "_param_checks", {}).items():
                if rule == "bool":
                    values = bad_values["bool"]
                elif isinstance(rule, set | frozenset):
                    values = [("nope", ValueError), (3, TypeError)]
                else:
                    low = rule.get("low", 0)
                    values = [(low - 1, ValueError), ("1", TypeError)]
                for value, error in values:
                    cases.append(
                        pytest.param(
                            kind,
                            param_of[kind],
                            cls,
                            attr,
                            value,
                            error,
                            id=f"{cls.__name__}.{attr}={value!r}",
                        )
                    )
    return cases


@pytest.mark.parametrize("kind, param, cls, attr, value, error", _component_cases())
def test_invalid_component_hyperparameters(kind, param, cls, attr, value, error):
    component = cls(**{attr: value})
    est = NNRegressor if kind == "losses" and not cls.classification else NNClassifier
    y = y_reg if est is NNRegressor else y_clf
    if kind == "callbacks":
        component = [component]
    with pytest.raises(error, match=re.escape(f"{cls.__name__}.{attr}")) as info:
        est(**{param: component}).fit(X, y)
    assert str(info.value).startswith(f"{param}=")


def test_every_component_hyperparameter_with_a_range_is_checked():
    # Numeric hyperparameters of built-ins must all be declared in _param_checks.
    import inspect

    from sknn._registry import REGISTRIES

    unchecked = []
    for registry in REGISTRIES.values():
        for name in registry.names():
            cls = registry.get(name)
            for p in inspect.signature(cls.__init__).parameters.values():
                numeric = isinstance(p.default, int | float) and p.name != "self"
                if numeric and p.name not in getattr(cls, "_param_checks", {}):
                    unchecked.append(f"{cls.__name__}.{p.name}")
    assert unchecked == []


def _fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


def _fitted_clf():
    return _fit(
        NNClassifier(hidden_layer_sizes=(4,), max_iter=2, random_state=0), X, y_clf
    )


X_nan = X.copy()
X_nan[3, 2] = np.nan
X_inf = X.copy()
X_inf[0, 0] = np.inf
y_nan = y_reg.copy()
y_nan[5] = np.nan

# (kind, callable that must raise, exception, text in the message)
BAD_INPUTS = [
    ("NaN in X", lambda: NNClassifier().fit(X_nan, y_clf), ValueError, "NaN"),
    ("inf in X", lambda: NNRegressor().fit(X_inf, y_reg), ValueError, "infinity"),
    ("NaN in X at predict", lambda: _fitted_clf().predict(X_nan), ValueError, "NaN"),
    ("NaN in y (regression)", lambda: NNRegressor().fit(X, y_nan), ValueError, "NaN"),
    (
        "NaN in y (classification)",
        lambda: NNClassifier().fit(X, np.where(y_clf == 0, np.nan, y_clf)),
        ValueError,
        "NaN",
    ),
    (
        "inf in y",
        lambda: NNRegressor().fit(X, np.full(40, np.inf)),
        ValueError,
        "infinity",
    ),
    (
        "empty X",
        lambda: NNClassifier().fit(X[:0], y_clf[:0]),
        ValueError,
        "0 sample(s)",
    ),
    (
        "no features",
        lambda: NNRegressor().fit(X[:, :0], y_reg),
        ValueError,
        "0 feature(s)",
    ),
    (
        "one sample (classifier)",
        lambda: NNClassifier().fit(X[:1], y_clf[:1]),
        ValueError,
        "one class",
    ),
    (
        "1-D X",
        lambda: NNClassifier().fit(X[:, 0], y_clf),
        ValueError,
        "Expected 2D array, got 1D array",
    ),
    (
        "3-D X",
        lambda: NNRegressor().fit(X[:, :, None], y_reg),
        ValueError,
        "Found array with dim 3",
    ),
    (
        "mismatched lengths",
        lambda: NNClassifier().fit(X, y_clf[:-1]),
        ValueError,
        "inconsistent numbers of samples",
    ),
    (
        "wrong n_features at predict",
        lambda: _fitted_clf().predict(X[:, :3]),
        ValueError,
        "X has 3 features, but NNClassifier is expecting 5",
    ),
    (
        "wrong n_features in partial_fit",
        lambda: _fitted_clf().partial_fit(X[:, :4], y_clf),
        ValueError,
        "X has 4 features",
    ),
    (
        "object X with strings",
        lambda: NNClassifier().fit(
            np.array([["a", "b"]] * 6, dtype=object), [0, 1] * 3
        ),
        ValueError,
        "could not convert",
    ),
    (
        "complex X",
        lambda: NNRegressor().fit(X + 1j, y_reg),
        ValueError,
        "Complex data not supported",
    ),
    (
        "single class",
        lambda: NNClassifier().fit(X, np.zeros(40)),
        ValueError,
        "at least 2 classes",
    ),
    (
        "continuous target to classifier",
        lambda: NNClassifier().fit(X, y_reg),
        ValueError,
        "Unknown label type",
    ),
    (
        "string target to regressor",
        lambda: NNRegressor().fit(X, np.array(["a", "b"] * 20)),
        ValueError,
        "could not convert",
    ),
    (
        "multiclass-multioutput target",
        lambda: NNClassifier().fit(X, np.column_stack([y_clf, y_clf])),
        ValueError,
        "multiclass-multioutput",
    ),
    (
        "new class in partial_fit",
        lambda: _fitted_clf().partial_fit(X, y_clf + 1),
        ValueError,
        "classes not in `self.classes_`",
    ),
    (
        "partial_fit without classes first",
        lambda: NNClassifier().partial_fit(X, y_clf),
        ValueError,
        "classes must be passed on the first call",
    ),
    (
        "classes change under warm_start",
        lambda: _fitted_clf().set_params(warm_start=True).fit(X, (y_clf > 0) * 1),
        ValueError,
        "warm_start can only be used where `y` has the same classes",
    ),
    (
        "negative target with poisson",
        lambda: NNRegressor(loss="poisson").fit(X, y_reg),
        ValueError,
        "non-negative",
    ),
    (
        "negative sample_weight",
        lambda: NNClassifier().fit(X, y_clf, sample_weight=-np.ones(40)),
        ValueError,
        "sample_weight must be non-negative",
    ),
    (
        "NaN sample_weight",
        lambda: NNClassifier().fit(X, y_clf, sample_weight=np.full(40, np.nan)),
        ValueError,
        "sample_weight must be finite",
    ),
    (
        "all-zero sample_weight",
        lambda: NNRegressor().fit(X, y_reg, sample_weight=np.zeros(40)),
        ValueError,
        "at least one positive",
    ),
    (
        "wrong-shaped sample_weight",
        lambda: NNRegressor().fit(X, y_reg, sample_weight=np.ones((40, 2))),
        ValueError,
        "sample_weight must have shape (40,)",
    ),
    (
        "string sample_weight",
        lambda: NNRegressor().fit(X, y_reg, sample_weight=["a"] * 40),
        TypeError,
        "sample_weight must hold real numbers",
    ),
    (
        "class_weight naming unknown classes",
        lambda: NNClassifier(class_weight={0: 1, 9: 2}).fit(X, y_clf),
        ValueError,
        "class_weight names classes [9]",
    ),
    (
        "all-zero class_weight",
        lambda: NNClassifier(class_weight={0: 0, 1: 0, 2: 0}).fit(X, y_clf),
        ValueError,
        "class_weight must have at least one positive value",
    ),
    (
        "negative class_weight",
        lambda: NNClassifier(class_weight={0: -1}).fit(X, y_clf),
        ValueError,
        "class_weight must be non-negative",
    ),
    (
        "validation split too small",
        lambda: NNClassifier(early_stopping=True).fit(X[:2], [0, 1]),
        ValueError,
        "early_stopping=True needs at least 3 samples",
    ),
    (
        "predict before fit",
        lambda: NNClassifier().predict(X),
        NotFittedError,
        "not fitted yet",
    ),
    (
        "changed architecture under warm_start",
        lambda: (
            _fitted_clf()
            .set_params(warm_start=True, hidden_layer_sizes=(9,))
            .fit(X, y_clf)
        ),
        ValueError,
        "layer shapes",
    ),
]


@pytest.mark.parametrize(
    "kind, call, error, text", [pytest.param(*row, id=row[0]) for row in BAD_INPUTS]
)
def test_bad_input(kind, call, error, text):
    with pytest.raises(error, match=re.escape(text)):
        call()


def test_sparse_coo_is_accepted():
    clf = _fit(
        NNClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0),
        sp.coo_matrix(X),
        y_clf,
    )
    assert clf.predict(sp.coo_matrix(X)).shape == (40,)


def test_bad_input_table_in_docs_lists_every_kind():
    from pathlib import Path

    doc = (Path(__file__).parents[1] / "docs" / "errors.md").read_text()
    for kind, *_ in BAD_INPUTS:
        assert f"| {kind} |" in doc, kind
