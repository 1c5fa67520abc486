"""Searches and parallelism: nested parameters of named components, registered
components in joblib's worker processes."""

import os
import pickle
import subprocess
import sys
import types

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sknn
from sknn import NNClassifier, NNRegressor
from sknn._registry import REGISTRIES
from sknn.activations import Activation, LeakyReLU, ReLU
from sknn.callbacks import EarlyStopping
from sknn.losses import Huber
from sknn.optimizers import SGD, Adam
from sknn.schedules import InvScaling

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Small fits that converge (no ConvergenceWarning) in a few epochs.
QUICK = dict(
    hidden_layer_sizes=(8,),
    batch_size=16,
    learning_rate=1e-2,
    tol=1e-3,
    n_iter_no_change=3,
    max_iter=100,
)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# ------------------------------------------- nested parameters of named components


@pytest.mark.parametrize(
    "Est, params, name, expected",
    [
        (NNClassifier, {"optimizer__beta_1": 0.8}, "optimizer", Adam(beta_1=0.8)),
        (
            NNClassifier,
            {"optimizer": "sgd", "optimizer__momentum": 0.5},
            "optimizer",
            SGD(momentum=0.5),
        ),
        (
            NNClassifier,
            {"activation": "leaky_relu", "activation__negative_slope": 0.2},
            "activation",
            LeakyReLU(negative_slope=0.2),
        ),
        (
            NNRegressor,
            {"loss": "huber", "loss__delta": 2.0},
            "loss",
            Huber(delta=2.0),
        ),
        (
            NNClassifier,
            {"lr_schedule": "invscaling", "lr_schedule__power_t": 0.25},
            "lr_schedule",
            InvScaling(power_t=0.25),
        ),
        (
            NNRegressor,
            {"optimizer": Adam, "optimizer__epsilon": 1e-6},
            "optimizer",
            Adam(epsilon=1e-6),
        ),
    ],
)
def test_set_params_nested_on_a_named_component(Est, params, name, expected):
    est = Est().set_params(**params)
    value = est.get_params()[name]
    assert type(value) is type(expected)
    assert value.get_params() == expected.get_params()
    # Now an instance: deep get_params lists its parameters, clone copies it.
    deep = est.get_params(deep=True)
    for key, v in expected.get_params().items():
        assert deep[f"{name}__{key}"] == v
    copy = clone(est)
    assert copy.get_params()[name] is not value
    assert copy.get_params()[name].get_params() == expected.get_params()


def test_a_named_component_without_the_parameter_says_so():
    # The name resolved to its class, whose own message lists its parameters.
    with pytest.raises(ValueError, match="Invalid parameter 'x' for HeUniform"):
        NNClassifier(weight_init="he_uniform").set_params(weight_init__x=1)
    with pytest.raises(ValueError, match="Unknown optimizer 'adm'"):
        NNClassifier(optimizer="adm").set_params(optimizer__learning_rate=0.1)


@pytest.mark.parametrize("name", ["loss", "weight_init"])
def test_nested_parameters_of_auto_components_are_refused(name):
    est = NNClassifier()
    with pytest.raises(ValueError, match=f"{name}='auto' is chosen in fit"):
        est.set_params(**{f"{name}__x": 1})
    assert est.get_params()[name] == "auto"


@pytest.mark.parametrize("name", ["callbacks", "hidden_layer_sizes"])
def test_nested_parameters_of_plain_values_are_refused(name):
    est = NNClassifier(callbacks=[EarlyStopping()])
    with pytest.raises(ValueError, match=f"'{name}__patience'.*no parameters"):
        est.set_params(**{f"{name}__patience": 3})


def test_defaults_stay_plain_names():
    for Est in (NNClassifier, NNRegressor):
        est = Est()
        shallow = est.get_params(deep=False)
        assert est.get_params(deep=True) == shallow
        assert all(
            isinstance(shallow[p], str)
            for p in ("activation", "loss", "optimizer", "lr_schedule", "weight_init")
        )
        # Round trip through get_params/set_params changes nothing.
        assert est.set_params(**est.get_params()).get_params() == shallow


