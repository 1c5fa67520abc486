"""Saving and loading estimators: sknn's zip format and skops."""

import io
import json
import pickle
import warnings
import zipfile

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from sknn import NNClassifier, NNRegressor, list_optimizers, register_activation
from sknn._engine import Layout
from sknn._persistence import FORMAT_VERSION, load, save, skops_trusted_types
from sknn._registry import REGISTRIES
from sknn.activations import ReLU
from sknn.callbacks import EarlyStopping, ProgressTable
from sknn.optimizers import SGD, Adam
from sknn.schedules import StepDecay

STOCHASTIC = [name for name in list_optimizers() if name != "lbfgs"]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def _data(kind, n=40, seed=0, dtype=np.float64):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 4)).astype(dtype)
    if kind == "binary":
        return X, (X[:, 0] > 0).astype(int)
    if kind == "multiclass":
        return X, rng.randint(0, 3, n) * 10 - 5
    if kind == "multilabel":
        return X, (rng.uniform(size=(n, 3)) > 0.5).astype(int)
    if kind == "strings":
        return X, np.array(["cat", "dog", "emu"])[rng.randint(0, 3, n)]
    if kind == "bools":
        return X, X[:, 1] > 0
    if kind == "floats":
        return X, np.where(X[:, 2] > 0, 1.0, 2.5).astype(dtype) * 2
    if kind == "regression":
        return X, X @ [1.0, -2.0, 0.5, 0.0]
    if kind == "multioutput":
        return X, X[:, :2] * [1.0, -3.0]
    raise AssertionError(kind)


def _roundtrip(est):
    buf = io.BytesIO()
    save(est, buf)
    return load(io.BytesIO(buf.getvalue()))


def _weights(est):
    return est.coefs_ + est.intercepts_


def _assert_same_weights(a, b):
    assert len(_weights(a)) == len(_weights(b))
    for x, y in zip(_weights(a), _weights(b)):
        assert x.dtype == y.dtype
        np.testing.assert_array_equal(x, y)


def _same_value(a, b):
    """Equality of parameter values, components compared by class and params."""
    if hasattr(a, "get_params") and not isinstance(a, type):
        return type(a) is type(b) and _same_value(a.get_params(), b.get_params())
    if isinstance(a, dict):
        return (
            isinstance(b, dict)
            and a.keys() == b.keys()
            and all(_same_value(a[k], b[k]) for k in a)
        )
    if isinstance(a, (list, tuple)):
        return (
            type(a) is type(b)
            and len(a) == len(b)
            and all(_same_value(x, y) for x, y in zip(a, b))
        )
    if isinstance(a, np.random.RandomState):
        sa, sb = a.get_state(), b.get_state()
        return isinstance(b, np.random.RandomState) and all(
            np.array_equal(x, y) for x, y in zip(sa, sb)
        )
    if isinstance(a, float) and np.isnan(a):
        return isinstance(b, float) and np.isnan(b)
    return a == b and type(a) is type(b)


def _assert_same_model(orig, copy, X, flat=True):
    assert type(copy) is type(orig)
    assert _same_value(orig.get_params(deep=False), copy.get_params(deep=False))
    _assert_same_weights(orig, copy)
    if flat:
        # coefs_ and intercepts_ are views of one flat parameter vector
        sizes = [orig.n_features_in_] + [c.shape[1] for c in orig.coefs_]
        assert Layout(sizes).flat_of(copy.coefs_, copy.intercepts_) is not None
    for name in (
        "n_iter_",
        "t_",
        "loss_",
        "loss_curve_",
        "history_",
        "best_loss_",
        "validation_scores_",
        "best_validation_score_",
        "n_layers_",
        "n_outputs_",
        "out_activation_",
        "n_features_in_",
    ):
        assert _same_value(getattr(orig, name), getattr(copy, name)), name
    np.testing.assert_array_equal(orig.predict(X), copy.predict(X))
    assert orig.predict(X).dtype == copy.predict(X).dtype
    if isinstance(orig, NNClassifier):
        assert orig.classes_.dtype == copy.classes_.dtype
        np.testing.assert_array_equal(orig.classes_, copy.classes_)
        np.testing.assert_array_equal(orig.predict_proba(X), copy.predict_proba(X))
        np.testing.assert_array_equal(
            orig.predict_log_proba(X), copy.predict_log_proba(X)
        )


CLASSIFICATION = ["binary", "multiclass", "multilabel", "strings", "bools", "floats"]


