"""scikit-learn's meta-estimators and inspection tools around sknn's estimators."""

import numpy as np
import pytest
import sklearn
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.inspection import PartialDependenceDisplay, permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, make_scorer
from sklearn.model_selection import (
    HalvingGridSearchCV,
    cross_validate,
    train_test_split,
)
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier, NNRegressor

# Short trainings keep these tests fast; reaching max_iter is expected here.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _clf(**params):
    params = {
        "hidden_layer_sizes": (16,),
        "learning_rate": 1e-2,
        "max_iter": 100,
        "random_state": 0,
        **params,
    }
    return NNClassifier(**params)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def _assert_probabilities(proba, n_samples, n_classes):
    assert proba.shape == (n_samples, n_classes)
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic"])
def test_calibrated_classifier_cv(iris, method):
    X_train, X_test, y_train, y_test = iris
    model = CalibratedClassifierCV(_clf(), method=method, cv=3).fit(X_train, y_train)
    assert len(model.calibrated_classifiers_) == 3
    assert all(
        isinstance(c.estimator, NNClassifier) for c in model.calibrated_classifiers_
    )
    _assert_probabilities(model.predict_proba(X_test), len(y_test), 3)
    assert model.score(X_test, y_test) > 0.8


def test_stacking_classifier(iris):
    X_train, X_test, y_train, y_test = iris
    model = StackingClassifier(
        [("nn", _clf()), ("lr", LogisticRegression())],
        final_estimator=LogisticRegression(),
        cv=3,
    ).fit(X_train, y_train)
    # predict_proba of both base models, 3 classes each, feed the final estimator.
    assert model.transform(X_test).shape == (len(y_test), 6)
    _assert_probabilities(model.predict_proba(X_test), len(y_test), 3)
    assert model.score(X_test, y_test) > 0.8


def test_soft_voting_averages_predict_proba(iris):
    X_train, X_test, y_train, y_test = iris
    model = VotingClassifier(
        [("nn", _clf()), ("lr", LogisticRegression())], voting="soft"
    ).fit(X_train, y_train)
    nn, lr = model.named_estimators_["nn"], model.named_estimators_["lr"]
    expected = (nn.predict_proba(X_test) + lr.predict_proba(X_test)) / 2
    np.testing.assert_allclose(model.predict_proba(X_test), expected)
    _assert_probabilities(model.predict_proba(X_test), len(y_test), 3)
    assert model.score(X_test, y_test) > 0.8


def test_multi_output_classifier():
    X, y0 = make_classification(300, 8, n_informative=4, random_state=0)
    y1 = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)  # three classes
    Y = np.column_stack([y0, y1])
    model = MultiOutputClassifier(_clf()).fit(X, Y)
    assert len(model.estimators_) == 2
    assert model.predict(X).shape == (300, 2)
    probas = model.predict_proba(X)
    _assert_probabilities(probas[0], 300, 2)
    _assert_probabilities(probas[1], 300, 3)
    # Each output beats always predicting its majority class.
    for j, est in enumerate(model.estimators_):
        majority = np.bincount(Y[:, j]).max() / len(Y)
        assert est.score(X, Y[:, j]) > majority + 0.1


def test_transformed_target_regressor():
    X, y = make_regression(300, 5, noise=1.0, random_state=0)
    y = np.exp(y / y.std())  # a positive, skewed target
    model = TransformedTargetRegressor(
        regressor=NNRegressor(hidden_layer_sizes=(32,), max_iter=300, random_state=0),
        func=np.log,
        inverse_func=np.exp,
    ).fit(X, y)
    # The regressor learned log(y); predictions come back on y's scale.
    np.testing.assert_allclose(
        model.predict(X), np.exp(model.regressor_.predict(X)), rtol=1e-12
    )
    assert model.regressor_.score(X, np.log(y)) > 0.9
    assert model.score(X, y) > 0.5


