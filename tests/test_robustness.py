"""Interruption and divergence: a fit never loses the model or returns NaN weights."""

import os
import signal
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from sknn import NNClassifier, NNRegressor
from sknn.callbacks import Callback


class _CtrlCAt(Callback):
    """Sends the process a real SIGINT (as Ctrl-C does) at the end of an epoch."""

    def __init__(self, epoch=2):
        self.epoch = epoch

    def on_epoch_end(self, estimator, epoch, logs):
        if epoch == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_ctrl_c_stops_after_current_batch_and_keeps_weights(optimizer):
    X, y = make_classification(n_samples=1000, n_features=20, random_state=0)
    clf = NNClassifier(
        hidden_layer_sizes=(32,),
        optimizer=optimizer,
        max_iter=1000,
        learning_rate=0.02,
        tol=0,
        n_iter_no_change=np.inf,
        callbacks=[_CtrlCAt(2)],
        random_state=0,
    )
    with pytest.warns(UserWarning, match="interrupted by the user after 2"):
        clf.fit(X, y)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert clf.n_iter_ == 2 and len(clf.history_) == 2
    if optimizer == "adam":
        # Two epochs of 5 batches, then the batch running when Ctrl-C came.
        assert clf.optimizer_state_["t"] == 2 * 5 + 1
    assert all(np.isfinite(w).all() for w in clf.coefs_ + clf.intercepts_)
    assert clf.score(X, y) > 0.6
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_params(max_iter=2, warm_start=True, callbacks=None).fit(X, y)
    assert clf.n_iter_ == 2 and len(clf.history_) == 4


class _Interrupter(Callback):
    def on_epoch_end(self, estimator, epoch, logs):
        if epoch == 3:
            raise KeyboardInterrupt


def test_keyboard_interrupt_outside_main_thread_is_caught():
    X, y = make_classification(n_samples=200, n_features=5, random_state=0)
    clf = NNClassifier(
        hidden_layer_sizes=(8,), callbacks=[_Interrupter()], random_state=0
    )
    with pytest.warns(UserWarning, match="interrupted by the user after 3 epochs"):
        clf.fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.history_) == 3


def _huge_regression():
    X, y = make_regression(n_samples=200, n_features=10, random_state=0)
    return X * 1e6, y * 1e6


def test_divergence_warns_with_epoch_and_advice_and_restores_weights():
    X, y = _huge_regression()
    reg = NNRegressor(
        hidden_layer_sizes=(32,),
        optimizer="sgd",
        learning_rate=1e3,
        max_iter=50,
        random_state=0,
    )
    with pytest.warns(UserWarning, match=r"diverged at epoch \d+ .*learning_rate"):
        reg.fit(X, y)
    assert reg.n_iter_ < 50
    assert all(np.isfinite(w).all() for w in reg.coefs_ + reg.intercepts_)
    assert np.isfinite(reg.predict(X)).all()
    # The optimizer state was reset with the weights, so training can go on.
    assert all(
        np.isfinite(v).all()
        for v in reg.optimizer_state_.values()
        if isinstance(v, np.ndarray)
    )


@pytest.mark.parametrize(
    "optimizer", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "lbfgs"]
)
def test_extreme_inputs_never_give_non_finite_weights(optimizer):
    X, y = _huge_regression()
    kw = {"learning_rate": 1e3} if optimizer != "lbfgs" else {}
    reg = NNRegressor(
        hidden_layer_sizes=(32,), optimizer=optimizer, max_iter=30, random_state=0, **kw
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, y)
    assert all(np.isfinite(w).all() for w in reg.coefs_ + reg.intercepts_)
    assert np.isfinite(reg.predict(X)).all()


class _Crash(Callback):
    def __init__(self, at=7):
        self.at = at

    def on_epoch_end(self, estimator, epoch, logs):
        if epoch == self.at:
            raise RuntimeError("callback bug")


@pytest.mark.parametrize("how", ["fit", "warm_start", "partial_fit"])
def test_failed_fit_leaves_the_fitted_estimator_as_it_was(how):
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = NNClassifier(
        hidden_layer_sizes=(8,), max_iter=5, callbacks=[_Crash(7)], random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)  # epochs 1-5
        if how == "partial_fit":
            clf.partial_fit(X, y)  # epoch 6
    before = dict(vars(clf))
    weights = [w.copy() for w in clf.coefs_ + clf.intercepts_]
    moments = {
        k: v.copy()
        for k, v in clf.optimizer_state_.items()
        if isinstance(v, np.ndarray)
    }
    history = list(clf.history_)
    proba = clf.predict_proba(X)
    clf.set_params(max_iter=10, warm_start=how == "warm_start")
    with pytest.raises(RuntimeError, match="callback bug"):
        if how == "partial_fit":
            clf.partial_fit(X, y)  # epoch 7
        else:
            clf.fit(X, y)  # epoch 7 of a new fit, or of the continued one
    assert set(vars(clf)) == set(before)
    assert clf.history_ == history
    for a, b in zip(clf.coefs_ + clf.intercepts_, weights):
        np.testing.assert_array_equal(a, b)
    for k, v in moments.items():
        np.testing.assert_array_equal(clf.optimizer_state_[k], v)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_failed_first_fit_leaves_the_estimator_unfitted():
    X, y = make_classification(n_samples=200, n_features=6, random_state=0)
    clf = NNClassifier(hidden_layer_sizes=(8,), callbacks=[_Crash(2)])
    with pytest.raises(RuntimeError, match="callback bug"):
        clf.fit(X, y)
    assert not [k for k in vars(clf) if k.endswith("_")]