@pytest.mark.parametrize("kind", CLASSIFICATION)
def test_classifier_roundtrip_and_partial_fit(kind):
    X, y = _data(kind)
    clf = NNClassifier(hidden_layer_sizes=(6,), max_iter=4, random_state=0).fit(X, y)
    copy = _roundtrip(clf)
    _assert_same_model(clf, copy, X)
    # One more epoch on each: the loaded copy continues exactly.
    clf.partial_fit(X, y)
    copy.partial_fit(X, y)
    _assert_same_weights(clf, copy)
    assert clf.t_ == copy.t_ and clf.loss_curve_ == copy.loss_curve_


@pytest.mark.parametrize("kind", ["regression", "multioutput"])
def test_regressor_roundtrip_and_partial_fit(kind):
    X, y = _data(kind)
    reg = NNRegressor(hidden_layer_sizes=(6, 3), max_iter=4, random_state=0).fit(X, y)
    copy = _roundtrip(reg)
    _assert_same_model(reg, copy, X)
    reg.partial_fit(X, y)
    copy.partial_fit(X, y)
    _assert_same_weights(reg, copy)


@pytest.mark.parametrize("optimizer", list_optimizers())
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_every_optimizer_and_dtype_roundtrip(optimizer, dtype):
    X, y = _data("multiclass", dtype=dtype)
    clf = NNClassifier(
        hidden_layer_sizes=(5,), optimizer=optimizer, max_iter=3, random_state=1
    ).fit(X, y)
    copy = _roundtrip(clf)
    assert copy.coefs_[0].dtype == dtype
    _assert_same_model(clf, copy, X)
    for key, value in clf.optimizer_state_.items():
        np.testing.assert_array_equal(value, copy.optimizer_state_[key])
    if optimizer == "lbfgs":
        # no partial_fit: continue with warm_start instead
        for est in (clf, copy):
            est.set_params(warm_start=True).fit(X, y)
    else:
        clf.partial_fit(X, y)
        copy.partial_fit(X, y)
    _assert_same_weights(clf, copy)
    assert copy.coefs_[0].dtype == dtype


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
@pytest.mark.parametrize("Est", [NNClassifier, NNRegressor])
def test_early_stopping_roundtrip_and_warm_start(Est, optimizer):
    X, y = _data("binary" if Est is NNClassifier else "regression", n=60)
    est = Est(
        hidden_layer_sizes=(5,),
        optimizer=optimizer,
        early_stopping=True,
        max_iter=6,
        random_state=0,
    ).fit(X, y)
    copy = _roundtrip(est)
    _assert_same_model(est, copy, X)
    for e in (est, copy):
        e.set_params(warm_start=True, max_iter=3).fit(X, y)
    _assert_same_weights(est, copy)
    assert est.validation_scores_ == copy.validation_scores_


def test_components_callbacks_and_random_state_instances_roundtrip():
    X, y = _data("strings", n=60)
    rng = np.random.RandomState(3)
    clf = NNClassifier(
        hidden_layer_sizes=[7],
        activation=ReLU,
        optimizer=SGD(learning_rate=0.05, momentum=0.5),
        lr_schedule=StepDecay(step_size=2),
        dropout=0.25,
        alpha=0.0,
        n_iter_no_change=np.inf,
        class_weight={"cat": 2.0, "emu": 0.5},
        callbacks=[EarlyStopping(monitor="train_loss", patience=50), "progress_table"],
        random_state=rng,
        max_iter=4,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import contextlib

        with contextlib.redirect_stdout(io.StringIO()):
            clf.fit(X, y)
            copy = _roundtrip(clf)
            _assert_same_model(clf, copy, X)
            assert copy.activation is ReLU
            assert copy._rng is copy.random_state  # identity is kept
            assert [type(c) for c in copy.callbacks_] == [EarlyStopping, ProgressTable]
            assert copy.callbacks_[0].best_ == clf.callbacks_[0].best_
            clf.partial_fit(X, y)
            copy.partial_fit(X, y)
    _assert_same_weights(clf, copy)


def test_pandas_feature_names_roundtrip():
    pd = pytest.importorskip("pandas")
    X, y = _data("regression")
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    reg = NNRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(df, y)
    copy = _roundtrip(reg)
    assert copy.feature_names_in_.dtype == object
    np.testing.assert_array_equal(copy.feature_names_in_, reg.feature_names_in_)
    _assert_same_model(reg, copy, df)
    with pytest.raises(ValueError, match="feature names"):
        copy.predict(df[["d", "c", "b", "a"]])


def test_sparse_input_and_unfitted_roundtrip():
    X, y = _data("binary")
    clf = NNClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=0)
    unfitted = _roundtrip(clf)
    assert not hasattr(unfitted, "coefs_")
    assert _same_value(clf.get_params(), unfitted.get_params())
    clf.fit(sp.csr_matrix(X), y)
    copy = _roundtrip(clf)
    _assert_same_model(clf, copy, sp.csc_matrix(X))


