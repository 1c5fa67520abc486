"""Output links as objects owned by the losses (sknn.links).

A plugin loss brings its own link (a probit link for classification, a
softplus link for regression); the estimators, save/load and the ONNX export
work with it through the link's methods, and a built-in link under another
name gives the same numbers as under its own.
"""

import io
import json
import math
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy import special

from sknn import NNClassifier, NNRegressor, load, register_loss, save
from sknn._registry import REGISTRIES
from sknn.links import IdentityLink, Link, LogitLink, LogLink, MultinomialLogit
from sknn.losses import BinaryLogLoss, LogLoss, Loss, Poisson, SquaredError
from sknn.testing import check_loss

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class ProbitLink(LogitLink):
    """``Phi(raw)``, the standard normal CDF; otherwise as the logit link."""

    name = "probit"

    def inverse(self, raw, out=None):
        return special.ndtr(raw, out=out)

    def onnx_inverse(self, graph, raw):
        return graph.ndtr(raw)


class BinaryProbitLoss(Loss):
    """Cross-entropy of the probit model on each output."""

    link = ProbitLink()
    classification = True

    def loss(self, y, raw):
        return -(y * special.log_ndtr(raw) + (1 - y) * special.log_ndtr(-raw)).sum(
            axis=1
        )

    def gradient(self, y, raw, out=None):
        log_pdf = -0.5 * raw * raw - _HALF_LOG_2PI
        g = (1 - y) * np.exp(log_pdf - special.log_ndtr(-raw))
        g -= y * np.exp(log_pdf - special.log_ndtr(raw))
        if out is None:
            return g
        np.copyto(out, g)
        return out


class SoftplusLink(Link):
    """``log(1 + exp(raw))``: positive predictions; no ONNX converter."""

    name = "softplus"

    def inverse(self, raw, out=None):
        return np.logaddexp(0, raw, out=out)


class SoftplusSquaredError(Loss):
    """Half squared error of ``softplus(raw)``."""

    link = SoftplusLink()

    def loss(self, y, raw):
        r = self.inverse_link(raw) - y
        return 0.5 * np.einsum("ij,ij->i", r, r)

    def gradient(self, y, raw, out=None):
        g = (self.inverse_link(raw) - y) * special.expit(raw)
        if out is None:
            return g
        np.copyto(out, g)
        return out


@pytest.fixture
def plugins():
    """Register the two plugin losses for one test."""
    registry = REGISTRIES["losses"]
    names = {"probit_test": BinaryProbitLoss, "softplus_test": SoftplusSquaredError}
    for name, cls in names.items():
        register_loss(name)(cls)
    yield
    for name in names:
        registry._classes.pop(name)


def _binary(n=80, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4)).astype(dtype)
    return X, np.where(X[:, 0] - X[:, 1] > 0, "yes", "no")


def _positive(n=80, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    return X, np.logaddexp(0, X @ [1.0, -0.5, 0.3]) + 0.1 * rng.normal(size=n)


def _raw(model, X):
    """The network's raw outputs, computed here from the fitted weights."""
    a = np.asarray(X, dtype=model.coefs_[0].dtype)
    for i, (W, b) in enumerate(zip(model.coefs_, model.intercepts_)):
        a = a @ W + b
        if i < len(model.coefs_) - 1:
            a = np.tanh(a)
    return a


def _fit(cls, X, y, **params):
    params = {
        "hidden_layer_sizes": (5,),
        "activation": "tanh",
        "max_iter": 30,
        "random_state": 0,
        **params,
    }
    return cls(**params).fit(X, y)


def _roundtrip(model):
    buf = io.BytesIO()
    save(model, buf)
    return load(io.BytesIO(buf.getvalue()))


# ---------------------------------------------------------------- the links
def test_builtin_losses_own_link_objects_with_the_names_of_old():
    assert type(SquaredError.link) is IdentityLink
    assert type(Poisson.link) is LogLink
    assert type(LogLoss.link) is MultinomialLogit
    assert type(BinaryLogLoss.link) is LogitLink
    names = [c.link.name for c in (SquaredError, Poisson, LogLoss, BinaryLogLoss)]
    assert names == ["identity", "exp", "softmax", "logistic"]
    raw = np.array([[-800.0, 0.0, 800.0]])
    assert_array_equal(Poisson().inverse_link(raw), LogLink().inverse(raw))
    assert np.isfinite(Poisson().inverse_link(raw)).all()


def test_a_loss_may_name_a_builtin_link_or_give_a_link_class():
    class Named(SquaredError):
        link = "exp"

    class ByClass(SquaredError):
        link = LogitLink

    assert type(Named.link) is LogLink and Named().link.name == "exp"
    assert type(ByClass.link) is LogitLink


def test_a_loss_with_a_bad_link_fails_at_class_definition():
    with pytest.raises(TypeError, match=r"Bad\.link must be a sknn\.links\.Link"):

        class Bad(SquaredError):
            link = "probit"

    class Nameless(Link):
        def inverse(self, raw, out=None):
            return raw

    with pytest.raises(TypeError, match="must have a name"):

        class Unnamed(SquaredError):
            link = Nameless()


def test_plugin_losses_pass_the_loss_contract():
    check_loss(BinaryProbitLoss(), n_outputs=2)
    check_loss(SoftplusSquaredError())


# -------------------------------------------------- a new classification link
def test_probit_loss_fits_predicts_and_round_trips(plugins):
    X, y = _binary()
    clf = _fit(NNClassifier, X, y, loss="probit_test", learning_rate=0.05)
    assert clf.out_activation_ == "probit" and clf.n_outputs_ == 1
    p = special.ndtr(_raw(clf, X))
    eps = np.finfo(p.dtype).eps
    p = np.clip(p, eps, 1 - eps)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, np.hstack([1 - p, p]), rtol=1e-12)
    assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(X, y) > 0.9

    loaded = _roundtrip(clf)
    assert loaded.out_activation_ == "probit"
    assert_array_equal(loaded.predict_proba(X), proba)
    assert_array_equal(loaded.predict(X), clf.predict(X))