def test_nested_parameter_of_a_name_trains_as_the_instance(iris):
    X, y = iris
    kw = dict(hidden_layer_sizes=(5,), max_iter=3, tol=0, random_state=0)
    by_name = NNClassifier(**kw).set_params(optimizer__learning_rate=0.05)
    by_instance = NNClassifier(optimizer=Adam(learning_rate=0.05), **kw)
    plain = NNClassifier(**kw)
    with pytest.warns(ConvergenceWarning):
        for est in (by_name, by_instance, plain):
            est.fit(X, y)
    for a, b in zip(by_name.coefs_, by_instance.coefs_):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(by_name.coefs_[0], plain.coefs_[0])


def test_grid_search_over_nested_parameters_of_named_components(iris):
    X, y = iris
    pipe = make_pipeline(StandardScaler(), NNClassifier(random_state=0, **QUICK))
    grid = {
        "nnclassifier__optimizer__learning_rate": [1e-2, 3e-2],
        "nnclassifier__lr_schedule": ["invscaling"],
        "nnclassifier__lr_schedule__power_t": [0.1, 0.25],
    }
    searches = [
        GridSearchCV(pipe, grid, cv=3, scoring="neg_log_loss", n_jobs=n).fit(X, y)
        for n in (1, 2)
    ]
    serial, parallel = searches
    np.testing.assert_array_equal(
        serial.cv_results_["mean_test_score"], parallel.cv_results_["mean_test_score"]
    )
    # The learning rate reached the optimizer: the two rates score differently.
    scores = parallel.cv_results_["mean_test_score"]
    lrs = parallel.cv_results_["param_nnclassifier__optimizer__learning_rate"]
    assert scores[lrs == 1e-2].tolist() != scores[lrs == 3e-2].tolist()
    best = parallel.best_estimator_.named_steps["nnclassifier"]
    assert isinstance(best.optimizer, Adam)
    assert (
        best.optimizer.learning_rate
        == parallel.best_params_["nnclassifier__optimizer__learning_rate"]
    )
    assert isinstance(best.lr_schedule, InvScaling)
    assert (
        best.lr_schedule.power_t
        == parallel.best_params_["nnclassifier__lr_schedule__power_t"]
    )
    # The base estimator kept its plain names.
    assert pipe.named_steps["nnclassifier"].optimizer == "adam"
    assert pipe.named_steps["nnclassifier"].lr_schedule == "constant"


# ------------------------------------ registered components in worker processes


class SquareReLU(Activation):
    """``max(z, 0)**2``: registered by the tests below, not at import."""

    uses_input = True

    def forward(self, z, out=None):
        out = np.empty_like(z) if out is None else out
        np.maximum(z, 0, out=out)
        return np.multiply(out, out, out=out)

    def backward(self, grad, a, z=None):
        grad *= 2 * np.maximum(z, 0)
        return grad


@pytest.fixture
def square_relu():
    """Register SquareReLU in this process only; restore the registries after."""
    saved = {k: dict(r._classes) for k, r in REGISTRIES.items()}
    sknn.register_activation("square_relu_test")(SquareReLU)
    yield "square_relu_test"
    for kind, classes in saved.items():
        REGISTRIES[kind]._classes = classes


