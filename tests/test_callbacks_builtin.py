"""Named callbacks with nested parameters, and the built-in callbacks."""

import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error
from sklearn.model_selection import GridSearchCV

import sknn
from sknn import NNClassifier, NNRegressor
from sknn._registry import REGISTRIES
from sknn.callbacks import (
    Callback,
    Checkpoint,
    EarlyStopping,
    EpochScoring,
    GradientNormClipping,
    ProgressTable,
)

# The fits here are short on purpose: reaching max_iter is expected.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X, y = load_iris(return_X_y=True)
X = (X - X.mean(0)) / X.std(0)
X_val, y_val = X[::4], y[::4]


class Recorder(Callback):
    """Copies the weights and evaluates ``measure`` after each epoch."""

    def __init__(self, measure=None):
        self.measure = measure

    def on_train_begin(self, estimator, X=None, y=None):
        self.weights_, self.values_ = [], []

    def on_epoch_end(self, estimator, epoch, logs):
        self.weights_.append([c.copy() for c in estimator.coefs_])
        if self.measure is not None:
            self.values_.append(self.measure(estimator))


def _clf(**kw):
    return NNClassifier(
        **{"hidden_layer_sizes": (6,), "max_iter": 20, "random_state": 0, **kw}
    )


# ------------------------------------------------------------- named callbacks
def test_named_callbacks_have_nested_params():
    es = EarlyStopping(monitor="train_loss")
    clf = _clf(callbacks=[("es", es), ProgressTable()])
    params = clf.get_params()
    assert params["callbacks__es"] is es
    assert params["callbacks__es__patience"] == 10
    assert not any(k.startswith("callbacks__ProgressTable") for k in params)
    assert "callbacks__es" not in clf.get_params(deep=False)

    clf.set_params(callbacks__es__patience=3, callbacks__es__min_delta=0.5)
    assert (es.patience, es.min_delta) == (3, 0.5)  # in place, as in a Pipeline
    other = EarlyStopping(patience=7)
    clf.set_params(callbacks__es=other)
    assert clf.callbacks[0] == ("es", other) and clf.get_params()["callbacks__es"] is (
        other
    )


def test_a_named_entry_given_by_name_becomes_an_instance():
    user = [("es", "early_stopping"), "progress_table"]
    clf = _clf(callbacks=user).set_params(callbacks__es__patience=4)
    assert user == [("es", "early_stopping"), "progress_table"]  # not changed
    (name, es), table = clf.callbacks
    assert name == "es" and isinstance(es, EarlyStopping) and es.patience == 4
    assert table == "progress_table"


def test_clones_of_named_callbacks_are_independent():
    es = EarlyStopping(monitor="train_loss", patience=5)
    clf = _clf(callbacks=[("es", es)])
    copy = clone(clf).set_params(callbacks__es__patience=2)
    assert es.patience == 5 and copy.callbacks[0][1].patience == 2
    assert copy.callbacks[0][1] is not es
    copy.fit(X, y)
    assert copy.callbacks_[0].patience == 2 and copy.callbacks_[0] is not es


def test_grid_search_tunes_a_named_callback():
    es = EarlyStopping(monitor="train_loss", min_delta=0.05, patience=10)
    base = _clf(max_iter=60, callbacks=[("es", es)])
    search = GridSearchCV(
        base, {"callbacks__es__patience": [1, 30]}, cv=2, n_jobs=1
    ).fit(X, y)
    assert [p["callbacks__es__patience"] for p in search.cv_results_["params"]] == [
        1,
        30,
    ]
    assert es.patience == 10  # the search worked on clones
    best = search.best_params_["callbacks__es__patience"]
    assert search.best_estimator_.callbacks_[0].patience == best
    # The parameter reached the fits: patience 1 stops first.
    fits = {
        p: clone(base).set_params(callbacks__es__patience=p).fit(X, y).n_iter_
        for p in (1, 30)
    }
    assert fits[1] < fits[30]


