"""Dask: searches on a real cluster, out-of-core training, parallel prediction.

Every test runs on a ``distributed.LocalCluster`` that this module starts and stops:
two worker processes with one thread each, on loopback, no dashboard. Skipped only
when the ``dask`` extra is not installed.
"""

import joblib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier, NNRegressor

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
dask_ml_wrappers = pytest.importorskip("dask_ml.wrappers")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # No dashboard; the scheduler's HTTP endpoints on a free loopback port.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _search():
    pipe = make_pipeline(
        StandardScaler(),
        NNClassifier(learning_rate=1e-2, max_iter=50, random_state=0),
    )
    grid = {
        "nnclassifier__hidden_layer_sizes": [(8,), (32,)],
        "nnclassifier__alpha": [1e-4, 1e-1],
    }
    return GridSearchCV(pipe, grid, cv=3, n_jobs=-1)


def test_grid_search_on_the_cluster_matches_the_local_run(client):
    X, y = make_classification(300, 10, n_informative=6, random_state=0)
    local = _search().fit(X, y)
    with (
        distributed.get_task_stream(client) as tasks,
        joblib.parallel_config(backend="dask"),
    ):
        remote = _search().fit(X, y)
    # The fits ran as tasks on the workers: one per candidate and fold at least.
    workers = {t["worker"] for t in tasks.data}
    assert workers <= set(client.scheduler_info()["workers"])
    assert len(tasks.data) >= 4 * 3
    assert remote.best_params_ == local.best_params_
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert remote.best_score_ > 0.8


def _block_learner():
    return NNClassifier(
        hidden_layer_sizes=(16,), learning_rate=1e-2, batch_size=50, random_state=0
    )


def test_incremental_trains_out_of_core_block_by_block(client):
    # X is never materialised on the client: each block is drawn on a worker.
    n_blocks, rows, n_features = 8, 250, 6
    X = da.random.RandomState(0).normal(
        size=(n_blocks * rows, n_features), chunks=(rows, n_features)
    )
    y = (X[:, 0] + X[:, 1] - X[:, 2] > 0).astype(int)

    model = dask_ml_wrappers.Incremental(
        _block_learner(),
        scoring="accuracy",
        shuffle_blocks=False,
    )
    model.fit(X, y, classes=[0, 1])
    fitted = model.estimator_
    assert len(fitted.loss_curve_) == n_blocks  # one partial_fit per block

    # The same blocks fed to partial_fit locally, in order, give the same weights.
    local = _block_learner()
    for Xb, yb in zip(X.to_delayed().ravel(), y.to_delayed()):
        local.partial_fit(Xb.compute(), yb.compute(), classes=[0, 1])
    for ours, ref in zip(fitted.coefs_, local.coefs_):
        np.testing.assert_allclose(ours, ref)

    accuracy = model.score(X, y)
    assert accuracy > 0.9


def test_parallel_post_fit_predicts_lazily_on_the_cluster(client):
    X, y = make_classification(600, 8, random_state=1)
    model = dask_ml_wrappers.ParallelPostFit(
        NNClassifier(hidden_layer_sizes=(16,), max_iter=50, random_state=0)
    ).fit(X, y)
    Xd = da.from_array(X, chunks=(100, 8))

    labels = model.predict(Xd)
    proba = model.predict_proba(Xd)
    assert isinstance(labels, da.Array) and isinstance(proba, da.Array)
    np.testing.assert_array_equal(labels.compute(), model.estimator.predict(X))
    np.testing.assert_allclose(proba.compute(), model.estimator.predict_proba(X))
    assert (labels.compute() == y).mean() > 0.8


def test_parallel_post_fit_regressor(client):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(400, 5))
    y = X[:, 0] - X[:, 1] + 0.5 * X[:, 2]
    model = dask_ml_wrappers.ParallelPostFit(
        NNRegressor(hidden_layer_sizes=(16,), max_iter=200, random_state=0)
    ).fit(X, y)
    pred = model.predict(da.from_array(X, chunks=(50, 5))).compute()
    np.testing.assert_allclose(pred, model.estimator.predict(X))
    assert model.score(X, y) > 0.9
