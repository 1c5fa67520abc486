"""ONNX export through skl2onnx: onnxruntime against predict and predict_proba.

Run as a script (``python tests/test_onnx.py``) to print the table of maximum
absolute differences shown in docs/onnx.md.
"""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import (
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.exceptions import NotFittedError
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")
from skl2onnx import to_onnx  # noqa: E402

import sknn.onnx  # noqa: E402, F401  (registers the converters)
from sknn import NNClassifier, NNRegressor, list_activations  # noqa: E402
from sknn.activations import ReLU, SiLU  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ACTIVATIONS = [
    "identity",
    "logistic",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "gelu",
    "softplus",
    "silu",
]
DTYPES = [np.float32, np.float64]
ROOT = Path(__file__).resolve().parents[1]
# Maximum absolute difference allowed between onnxruntime and sknn.
TOL = {np.float32: 1e-5, np.float64: 1e-12}


def _session(model, X, **kwargs):
    onx = to_onnx(model, X[:1], **kwargs)
    return ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )


def _run(model, X, **kwargs):
    sess = _session(model, X, **kwargs)
    return sess.run(None, {sess.get_inputs()[0].name: X})


def _max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b))))


# ---------------------------------------------------------------- the cases
def _regression(dtype, n_outputs=1):
    X, y = make_regression(
        n_samples=300, n_features=6, n_targets=n_outputs, noise=1, random_state=0
    )
    X = StandardScaler().fit_transform(X).astype(dtype)
    return X, (y / y.std()).astype(dtype)


def _classification(dtype, n_classes):
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_classes=n_classes,
        random_state=0,
    )
    return X.astype(dtype), y


def _multilabel(dtype):
    X, Y = make_multilabel_classification(
        n_samples=300, n_features=6, n_classes=4, random_state=0
    )
    return StandardScaler().fit_transform(X).astype(dtype), Y


def _fit(est, X, y):
    return est.fit(X, y)


def case_binary(dtype, activation="relu", **kw):
    X, y = _classification(dtype, 2)
    return _fit(_clf(activation, **kw), X, y), X


def case_binary_strings(dtype):
    X, y = _classification(dtype, 2)
    return _fit(_clf("tanh"), X, np.array(["no", "yes"])[y]), X


def case_binary_softmax(dtype):
    X, y = _classification(dtype, 2)
    return _fit(_clf("relu", loss="log_loss"), X, y), X


def case_multiclass(dtype, activation="relu"):
    X, y = _classification(dtype, 3)
    return _fit(_clf(activation), X, y + 10), X


def case_multilabel(dtype):
    X, Y = _multilabel(dtype)
    return _fit(_clf("elu"), X, Y), X


def case_regression(dtype, activation="relu"):
    X, y = _regression(dtype)
    return _fit(_reg(activation), X, y), X


def case_multioutput(dtype):
    X, y = _regression(dtype, n_outputs=3)
    return _fit(_reg("gelu"), X, y), X


def case_poisson(dtype):
    X, y = _regression(dtype)
    counts = np.random.RandomState(0).poisson(np.exp(0.5 * y)).astype(dtype)
    return _fit(_reg("softplus", loss="poisson"), X, counts), X


def case_pipeline_classifier(dtype):
    X, y = _classification(dtype, 3)
    return _fit(make_pipeline(StandardScaler(), _clf("silu")), 5 * X + 2, y), 5 * X + 2


def case_pipeline_regressor(dtype):
    X, y = _regression(dtype)
    return _fit(make_pipeline(StandardScaler(), _reg("selu")), 5 * X + 2, y), 5 * X + 2


def _clf(activation, **kw):
    return NNClassifier(activation=activation, **{**_SMALL, **kw})


def _reg(activation, **kw):
    return NNRegressor(activation=activation, **{**_SMALL, **kw})


_SMALL = dict(
    hidden_layer_sizes=(16, 8), learning_rate=0.01, max_iter=30, random_state=0
)


CLASSIFIER_CASES = {
    "binary (logistic link)": case_binary,
    "binary, string labels": case_binary_strings,
    "binary (softmax link)": case_binary_softmax,
    "multiclass (softmax link)": case_multiclass,
    "multilabel (logistic link)": case_multilabel,
    "pipeline: StandardScaler + NNClassifier": case_pipeline_classifier,
}
REGRESSOR_CASES = {
    "regression (identity link)": case_regression,
    "multi-output regression": case_multioutput,
    "Poisson regression (exp link)": case_poisson,
    "pipeline: StandardScaler + NNRegressor": case_pipeline_regressor,
}


def classifier_differences(model, X, zipmap=False):
    """(number of differing labels, max abs difference of probabilities)."""
    outputs = _run(model, X, options={"zipmap": zipmap})
    classes = model.classes_
    if zipmap is True:
        label, dicts = outputs
        proba = np.array([[row[c] for c in dicts[0]] for row in dicts])
    elif zipmap == "columns":
        label, proba = outputs[0], np.column_stack(outputs[1:])
    else:
        label, proba = outputs
    expected = model.predict(X)
    if classes.dtype.kind in "OUS":
        expected = expected.astype(str)
    assert label.shape == expected.shape
    return int(np.sum(label != expected)), _max_diff(proba, model.predict_proba(X))