def test_callbacks_keep_their_order_in_callbacks_():
    clf = _clf(
        max_iter=3,
        verbose=1,
        callbacks=[Recorder(), ("es", EarlyStopping(monitor="train_loss"))],
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("builtins.print", lambda *a, **k: None)
        clf.fit(X, y)
    kinds = [type(cb) for cb in clf.callbacks_]
    assert kinds == [Recorder, EarlyStopping, ProgressTable]


@pytest.mark.parametrize(
    "callbacks, error, text",
    [
        ([("es", EarlyStopping()), ("es", ProgressTable())], ValueError, "used twice"),
        ([("es",)], TypeError, "(name, callback) tuple"),
        ([(1, EarlyStopping())], TypeError, "(name, callback) tuple"),
        ([("", EarlyStopping())], ValueError, "non-empty str without '__'"),
        ([("a__b", EarlyStopping())], ValueError, "non-empty str without '__'"),
        ([("es", 3)], TypeError, "registered callback"),
        ([("es", EarlyStopping(patience=0))], ValueError, "callbacks__es="),
    ],
)
def test_bad_named_callbacks_are_refused(callbacks, error, text):
    with pytest.raises(error, match="callbacks") as info:
        _clf(callbacks=callbacks).fit(X, y)
    assert text in str(info.value)


def test_nested_params_of_unknown_names_are_refused():
    clf = _clf(callbacks=[("es", EarlyStopping())])
    with pytest.raises(ValueError, match="no entry named 'stop'.*named entries: 'es'"):
        clf.set_params(callbacks__stop__patience=3)
    with pytest.raises(ValueError, match="Invalid parameter 'x' for EarlyStopping"):
        clf.set_params(callbacks__es__x=3)
    with pytest.raises(ValueError, match="used twice"):
        _clf(callbacks=[("a", "early_stopping")] * 2).set_params(
            callbacks__a__patience=3
        )


def test_named_callbacks_save_and_load(tmp_path):
    clf = _clf(max_iter=3, callbacks=[("es", EarlyStopping(monitor="train_loss"))])
    clf.fit(X, y)
    sknn.save(clf, tmp_path / "m.sknn")
    loaded = sknn.load(tmp_path / "m.sknn")
    ((name, es),) = loaded.callbacks
    assert name == "es" and es.get_params() == clf.callbacks[0][1].get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))


# ------------------------------------------------------------------ Checkpoint
def test_checkpoint_holds_the_best_epoch(tmp_path, monkeypatch):
    # Every callback of a saved estimator must be registered (Checkpoint saves it).
    monkeypatch.setitem(REGISTRIES["callbacks"]._classes, "test_recorder", Recorder)
    path = str(tmp_path / "best.sknn")
    rng = np.random.RandomState(0)  # noise: the validation loss turns back up
    Xn, yn = rng.normal(size=(60, 4)), rng.randint(0, 3, 60)
    clf = _clf(
        hidden_layer_sizes=(20,),
        max_iter=40,
        learning_rate=0.01,
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=np.inf,
        callbacks=[Recorder(), Checkpoint(path)],
    ).fit(Xn, yn)
    rec = clf.callbacks_[0]
    losses = [r["valid_loss"] for r in clf.history_]
    best = int(np.argmin(losses)) + 1
    assert best < len(losses)  # the last epoch is not the best one
    assert clf.callbacks_[1].saved_epoch_ == best
    assert clf.callbacks_[1].best_ == min(losses)
    loaded = sknn.load(path)
    assert isinstance(loaded, NNClassifier) and len(loaded.history_) == best
    for saved, recorded in zip(loaded.coefs_, rec.weights_[best - 1]):
        np.testing.assert_array_equal(saved, recorded)
    assert not hasattr(loaded, "_fit_data")
    loaded.predict(Xn)


def test_checkpoint_monitors_a_score_and_every_epoch(tmp_path):
    path = str(tmp_path / "m.sknn")
    clf = _clf(max_iter=5, callbacks=[Checkpoint(path, monitor=None)]).fit(X, y)
    assert clf.callbacks_[0].saved_epoch_ == 5
    assert len(sknn.load(path).history_) == 5
    score = Checkpoint(path, monitor="train_accuracy", lower_is_better=False)
    clf = _clf(
        max_iter=15, callbacks=[EpochScoring("accuracy", on_train=True), score]
    ).fit(X, y)
    accs = [r["train_accuracy"] for r in clf.history_]
    assert clf.callbacks_[1].best_ == max(accs)
    assert clf.callbacks_[1].saved_epoch_ == accs.index(max(accs)) + 1


def test_a_failed_checkpoint_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.sknn"
    clf = _clf(max_iter=2, callbacks=[Checkpoint(str(path), monitor=None)]).fit(X, y)
    before = path.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("sknn._persistence.np.save", fail)
    with pytest.raises(OSError, match="disk full"):
        clone(clf).set_params(max_iter=4).fit(X, y)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.sknn"]  # no temporary left


