"""Out-of-the-box quality against scikit-learn's MLP (same pipeline, seed, folds)."""

import warnings

import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier, NNRegressor


def _cv(estimator, X, y):
    pipe = make_pipeline(StandardScaler(), estimator)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cross_val_score(pipe, X, y, cv=5).mean()


@pytest.mark.parametrize("load", [load_digits, load_breast_cancer, load_wine])
def test_classification_accuracy_matches_mlp(load):
    X, y = load(return_X_y=True)
    ours = _cv(NNClassifier(max_iter=2000, random_state=0), X, y)
    theirs = _cv(MLPClassifier(max_iter=2000, random_state=0), X, y)
    print(f"{load.__name__}: sknn {ours:.4f}  sklearn {theirs:.4f}")
    assert ours >= theirs - 0.005


def test_regression_r2_matches_mlp():
    X, y = load_diabetes(return_X_y=True)
    ours = _cv(NNRegressor(max_iter=2000, random_state=0), X, y)
    theirs = _cv(MLPRegressor(max_iter=2000, random_state=0), X, y)
    print(f"load_diabetes R2: sknn {ours:.4f}  sklearn {theirs:.4f}")
    assert ours >= theirs - 0.02
