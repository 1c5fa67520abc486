"""Behaviour of NNClassifier and NNRegressor beyond the scikit-learn checks."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.utils.class_weight import compute_sample_weight

from sknn import NNClassifier, NNRegressor, StopTraining
from sknn._sampling import content_split, row_keys
from sknn.callbacks import Callback, EarlyStopping, ProgressTable
from sknn.optimizers import Adam
from sknn.schedules import Plateau

OPTIMIZERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad", "lbfgs"]


@pytest.fixture(autouse=True)
def _quiet_convergence():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def clf_data():
    X, y = make_classification(
        n_samples=200, n_features=8, n_informative=5, n_classes=3, random_state=0
    )
    return X, y


def test_fitted_attributes_follow_mlp(clf_data):
    X, y = clf_data
    clf = NNClassifier(hidden_layer_sizes=(10, 6), max_iter=15, random_state=0).fit(
        X, y
    )
    assert [c.shape for c in clf.coefs_] == [(8, 10), (10, 6), (6, 3)]
    assert [b.shape for b in clf.intercepts_] == [(10,), (6,), (3,)]
    assert clf.n_layers_ == 4 and clf.n_outputs_ == 3
    assert clf.out_activation_ == "softmax"
    assert clf.n_iter_ == 15 == len(clf.loss_curve_) == len(clf.history_)
    assert clf.t_ == 15 * 200
    assert clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert set(clf.history_[0]) == {"epoch", "train_loss", "learning_rate", "duration"}
    assert [h["epoch"] for h in clf.history_] == list(range(1, 16))
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])


def test_coefs_are_live_parameters(clf_data):
    X, y = clf_data
    clf = NNClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0).fit(X, y)
    before = clf.predict_proba(X)
    clf.intercepts_[-1][0] += 5.0
    after = clf.predict_proba(X)
    assert (after[:, 0] > before[:, 0]).all()
    # The views share one flat vector, so training updates what the user holds.
    held = clf.coefs_[0]
    clf.partial_fit(X, y)
    assert held is clf.coefs_[0] and not np.allclose(held, 0)


def test_history_with_validation_and_verbose_table(clf_data, capsys):
    X, y = clf_data
    clf = NNClassifier(
        hidden_layer_sizes=(8,),
        max_iter=6,
        early_stopping=True,
        n_iter_no_change=50,
        verbose=1,
        random_state=0,
    ).fit(X, y)
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == [
        "epoch",
        "train_loss",
        "valid_loss",
        "valid_score",
        "lr",
        "dur",
    ]
    assert set(out[1]) <= {"-", " "}
    rows = [line.split() for line in out[2:8]]
    assert [int(r[0]) for r in rows] == list(range(1, 7))
    for row, record in zip(rows, clf.history_):
        assert float(row[1]) == pytest.approx(record["train_loss"], abs=1e-6)
        assert float(row[3]) == pytest.approx(record["valid_score"], abs=1e-6)
    assert clf.validation_scores_ == [h["valid_score"] for h in clf.history_]
    assert clf.best_loss_ is None
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_early_stopping_restores_best_weights():
    # Drawn with NumPy's RandomState, the same data in every release:
    # make_classification's draws differ between scikit-learn 1.6 and 1.9.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 20))
    y = (X[:, 0] - X[:, 1] + 0.5 * X[:, 2] > 0).astype(int)
    flip = rng.uniform(size=300) < 0.3
    y[flip] = 1 - y[flip]
    clf = NNClassifier(
        hidden_layer_sizes=(64,),
        learning_rate=0.02,
        max_iter=300,
        early_stopping=True,
        validation_fraction=0.3,
        random_state=0,
    )
    clf.fit(X, y)
    assert clf.n_iter_ < 300
    assert clf.validation_scores_[-1] < clf.best_validation_score_
    # The held-out rows are a function of content and seed: rebuild them and check
    # that the restored weights score the best validation score on them.
    keys = row_keys(X, clf._salt)
    valid = content_split(keys, np.ones(len(y)), y, 0.3)
    assert 0.25 < valid.mean() < 0.35
    assert clf.score(X[valid], y[valid]) == pytest.approx(
        clf.best_validation_score_, abs=1e-12
    )


def test_tol_and_n_iter_no_change_stop_training(clf_data):
    X, y = clf_data
    kw = dict(
        hidden_layer_sizes=(5,),
        tol=0.5,
        n_iter_no_change=2,
        max_iter=100,
        random_state=0,
    )
    clf = NNClassifier(**kw).fit(X, y)
    # Epoch 1 improves on inf; epochs 2-4 do not improve by 0.5; 3 > 2 stops.
    assert clf.n_iter_ == 4 == MLPClassifier(**kw).fit(X, y).n_iter_
    clf = NNClassifier(
        hidden_layer_sizes=(5,), n_iter_no_change=np.inf, max_iter=30, random_state=0
    ).fit(X, y)
    assert clf.n_iter_ == 30


def test_convergence_warning_when_max_iter_reached(clf_data):
    X, y = clf_data
    with pytest.warns(ConvergenceWarning, match="Maximum iterations \\(3\\)"):
        NNClassifier(hidden_layer_sizes=(5,), max_iter=3).fit(X, y)


def test_fit_is_reseeded(clf_data):
    X, y = clf_data
    clf = NNClassifier(hidden_layer_sizes=(6,), max_iter=5, random_state=7, dropout=0.2)
    first = [c.copy() for c in clf.fit(X, y).coefs_]
    second = clf.fit(X, y).coefs_
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("batch_size, shuffle", [(32, False), (200, True)])
def test_partial_fit_n_times_equals_fit_n_epochs(
    clf_data, optimizer, batch_size, shuffle
):
    # Same batches: minibatches in order, or shuffled full batches.
    X, y = clf_data
    kw = dict(
        hidden_layer_sizes=(10,),
        optimizer=optimizer,
        batch_size=batch_size,
        shuffle=shuffle,
        dropout=0.1,
        random_state=0,
        n_iter_no_change=100,
    )
    full = NNClassifier(max_iter=7, **kw).fit(X, y)
    inc = NNClassifier(**kw)
    for _ in range(7):
        inc.partial_fit(X, y, classes=[0, 1, 2])
    # Shuffled full batches sum the same rows in another order: rounding only.
    rtol = 1e-12 if shuffle else 0
    for a, b in zip(full.coefs_ + full.intercepts_, inc.coefs_ + inc.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    steps = 7 * int(np.ceil(200 / batch_size))
    assert full.optimizer_state_["t"] == inc.optimizer_state_["t"] == steps
    assert inc.t_ == full.t_


def test_partial_fit_regressor_with_sample_weight_equals_fit():
    X, y = make_regression(n_samples=120, n_features=5, random_state=0)
    sw = np.random.RandomState(0).uniform(0.5, 2, size=120)
    kw = dict(
        hidden_layer_sizes=(8,),
        optimizer="sgd",
        learning_rate=1e-4,
        random_state=0,
        n_iter_no_change=100,
    )
    full = NNRegressor(max_iter=4, **kw).fit(X, y, sample_weight=sw)
    inc = NNRegressor(**kw)
    for _ in range(4):
        inc.partial_fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(full.predict(X), inc.predict(X), rtol=1e-12)


def test_partial_fit_is_absent_where_it_cannot_work():
    assert not hasattr(NNClassifier(optimizer="lbfgs"), "partial_fit")
    assert not hasattr(NNRegressor(optimizer="lbfgs"), "partial_fit")
    assert not hasattr(NNClassifier(early_stopping=True), "partial_fit")
    with pytest.raises(AttributeError) as info:
        NNRegressor(optimizer="lbfgs").partial_fit  # noqa: B018
    assert "full-batch optimizer LBFGS" in str(info.value.__cause__)
    assert hasattr(NNClassifier(optimizer=Adam()), "partial_fit")


def test_partial_fit_classes(clf_data):
    X, y = clf_data
    clf = NNClassifier(hidden_layer_sizes=(5,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[y < 2], y[y < 2], classes=[0, 1, 2])  # class 2 unseen so far
    assert list(clf.classes_) == [0, 1, 2] and clf.n_outputs_ == 3
    clf.partial_fit(X, y)
    with pytest.raises(ValueError, match="not in `self.classes_`"):
        clf.partial_fit(X, y + 1)
    with pytest.raises(ValueError, match="differs from the classes"):
        clf.partial_fit(X, y, classes=[0, 1, 5])


def test_warm_start_continues_and_keeps_classes(clf_data):
    X, y = clf_data
    kw = dict(hidden_layer_sizes=(8,), random_state=0, n_iter_no_change=100)
    ws = NNClassifier(max_iter=5, warm_start=True, **kw).fit(X, y)
    ws.set_params(max_iter=4).fit(X, y)
    assert ws.n_iter_ == 4 and len(ws.history_) == 9 and ws.t_ == 9 * 200
    assert ws.optimizer_state_["t"] == 9 * 1
    with pytest.raises(ValueError, match="warm_start can only be used where `y` has"):
        ws.fit(X[y < 2], y[y < 2])
    cold = NNClassifier(max_iter=4, **kw).fit(X, y)
    assert len(cold.history_) == 4


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_float32_end_to_end(optimizer):
    X, y = load_iris(return_X_y=True)
    X = X.astype(np.float32)
    clf = NNClassifier(
        hidden_layer_sizes=(8,), optimizer=optimizer, max_iter=20, random_state=0
    ).fit(X, y)
    assert all(a.dtype == np.float32 for a in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X).dtype == np.float32
    reg = NNRegressor(
        hidden_layer_sizes=(8,), optimizer=optimizer, max_iter=20, random_state=0
    ).fit(X, y.astype(np.float32))
    assert reg.predict(X).dtype == np.float32
    assert all(a.dtype == np.float32 for a in reg.coefs_)
    # Integer input is float64, as in scikit-learn.
    clf64 = NNClassifier(
        hidden_layer_sizes=(4,), optimizer=optimizer, max_iter=2, random_state=0
    ).fit(X.astype(int), y)
    assert clf64.coefs_[0].dtype == np.float64


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_equals_dense(fmt):
    X, y = make_classification(n_samples=80, n_features=12, random_state=0)
    X[np.abs(X) < 0.8] = 0
    kw = dict(hidden_layer_sizes=(6,), optimizer="lbfgs", max_iter=30, random_state=0)
    dense = NNClassifier(**kw).fit(X, y)
    sparse = NNClassifier(**kw).fit(sp.csr_matrix(X).asformat(fmt), y)
    np.testing.assert_allclose(
        sparse.predict_proba(X), dense.predict_proba(X), rtol=1e-7
    )
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X).asformat(fmt)),
        dense.predict_proba(X),
        rtol=1e-7,
    )


def test_string_labels_and_binary_outputs():
    X, y = make_classification(n_samples=100, n_features=5, random_state=0)
    labels = np.where(y == 1, "spam", "ham")
    kw = dict(hidden_layer_sizes=(6,), learning_rate=0.01, max_iter=300, random_state=0)
    clf = NNClassifier(**kw).fit(X, labels)
    assert clf.score(X, labels) > 0.9
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    proba = clf.predict_proba(X)
    assert proba.shape == (100, 2)
    assert ((proba > 0) & (proba < 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))
    # A softmax loss on a binary target uses two output units.
    soft = NNClassifier(loss="log_loss", **kw).fit(X, labels)
    assert soft.n_outputs_ == 2 and soft.out_activation_ == "softmax"
    assert soft.score(X, labels) > 0.9


def test_multilabel():
    X, Y = make_classification(n_samples=150, n_features=6, random_state=0)[0], None
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    clf = NNClassifier(
        hidden_layer_sizes=(16,), learning_rate=0.01, max_iter=200, random_state=0
    ).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 3
    proba = clf.predict_proba(X)
    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    assert clf.score(X, Y) > 0.9
    with pytest.raises(ValueError, match="cannot fit multilabel"):
        NNClassifier(loss="log_loss").fit(X, Y)
    es = NNClassifier(
        hidden_layer_sizes=(8,), early_stopping=True, max_iter=20, random_state=0
    ).fit(X, Y)
    assert len(es.validation_scores_) == es.n_iter_


def test_multi_output_regression_and_losses():
    X, Y = make_regression(
        n_samples=200, n_features=5, n_targets=3, noise=0.1, random_state=0
    )
    Y = Y / Y.std(axis=0)
    reg = NNRegressor(
        hidden_layer_sizes=(32,), learning_rate=0.01, max_iter=300, random_state=0
    ).fit(X, Y)
    assert reg.predict(X).shape == (200, 3) and reg.score(X, Y) > 0.95
    for loss in ["absolute_error", "huber"]:
        r = NNRegressor(
            hidden_layer_sizes=(16,),
            loss=loss,
            learning_rate=0.01,
            max_iter=200,
            random_state=0,
        ).fit(X, Y[:, 0])
        assert r.score(X, Y[:, 0]) > 0.9
    counts = np.random.RandomState(0).poisson(np.exp(0.5 * X[:, 0]))
    pois = NNRegressor(
        hidden_layer_sizes=(8,),
        loss="poisson",
        learning_rate=0.01,
        max_iter=100,
        random_state=0,
    ).fit(X, counts)
    assert pois.out_activation_ == "exp" and (pois.predict(X) > 0).all()
    with pytest.raises(ValueError, match="non-negative"):
        NNRegressor(loss="poisson").fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="classification loss"):
        NNRegressor(loss="log_loss").fit(X, Y[:, 0])
    with pytest.raises(ValueError, match="regression loss"):
        NNClassifier(loss="huber").fit(X, Y[:, 0] > 0)


def test_class_weight_equals_sample_weight(clf_data):
    X, y = clf_data
    kw = dict(hidden_layer_sizes=(6,), max_iter=10, random_state=0)
    balanced = NNClassifier(class_weight="balanced", **kw).fit(X[:150], y[:150])
    manual = NNClassifier(**kw).fit(
        X[:150], y[:150], sample_weight=compute_sample_weight("balanced", y[:150])
    )
    np.testing.assert_allclose(balanced.coefs_[0], manual.coefs_[0], rtol=1e-12)
    heavy = NNClassifier(
        class_weight={0: 100.0, 1: 0.01, 2: 0.01}, **{**kw, "max_iter": 200}
    ).fit(X, y)
    assert (heavy.predict(X) == 0).mean() > 0.8
    with pytest.raises(ValueError, match="not among the classes"):
        NNClassifier(class_weight={7: 1.0}, **kw).fit(X, y)


def test_sample_weight_zero_equals_removal(clf_data):
    X, y = clf_data
    sw = np.ones(len(y))
    sw[::3] = 0
    kw = dict(hidden_layer_sizes=(6,), max_iter=10, batch_size=len(y), random_state=0)
    weighted = NNClassifier(**kw).fit(X, y, sample_weight=sw)
    removed = NNClassifier(**{**kw, "batch_size": int(sw.sum())}).fit(
        X[sw > 0], y[sw > 0]
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X), removed.predict_proba(X), rtol=1e-9
    )


class _Recorder(Callback):
    def __init__(self, stop_at=None):
        self.stop_at = stop_at

    def on_train_begin(self, estimator, X=None, y=None):
        self.events_ = ["begin"]

    def on_epoch_end(self, estimator, epoch, logs):
        self.events_.append(epoch)
        if self.stop_at is not None and epoch >= self.stop_at:
            raise StopTraining("enough")

    def on_train_end(self, estimator):
        self.events_.append("end")


def test_callbacks_are_cloned_and_can_stop(clf_data):
    X, y = clf_data
    user = _Recorder(stop_at=3)
    clf = NNClassifier(
        hidden_layer_sizes=(5,), max_iter=50, callbacks=[user], random_state=0
    ).fit(X, y)
    assert not hasattr(user, "events_")
    assert clf.callbacks_[0] is not user
    assert clf.callbacks_[0].events_ == ["begin", 1, 2, 3, "end"]
    assert clf.n_iter_ == 3
    with pytest.raises(TypeError, match="callbacks must be None or a list"):
        NNClassifier(callbacks=user).fit(X, y)


def test_early_stopping_callback_restores_best(clf_data):
    X, y = clf_data
    cb = EarlyStopping(monitor="train_loss", patience=2, min_delta=10.0)
    clf = NNClassifier(
        hidden_layer_sizes=(5,), max_iter=50, callbacks=[cb], random_state=0
    ).fit(X, y)
    assert clf.n_iter_ == 3  # epoch 1 is best; 2 and 3 do not improve by 10
    ref = NNClassifier(hidden_layer_sizes=(5,), max_iter=1, random_state=0).fit(X, y)
    for a, b in zip(clf.coefs_, ref.coefs_):
        np.testing.assert_allclose(a, b)
    assert cb.get_params()["patience"] == 2 and not hasattr(cb, "best_")


def test_progress_table_sink(clf_data):
    X, y = clf_data
    lines = []
    NNClassifier(
        hidden_layer_sizes=(5,),
        max_iter=3,
        random_state=0,
        callbacks=[ProgressTable(sink=lines.append)],
    ).fit(X, y)
    assert len(lines) == 2 + 3 and lines[0].split()[0] == "epoch"


@pytest.mark.parametrize(
    "schedule",
    ["invscaling", "step", "exponential", "cosine", Plateau(threshold=1.0, patience=3)],
)
def test_lr_schedules_drive_the_recorded_rate(clf_data, schedule):
    X, y = clf_data
    clf = NNClassifier(
        hidden_layer_sizes=(5,),
        lr_schedule=schedule,
        learning_rate=0.01,
        max_iter=30,
        n_iter_no_change=100,
        random_state=0,
    ).fit(X, y)
    rates = [h["learning_rate"] for h in clf.history_]
    assert rates[0] <= 0.01 and rates[-1] < 0.01
    assert all(b <= a + 1e-15 for a, b in zip(rates, rates[1:])) or schedule == "cosine"


@pytest.mark.parametrize(
    "init",
    ["glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_normal"],
)
def test_weight_init(clf_data, init):
    X, y = clf_data
    clf = NNClassifier(
        hidden_layer_sizes=(50,),
        weight_init=init,
        max_iter=1,
        learning_rate=1e-12,
        random_state=0,
    ).fit(X, y)
    std = clf.coefs_[0].std()
    expected = {
        "glorot_uniform": np.sqrt(6 / 58) / np.sqrt(3),
        "glorot_normal": np.sqrt(2 / 58),
        "he_uniform": np.sqrt(6 / 8) / np.sqrt(3),
        "he_normal": np.sqrt(2 / 8),
        "lecun_normal": np.sqrt(1 / 8),
    }[init]
    assert std == pytest.approx(expected, rel=0.15)


def test_dropout_regularises_and_predicts_deterministically(clf_data):
    X, y = clf_data
    clf = NNClassifier(
        hidden_layer_sizes=(32,),
        dropout=0.5,
        learning_rate=0.01,
        max_iter=100,
        random_state=0,
    ).fit(X, y)
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))
    assert clf.score(X, y) > 0.7
    with pytest.raises(ValueError, match="dropout=0.5 needs a stochastic optimizer"):
        NNClassifier(optimizer="lbfgs", dropout=0.5).fit(X, y)


def test_divergence_keeps_finite_weights():
    X, y = make_regression(n_samples=100, n_features=5, random_state=0)
    reg = NNRegressor(
        hidden_layer_sizes=(16,),
        optimizer="sgd",
        learning_rate=10.0,
        max_iter=50,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="diverged at epoch"):
        reg.fit(X * 1e3, y * 1e3)
    assert all(np.isfinite(c).all() for c in reg.coefs_ + reg.intercepts_)
    assert np.isfinite(reg.predict(X)).all()


def test_pandas_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = NNClassifier(
        hidden_layer_sizes=(5,), max_iter=5, early_stopping=True, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        clf.predict(X)
    np.testing.assert_array_equal(clf.feature_names_in_, X.columns)
    assert isinstance(X, pd.DataFrame)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_input_prediction_path_matches_full_path(dtype, clf_data):
    X, y = clf_data
    X = X.astype(dtype)
    clf = NNClassifier(hidden_layer_sizes=(7,), max_iter=5, random_state=0).fit(X, y)
    pd = pytest.importorskip("pandas")
    # A small ndarray takes the lean path; a DataFrame of the same rows (integer
    # column names, so no feature names) goes through validate_data.
    rows = X[:10]
    np.testing.assert_array_equal(
        clf.predict_proba(rows), clf.predict_proba(pd.DataFrame(rows))
    )
    np.testing.assert_array_equal(clf.predict(rows), clf.predict(pd.DataFrame(rows)))
    reg = NNRegressor(hidden_layer_sizes=(7,), max_iter=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(reg.predict(X[:1]), reg.predict(pd.DataFrame(X[:1])))
    assert reg.predict(X[:1]).dtype == dtype
    with pytest.raises(ValueError, match="X has 7 features"):
        clf.predict(X[:3, :7])
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(np.full((2, 8), np.nan, dtype=dtype))
