"""The training loop's named steps, the callback hooks and the early-stopping rule."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from sknn import NNClassifier, NNRegressor, StopTraining
from sknn.callbacks import Callback


@pytest.fixture
def data():
    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X, y


class Recorder(Callback):
    """Records every hook call."""

    def on_train_begin(self, estimator, X=None, y=None):
        self.events_ = [("train_begin",)]

    def on_epoch_begin(self, estimator, epoch):
        self.events_.append(("epoch_begin", epoch))

    def on_batch_begin(self, estimator, batch):
        self.events_.append(("batch_begin", batch))

    def on_grad_computed(self, estimator, grad, batch):
        self.events_.append(("grad", batch, grad.shape))

    def on_batch_end(self, estimator, batch, logs):
        self.events_.append(("batch_end", batch, dict(logs)))

    def on_epoch_end(self, estimator, epoch, logs):
        self.events_.append(("epoch_end", epoch))

    def on_train_end(self, estimator):
        self.events_.append(("train_end",))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_hooks_run_in_order_once_per_epoch_and_batch(data):
    X, y = data
    clf = NNClassifier(
        hidden_layer_sizes=(4,), batch_size=64, max_iter=2, callbacks=[Recorder()]
    ).fit(X, y)
    n_params = sum(c.size for c in clf.coefs_ + clf.intercepts_)
    expected = [("train_begin",)]
    for epoch in (1, 2):
        expected.append(("epoch_begin", epoch))
        for batch, size in enumerate((64, 64, 22)):
            expected += [
                ("batch_begin", batch),
                ("grad", batch, (n_params,)),
                ("batch_end", batch, {"batch": batch, "size": size}),
            ]
        expected.append(("epoch_end", epoch))
    expected.append(("train_end",))
    events = clf.callbacks_[0].events_
    losses = [e[2].pop("loss") for e in events if e[0] == "batch_end"]
    assert events == expected
    assert all(isinstance(v, float) and np.isfinite(v) for v in losses)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_epoch_numbers_continue_over_warm_start_and_partial_fit(data):
    X, y = data
    clf = NNClassifier(
        hidden_layer_sizes=(4,), max_iter=2, warm_start=True, callbacks=[Recorder()]
    )
    clf.fit(X, y).fit(X, y)
    begun = [e[1] for e in clf.callbacks_[0].events_ if e[0] == "epoch_begin"]
    assert begun == [3, 4]
    inc = NNClassifier(hidden_layer_sizes=(4,), callbacks=[Recorder()])
    for _ in range(3):
        inc.partial_fit(X, y, classes=[0, 1, 2])
    events = inc.callbacks_[0].events_
    assert [e[1] for e in events if e[0] == "epoch_begin"] == [1, 2, 3]
    assert [e[1] for e in events if e[0] == "epoch_end"] == [1, 2, 3]


def test_lbfgs_calls_only_the_epoch_hooks_once_per_iteration(data):
    X, y = data
    clf = NNClassifier(
        hidden_layer_sizes=(4,), optimizer="lbfgs", max_iter=5, callbacks=[Recorder()]
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    events = clf.callbacks_[0].events_
    expected = [("train_begin",)]
    for epoch in range(1, clf.n_iter_ + 1):
        expected += [("epoch_begin", epoch), ("epoch_end", epoch)]
    assert clf.n_iter_ == 5 and events == [*expected, ("train_end",)]


def test_lbfgs_that_converges_begins_no_iteration_it_does_not_end():
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    reg = NNRegressor(
        hidden_layer_sizes=(), optimizer="lbfgs", max_iter=500, callbacks=[Recorder()]
    ).fit(X, y)
    events = reg.callbacks_[0].events_
    assert reg.n_iter_ < 500
    begun = [e[1] for e in events if e[0] == "epoch_begin"]
    ended = [e[1] for e in events if e[0] == "epoch_end"]
    assert begun == ended == list(range(1, reg.n_iter_ + 1))


class Scale(Callback):
    """Multiplies every gradient by ``factor``; keeps the starting weights."""

    def __init__(self, factor=1.0):
        self.factor = factor

    def on_train_begin(self, estimator, X=None, y=None):
        self.start_ = [c.copy() for c in estimator.coefs_]

    def on_grad_computed(self, estimator, grad, batch):
        grad *= self.factor


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_the_gradient_is_writable_and_changes_the_step(data, optimizer):
    X, y = data
    kw = dict(
        hidden_layer_sizes=(4,),
        optimizer=optimizer,
        learning_rate=0.01,
        batch_size=50,
        max_iter=3,
        random_state=0,
    )
    plain = NNClassifier(**kw).fit(X, y)
    same = NNClassifier(callbacks=[Scale(1.0)], **kw).fit(X, y)
    frozen = NNClassifier(callbacks=[Scale(0.0)], **kw).fit(X, y)
    for a, b in zip(plain.coefs_, same.coefs_):
        np.testing.assert_array_equal(a, b)
    start = frozen.callbacks_[0].start_
    for a, b, c in zip(frozen.coefs_, plain.coefs_, start):
        assert not np.allclose(a, b)
        if optimizer == "sgd":  # no gradient, no step
            np.testing.assert_array_equal(a, c)
        else:  # AdamW's decay is not in the gradient: the weights shrink
            assert np.abs(a).sum() < np.abs(c).sum()


class StopAtBatch(Callback):
    def __init__(self, batch=1):
        self.batch = batch

    def on_batch_end(self, estimator, batch, logs):
        if batch == self.batch:
            raise StopTraining("enough batches")


def test_on_batch_end_can_stop_after_the_batch(data):
    X, y = data
    clf = NNClassifier(
        hidden_layer_sizes=(4,), batch_size=50, max_iter=10, callbacks=[StopAtBatch()]
    ).fit(X, y)
    assert clf.n_iter_ == 1 and clf.t_ == 100
    assert clf.optimizer_state_["t"] == 2


def test_hooks_that_are_not_overridden_are_not_called(data, monkeypatch):
    X, y = data
    called = []
    for hook in ("on_epoch_begin", "on_batch_begin", "on_grad_computed"):
        monkeypatch.setattr(
            Callback, hook, lambda self, *args, _h=hook: called.append(_h)
        )
    monkeypatch.setattr(
        Callback, "on_batch_end", lambda self, *a: called.append("on_batch_end")
    )

    class OnlyEpochEnd(Callback):
        def on_epoch_end(self, estimator, epoch, logs):
            pass

    clf = NNClassifier(
        hidden_layer_sizes=(4,),
        max_iter=5,
        n_iter_no_change=1,
        tol=10.0,
        callbacks=[OnlyEpochEnd()],
    ).fit(X, y)
    assert clf.n_iter_ == 3 and called == []
