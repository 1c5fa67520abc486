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


@pytest.fixture
def ctrl_c_handler():
    """Python's own Ctrl-C handler, as in an interactive session.

    A process started in the background by a non-interactive shell inherits
    SIGINT ignored, and Python then leaves it ignored: there is no Ctrl-C to
    test.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_ctrl_c_stops_after_current_batch_and_keeps_weights(optimizer, ctrl_c_handler):
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


# ------------------------------------------------ divergence with early stopping
def _iris():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


def _fit_diverging(est, X, y):
    """Fit, asserting exactly one divergence warning; return its message."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    diverged = [str(w.message) for w in caught if "diverged" in str(w.message)]
    assert len(diverged) == 1, [str(w.message) for w in caught]
    return diverged[0]


def test_early_stopping_divergence_never_restores_overflowing_weights():
    X, y = _iris()
    X = (X * 1e15).astype(np.float32)
    clf = NNClassifier(
        (5,), optimizer="sgd", max_iter=5, early_stopping=True, random_state=0
    )
    _fit_diverging(clf, X, y)
    assert np.isfinite(clf.predict_proba(X)).all()
    assert np.isfinite(clf.predict_log_proba(X)).all()


def test_early_stopping_regressor_divergence_warns_instead_of_raising():
    X, y = _iris()
    reg = NNRegressor(
        activation="identity",
        optimizer="sgd",
        learning_rate=1.0,
        early_stopping=True,
        random_state=0,
    )
    _fit_diverging(reg, X, y)
    assert np.isfinite(reg.predict(X)).all()
    assert all(np.isfinite(s) for s in reg.validation_scores_)


@pytest.mark.parametrize("early_stopping", [False, True])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "lbfgs"])
@pytest.mark.parametrize("scale", [1e10, 1e15, 1e20])
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_diverging_fits_end_with_finite_predictions(early_stopping, optimizer, scale):
    X, y = _iris()
    X = (X * scale).astype(np.float32)
    kw = {"learning_rate": 1.0} if optimizer != "lbfgs" else {}
    for est, target in ((NNClassifier, y), (NNRegressor, y * scale)):
        model = est(
            (5,),
            optimizer=optimizer,
            max_iter=5,
            early_stopping=early_stopping,
            random_state=0,
            **kw,
        ).fit(X, target)
        out = model.predict_proba(X) if est is NNClassifier else model.predict(X)
        assert np.isfinite(out).all()
        assert all(np.isfinite(w).all() for w in model.coefs_ + model.intercepts_)


@pytest.mark.parametrize("max_iter", [1, 2])
def test_divergence_warning_names_the_epoch_that_diverged(max_iter):
    X, y = _iris()
    X = (X * 1e15).astype(np.float32)
    clf = NNClassifier((5,), optimizer="sgd", max_iter=max_iter, random_state=0)
    message = _fit_diverging(clf, X, y)
    epoch = int(message.split("diverged at epoch ")[1].split()[0])
    assert 1 <= epoch <= max_iter
    assert epoch == len(clf.history_) + (epoch > len(clf.history_))