def regressor_difference(model, X):
    (pred,) = _run(model, X)
    expected = model.predict(X)
    assert pred.shape == (X.shape[0], expected.reshape(len(X), -1).shape[1])
    return _max_diff(pred.reshape(expected.shape), expected)


# ---------------------------------------------------------------- the tests
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CLASSIFIER_CASES))
def test_classifier_matches_predict_and_predict_proba(name, dtype):
    model, X = CLASSIFIER_CASES[name](dtype)
    n_wrong, diff = classifier_differences(model, X)
    assert n_wrong == 0
    assert diff <= TOL[dtype], diff


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(REGRESSOR_CASES))
def test_regressor_matches_predict(name, dtype):
    model, X = REGRESSOR_CASES[name](dtype)
    diff = regressor_difference(model, X)
    assert diff <= TOL[dtype], diff


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_in_classifier_and_regressor(activation, dtype):
    model, X = case_multiclass(dtype, activation)
    n_wrong, diff = classifier_differences(model, X)
    assert n_wrong == 0 and diff <= TOL[dtype], diff
    model, X = case_regression(dtype, activation)
    assert regressor_difference(model, X) <= TOL[dtype]


def test_every_builtin_activation_has_a_converter():
    assert sorted(ACTIVATIONS) == list_activations()