@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        (
            {"path": Path("m.sknn")},
            TypeError,
            "Checkpoint.path must be a non-empty str",
        ),
        ({"monitor": "valid_f1"}, ValueError, "Checkpoint(monitor='valid_f1')"),
        ({"lower_is_better": 1}, TypeError, "Checkpoint.lower_is_better"),
    ],
)
def test_bad_checkpoint_params(kwargs, error, text):
    with pytest.raises(error, match=re.escape(text)):
        _clf(early_stopping=True, callbacks=[Checkpoint(**kwargs)]).fit(X, y)


def test_checkpoint_without_validation_says_so(tmp_path):
    with pytest.raises(ValueError, match="need a validation set"):
        _clf(callbacks=[Checkpoint(str(tmp_path / "m.sknn"))]).fit(X, y)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- EpochScoring
def test_epoch_scoring_on_the_validation_set():
    def f1(est):
        return f1_score(y_val, est.predict(X_val), average="macro")

    clf = _clf(
        early_stopping=True,
        n_iter_no_change=np.inf,
        callbacks=[EpochScoring("f1_macro"), Recorder(f1)],
    ).fit(X, y, X_val=X_val, y_val=y_val)
    scores = [r["valid_f1_macro"] for r in clf.history_]
    assert scores == clf.callbacks_[1].values_ and len(set(scores)) > 1
    assert not hasattr(clf, "_fit_data")


def test_epoch_scoring_on_the_training_data_with_weights():
    sw = np.where(y == 1, 3.0, 1.0)

    def weighted_accuracy(est):
        return accuracy_score(y, est.predict(X), sample_weight=sw)

    clf = _clf(
        callbacks=[EpochScoring("accuracy", on_train=True), Recorder(weighted_accuracy)]
    )
    clf.fit(X, y, sample_weight=sw)
    assert [r["train_accuracy"] for r in clf.history_] == clf.callbacks_[1].values_


def test_epoch_scoring_a_callable_on_a_regressor():
    Xr, yr = make_regression(n_samples=80, n_features=4, noise=1, random_state=0)

    def mae(estimator, X, y):
        return mean_absolute_error(y, estimator.predict(X))

    rec = Recorder(lambda est: mean_absolute_error(yr, est.predict(Xr)))
    reg = NNRegressor(
        hidden_layer_sizes=(5,),
        max_iter=5,
        random_state=0,
        callbacks=[EpochScoring(mae, on_train=True), rec],
    ).fit(Xr, yr)
    assert [r["train_mae"] for r in reg.history_] == reg.callbacks_[1].values_


def test_early_stopping_monitors_an_epoch_score():
    clf = _clf(
        max_iter=200,
        early_stopping=True,
        n_iter_no_change=np.inf,
        callbacks=[
            ("score", EpochScoring(name="valid_f")),
            ("es", EarlyStopping("valid_f", lower_is_better=False, patience=3)),
        ],
    )
    clf.set_params(callbacks__score__scoring="f1_macro").fit(X, y)
    scores = [r["valid_f"] for r in clf.history_]
    assert clf.n_iter_ < 200
    assert clf.callbacks_[1].best_ == max(scores)


def test_progress_table_shows_epoch_scores():
    lines = []
    clf = _clf(
        max_iter=3,
        early_stopping=True,
        n_iter_no_change=np.inf,
        callbacks=[EpochScoring("accuracy"), ProgressTable(sink=lines.append)],
    ).fit(X, y)
    header = lines[0].split()
    assert header == [
        "epoch",
        "train_loss",
        "valid_loss",
        "valid_score",
        "valid_accuracy",
        "lr",
        "dur",
    ]
    for line, record in zip(lines[2:], clf.history_):
        cell = line.split()[header.index("valid_accuracy")]
        assert cell == f"{record['valid_accuracy']:.6f}"