def test_probit_link_refuses_multiclass_targets_as_its_base_link_does(plugins):
    X, _ = _binary()
    y = np.arange(len(X)) % 3
    with pytest.raises(ValueError, match=r"'probit_test' \(probit link\) needs binary"):
        _fit(NNClassifier, X, y, loss="probit_test")


def test_probit_link_fits_multilabel_targets(plugins):
    X, _ = _binary()
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0.5]).astype(int)
    clf = _fit(NNClassifier, X, Y, loss="probit_test")
    assert clf.n_outputs_ == 2
    p = special.ndtr(_raw(clf, X))
    assert_array_equal(clf.predict(X), (p > 0.5).astype(int))


def _edit_out_activation(data, value):
    """The saved model ``data`` with ``out_activation_`` set to ``value``."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename.endswith(".json"):
                text = content.decode("utf-8")
                old = json.dumps("probit")
                if old in text:
                    content = text.replace(old, json.dumps(value)).encode("utf-8")
            dst.writestr(info, content)
    return out.getvalue()


def test_loader_compares_out_activation_with_the_loss_link(plugins):
    X, y = _binary()
    buf = io.BytesIO()
    save(_fit(NNClassifier, X, y, loss="probit_test"), buf)
    edited = _edit_out_activation(buf.getvalue(), "logistic")
    assert edited != buf.getvalue()
    with pytest.raises(
        ValueError, match="'logistic' does not match the loss link 'probit'"
    ):
        load(io.BytesIO(edited))


def test_probit_model_exports_to_onnx(plugins):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("skl2onnx")
    from skl2onnx import to_onnx

    import sknn.onnx  # noqa: F401

    X, y = _binary(dtype=np.float32)
    clf = _fit(NNClassifier, X, y, loss="probit_test")
    onx = to_onnx(clf, X[:1], options={"zipmap": False})
    sess = ort.InferenceSession(
        onx.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    label, proba = sess.run(None, {"X": X})
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-6)
    assert_array_equal(label, clf.predict(X))


# ---------------------------------------------------- a new regression link
def test_softplus_loss_fits_predicts_and_round_trips(plugins):
    X, y = _positive()
    reg = _fit(NNRegressor, X, y, loss="softplus_test", learning_rate=0.05, max_iter=60)
    assert reg.out_activation_ == "softplus" and reg.score(X, y) > 0.9
    pred = reg.predict(X)
    np.testing.assert_allclose(pred, np.logaddexp(0, _raw(reg, X)).ravel(), rtol=1e-12)
    assert (pred > 0).all()
    loaded = _roundtrip(reg)
    assert loaded.out_activation_ == "softplus"
    assert_array_equal(loaded.predict(X), pred)


def test_export_of_a_link_without_onnx_converter_names_it(plugins):
    pytest.importorskip("skl2onnx")
    from skl2onnx import to_onnx

    import sknn.onnx  # noqa: F401

    X, y = _positive()
    reg = _fit(NNRegressor, X, y, loss="softplus_test", max_iter=5)
    with pytest.raises(
        TypeError,
        match=r"output link SoftplusLink\(\) \(.*SoftplusLink\) has no ONNX "
        r"converter\. Define its onnx_inverse\(graph, raw\)",
    ):
        to_onnx(reg, X[:1].astype(np.float32))


def test_export_refuses_a_link_that_inherits_onnx_inverse_past_inverse():
    pytest.importorskip("skl2onnx")
    from skl2onnx import to_onnx

    import sknn.onnx  # noqa: F401

    class Tempered(LogitLink):
        name = "tempered"

        def inverse(self, raw, out=None):
            return special.expit(0.5 * raw, out=out)

    class TemperedLoss(BinaryLogLoss):
        link = Tempered()

    X, y = _binary(dtype=np.float32)
    clf = _fit(NNClassifier, X, y, loss=TemperedLoss(), max_iter=5)
    with pytest.raises(
        TypeError, match="overrides inverse in .*Tempered but inherits onnx_inverse"
    ):
        to_onnx(clf, X[:1])


def test_export_refuses_a_loss_that_overrides_inverse_link():
    pytest.importorskip("skl2onnx")
    from skl2onnx import to_onnx

    import sknn.onnx  # noqa: F401

    class Shifted(SquaredError):
        def inverse_link(self, raw, out=None):
            return np.add(raw, 1.0, out=out)

    X, y = _positive()
    reg = _fit(NNRegressor, X, y, loss=Shifted(), max_iter=5)
    assert_array_equal(reg.predict(X), _raw(reg, X).ravel() + 1.0)
    with pytest.raises(TypeError, match="overrides inverse_link"):
        to_onnx(reg, X[:1].astype(np.float32))


# ------------------------------------- the estimators ask links, not names
def _renamed(loss_cls):
    """``loss_cls`` with its link under a new name and nothing else changed."""
    base = type(loss_cls.link)
    link = type(f"Renamed{base.__name__}", (base,), {"name": f"my_{base.name}"})
    return type(f"Renamed{loss_cls.__name__}", (loss_cls,), {"link": link()})()


_CASES = {
    "binary logistic": (BinaryLogLoss, "binary"),
    "binary softmax": (LogLoss, "binary"),
    "multiclass softmax": (LogLoss, "multiclass"),
    "multilabel logistic": (BinaryLogLoss, "multilabel"),
}


def _classification(kind):
    X, y = _binary()
    if kind == "multiclass":
        y = np.digitize(X[:, 0], [-0.5, 0.5])
    elif kind == "multilabel":
        y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 1]).astype(int)
    return X, y


@pytest.mark.parametrize("case", sorted(_CASES))
def test_a_renamed_builtin_link_gives_the_same_classifier(case):
    loss_cls, kind = _CASES[case]
    X, y = _classification(kind)
    builtin = _fit(NNClassifier, X, y, loss=loss_cls())
    renamed = _fit(NNClassifier, X, y, loss=_renamed(loss_cls))
    assert renamed.out_activation_ == "my_" + builtin.out_activation_
    assert renamed.n_outputs_ == builtin.n_outputs_
    assert_array_equal(renamed.predict_proba(X), builtin.predict_proba(X))
    assert_array_equal(renamed.predict(X), builtin.predict(X))


@pytest.mark.parametrize(
    "loss_cls, kind, message",
    [
        (LogLoss, "multilabel", r"\(my_softmax link\) cannot fit multilabel"),
        (BinaryLogLoss, "multiclass", r"\(my_logistic link\) needs binary"),
    ],
)
def test_a_renamed_builtin_link_refuses_the_same_targets(loss_cls, kind, message):
    X, y = _classification(kind)
    with pytest.raises(ValueError, match=message):
        _fit(NNClassifier, X, y, loss=_renamed(loss_cls))


@pytest.mark.parametrize("loss_cls", [SquaredError, Poisson])
def test_a_renamed_builtin_link_gives_the_same_regressor(loss_cls):
    X, y = _positive()
    builtin = _fit(NNRegressor, X, y, loss=loss_cls())
    renamed = _fit(NNRegressor, X, y, loss=_renamed(loss_cls))
    assert renamed.out_activation_ == "my_" + builtin.out_activation_
    assert_array_equal(renamed.predict(X), builtin.predict(X))


# ------------------------------- probabilities as before links were objects
def _proba_before(clf, X):
    """``predict_proba`` as NNClassifier computed it from the link names."""
    p = clf._loss.inverse_link(clf._raw(X))
    if clf.out_activation_ == "softmax":
        return np.maximum(p, np.finfo(p.dtype).tiny, out=p)
    eps = np.finfo(p.dtype).eps
    np.clip(p, eps, 1 - eps, out=p)
    if clf._label_binarizer.y_type_ == "binary":
        return np.hstack([1 - p, p])
    return p


@pytest.mark.parametrize("case", sorted(_CASES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_probabilities_are_those_of_the_link_names(case, dtype):
    loss_cls, kind = _CASES[case]
    X, y = _classification(kind)
    X = X.astype(dtype)
    clf = _fit(NNClassifier, X, y, loss=loss_cls())
    X_far = 50 * X  # saturated outputs: clipping and the smallest float show
    for data in (X, X_far):
        proba = clf.predict_proba(data)
        assert proba.dtype == dtype
        assert_array_equal(proba, _proba_before(clf, data))