def _elementwise(activation, dtype):
    """A regressor whose predictions are ``activation(X)`` elementwise."""
    z = np.concatenate(
        [np.linspace(-12, 12, 2401), [-1e4, -500, -40, 40, 500, 1e4, 0.0]]
    )
    X = np.resize(z, (len(z) // 7 + 1) * 7).reshape(-1, 7).astype(dtype)
    reg = NNRegressor(
        hidden_layer_sizes=(7,), activation=activation, max_iter=1, random_state=0
    ).fit(X[:10], X[:10])
    eye = np.eye(7, dtype=dtype)
    reg.coefs_[0][...] = eye
    reg.coefs_[1][...] = eye
    reg.intercepts_[0][...] = 0
    reg.intercepts_[1][...] = 0
    return reg, X


def elementwise_difference(activation, dtype):
    """Max of ``|onnx - sknn| / max(1, |sknn|)`` for ``f(z)`` over a wide range."""
    reg, X = _elementwise(activation, dtype)
    (pred,) = _run(reg, X)
    expected = reg.predict(X)
    assert np.isfinite(pred).all()
    # Relative beyond 1: a float32 ulp of f(1e4) is 1e-3.
    return float(np.max(np.abs(pred - expected) / np.maximum(1.0, np.abs(expected))))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_activation_formula_over_a_wide_range(activation, dtype):
    assert elementwise_difference(activation, dtype) <= TOL[dtype]


@pytest.mark.parametrize("zipmap", [True, False, "columns"])
@pytest.mark.parametrize(
    "case", [case_binary, case_binary_strings, case_multiclass, case_multilabel]
)
def test_zipmap_options_and_outputs_as_mlpclassifier(case, zipmap):
    model, X = case(np.float32)
    n_wrong, diff = classifier_differences(model, X, zipmap=zipmap)
    assert n_wrong == 0 and diff <= 1e-5
    y = model.predict(X)
    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    mlp.fit(X, y)
    ours = _session(model, X, options={"zipmap": zipmap}).get_outputs()
    theirs = _session(mlp, X, options={"zipmap": zipmap}).get_outputs()
    assert [(o.name, o.type) for o in ours] == [(o.name, o.type) for o in theirs]


def test_multilabel_label_shape_is_declared():
    model, X = case_multilabel(np.float32)
    label = _session(model, X, options={"zipmap": False}).get_outputs()[0]
    assert label.shape == [None, model.n_outputs_]


def test_nocl_option_gives_class_indices():
    model, X = case_multiclass(np.float32)
    label, _ = _run(model, X, options={"zipmap": False, "nocl": True})
    np.testing.assert_array_equal(
        label, np.searchsorted(model.classes_, model.predict(X))
    )


def test_integral_float_classes_become_int64_labels():
    X, y = _classification(np.float64, 3)
    model = _fit(_clf("tanh"), X, y.astype(float))
    label, _ = _run(model, X, options={"zipmap": False})
    assert label.dtype == np.int64
    np.testing.assert_array_equal(label, model.predict(X))


@pytest.mark.parametrize("target_opset", [13, 17, None])
def test_target_opsets(target_opset):
    for case in (case_multiclass, case_poisson):
        model, X = case(np.float64)
        kwargs = {} if target_opset is None else {"target_opset": target_opset}
        if isinstance(model, NNClassifier):
            kwargs["options"] = {"zipmap": False}
            _, proba = _run(model, X, **kwargs)
            assert _max_diff(proba, model.predict_proba(X)) <= 1e-12
        else:
            (pred,) = _run(model, X, **kwargs)
            assert _max_diff(pred.ravel(), model.predict(X)) <= 1e-12


def test_float32_model_with_double_input_computes_in_double():
    model, X = case_multiclass(np.float32, "gelu")
    X64 = X.astype(np.float64)
    label, proba = _run(model, X64, options={"zipmap": False})
    assert proba.dtype == np.float64
    np.testing.assert_array_equal(label, model.predict(X64))
    assert _max_diff(proba, model.predict_proba(X64)) <= 1e-12


def test_float64_model_with_float_input_computes_in_float():
    model, X = case_regression(np.float64, "tanh")
    (pred,) = _run(model, X.astype(np.float32))
    assert pred.dtype == np.float32
    assert _max_diff(pred.ravel(), model.predict(X)) <= 1e-5


class Swish(SiLU):
    """``x * sigmoid(beta * x)``: a plugin activation with its own converter."""

    def __init__(self, beta=1.0):
        self.beta = beta

    def forward(self, z, out=None):
        return np.multiply(z, 1 / (1 + np.exp(-self.beta * z)), out=out)

    def onnx_forward(self, graph, x):
        # z / (1 + exp(-beta z)), not z * sigmoid(beta z): ONNX Runtime 1.23
        # fuses the latter into a kernel that has no float64 version.
        exp = graph.op("Exp", graph.op("Mul", x, graph.const(-self.beta)))
        return graph.op("Div", x, graph.op("Add", graph.const(1.0), exp))


class Cube(ReLU):
    """Overrides forward, inherits ReLU's converter: must not be exported."""

    uses_input = True

    def forward(self, z, out=None):
        return np.power(z, 3, out=out)

    def forward_biased(self, z, b, out=None):
        z += b
        return self.forward(z, out=out)

    def backward(self, grad, a, z=None):
        grad *= 3 * z * z
        return grad


def test_plugin_activation_with_onnx_forward_is_exported():
    X, y = _classification(np.float64, 3)
    model = _fit(_clf(Swish(beta=2.0)), X, y)
    n_wrong, diff = classifier_differences(model, X)
    assert n_wrong == 0 and diff <= 1e-12


def test_activation_without_converter_names_it():
    from sknn.activations import Activation

    class Square(Activation):
        uses_input = True

        def forward(self, z, out=None):
            return np.multiply(z, z, out=out)

        def backward(self, grad, a, z=None):
            grad *= 2 * z
            return grad

    X, y = _regression(np.float64)
    model = _fit(_reg(Square()), X, y)
    with pytest.raises(TypeError, match=r"activation Square\(\) \(.*Square\) has no"):
        to_onnx(model, X[:1])
    pipe = make_pipeline(StandardScaler(), _reg(Square())).fit(X, y)
    with pytest.raises(TypeError, match="onnx_forward"):
        to_onnx(pipe, X[:1])


def test_subclass_changing_forward_needs_its_own_converter():
    X, y = _regression(np.float64)
    model = _fit(_reg(Cube(), max_iter=2, learning_rate=1e-4), X, y)
    with pytest.raises(TypeError, match="overrides forward in .*Cube but inherits"):
        to_onnx(model, X[:1])


def test_unfitted_estimator_is_refused():
    with pytest.raises(NotFittedError):
        to_onnx(NNRegressor(), np.zeros((1, 3), np.float32))


def test_importing_sknn_does_not_import_skl2onnx():
    code = "import sys, sknn; print('skl2onnx' in sys.modules, 'onnx' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]


def test_docs_page_runs_and_prints_what_it_shows(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "sknn_doc_examples", ROOT / "tests" / "test_examples.py"
    )
    examples = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(examples)
    blocks = examples.doc_blocks((ROOT / "docs" / "onnx.md").read_text("utf-8"))
    assert blocks
    script = tmp_path / "onnx_page.py"
    script.write_text("\n".join(code for _, code, _ in blocks), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-W", "error", str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "".join(out for _, _, out in blocks if out)


# ---------------------------------------------------------------- the table
def _table():
    def cells(measure):
        return " | ".join(f"{measure(dtype):.1e}" for dtype in DTYPES)

    rows = ["| case | float32 | float64 |", "|---|---|---|"]
    for name, case in CLASSIFIER_CASES.items():
        rows.append(
            f"| {name} | "
            + cells(lambda dt, case=case: classifier_differences(*case(dt))[1])
            + " |"
        )
    for name, case in REGRESSOR_CASES.items():
        rows.append(
            f"| {name} | "
            + cells(lambda dt, case=case: regressor_difference(*case(dt)))
            + " |"
        )
    rows += [
        "",
        "| activation | multiclass, float32 | multiclass, float64 "
        "| regression, float32 | regression, float64 "
        "| f(z), float32 | f(z), float64 |",
        "|---|---|---|---|---|---|---|",
    ]
    for act in ACTIVATIONS:
        measures = [
            lambda dt, a=act: classifier_differences(*case_multiclass(dt, a))[1],
            lambda dt, a=act: regressor_difference(*case_regression(dt, a)),
            lambda dt, a=act: elementwise_difference(a, dt),
        ]
        rows.append(f"| {act} | " + " | ".join(map(cells, measures)) + " |")
    return "\n".join(rows)


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    print(_table())
