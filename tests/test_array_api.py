"""Array API inputs: array-api-strict arrays and torch tensors under array_api_dispatch.

sknn computes in NumPy: the inputs are copied to NumPy, the fitted attributes
are NumPy arrays (so the ``array_api_support`` tag stays False) and the
outputs of ``predict``/``predict_proba``/``predict_log_proba`` go back to the
namespace and device of ``X``.

scikit-learn refuses ``array_api_dispatch=True`` unless ``SCIPY_ARRAY_API=1``
is set; the tests set it for scikit-learn's check (scipy is already imported,
and only ever sees NumPy arrays from sknn). One test runs the whole path in a
fresh interpreter started with the variable set, as a user would.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sklearn
from sklearn import config_context
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import check_array_api_input

from sknn import NNClassifier, NNRegressor

xps = pytest.importorskip("array_api_strict")


def _dispatch_unavailable():
    """Why this scikit-learn/SciPy cannot enable array_api_dispatch, or None."""
    old = os.environ.get("SCIPY_ARRAY_API")
    os.environ["SCIPY_ARRAY_API"] = "1"
    try:
        with config_context(array_api_dispatch=True):
            pass
    except (ImportError, RuntimeError) as exc:
        return str(exc)
    finally:
        if old is None:
            del os.environ["SCIPY_ARRAY_API"]
        else:
            os.environ["SCIPY_ARRAY_API"] = old
    return None


if (_reason := _dispatch_unavailable()) is not None:
    pytest.skip(
        f"array_api_dispatch cannot be enabled here: {_reason}", allow_module_level=True
    )

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

X_IRIS, Y_IRIS = load_iris(return_X_y=True)
X_IRIS = StandardScaler().fit_transform(X_IRIS)
X_REG, Y_REG = make_regression(n_samples=60, n_features=4, n_targets=2, random_state=0)
KW = dict(hidden_layer_sizes=(5,), learning_rate=0.05, max_iter=10, random_state=0)


@pytest.fixture(autouse=True)
def scipy_array_api(monkeypatch):
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")


def _strict(device=None):
    dev = None if device is None else xps.Device(device)
    return lambda a: xps.asarray(a, device=dev), xps, dev


def _torch():
    torch = pytest.importorskip("torch", reason="torch is not installed")
    return lambda a: torch.asarray(a), torch, torch.device("cpu")


NAMESPACES = {
    "array_api_strict": lambda: _strict(),
    "array_api_strict_device1": lambda: _strict("device1"),
    "torch": _torch,
}


def _check_output(out, reference, xp, device):
    like = xp.asarray(np.zeros(1), device=device)
    assert type(out) is type(like)
    assert out.device == like.device
    np.testing.assert_allclose(np.from_dlpack(out), reference)


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_classifier_fits_and_predicts_array_api_inputs(namespace):
    to_xp, xp, device = NAMESPACES[namespace]()
    ref = NNClassifier(**KW).fit(X_IRIS, Y_IRIS)
    assert len(np.unique(ref.predict(X_IRIS))) == 3
    with config_context(array_api_dispatch=True):
        clf = NNClassifier(**KW).fit(to_xp(X_IRIS), to_xp(Y_IRIS))
        Xt = to_xp(X_IRIS)
        pred, proba = clf.predict(Xt), clf.predict_proba(Xt)
        log_proba = clf.predict_log_proba(Xt)
        score = clf.score(Xt, to_xp(Y_IRIS))
    # Computed in NumPy: the same network as from NumPy input.
    assert all(type(c) is np.ndarray for c in clf.coefs_)
    np.testing.assert_array_equal(clf.coefs_[0], ref.coefs_[0])
    _check_output(pred, ref.predict(X_IRIS), xp, device)
    _check_output(proba, ref.predict_proba(X_IRIS), xp, device)
    _check_output(log_proba, ref.predict_log_proba(X_IRIS), xp, device)
    assert score == pytest.approx(ref.score(X_IRIS, Y_IRIS))


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_regressor_fits_partial_fits_and_predicts_array_api_inputs(namespace):
    to_xp, xp, device = NAMESPACES[namespace]()
    ref = NNRegressor(**KW).fit(X_REG, Y_REG)
    w = np.linspace(0.5, 1.5, len(X_REG))
    ref_w = NNRegressor(**KW).fit(X_REG, Y_REG, sample_weight=w)
    with config_context(array_api_dispatch=True):
        reg = NNRegressor(**KW).fit(to_xp(X_REG), to_xp(Y_REG))
        pred = reg.predict(to_xp(X_REG))
        reg_w = NNRegressor(**KW).fit(
            to_xp(X_REG), to_xp(Y_REG), sample_weight=to_xp(w)
        )
        inc = NNRegressor(**KW).partial_fit(to_xp(X_REG), to_xp(Y_REG))
        inc_pred = inc.predict(to_xp(X_REG))
    _check_output(pred, ref.predict(X_REG), xp, device)
    np.testing.assert_array_equal(reg_w.coefs_[0], ref_w.coefs_[0])
    ref_inc = NNRegressor(**KW).partial_fit(X_REG, Y_REG)
    _check_output(inc_pred, ref_inc.predict(X_REG), xp, device)


def test_float32_input_trains_and_predicts_in_float32():
    to_xp, xp, device = _strict()
    X32 = X_IRIS.astype(np.float32)
    with config_context(array_api_dispatch=True):
        clf = NNClassifier(**KW).fit(to_xp(X32), to_xp(Y_IRIS))
        proba = clf.predict_proba(to_xp(X32))
    assert clf.coefs_[0].dtype == np.float32
    assert proba.dtype == xp.float32


def test_everything_follows_x():
    to_xp, xp, _ = _strict()
    ref = NNClassifier(**KW).fit(X_IRIS, Y_IRIS)
    with config_context(array_api_dispatch=True):
        # y in another namespace than X: converted; outputs follow X (NumPy).
        clf = NNClassifier(**KW).fit(X_IRIS, to_xp(Y_IRIS))
        assert type(clf.predict(X_IRIS)) is np.ndarray
        # X in the namespace, y a NumPy array of strings.
        species = np.array(["setosa", "versicolor", "virginica"])
        names = species[Y_IRIS]
        clf_s = NNClassifier(**KW).fit(to_xp(X_IRIS), names)
        labels = clf_s.predict(to_xp(X_IRIS))
        proba = clf_s.predict_proba(to_xp(X_IRIS))
    np.testing.assert_array_equal(clf.coefs_[0], ref.coefs_[0])
    # String labels have no array API dtype: they stay NumPy, as classes_ does.
    assert type(labels) is np.ndarray and labels.dtype.kind == "U"
    np.testing.assert_array_equal(labels, species[ref.predict(X_IRIS)])
    assert isinstance(proba, type(xp.asarray(np.zeros(1))))


def test_grid_search_on_array_api_inputs():
    to_xp, xp, _ = _strict()
    search = GridSearchCV(NNClassifier(**KW), {"alpha": [1e-4, 1e-2]}, cv=2)
    ref = clone(search).fit(X_IRIS, Y_IRIS)
    with config_context(array_api_dispatch=True):
        search.fit(to_xp(X_IRIS), to_xp(Y_IRIS))
        pred = search.predict(to_xp(X_IRIS))
    assert search.best_params_ == ref.best_params_
    np.testing.assert_array_equal(np.asarray(pred), ref.predict(X_IRIS))


def test_without_dispatch_torch_tensors_are_converted_by_validation():
    to_xp, torch, _ = _torch()
    clf = NNClassifier(**KW).fit(to_xp(X_IRIS), to_xp(Y_IRIS))
    assert type(clf.predict(to_xp(X_IRIS))) is np.ndarray


def test_an_array_that_cannot_reach_numpy_gets_a_clear_error():
    _, torch, _ = _torch()
    X = torch.asarray(X_IRIS).requires_grad_()
    with config_context(array_api_dispatch=True):
        with pytest.raises(TypeError, match=r"X is a torch.Tensor .*detach\(\)"):
            NNClassifier(**KW).fit(X, torch.asarray(Y_IRIS))


@pytest.mark.parametrize(
    "estimator", [NNClassifier(**KW), NNRegressor(**KW), NNRegressor(optimizer="lbfgs")]
)
@pytest.mark.skipif(
    not sklearn.__version__.startswith("1.9."),
    reason="check_array_api_input's signature is that of scikit-learn 1.9",
)
def test_sklearn_array_api_check_for_numpy_estimators(estimator):
    # The check scikit-learn runs for estimators whose array_api_support tag is
    # False, skipped in check_estimator without SCIPY_ARRAY_API.
    assert get_tags(estimator).array_api_support is False
    check_array_api_input(
        type(estimator).__name__,
        estimator,
        array_namespace="numpy",
        expect_only_array_outputs=False,
    )


def test_in_a_fresh_interpreter_with_scipy_array_api_set():
    code = textwrap.dedent(
        """
        import warnings
        import array_api_strict as xp
        import numpy as np
        import sklearn
        from sklearn.datasets import load_iris
        from sknn import NNClassifier

        warnings.simplefilter("ignore")
        sklearn.set_config(array_api_dispatch=True)
        X, y = load_iris(return_X_y=True)
        for opt in ["adam", "lbfgs"]:
            clf = NNClassifier((5,), optimizer=opt, max_iter=20, random_state=0)
            clf.fit(xp.asarray(X), xp.asarray(y))
            proba = clf.predict_proba(xp.asarray(X))
            assert type(proba) is type(xp.asarray(X)), type(proba)
        print("ok")
        """
    )
    env = dict(os.environ, SCIPY_ARRAY_API="1", PYTHONPATH=os.pathsep.join(sys.path))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