def test_epoch_scoring_keeps_dataframe_input_quiet():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=list("abcd"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = _clf(max_iter=2, callbacks=[EpochScoring(on_train=True)]).fit(df, y)
    assert len(clf.history_) == 2


@pytest.mark.parametrize(
    "callback, error, text",
    [
        (EpochScoring("accuracy"), ValueError, "early_stopping=False gives none"),
        (EpochScoring("acc", on_train=True), ValueError, "EpochScoring.scoring='acc'"),
        (EpochScoring(3, on_train=True), TypeError, "EpochScoring.scoring must be"),
        (EpochScoring(on_train=True, name=""), TypeError, "EpochScoring.name"),
        (
            EpochScoring(on_train=True, name="train_loss"),
            ValueError,
            "already has the key 'train_loss'",
        ),
    ],
)
def test_bad_epoch_scoring_params(callback, error, text):
    with pytest.raises(error, match=re.escape(text)):
        _clf(callbacks=[callback]).fit(X, y)


def test_two_scorings_of_one_name_are_refused():
    twice = [EpochScoring(on_train=True), EpochScoring("accuracy", on_train=True)]
    twice[1].set_params(name="train_score")
    with pytest.raises(ValueError, match="already has the key 'train_score'"):
        _clf(callbacks=twice).fit(X, y)


# -------------------------------------------------------- GradientNormClipping
@pytest.mark.parametrize("norm_type", [1, 2, 3.5, np.inf])
def test_clipping_bounds_the_norm(norm_type):
    rng = np.random.RandomState(0)
    clip = GradientNormClipping(max_norm=0.5, norm_type=norm_type)
    grad = rng.normal(size=50)
    original = grad.copy()
    clip.on_grad_computed(None, grad, 0)
    assert np.linalg.norm(grad, ord=norm_type) == pytest.approx(0.5, rel=1e-12)
    np.testing.assert_allclose(
        grad / np.linalg.norm(grad), original / np.linalg.norm(original)
    )
    small = original * 0.01 / np.linalg.norm(original, ord=norm_type)
    kept = small.copy()
    clip.on_grad_computed(None, kept, 0)
    np.testing.assert_array_equal(kept, small)


def test_clipping_keeps_float32_and_non_finite_gradients():
    grad = np.array([30.0, 40.0], dtype=np.float32)
    GradientNormClipping(max_norm=5.0).on_grad_computed(None, grad, 0)
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, [3.0, 4.0], rtol=1e-6)
    bad = np.array([np.nan, 1.0])
    GradientNormClipping().on_grad_computed(None, bad, 0)
    assert np.isnan(bad[0]) and bad[1] == 1.0


def test_clipping_needs_a_stochastic_optimizer():
    with pytest.raises(ValueError, match="GradientNormClipping needs a stochastic"):
        _clf(optimizer="lbfgs", callbacks=[GradientNormClipping()]).fit(X, y)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"max_norm": 0}, ValueError),
        ({"max_norm": "1"}, TypeError),
        ({"norm_type": -1}, ValueError),
        ({"norm_type": np.nan}, ValueError),
    ],
)
def test_bad_clipping_params(kwargs, error):
    with pytest.raises(error, match=r"callbacks=GradientNormClipping\(.*\): Gradient"):
        _clf(callbacks=[GradientNormClipping(**kwargs)]).fit(X, y)


class GradNorms(Callback):
    """The norm of each gradient the optimizer steps with."""

    def on_train_begin(self, estimator, X=None, y=None):
        self.norms_ = []

    def on_grad_computed(self, estimator, grad, batch):
        self.norms_.append(float(np.linalg.norm(grad)))


@pytest.mark.parametrize("optimizer", ["sgd", "adamw"])
def test_clipping_in_training_bounds_every_step(optimizer):
    kw = dict(optimizer=optimizer, learning_rate=0.1, batch_size=30, max_iter=4)
    free = _clf(**kw, callbacks=[GradNorms()]).fit(X, y)
    assert max(free.callbacks_[0].norms_) > 0.1
    clipped = _clf(
        **kw, callbacks=[GradientNormClipping(max_norm=0.1), GradNorms()]
    ).fit(X, y)
    norms = clipped.callbacks_[1].norms_
    assert len(norms) == 4 * 5 and max(norms) <= 0.1 * (1 + 1e-12)
    assert not np.allclose(clipped.coefs_[0], free.coefs_[0])


def test_clipping_above_every_norm_changes_nothing():
    kw = dict(learning_rate=0.1, batch_size=30, max_iter=4)
    free = _clf(**kw, callbacks=[GradNorms()]).fit(X, y)
    bound = 2 * max(free.callbacks_[0].norms_)
    clipped = _clf(**kw, callbacks=[GradientNormClipping(max_norm=bound)]).fit(X, y)
    for a, b in zip(
        free.coefs_ + free.intercepts_, clipped.coefs_ + clipped.intercepts_
    ):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_saves_inside_a_search(tmp_path):
    # scikit-learn's callback API sets run-time attributes on the estimator
    # during a search's fits; the checkpoint leaves them out of the file.
    path = str(tmp_path / "m.sknn")
    clf = _clf(max_iter=3, callbacks=[("ckpt", Checkpoint(path, monitor=None))])
    search = GridSearchCV(clf, {"alpha": [1e-4, 1e-2]}, cv=2, n_jobs=1).fit(X, y)
    loaded = sknn.load(path)  # written last by the refit
    for a, b in zip(loaded.coefs_, search.best_estimator_.coefs_):
        np.testing.assert_array_equal(a, b)
