"""Interruption and divergence: a fit never loses the model or returns NaN weights."""

import os
import signal
import threading
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from sknn import NNClassifier, NNRegressor
from sknn.callbacks import Callback


def _sigint_after(seconds):
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_ctrl_c_stops_after_current_batch_and_keeps_weights(optimizer):
    X, y = make_classification(n_samples=3000, n_features=40, random_state=0)
    clf = NNClassifier(
        hidden_layer_sizes=(256, 256),
        optimizer=optimizer,
        max_iter=100000,
        tol=0,
        n_iter_no_change=np.inf,
        random_state=0,
    )
    timer = _sigint_after(1.0)
    try:
        with pytest.warns(UserWarning, match="interrupted by the user"):
            clf.fit(X, y)
    finally:
        timer.cancel()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert 0 < clf.n_iter_ < 100000
    assert all(np.isfinite(w).all() for w in clf.coefs_ + clf.intercepts_)
    assert clf.score(X, y) > 0.6  # usable: it trained for about a second
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.set_params(max_iter=2, warm_start=True).fit(X, y)  # and can go on


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