@pytest.mark.parametrize(
    "resource, min_resources", [("n_samples", 30), ("max_iter", 25)]
)
def test_halving_grid_search(iris, resource, min_resources):
    X_train, X_test, y_train, y_test = iris
    grid = {"hidden_layer_sizes": [(4,), (16,)], "alpha": [1e-4, 1e-2, 1.0]}
    search = HalvingGridSearchCV(
        _clf(),
        grid,
        factor=2,
        cv=3,
        resource=resource,
        min_resources=min_resources,
        max_resources=200 if resource == "max_iter" else "auto",
        random_state=0,
    ).fit(X_train, y_train)
    assert search.n_iterations_ >= 2
    # Each round gives the survivors more samples or more epochs.
    assert list(search.n_resources_) == sorted(search.n_resources_)
    assert search.n_candidates_[0] == 6 > search.n_candidates_[-1]
    if resource == "max_iter":
        assert search.best_estimator_.n_iter_ == search.n_resources_[-1]
    assert search.best_params_["hidden_layer_sizes"] in grid["hidden_layer_sizes"]
    assert search.best_params_["alpha"] in grid["alpha"]
    assert search.score(X_test, y_test) > 0.8


def test_permutation_importance_finds_the_informative_features():
    # shuffle=False: the first three columns are informative, the rest noise.
    X, y = make_classification(
        400, 8, n_informative=3, n_redundant=0, shuffle=False, random_state=0
    )
    model = _clf(max_iter=200).fit(X, y)
    result = permutation_importance(model, X, y, n_repeats=5, random_state=0)
    informative, noise = result.importances_mean[:3], result.importances_mean[3:]
    assert result.importances.shape == (8, 5)
    assert informative.min() > noise.max()
    assert informative.max() > 0.05


def test_partial_dependence_display():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(300, 3))
    y = 2 * X[:, 0] + 0.1 * rng.normal(size=300)  # only feature 0 matters
    model = NNRegressor(hidden_layer_sizes=(16,), max_iter=300, random_state=0)
    model.fit(X, y)
    display = PartialDependenceDisplay.from_estimator(
        model, X, [0, 2], grid_resolution=20
    )
    try:
        assert len(display.axes_.ravel()) == 2
        curve0 = display.pd_results[0]["average"][0]
        curve2 = display.pd_results[1]["average"][0]
        assert curve0.shape == curve2.shape == (20,)
        # Feature 0's dependence rises by about 2 * (range of the grid); feature 2's
        # is flat.
        assert np.all(np.diff(curve0) > 0)
        assert np.ptp(curve0) > 2.5
        assert np.ptp(curve2) < 0.3
    finally:
        plt.close(display.figure_)


def test_sample_weight_is_routed_through_a_pipeline():
    X, y = make_classification(200, 6, random_state=0)
    w = np.random.RandomState(0).uniform(0.1, 3.0, size=len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                ("scale", StandardScaler().set_fit_request(sample_weight=False)),
                ("nn", _clf(max_iter=20).set_fit_request(sample_weight=True)),
            ]
        )
        pipe.fit(X, y, sample_weight=w)
        # Routed: the same weights as fitting the network directly with them.
        direct = _clf(max_iter=20).fit(
            StandardScaler().fit_transform(X), y, sample_weight=w
        )
        unweighted = _clf(max_iter=20).fit(StandardScaler().fit_transform(X), y)
        for ours, ref in zip(pipe["nn"].coefs_, direct.coefs_):
            np.testing.assert_array_equal(ours, ref)
        assert not np.allclose(pipe["nn"].coefs_[0], unweighted.coefs_[0])

        # And through cross-validation into each fold's fit and its scorer.
        scorer = make_scorer(accuracy_score).set_score_request(sample_weight=True)
        scores = cross_validate(
            Pipeline(
                [
                    ("scale", StandardScaler().set_fit_request(sample_weight=False)),
                    ("nn", _clf(max_iter=20).set_fit_request(sample_weight=True)),
                ]
            ),
            X,
            y,
            cv=3,
            scoring=scorer,
            params={"sample_weight": w},
        )
        assert scores["test_score"].mean() > 0.7


def test_routing_requires_an_explicit_request():
    X, y = make_classification(100, 4, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [
                ("scale", StandardScaler().set_fit_request(sample_weight=False)),
                ("nn", _clf(max_iter=5)),
            ]
        )
        with pytest.raises(ValueError, match="sample_weight"):
            pipe.fit(X, y, sample_weight=np.ones(len(y)))