def test_registered_name_reaches_loky_workers(iris, square_relu):
    X, y = iris
    est = NNClassifier(activation=square_relu, random_state=0, **QUICK)
    scores = cross_val_score(est, X, y, cv=3, n_jobs=2)
    assert scores.mean() > 0.7
    # The name only in the grid, not on the estimator that is sent.
    grid = {"activation": ["relu", square_relu]}
    search = GridSearchCV(NNClassifier(random_state=0, **QUICK), grid, cv=3, n_jobs=2)
    search.fit(X, y)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    serial = GridSearchCV(NNClassifier(random_state=0, **QUICK), grid, cv=3).fit(X, y)
    np.testing.assert_array_equal(
        search.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


def test_unpickling_registers_the_names_a_process_lacks(square_relu):
    est = NNClassifier(activation=square_relu)
    blob = pickle.dumps(est)
    del REGISTRIES["activations"]._classes[square_relu]
    copy = pickle.loads(blob)
    assert REGISTRIES["activations"].get(square_relu) is SquareReLU
    assert copy.get_params() == est.get_params()
    assert "_sknn_registered_components" not in vars(copy)


def test_pickles_are_unchanged_without_registrations(square_relu):
    est = NNClassifier()
    assert "_sknn_registered_components" in est.__getstate__()
    del REGISTRIES["activations"]._classes[square_relu]
    others = [
        (k, n)
        for k, r in REGISTRIES.items()
        for n, c in r._classes.items()
        if not c.__module__.startswith("sknn.")
    ]
    for kind, name in others:  # left by other tests
        del REGISTRIES[kind]._classes[name]
    assert est.__getstate__().keys() == vars(est).keys()


def test_a_carried_class_that_cannot_be_loaded_is_skipped(square_relu):
    module = types.ModuleType("sknn_test_vanishing")
    Vanishing = type("Vanishing", (ReLU,), {"__module__": module.__name__})
    module.Vanishing = Vanishing
    sys.modules[module.__name__] = module
    try:
        sknn.register_activation("vanishing_test")(Vanishing)
        blob = pickle.dumps(NNClassifier(activation="vanishing_test"))
    finally:
        del sys.modules[module.__name__]
    del REGISTRIES["activations"]._classes["vanishing_test"]
    del REGISTRIES["activations"]._classes[square_relu]
    copy = pickle.loads(blob)  # the module is gone: that name is skipped
    assert copy.activation == "vanishing_test"
    assert "vanishing_test" not in sknn.list_activations()
    assert REGISTRIES["activations"].get(square_relu) is SquareReLU
    with pytest.raises(ValueError, match="Unknown activation 'vanishing_test'"):
        copy.fit([[0.0], [1.0]], [0, 1])


SCRIPT = """
import numpy as np
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from joblib import parallel_config

import sknn
from sknn import NNClassifier
from sknn.activations import Activation


class SquareReLU(Activation):
    uses_input = True

    def forward(self, z, out=None):
        out = np.empty_like(z) if out is None else out
        np.maximum(z, 0, out=out)
        return np.multiply(out, out, out=out)

    def backward(self, grad, a, z=None):
        grad *= 2 * np.maximum(z, 0)
        return grad


if __name__ == "__main__":
    sknn.register_activation("square_relu")(SquareReLU)
    X, y = load_iris(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    kw = dict(
        hidden_layer_sizes=(8,),
        batch_size=16,
        learning_rate=1e-2,
        tol=1e-3,
        n_iter_no_change=3,
        max_iter=100,
    )
    grid = {"activation": ["relu", "square_relu"]}
    for backend in ("loky", "multiprocessing"):
        with parallel_config(backend=backend):
            search = GridSearchCV(
                NNClassifier(random_state=0, **kw), grid, cv=2, n_jobs=2
            ).fit(X, y)
        print(backend, *search.cv_results_["mean_test_score"])
"""


def test_a_class_registered_in_main_reaches_loky_and_multiprocessing_workers(
    tmp_path,
):
    # A script: the class lives in __main__ and is registered under the main
    # guard, so spawned workers define the class but never register it.
    script = tmp_path / "search_script.py"
    script.write_text(SCRIPT)
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
        JOBLIB_START_METHOD="spawn",
        PYTHONWARNINGS="error::sklearn.exceptions.FitFailedWarning",
    )
    proc = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(" ", 1) for line in proc.stdout.splitlines())
    assert lines.keys() == {"loky", "multiprocessing"}
    for backend, values in lines.items():
        scores = [float(v) for v in values.split()]
        assert all(s > 0.6 for s in scores), (backend, scores)
    assert lines["loky"] == lines["multiprocessing"]
