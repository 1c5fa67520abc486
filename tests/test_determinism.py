"""Reproducibility: seeds, threads, pickling and cloning."""

import pickle
import warnings
from concurrent.futures import ThreadPoolExecutor

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sknn import NNClassifier, NNRegressor, list_optimizers


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data(n=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 5))
    y = (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 1)
    return X, y


def _weights(est):
    return est.coefs_ + est.intercepts_


def _assert_bit_identical(a, b):
    assert len(_weights(a)) == len(_weights(b))
    for x, y in zip(_weights(a), _weights(b)):
        assert x.dtype == y.dtype
        assert x.tobytes() == y.tobytes()


CONFIGS = [
    {},
    {"dropout": 0.3},
    {"early_stopping": True},
    {"batch_size": 7, "lr_schedule": "cosine"},
]


@pytest.mark.parametrize("optimizer", list_optimizers())
@pytest.mark.parametrize("config", range(len(CONFIGS)))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_seed_gives_bit_identical_weights(optimizer, config, dtype):
    params = dict(CONFIGS[config])
    if optimizer == "lbfgs" and params.pop("dropout", 0):
        params["alpha"] = 1e-2  # L-BFGS cannot use dropout
    X, y = _data()
    X = X.astype(dtype)

    def fit():
        return NNClassifier(
            hidden_layer_sizes=(8, 4),
            optimizer=optimizer,
            max_iter=5,
            random_state=42,
            **params,
        ).fit(X, y)

    first, second = fit(), fit()
    _assert_bit_identical(first, second)
    assert first.loss_curve_ == second.loss_curve_
    # Refitting the same object starts from the seed again.
    _assert_bit_identical(first, first.fit(X, y))
    # A RandomState instance seeded alike gives the same fit.
    third = clone(first).set_params(random_state=np.random.RandomState(42)).fit(X, y)
    _assert_bit_identical(first, third)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_partial_fit_sequence_is_reproducible(optimizer):
    X, y = _data()
    runs = []
    for _ in range(2):
        reg = NNRegressor(
            hidden_layer_sizes=(6,), optimizer=optimizer, dropout=0.2, random_state=3
        )
        for start in range(0, 80, 20):
            reg.partial_fit(X[start : start + 20], y[start : start + 20])
        runs.append(reg)
    _assert_bit_identical(*runs)


def test_different_seeds_give_different_weights():
    X, y = _data()
    a = NNClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=0).fit(X, y)
    b = NNClassifier(hidden_layer_sizes=(5,), max_iter=2, random_state=1).fit(X, y)
    assert not np.array_equal(a.coefs_[0], b.coefs_[0])


@pytest.mark.parametrize("Est", [NNClassifier, NNRegressor])
def test_concurrent_predictions_equal_sequential(Est):
    X, y = _data(n=400)
    est = Est(hidden_layer_sizes=(32, 16), max_iter=3, random_state=0).fit(X, y)
    methods = ["predict"] + (["predict_proba"] if Est is NNClassifier else [])
    chunks = [X[i::7] for i in range(7)] * 6
    expected = [[getattr(est, m)(c) for m in methods] for c in chunks]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(
            pool.map(lambda c: [getattr(est, m)(c) for m in methods], chunks)
        )
    for got, want in zip(results, expected):
        for g, w in zip(got, want):
            assert g.dtype == w.dtype
            assert g.tobytes() == w.tobytes()


def _roundtrip_pickle(est, tmp_path):
    return pickle.loads(pickle.dumps(est))


def _roundtrip_joblib(est, tmp_path):
    path = tmp_path / "model.joblib"
    joblib.dump(est, path)
    return joblib.load(path)


@pytest.mark.parametrize("roundtrip", [_roundtrip_pickle, _roundtrip_joblib])
@pytest.mark.parametrize("Est", [NNClassifier, NNRegressor])
def test_pickle_and_joblib_roundtrips(Est, roundtrip, tmp_path):
    X, y = _data()
    est = Est(hidden_layer_sizes=(6,), dropout=0.1, max_iter=3, random_state=0)
    est.fit(X, y)
    copy = roundtrip(est, tmp_path)
    _assert_bit_identical(est, copy)
    np.testing.assert_array_equal(copy.predict(X), est.predict(X))
    if Est is NNClassifier:
        np.testing.assert_array_equal(copy.predict_proba(X), est.predict_proba(X))
        np.testing.assert_array_equal(copy.classes_, est.classes_)
    # and training continues identically
    est.partial_fit(X, y)
    copy.partial_fit(X, y)
    _assert_bit_identical(est, copy)


@pytest.mark.parametrize("Est", [NNClassifier, NNRegressor])
def test_clone_of_fitted_estimator_is_unfitted(Est):
    X, y = _data()
    est = Est(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, y)
    fresh = clone(est)
    assert fresh.get_params() == est.get_params()
    fitted_state = [k for k in vars(fresh) if k.endswith("_") or k.startswith("_")]
    assert fitted_state == []
    with pytest.raises(ValueError, match="not fitted"):  # NotFittedError
        fresh.predict(X)
    _assert_bit_identical(est, fresh.fit(X, y))
