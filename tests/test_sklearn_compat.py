"""scikit-learn conformance: check_estimator, equivalence with MLP, meta-estimators."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from scipy.stats import loguniform
from sklearn.base import clone
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV, cross_val_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from sknn import NNClassifier, NNRegressor
from sknn.optimizers import SGD, Adam

OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "lbfgs"]

ESTIMATORS = (
    [NNClassifier(), NNRegressor()]
    + [NNClassifier(optimizer=name) for name in OPTIMIZERS if name != "adam"]
    + [NNRegressor(optimizer=name) for name in OPTIMIZERS if name != "adam"]
    + [
        NNClassifier(early_stopping=True, dropout=0.2),
        NNRegressor(early_stopping=True, dropout=0.2),
    ]
)


# scikit-learn < 1.9.1 hands pytest a generator of checks, which pytest >= 9.1
# deprecates (an error here): the same parametrization, as a list.
_CHECKS = parametrize_with_checks(ESTIMATORS, expected_failed_checks=lambda est: {})


# The checks fit with scikit-learn's settings, most of them too short to converge.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize(_CHECKS.args[0], list(_CHECKS.args[1]), **_CHECKS.kwargs)
def test_sklearn_check_estimator(estimator, check, monkeypatch):
    # scikit-learn skips its array API checks unless SCIPY_ARRAY_API is set; the
    # one for estimators computing in NumPy (NumPy input with array_api_dispatch
    # on) applies to sknn, and only needs scikit-learn to allow the dispatch.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    check(estimator)


def _fitted_pair(ours, theirs, X, y):
    """Fit sklearn's model, fit ours for one epoch, then copy the weights over."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs.fit(X, y)
        ours.fit(X, y)
    ours.coefs_ = [c.copy() for c in theirs.coefs_]
    ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
    return ours, theirs


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("target", ["binary", "multiclass", "multilabel"])
def test_same_weights_same_predictions_as_mlp_classifier(activation, target):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 5))
    if target == "binary":
        y = (X[:, 0] > 0).astype(int)
    elif target == "multiclass":
        y = np.digitize(X[:, 0], [-0.5, 0.5])
    else:
        y = (X[:, :3] > 0).astype(int)
    kw = dict(
        hidden_layer_sizes=(7, 4), activation=activation, max_iter=5, random_state=1
    )
    ours, theirs = _fitted_pair(NNClassifier(**kw), MLPClassifier(**kw), X, y)
    assert ours.out_activation_ == theirs.out_activation_
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-6
    )
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("activation", ["identity", "logistic", "tanh", "relu"])
@pytest.mark.parametrize("n_targets", [1, 3])
def test_same_weights_same_predictions_as_mlp_regressor(activation, n_targets):
    X, y = make_regression(
        n_samples=50, n_features=4, n_targets=n_targets, random_state=0
    )
    kw = dict(
        hidden_layer_sizes=(6, 5), activation=activation, max_iter=5, random_state=1
    )
    ours, theirs = _fitted_pair(NNRegressor(**kw), MLPRegressor(**kw), X, y)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-6)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_follows_mlp_draw_for_draw(solver, dtype):
    # Same seed, same initialisation order, same shuffles and update rules.
    X, y = make_classification(
        n_samples=300, n_features=10, n_classes=3, n_informative=5, random_state=0
    )
    X = X.astype(dtype)
    kw = dict(hidden_layer_sizes=(16,), max_iter=8, batch_size=64, random_state=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = MLPClassifier(solver=solver, **kw).fit(X, y)
        ours = NNClassifier(optimizer=solver, **kw).fit(X, y)
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=rtol * 10)


def test_grid_search_in_pipeline_with_optimizer_instances():
    X, y = load_iris(return_X_y=True)
    user_adam = Adam(learning_rate=0.01, beta_1=0.8)
    user_sgd = SGD(learning_rate=0.05)
    before = (user_adam.get_params(), user_sgd.get_params())
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("nn", NNClassifier(optimizer=user_adam, max_iter=60, random_state=0)),
        ]
    )
    grid = [
        {
            "nn__activation": ["relu", "tanh"],
            "nn__hidden_layer_sizes": [(8,), (16, 8)],
            "nn__optimizer": [user_adam, user_sgd],
        },
        {"nn__optimizer__learning_rate": [1e-3, 1e-2]},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        search = GridSearchCV(pipe, grid, cv=3, n_jobs=2).fit(X, y)
    assert len(search.cv_results_["params"]) == 2 * 2 * 2 + 2
    assert search.best_score_ > 0.85
    lrs = [
        p["nn__optimizer__learning_rate"]
        for p in search.cv_results_["params"]
        if "nn__optimizer__learning_rate" in p
    ]
    assert lrs == [1e-3, 1e-2]
    # The user's instances were cloned, never changed.
    assert (user_adam.get_params(), user_sgd.get_params()) == before
    assert pipe.named_steps["nn"].optimizer is user_adam
    assert not hasattr(pipe.named_steps["nn"], "coefs_")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_nested_optimizer_param_changes_training():
    X, y = load_iris(return_X_y=True)
    est = NNClassifier(optimizer=Adam(), max_iter=3, random_state=0)
    a = clone(est).set_params(optimizer__learning_rate=1e-4).fit(X, y).coefs_[0]
    b = clone(est).set_params(optimizer__learning_rate=1e-1).fit(X, y).coefs_[0]
    assert not np.allclose(a, b)
    assert est.optimizer.learning_rate is None


def test_cross_val_score_and_randomized_search():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), NNClassifier(max_iter=100, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=5)
        search = RandomizedSearchCV(
            pipe,
            {
                "nnclassifier__learning_rate": loguniform(1e-4, 1e-1),
                "nnclassifier__alpha": loguniform(1e-6, 1e-2),
            },
            n_iter=4,
            cv=3,
            random_state=0,
        ).fit(X, y)
    assert scores.shape == (5,) and scores.mean() > 0.85
    assert 1e-4 <= search.best_params_["nnclassifier__learning_rate"] <= 1e-1


@pytest.mark.parametrize("Est", [NNClassifier, NNRegressor])
def test_clone_pickle_joblib_round_trips(Est, tmp_path):
    X, y = make_classification(n_samples=120, n_features=6, random_state=0)
    est = Est(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    assert not hasattr(clone(est), "coefs_")
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    for copy in (pickle.loads(pickle.dumps(est)), joblib.load(path)):
        np.testing.assert_array_equal(copy.predict(X), est.predict(X))
        # Training continues from the loaded state, exactly as the original does.
        before = [c.copy() for c in copy.coefs_]
        copy.partial_fit(X, y)
        assert any(not np.array_equal(a, b) for a, b in zip(before, copy.coefs_))
    original = pickle.loads(pickle.dumps(est))
    loaded = joblib.load(path)
    original.partial_fit(X, y)
    loaded.partial_fit(X, y)
    for a, b in zip(original.coefs_, loaded.coefs_):
        np.testing.assert_array_equal(a, b)
