"""scikit-learn's callback API (sklearn.callback) on NNClassifier and NNRegressor.

The API is experimental: its behaviour is pinned to the scikit-learn versions
tested here (1.9.x); on others these tests skip and say why. The fallback for
a scikit-learn without ``sklearn.callback`` is tested on every version.
"""

import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier, NNRegressor
from sknn.callbacks import EarlyStopping, ProgressTable

TESTED = ("1.9",)
_version = ".".join(sklearn.__version__.split(".")[:2])
pinned = pytest.mark.skipif(
    _version not in TESTED,
    reason=(
        f"sklearn.callback is experimental; sknn's support is tested with "
        f"scikit-learn {', '.join(TESTED)}.x, this is {sklearn.__version__}"
    ),
)

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)
no_convergence = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


class Recorder:
    """A FitCallback that records every hook with its task and keywords.

    ``stop_at`` maps a task name to the task_id at whose end it returns True.
    """

    def __init__(self, stop_at=None):
        self.stop_at = stop_at or {}
        self.events = []

    def setup(self, estimator, context):
        self.events.append(("setup", None, None, {}))

    def teardown(self, estimator, context):
        self.events.append(("teardown", None, None, {}))

    def on_fit_task_begin(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        self.events.append(
            ("begin", context.task_name, context.task_id, dict(X=X, y=y))
        )

    def on_fit_task_end(
        self,
        estimator,
        context,
        *,
        X=None,
        y=None,
        metadata=None,
        fitted_estimator=None,
    ):
        info = dict(
            X=X,
            y=y,
            metadata=metadata,
            fitted=fitted_estimator,
            max_subtasks=context.max_subtasks,
            parent=None if context.parent is None else context.parent.task_name,
        )
        self.events.append(("end", context.task_name, context.task_id, info))
        return self.stop_at.get(context.task_name) == context.task_id

    def ends(self, task_name):
        return [e for e in self.events if e[0] == "end" and e[1] == task_name]


@pinned
@no_convergence
def test_stochastic_fit_has_one_task_per_epoch_and_per_batch():
    rec = Recorder()
    clf = NNClassifier(hidden_layer_sizes=(5,), batch_size=50, max_iter=4)
    clf.set_callbacks(rec).fit(X_IRIS, Y_IRIS)

    assert rec.events[0][0] == "setup" and rec.events[-1][0] == "teardown"
    begins = [e for e in rec.events if e[0] == "begin"]
    ends = [e for e in rec.events if e[0] == "end"]
    assert len(begins) == len(ends) == 1 + 4 + 4 * 3
    (root,) = rec.ends("fit")
    assert root[3]["max_subtasks"] == 4 and root[3]["parent"] is None
    epochs = rec.ends("epoch")
    assert [e[2] for e in epochs] == [0, 1, 2, 3]
    assert all(e[3]["max_subtasks"] == 3 and e[3]["parent"] == "fit" for e in epochs)
    batches = rec.ends("batch")
    assert len(batches) == 12
    assert all(e[3]["parent"] == "epoch" and e[3]["max_subtasks"] == 0 for e in batches)
    # Batches pass their rows and labels, and no fitted estimator: an epoch's
    # batches hold every training row once.
    assert all(b[3]["fitted"] is None for b in batches)
    assert [b[3]["X"].shape for b in batches[:3]] == [(50, 4)] * 3
    labels = np.concatenate([b[3]["y"] for b in batches[:3]])
    np.testing.assert_array_equal(np.bincount(labels), [50, 50, 50])
    rows = np.concatenate([b[3]["X"] for b in batches[:3]])
    np.testing.assert_array_equal(np.unique(rows, axis=0), np.unique(X_IRIS, axis=0))
    # Epochs pass the training data and a fitted copy with that epoch's weights.
    last = epochs[-1][3]
    assert last["X"] is not None and last["X"].shape == (150, 4)
    np.testing.assert_array_equal(np.bincount(last["y"]), [50, 50, 50])
    assert last["fitted"] is not clf
    np.testing.assert_array_equal(last["fitted"].predict(X_IRIS), clf.predict(X_IRIS))
    # The fitted copies are snapshots: the first epoch's differs from the last.
    first = epochs[0][3]["fitted"]
    assert not np.allclose(first.coefs_[0], clf.coefs_[0])
    # The fit leaves no callback context behind.
    assert not hasattr(clf, "_callback_fit_ctx")

    # An epoch of one batch is a leaf: its batch is the epoch.
    rec = Recorder()
    clf.set_callbacks(rec).set_params(batch_size=150).fit(X_IRIS, Y_IRIS)
    assert len(rec.ends("epoch")) == 4 and not rec.ends("batch")
    assert all(e[3]["max_subtasks"] == 0 for e in rec.ends("epoch"))


@pinned
def test_lbfgs_has_one_task_per_iteration():
    rec = Recorder()
    reg = NNRegressor(hidden_layer_sizes=(5,), optimizer="lbfgs", max_iter=6)
    X, y = make_regression(n_samples=40, n_features=3, random_state=0)
    with pytest.warns(ConvergenceWarning):
        reg.set_callbacks(rec).fit(X, y, sample_weight=np.ones(40))
    (root,) = rec.ends("fit")
    assert root[3]["max_subtasks"] == 7
    iters = rec.ends("lbfgs-iter")
    full = [e for e in iters if e[3]["fitted"] is not None]
    assert len(full) == reg.n_iter_ == 6
    assert len(iters) - len(full) <= 1  # the iteration L-BFGS began and left
    assert all(e[3]["max_subtasks"] == 0 for e in iters)
    assert full[0][3]["y"].shape == (40,)
    np.testing.assert_array_equal(full[0][3]["metadata"]["sample_weight"], np.ones(40))
    np.testing.assert_allclose(full[-1][3]["fitted"].predict(X), reg.predict(X))


@pinned
@pytest.mark.parametrize(
    "optimizer, task, expected_epochs",
    [("adam", "epoch", 3), ("adam", "batch", 1), ("lbfgs", "lbfgs-iter", 3)],
)
def test_a_callback_returning_true_stops_training(optimizer, task, expected_epochs):
    rec = Recorder(stop_at={task: 2 if task != "batch" else 1})
    clf = NNClassifier(
        hidden_layer_sizes=(5,), optimizer=optimizer, batch_size=50, max_iter=50
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a stop, not max_iter
        clf.set_callbacks(rec).fit(X_IRIS, Y_IRIS)
    assert clf.n_iter_ == expected_epochs == len(clf.history_)
    if task == "batch":
        # Stopped after the second batch: 100 samples seen in the epoch kept.
        assert clf.t_ == 100 and len(rec.ends("batch")) == 2
        assert len(rec.ends("epoch")) == 1
    assert rec.events[-1][0] == "teardown"
    begins = [e for e in rec.events if e[0] == "begin"]
    assert len(begins) == len([e for e in rec.events if e[0] == "end"])


@pinned
@no_convergence
def test_scoring_monitor_logs_the_score_of_each_epoch():
    from sklearn.callback import ScoringMonitor

    monitor = ScoringMonitor(scoring="accuracy")
    kw = dict(hidden_layer_sizes=(4,), learning_rate=0.01, max_iter=5, random_state=0)
    NNClassifier(**kw).set_callbacks(monitor).fit(X_IRIS, Y_IRIS)
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
    assert [r["task_id"] for r in rows] == [0, 1, 2, 3, 4]
    # Each epoch's score is that of a fit stopped after that epoch.
    for k, row in enumerate(rows, start=1):
        clf = NNClassifier(**{**kw, "max_iter": k}).fit(X_IRIS, Y_IRIS)
        assert row["accuracy"] == accuracy_score(Y_IRIS, clf.predict(X_IRIS))
    assert len({r["accuracy"] for r in rows}) > 1


@pinned
@no_convergence
def test_progress_bar_shows_epochs(capsys):
    pytest.importorskip("rich", reason="ProgressBar needs rich")
    from sklearn.callback import ProgressBar

    clf = NNClassifier(hidden_layer_sizes=(4,), max_iter=3).set_callbacks(ProgressBar())
    clf.fit(X_IRIS, Y_IRIS)
    out = capsys.readouterr().out
    # One batch per epoch: a single bar, advancing by epoch.
    assert "NNClassifier - fit" in out and "100%" in out
    assert "NNClassifier - epoch" not in out
    # Several batches per epoch: a bar per epoch, advancing by batch.
    clf.set_params(batch_size=50).fit(X_IRIS, Y_IRIS)
    out = capsys.readouterr().out
    assert out.count("NNClassifier - epoch") == 3


@pinned
@no_convergence
def test_progress_bar_reaches_the_network_in_a_pipeline_in_a_grid_search(capsys):
    pytest.importorskip("rich", reason="ProgressBar needs rich")
    from sklearn.callback import ProgressBar

    pipe = make_pipeline(
        StandardScaler(),
        NNClassifier(hidden_layer_sizes=(4,), batch_size=50, max_iter=2),
    )
    search = GridSearchCV(pipe, {"nnclassifier__alpha": [1e-4, 1e-2]}, cv=2)
    search.set_callbacks(ProgressBar(max_propagation_depth=None)).fit(X_IRIS, Y_IRIS)
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out
    # 2 candidates x 2 folds + the refit, 2 epochs each.
    assert out.count("Pipeline - fit-final-estimator | NNClassifier - fit") == 5
    assert out.count("NNClassifier - epoch") == 10
    # The propagated callback is gone from the fitted network afterwards.
    assert not hasattr(search.best_estimator_[-1], "_skl_callbacks")

    # The default depth (1) shows the search and the pipeline, not the epochs.
    search.set_callbacks(ProgressBar()).fit(X_IRIS, Y_IRIS)
    out = capsys.readouterr().out
    assert "GridSearchCV - fit" in out and "NNClassifier - epoch" not in out


@pinned
@no_convergence
def test_sknn_callbacks_keep_working_beside_sklearn_callbacks():
    lines = []
    rec = Recorder()
    clf = NNClassifier(
        hidden_layer_sizes=(4,),
        max_iter=30,
        early_stopping=True,
        callbacks=[EarlyStopping(patience=2), ProgressTable(sink=lines.append)],
        random_state=0,
    ).set_callbacks(rec)
    clf.fit(X_IRIS, Y_IRIS)
    assert len(lines) == clf.n_iter_ + 2  # header, rule, one row per epoch
    assert len(rec.ends("epoch")) == clf.n_iter_
    # Epoch tasks see the training part of the split, not the validation set.
    assert rec.ends("epoch")[0][3]["X"].shape[0] < 150


@pinned
def test_estimator_with_sklearn_callbacks_clones_pickles_and_saves(tmp_path):
    import pickle

    from sklearn.base import clone

    import sknn

    rec = Recorder()
    clf = NNClassifier(hidden_layer_sizes=(4,), max_iter=2).set_callbacks(rec)
    assert clone(clf)._skl_callbacks == [rec]
    with pytest.warns(ConvergenceWarning):
        clf.fit(X_IRIS, Y_IRIS)
    pickle.loads(pickle.dumps(clf))
    sknn.save(clf, tmp_path / "m.sknn")
    loaded = sknn.load(tmp_path / "m.sknn")
    assert not hasattr(loaded, "_skl_callbacks")
    np.testing.assert_array_equal(loaded.predict(X_IRIS), clf.predict(X_IRIS))


@pinned
def test_set_callbacks_rejects_what_is_not_a_callback():
    with pytest.raises(TypeError, match="FitCallback"):
        NNClassifier().set_callbacks(EarlyStopping())


def test_without_sklearn_callback_module_nothing_breaks():
    """A scikit-learn without sklearn.callback (< 1.9): sknn imports none of it."""
    code = textwrap.dedent(
        """
        import builtins, warnings
        real_import = builtins.__import__

        def fake_import(name, globals=None, locals=None, fromlist=(), level=0):
            importer = (globals or {}).get("__name__", "")
            if importer.startswith("sknn") and name.startswith("sklearn.callback"):
                raise ImportError("No module named 'sklearn.callback'")
            return real_import(name, globals, locals, fromlist, level)

        builtins.__import__ = fake_import
        import numpy as np
        from sklearn.datasets import load_iris
        from sknn import NNClassifier, NNRegressor, _sklearn_callbacks
        from sknn.callbacks import EarlyStopping

        assert not _sklearn_callbacks.AVAILABLE
        assert not hasattr(NNClassifier(), "set_callbacks")
        X, y = load_iris(return_X_y=True)
        warnings.simplefilter("ignore")
        for opt in ["adam", "lbfgs"]:
            stop = EarlyStopping(monitor="train_loss")
            clf = NNClassifier((4,), optimizer=opt, max_iter=5, random_state=0,
                               callbacks=[stop]).fit(X, y)
            assert clf.n_iter_ == 5
        NNClassifier((4,)).partial_fit(X, y, classes=[0, 1, 2]).predict(X)
        print("ok")
        """
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


class Failing(Recorder):
    def on_fit_task_end(self, estimator, context, **kwargs):
        super().on_fit_task_end(estimator, context, **kwargs)
        if context.task_name == "epoch" and context.task_id == 1:
            raise RuntimeError("callback failed")


@pinned
def test_a_failing_callback_is_torn_down_and_leaves_the_estimator_unfitted():
    rec = Failing()
    clf = NNClassifier(hidden_layer_sizes=(4,), max_iter=5).set_callbacks(rec)
    with pytest.raises(RuntimeError, match="callback failed"):
        clf.fit(X_IRIS, Y_IRIS)
    assert rec.events[-1][0] == "teardown"
    assert not hasattr(clf, "coefs_") and not hasattr(clf, "_callback_fit_ctx")
    # Usable again: the same estimator fits once the callback is replaced.
    with pytest.warns(ConvergenceWarning):
        clf.set_callbacks(Recorder()).fit(X_IRIS, Y_IRIS)
    assert clf.n_iter_ == 5


@pinned
@no_convergence
def test_fitted_copies_hold_each_epochs_layer_state():
    from sknn.architectures import ResNet

    rec = Recorder()
    arch = ResNet(n_blocks=1, d_block=8, dropout1=0.0)
    clf = NNClassifier(architecture=arch, batch_size=50, max_iter=3, random_state=0)
    clf.set_callbacks(rec).fit(X_IRIS, Y_IRIS)
    fitted = [e[3]["fitted"] for e in rec.ends("epoch")]
    # Each copy keeps the running statistics of its epoch, not the live ones.
    for a, b in zip(fitted[-1].layer_state_, clf.layer_state_):
        assert a is not b
        for k in a:
            np.testing.assert_array_equal(a[k], b[k])
    first = fitted[0].layer_state_[1]["running_mean"]
    assert not np.array_equal(first, clf.layer_state_[1]["running_mean"])
    np.testing.assert_array_equal(fitted[-1].predict(X_IRIS), clf.predict(X_IRIS))