# ----------------------------------------------------------- L-BFGS evaluations
def test_lbfgs_stopped_by_max_fun_warns_convergence():
    from sknn.optimizers import LBFGS

    X, y = _iris()
    clf = NNClassifier((20,), optimizer=LBFGS(max_fun=5), max_iter=200, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_fun"):
        clf.fit(X, y)
    assert clf.n_iter_ < 200


# --------------------------------------------------------------- class weights
@pytest.mark.parametrize(
    "class_weight, message",
    [
        ({0: 0, 1: 0, 2: 0}, "at least one positive value"),
        ({0: -1, 1: 1, 2: 1}, "non-negative"),
        ({0: np.inf, 1: 1, 2: 1}, "finite"),
        ({0: np.nan, 1: 1, 2: 1}, "finite"),
    ],
)
def test_class_weight_passes_the_sample_weight_checks(class_weight, message):
    X, y = _iris()
    clf = NNClassifier((5,), class_weight=class_weight, max_iter=3, random_state=0)
    with pytest.raises(ValueError, match=f"class_weight must .*{message}"):
        clf.fit(X, y)
    # With sample weights too, the product is what is checked.
    sw = np.where(y == 0, 0.0, 1.0)
    clf.set_params(class_weight={0: 1, 1: 0, 2: 0})
    with pytest.raises(ValueError, match="at least one positive value"):
        clf.fit(X, y, sample_weight=sw)


def test_class_weight_overflowing_float32_is_refused():
    X, y = _iris()
    clf = NNClassifier((5,), class_weight={0: 1e300, 1: 1, 2: 1}, max_iter=3)
    with pytest.raises(ValueError, match="class_weight must be finite"):
        clf.fit(X.astype(np.float32), y)


# ------------------------------------------------- changing the optimizer state
OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad"]


@pytest.mark.parametrize("first", OPTIMIZERS)
@pytest.mark.parametrize("second", OPTIMIZERS + ["lbfgs"])
@pytest.mark.parametrize("how", ["warm_start", "partial_fit"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_changing_the_optimizer_restarts_its_state_with_a_warning(first, second, how):
    X, y = _iris()
    clf = NNClassifier((5,), optimizer=first, max_iter=2, random_state=0).fit(X, y)
    weights = [w.copy() for w in clf.coefs_]
    clf.set_params(optimizer=second, warm_start=how == "warm_start")
    fresh = clf._check_params().optimizer.init(np.zeros(3))
    belongs = set(fresh) == set(clf.optimizer_state_)
    if how == "partial_fit" and second == "lbfgs":
        assert not hasattr(clf, "partial_fit")
        return
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if how == "partial_fit":
            clf.partial_fit(X, y)
        else:
            clf.fit(X, y)
    restarted = [w for w in caught if "optimizer_state_" in str(w.message)]
    assert len(restarted) == (0 if belongs else 1)
    if not belongs:
        assert "restart" in str(restarted[0].message)
        assert issubclass(restarted[0].category, UserWarning)
    assert set(clf.optimizer_state_) == set(fresh)
    # The weights continued from the fitted ones (not a new initialization).
    assert not np.allclose(clf.coefs_[0], weights[0]) or second == "lbfgs"
    assert len(clf.history_) > 2


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"m": "drop", "v": "drop"}, "keys"),
        ({"extra": 0}, "keys"),
        ({"t": "abc"}, "t"),
        ({"t": -5}, "t"),
        ({"t": True}, "t"),
        ({"t": 2.0}, "t"),
        ({"m": np.zeros(2)}, "m"),
        ({"m": np.zeros(4, np.float32)}, "m"),
        ({"m": np.full(4, np.nan)}, "m"),
        ({"v": [0.0] * 4}, "v"),
    ],
)
def test_optimizer_check_state_refuses_state_it_would_not_create(change, reason):
    from sknn.optimizers import Adam

    params = np.zeros(4)
    state = Adam().init(params)
    Adam().check_state(state, params)  # its own state passes
    for key, value in change.items():
        if isinstance(value, str) and value == "drop":
            del state[key]
        else:
            state[key] = value
    with pytest.raises(ValueError, match=reason):
        Adam().check_state(state, params)