def test_save_to_path_is_deterministic(tmp_path):
    X, y = _data("binary")
    clf = NNClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y)
    for record in clf.history_:
        record["duration"] = 0.0  # the only wall-clock value
    save(clf, tmp_path / "a.zip")
    save(clf, str(tmp_path / "b.zip"))
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    _assert_same_model(clf, load(tmp_path / "a.zip"), X)


# --------------------------------------------------------------- save errors
def test_save_rejects_other_estimators_and_unsupported_values():
    from sklearn.neural_network import MLPClassifier

    with pytest.raises(TypeError, match="NNClassifier and NNRegressor"):
        save(MLPClassifier(), io.BytesIO())

    class Custom(ReLU):
        pass

    with pytest.raises(ValueError, match="not a registered activation"):
        save(NNClassifier(activation=Custom()), io.BytesIO())
    with pytest.raises(ValueError, match="not a registered activation"):
        save(NNClassifier(activation=Custom), io.BytesIO())
    with pytest.raises(ValueError, match="function"):
        save(NNClassifier(callbacks=[ProgressTable(sink=print)]), io.BytesIO())


@pytest.fixture
def plugin_activation():
    """An activation registered for one test, then unregistered."""

    class MyReLU(ReLU):
        def __init__(self, scale=1.0):
            self.scale = scale

    name = "relu_for_persistence_test"
    register_activation(name)(MyReLU)
    yield MyReLU
    REGISTRIES["activations"]._classes.pop(name)


def test_registered_plugin_component_roundtrip(plugin_activation):
    MyReLU = plugin_activation

    X, y = _data("binary")
    clf = NNClassifier(
        hidden_layer_sizes=(3,), activation=MyReLU(scale=2.0), max_iter=2
    ).fit(X, y)
    copy = _roundtrip(clf)
    assert type(copy.activation) is MyReLU and copy.activation.scale == 2.0
    assert type(copy._activation) is MyReLU
    _assert_same_model(clf, copy, X)


# ------------------------------------------------------ crafted/corrupt files
def _valid_file():
    X, y = _data("multiclass")
    clf = NNClassifier(
        hidden_layer_sizes=(3,), optimizer=Adam(), max_iter=2, random_state=0
    ).fit(X, y)
    buf = io.BytesIO()
    save(clf, buf)
    return buf.getvalue()


def _rebuild(data, meta_edit=None, members=None, drop=(), raw_meta=None):
    """A copy of the zip ``data`` with metadata edited and members replaced."""
    src = zipfile.ZipFile(io.BytesIO(data))
    meta = json.loads(src.read("metadata.json"))
    if meta_edit is not None:
        meta_edit(meta)
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # duplicate names
        with zipfile.ZipFile(out, "w") as dst:
            text = raw_meta if raw_meta is not None else json.dumps(meta)
            dst.writestr("metadata.json", text)
            for name in src.namelist():
                if name != "metadata.json" and name not in drop:
                    dst.writestr(name, src.read(name))
            for name, content in (members or {}).items():
                dst.writestr(name, content)
    return out.getvalue()


