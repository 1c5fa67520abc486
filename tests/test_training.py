"""The training loop's named steps, the callback hooks and the early-stopping rule."""

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

from sknn import NNClassifier, NNRegressor, StopTraining
from sknn._training import Trainer
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


# ------------------------------------------------------ the early-stopping rule
def _sklearn_counts(values, tol, n_iter_no_change, higher_is_better):
    """scikit-learn's MLP rule, as in its _update_no_improvement_count."""
    best = -np.inf if higher_is_better else np.inf
    count, stopped_at = 0, None
    for epoch, v in enumerate(values, 1):
        if higher_is_better:
            count = count + 1 if v < best + tol else 0
            best = max(best, v)
        else:
            count = count + 1 if v > best - tol else 0
            best = min(best, v)
        if count > n_iter_no_change:
            stopped_at = epoch
            break
    return stopped_at, best


def _run(callback, estimator, records):
    """Feed ``records`` to ``callback``; the epoch at which it stops, or None."""
    for epoch, record in enumerate(records, 1):
        try:
            callback.on_epoch_end(estimator, epoch, record)
        except StopTraining:
            return epoch
    return None


class _Fitted:
    """What the built-in early stopping reads and writes on an estimator."""

    def __init__(self, validation):
        self.coefs_, self.intercepts_ = [np.zeros((2, 1))], [np.zeros(1)]
        self._no_improvement_count, self._best_params = 0, None
        self._best_valid_loss = np.inf
        self.best_validation_score_ = -np.inf if validation else None
        self.best_loss_ = None if validation else np.inf


HISTORIES = [
    # gains smaller than tol that would add up to more than tol
    [1.0, 0.99995, 0.9999, 0.99985, 0.9998, 0.99975, 0.9997],
    [3.0, 2.0, 2.5, 1.99995, 1.9, 1.9, 1.95, 1.91, 1.9, 1.9, 1.9, 1.9],
    [0.5, 0.5, 0.5, 0.5, 0.5],
    [2.0, 1.0, 0.5, 0.25, 0.125],
]


@pytest.mark.parametrize("values", HISTORIES)
@pytest.mark.parametrize("n_iter_no_change", [1, 2, 4])
@pytest.mark.parametrize("monitor", ["train_loss", "valid_score"])
def test_built_in_and_callback_early_stopping_apply_one_rule(
    values, n_iter_no_change, monitor
):
    from sknn.callbacks import EarlyStopping, _EstimatorEarlyStopping

    tol, higher = 1e-4, monitor == "valid_score"
    if higher:
        values = [-v for v in values]
    records = [{monitor: v, "valid_loss": 1.0} for v in values]
    est = _Fitted(validation=higher)
    built_in = _EstimatorEarlyStopping(monitor, n_iter_no_change + 1, tol)
    callback = EarlyStopping(monitor, patience=n_iter_no_change + 1, min_delta=tol)
    callback.on_train_begin(est)
    stop_built_in = _run(built_in, est, records)
    stop_callback = _run(callback, est, records)
    expected_stop, expected_best = _sklearn_counts(
        values, tol, n_iter_no_change, higher
    )
    assert stop_built_in == stop_callback == expected_stop
    best = est.best_validation_score_ if higher else est.best_loss_
    assert best == callback.best_ == expected_best
    assert est._no_improvement_count == callback.wait_


def test_the_best_epoch_is_the_last_improvement_and_ties_go_to_the_lower_loss():
    from sknn.callbacks import EarlyStopping, _EstimatorEarlyStopping

    scores = [0.5, 0.8, 0.80005, 0.8, 0.8, 0.7]
    losses = [1.0, 0.9, 0.95, 0.95, 0.85, 0.8]
    records = [
        {"valid_score": s, "valid_loss": v} for s, v in zip(scores, losses, strict=True)
    ]
    callback = EarlyStopping("valid_score", patience=100, min_delta=1e-3)
    est = _Fitted(validation=True)
    callback.on_train_begin(est)
    for epoch, record in enumerate(records, 1):
        est.coefs_[0][:] = epoch  # the weights tell the epoch
        callback.on_epoch_end(est, epoch, record)
        _EstimatorEarlyStopping("valid_score", 100, 1e-3).on_epoch_end(
            est, epoch, record
        )
    # Epoch 3 beats 0.8 by less than min_delta: no improvement, but the bar.
    # Epochs 4 and 5 do not reach it: epoch 2 stays the best epoch.
    assert callback.best_ == est.best_validation_score_ == 0.80005
    assert callback.best_epoch_ == 2 and est._best_params[0] == 2
    assert callback.wait_ == est._no_improvement_count == 4
    # A tie with the bar and a lower validation loss becomes the best epoch.
    tie = {"valid_score": 0.80005, "valid_loss": 0.5}
    callback.on_epoch_end(est, 7, tie)
    est.coefs_[0][:] = 7
    _EstimatorEarlyStopping("valid_score", 100, 1e-3).on_epoch_end(est, 7, tie)
    assert callback.best_epoch_ == 7 and est._best_params[0] == 7
    assert callback.wait_ == est._no_improvement_count == 5


def test_early_stopping_callback_on_the_score_stops_and_restores_as_the_built_in():
    X, y = make_classification(
        n_samples=300, n_features=10, n_informative=4, flip_y=0.2, random_state=1
    )
    kw = dict(
        hidden_layer_sizes=(32,),
        learning_rate=0.02,
        max_iter=300,
        early_stopping=True,
        validation_fraction=0.3,
        random_state=0,
    )
    from sknn.callbacks import EarlyStopping

    built_in = NNClassifier(n_iter_no_change=5, **kw).fit(X, y)
    stop = EarlyStopping("valid_score", patience=6, min_delta=1e-4)
    callback = NNClassifier(n_iter_no_change=np.inf, callbacks=[stop], **kw).fit(X, y)
    assert built_in.n_iter_ == callback.n_iter_ < 300
    assert built_in.callbacks_ == [] and len(callback.callbacks_) == 1
    assert built_in.best_validation_score_ == callback.callbacks_[0].best_
    for a, b in zip(built_in.coefs_, callback.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------- overriding named steps
class _DoubleStep(Trainer):
    """A trainer whose batch step takes twice the learning rate."""

    def batch_step(self, Xb, Yb, swb, noise, lr, batch):
        self.estimator.steps_ = getattr(self.estimator, "steps_", 0) + 1
        return super().batch_step(Xb, Yb, swb, noise, 2 * lr, batch)


class _DoubleStepRegressor(NNRegressor):
    _trainer = _DoubleStep


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_subclass_can_replace_a_named_step():
    X, y = make_regression(n_samples=100, n_features=4, noise=1, random_state=0)
    kw = dict(
        hidden_layer_sizes=(6,),
        optimizer="sgd",
        batch_size=25,
        max_iter=4,
        random_state=0,
    )
    doubled = _DoubleStepRegressor(learning_rate=1e-3, **kw).fit(X, y)
    reference = NNRegressor(learning_rate=2e-3, **kw).fit(X, y)
    plain = NNRegressor(learning_rate=1e-3, **kw).fit(X, y)
    assert doubled.steps_ == 4 * 4
    np.testing.assert_allclose(doubled.predict(X), reference.predict(X), rtol=1e-12)
    assert not np.allclose(doubled.predict(X), plain.predict(X))