def _saved_with_state(edit):
    """An Adam model file whose optimizer_state_ items went through ``edit``."""
    import io
    import json
    import zipfile

    from sknn import save

    X, y = _iris()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = NNClassifier((3,), max_iter=2, random_state=0).fit(X, y)
    buf = io.BytesIO()
    save(clf, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    meta = json.loads(src.read("metadata.json"))
    node = meta["attributes"]["optimizer_state_"]
    node["items"] = edit(node["items"])
    # Arrays no longer referenced leave the file, so that only the state is wrong.
    kept = json.dumps(node)
    dropped = {a for a in ("optimizer_state__m", "optimizer_state__v") if a not in kept}
    for name in dropped:
        del meta["arrays"][name]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        dst.writestr("metadata.json", json.dumps(meta))
        for name in src.namelist():
            if name != "metadata.json" and name[7:-4] not in dropped:
                dst.writestr(name, src.read(name))
    return out.getvalue(), X, y


@pytest.mark.parametrize(
    "edit, reason",
    [
        (lambda items: items[:1], "keys"),
        (lambda items: [["t", "abc"], *items[1:]], "'t'"),
        (lambda items: [["t", -5], *items[1:]], "'t'"),
    ],
    ids=["missing keys", "t='abc'", "t=-5"],
)
def test_loader_checks_the_optimizer_state_like_fit(edit, reason):
    import io

    from sknn import load

    data, X, y = _saved_with_state(edit)
    with pytest.raises(ValueError, match=f"optimizer_state_ .*{reason}"):
        load(io.BytesIO(data))
    # The unedited file loads and continues.
    data, X, y = _saved_with_state(lambda items: items)
    load(io.BytesIO(data)).partial_fit(X, y)


# ----------------------------------------------------------- huge integers
@pytest.mark.parametrize(
    "param", ["max_iter", "random_state", "batch_size", "n_iter_no_change", "verbose"]
)
def test_integers_beyond_64_bits_get_the_parameters_message(param):
    X, y = _iris()
    clf = NNClassifier((5,), **{param: 10**30})
    with pytest.raises(ValueError, match=f"^{param} must be an int"):
        clf.fit(X, y)


def test_component_integers_beyond_64_bits_get_their_message():
    from sknn.optimizers import LBFGS

    X, y = _iris()
    clf = NNClassifier((5,), optimizer=LBFGS(max_fun=2**64))
    with pytest.raises(ValueError, match="LBFGS.max_fun must be an int >= 1 that fits"):
        clf.fit(X, y)


# ------------------------------------------------------- threads and fit state
_PAUSE = {}


class _Pause(Callback):
    """Holds the fit after its second epoch until the test thread has looked."""

    def on_train_begin(self, estimator, X, y):
        self.epochs_ = 0

    def on_epoch_end(self, estimator, epoch, logs):
        self.epochs_ += 1
        if self.epochs_ == 2:
            _PAUSE["reached"].set()
            assert _PAUSE["resume"].wait(60)


@pytest.mark.parametrize("how", ["first fit", "refit", "warm_start"])
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_predict_during_fit_in_another_thread_sees_a_whole_state(how):
    import threading

    from sklearn.exceptions import NotFittedError

    X, y = _iris()
    reached, resume = threading.Event(), threading.Event()
    _PAUSE.update(reached=reached, resume=resume)

    def run(clf, callbacks):
        """The fits of ``how``; the last one (with ``callbacks``) is returned."""
        if how != "first fit":
            clf.fit(X, y)
        return clf.set_params(
            callbacks=callbacks, random_state=1, warm_start=how == "warm_start"
        )

    expected = run(NNClassifier((5,), max_iter=4, random_state=0), None).fit(X, y)
    clf = run(NNClassifier((5,), max_iter=4, random_state=0), [_Pause()])
    before = None if how == "first fit" else clf.predict_proba(X)
    errors = []

    def fit():
        try:
            clf.fit(X, y)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=fit)
    worker.start()
    try:
        while worker.is_alive() and not reached.wait(0.05):
            pass
        assert reached.is_set()
        if before is None:
            for method in (clf.predict, clf.predict_proba, lambda X: clf.score(X, y)):
                with pytest.raises(NotFittedError):
                    method(X)
            assert not [k for k in vars(clf) if k.endswith("_")]
        else:
            np.testing.assert_array_equal(clf.predict_proba(X), before)
            assert len(clf.history_) == 4
    finally:
        resume.set()
        worker.join()
    assert errors == []
    np.testing.assert_array_equal(clf.predict_proba(X), expected.predict_proba(X))
    assert len(clf.history_) == len(expected.history_)


# -------------------------------------------------------------- polars input
def test_polars_float32_trains_in_float32_with_feature_names():
    pl = pytest.importorskip("polars")
    X, y = _iris()
    names = ["a", "b", "c", "d"]
    df = pl.DataFrame(X.astype(np.float32), schema=names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = NNClassifier((5,), max_iter=3, random_state=0).fit(df, y)
        reg = NNRegressor((5,), max_iter=3, random_state=0).fit(df, y)
    for est in (clf, reg):
        assert est.coefs_[0].dtype == np.float32
        assert list(est.feature_names_in_) == names
    assert clf.predict_proba(df).dtype == np.float32
    assert reg.predict(df).dtype == np.float32
    # float64 frames stay float64.
    df64 = pl.DataFrame(X, schema=names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert NNRegressor((5,), max_iter=2).fit(df64, y).coefs_[0].dtype == np.float64


def test_overflowing_optimizer_state_is_restarted_so_the_model_saves():
    # Found by the fuzz tests: Adagrad's float32 sum of squares overflows while
    # the weights stay finite; the file then failed the loader's state check.
    import io

    from sknn import load, save

    X = np.array([[-4.1675783e29], [-5.6266827e28]], dtype=np.float32)
    clf = NNClassifier(
        (), activation="elu", optimizer="adagrad", max_iter=1, shuffle=False
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.set_params(random_state=0).fit(X, [3, -1])
    clf._check_params().optimizer.check_state(clf.optimizer_state_, clf.coefs_[0].base)
    buf = io.BytesIO()
    save(clf, buf)
    load(io.BytesIO(buf.getvalue())).predict(X)