def _zip(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


def _flip_array_byte(data):
    """Corrupt one data byte of a stored (uncompressed) array member."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    raw = bytearray(out.getvalue())
    raw[raw.index(b"\x93NUMPY") + 140] ^= 0xFF  # past the 128-byte header
    return bytes(raw)


def _npy(array, allow_pickle=False):
    buf = io.BytesIO()
    np.save(buf, array, allow_pickle=allow_pickle)
    return buf.getvalue()


def _set(path, value):
    def edit(meta):
        node = meta
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return edit


class _Boom:
    """Unpickling this would call ``_boom`` (it must never happen)."""

    called = False

    def __reduce__(self):
        return (_boom, ())


def _boom():  # pragma: no cover - must never run
    _Boom.called = True
    return 0


def _pickle_bomb():
    array = np.empty(1, dtype=object)
    array[0] = _Boom()
    return _npy(array, allow_pickle=True)


def _coef_shape(meta):
    return meta["arrays"]["coefs_0"]["shape"]


CORRUPT = {
    "random bytes": lambda d: b"\x00garbage" * 50,
    "empty file": lambda d: b"",
    "truncated": lambda d: d[: len(d) // 2],
    "corrupted byte": lambda d: d[:100] + bytes([d[100] ^ 0xFF]) + d[101:],
    "corrupted array data (bad CRC)": _flip_array_byte,
    "pickle, not zip": lambda d: pickle.dumps(_Boom()),
    "no metadata": lambda d: _zip({"arrays/coefs_0.npy": _npy(np.ones(1))}),
    "metadata not json": lambda d: _rebuild(d, raw_meta="{not json"),
    "metadata NaN constant": lambda d: _rebuild(
        d, raw_meta=json.dumps({"format": "sknn-model", "x": float("nan")})
    ),
    "wrong format name": lambda d: _rebuild(d, _set(["format"], "pickle")),
    "newer format version": lambda d: _rebuild(
        d, _set(["format_version"], FORMAT_VERSION + 1)
    ),
    "unknown estimator": lambda d: _rebuild(d, _set(["estimator"], "os.system")),
    "unknown component name": lambda d: _rebuild(
        d, _set(["params", "optimizer", "name"], "__import__")
    ),
    "unknown component kind": lambda d: _rebuild(
        d, _set(["params", "optimizer", "component"], "builtins")
    ),
    "unknown component param": lambda d: _rebuild(
        d, _set(["params", "optimizer", "params", "__class__"], 1)
    ),
    "component of the wrong kind": lambda d: _rebuild(
        d,
        _set(
            ["params", "optimizer"],
            {"component": "activations", "name": "relu", "params": {}},
        ),
    ),
    "unknown value type": lambda d: _rebuild(
        d, _set(["params", "alpha"], {"type": "eval", "value": "1"})
    ),
    "unknown parameter": lambda d: _rebuild(d, _set(["params", "evil"], 1)),
    "attribute shadows a method": lambda d: _rebuild(
        d, _set(["attributes", "predict"], 1)
    ),
    "dunder attribute": lambda d: _rebuild(d, _set(["attributes", "__class__"], 1)),
    "path traversal": lambda d: _rebuild(d, members={"../evil.npy": _npy(np.ones(1))}),
    "path traversal in arrays": lambda d: _rebuild(
        d, members={"arrays/../../evil.npy": _npy(np.ones(1))}
    ),
    "absolute member name": lambda d: _rebuild(d, members={"/etc/x.npy": b""}),
    "duplicate member": lambda d: _rebuild(
        d, members={"arrays/coefs_0.npy": _npy(np.zeros((4, 3)))}
    ),
    "undeclared array": lambda d: _rebuild(
        d, members={"arrays/extra.npy": _npy(np.ones(1))}
    ),
    "missing array": lambda d: _rebuild(d, drop=("arrays/coefs_0.npy",)),
    "object dtype declared": lambda d: _rebuild(
        d, _set(["arrays", "coefs_0", "dtype"], "|O")
    ),
    "object array (pickle) member": lambda d: _rebuild(
        d,
        _set(["arrays", "coefs_0"], {"dtype": "|O", "shape": [1]}),
        members={"arrays/coefs_0.npy": _pickle_bomb()},
        drop=("arrays/coefs_0.npy",),
    ),
    "pickle member declared float": lambda d: _rebuild(
        d,
        _set(["arrays", "coefs_0"], {"dtype": "<f8", "shape": [1]}),
        members={"arrays/coefs_0.npy": _pickle_bomb()},
        drop=("arrays/coefs_0.npy",),
    ),
    "shape mismatch": lambda d: _rebuild(
        d, _set(["arrays", "coefs_0", "shape"], [3, 4])
    ),
    "dtype mismatch": lambda d: _rebuild(
        d, _set(["arrays", "coefs_0", "dtype"], "<f4")
    ),
    "huge declared shape": lambda d: _rebuild(
        d, _set(["arrays", "coefs_0", "shape"], [10**9, 10**9])
    ),
    "npy shorter than its header": lambda d: _rebuild(
        d,
        members={"arrays/coefs_0.npy": _npy(np.zeros((4, 3)))[:-8]},
        drop=("arrays/coefs_0.npy",),
    ),
    "weights do not chain": lambda d: _rebuild(
        d,
        _set(["arrays", "coefs_0", "shape"], [4, 2]),
        members={"arrays/coefs_0.npy": _npy(np.zeros((4, 2)))},
        drop=("arrays/coefs_0.npy",),
    ),
    "non-finite weights": lambda d: _rebuild(
        d,
        members={"arrays/coefs_0.npy": _npy(np.full((4, 3), np.nan))},
        drop=("arrays/coefs_0.npy",),
    ),
    "n_features_in_ inconsistent": lambda d: _rebuild(
        d, _set(["attributes", "n_features_in_"], 5)
    ),
    "array referenced twice": lambda d: _rebuild(
        d,
        _set(["attributes", "intercepts_", 0], {"type": "ndarray", "array": "coefs_0"}),
    ),
    "classes do not match binarizer": lambda d: _rebuild(
        d, _set(["attributes", "classes_", "values"], [-5, 5, 6])
    ),
    "labels do not fit dtype": lambda d: _rebuild(
        d, _set(["attributes", "classes_", "values"], ["a", "b", "c"])
    ),
    "missing fitted attribute": lambda d: _rebuild(
        d, lambda m: m["attributes"].pop("_loss")
    ),
    "wrong attribute type": lambda d: _rebuild(d, _set(["attributes", "t_"], "many")),
    "deep nesting": lambda d: _rebuild(
        d, raw_meta='{"format": "sknn-model", "x": ' + "[" * 100000 + "]" * 100000 + "}"
    ),
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_crafted_or_corrupted_file_is_rejected(case):
    data = CORRUPT[case](_valid_file())
    with pytest.raises(ValueError, match="Cannot load this sknn model file"):
        load(io.BytesIO(data))
    assert not _Boom.called


def test_valid_file_passes_the_same_checks():
    # The crafting helper itself keeps a valid file valid.
    data = _rebuild(_valid_file())
    assert isinstance(load(io.BytesIO(data)), NNClassifier)


def test_max_bytes_limits_the_declared_size(tmp_path):
    data = _valid_file()
    with pytest.raises(ValueError, match="max_bytes"):
        load(io.BytesIO(data), max_bytes=100)
    assert isinstance(load(io.BytesIO(data), max_bytes=None), NNClassifier)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "nothing.zip")


# ---------------------------------------------------------------------- skops
skops_io = pytest.importorskip("skops.io")


@pytest.mark.parametrize("Est", [NNClassifier, NNRegressor])
def test_skops_roundtrip_with_trusted_types(Est):
    X, y = _data("strings" if Est is NNClassifier else "multioutput", n=60)
    est = Est(
        hidden_layer_sizes=(5,),
        optimizer=SGD(momentum=0.5),
        callbacks=[EarlyStopping(monitor="train_loss", patience=3)],
        dropout=0.1,
        random_state=np.random.RandomState(0),
        max_iter=3,
    ).fit(X, y)
    data = skops_io.dumps(est)
    untrusted = skops_io.get_untrusted_types(data=data)
    loss = "LogLoss" if Est is NNClassifier else "SquaredError"
    assert sorted(untrusted) == sorted(
        [
            f"sknn.estimators.{Est.__name__}",
            "sknn.activations.ReLU",
            f"sknn.losses.{loss}",
            "sknn.optimizers.SGD",
            "sknn.callbacks.EarlyStopping",
        ]
    )
    with pytest.raises(skops_io.exceptions.UntrustedTypesFoundException):
        skops_io.loads(data)
    with pytest.raises(skops_io.exceptions.UntrustedTypesFoundException):
        skops_io.loads(data, trusted=untrusted[:-1])
    copy = skops_io.loads(data, trusted=untrusted)
    assert set(untrusted) <= set(skops_trusted_types())
    # skops rebuilds each array on its own (as pickle does), so coefs_ are not
    # views of one flat vector until the next fit packs them again.
    _assert_same_model(est, copy, X, flat=False)
    assert copy._rng is copy.random_state
    est.partial_fit(X, y)
    copy.partial_fit(X, y)
    _assert_same_weights(est, copy)


def test_skops_file_roundtrip_of_unfitted_and_clone(tmp_path):
    X, y = _data("binary")
    clf = NNClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    path = tmp_path / "model.skops"
    skops_io.dump(clf, path)
    assert skops_io.get_untrusted_types(file=path) == ["sknn.estimators.NNClassifier"]
    copy = skops_io.load(path, trusted=skops_trusted_types())
    assert not hasattr(copy, "coefs_")
    clf.fit(X, y)
    np.testing.assert_array_equal(
        clone(copy).fit(X, y).predict_proba(X), clf.predict_proba(X)
    )
