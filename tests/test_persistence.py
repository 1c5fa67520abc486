"""Saving and loading estimators: sknn's zip format and skops."""

import functools
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


# ------------------------------------------------------------- memory bound
def _with_meta(data, edit):
    """``data`` with its metadata edited, deflated as ``save`` writes it."""
    src = zipfile.ZipFile(io.BytesIO(data))
    meta = json.loads(src.read("metadata.json"))
    edit(meta)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        dst.writestr("metadata.json", json.dumps(meta, ensure_ascii=False))
        for name in src.namelist():
            if name != "metadata.json":
                dst.writestr(name, src.read(name))
    return out.getvalue()


def _junk(value):
    return _set(["attributes", "junk_"], value)


@functools.cache
def _strings_file():
    X, y = _data("strings")
    clf = NNClassifier(hidden_layer_sizes=(3,), max_iter=1, random_state=0)
    buf = io.BytesIO()
    save(clf.fit(X, y), buf)
    return buf.getvalue()


def _wide_labels(meta):
    # 3 labels of 1 MB each once allocated; 'dtype' is all the file says.
    meta["attributes"]["classes_"]["dtype"] = "<U250000"
    meta["attributes"]["_label_binarizer"]["classes"]["dtype"] = "<U250000"


@functools.cache
def _big_weights_file(n_hidden=400, n_features=1000):
    X = np.random.RandomState(0).normal(size=(20, n_features))
    clf = NNClassifier(hidden_layer_sizes=(n_hidden,), max_iter=1, random_state=0)
    buf = io.BytesIO()
    save(clf.fit(X, np.arange(20) % 2), buf)
    return buf.getvalue()


# Files whose metadata expands into many Python objects, labels of a huge
# declared str dtype, and weights that fill the budget.
MEMORY_CASES = {
    "empty lists": lambda d: _with_meta(d, _junk([[]] * 8000)),
    "nested lists": lambda d: _with_meta(d, _junk([[[]]] * 8000)),
    "tuple nodes": lambda d: _with_meta(
        d, _junk([{"type": "tuple", "items": []}] * 3000)
    ),
    "dict nodes": lambda d: _with_meta(
        d, _junk([{"type": "dict", "items": [[1, 2]]}] * 3000)
    ),
    "floats": lambda d: _with_meta(d, _junk([1.5] * 8000)),
    "short strings": lambda d: _with_meta(d, _junk([str(i) for i in range(8000)])),
    "astral strings": lambda d: _with_meta(d, _junk(["\U0001f600" + "a" * 999] * 200)),
    "labels of dtype <U250000": lambda d: _with_meta(_strings_file(), _wide_labels),
    "large weights": lambda d: _big_weights_file(),
}


def _needed_bytes(data, monkeypatch):
    """What the loader charges against max_bytes for ``data``."""
    import sknn._persistence as persistence

    charged = []
    charge = persistence._Budget.charge

    def spy(self, nbytes, what):
        charge(self, nbytes, what)
        charged.append(self.used)

    with monkeypatch.context() as m:
        m.setattr(persistence._Budget, "charge", spy)
        load(io.BytesIO(data), max_bytes=None)
    return max(charged)


def _load_peak(data, max_bytes):
    """The loaded estimator (or the ValueError) and the peak traced memory."""
    import gc
    import tracemalloc

    gc.collect()
    tracemalloc.start()
    try:
        result = load(io.BytesIO(data), max_bytes=max_bytes)
    except ValueError as exc:
        result = exc
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak


# The loader's peak memory (tracemalloc) is at most this factor of what it
# charges against max_bytes, plus a fixed allowance for the objects of an
# empty model; docs/persistence.md states the measured factors.
PEAK_FACTOR = 1.1
PEAK_ALLOWANCE = 2**19


@pytest.mark.parametrize("case", sorted(MEMORY_CASES))
def test_loader_peak_memory_is_bounded_by_max_bytes(case, monkeypatch):
    data = MEMORY_CASES[case](_valid_file())
    needed = _needed_bytes(data, monkeypatch)
    # Just enough: it loads, within the stated factor of max_bytes.
    result, peak = _load_peak(data, max_bytes=needed)
    assert isinstance(result, NNClassifier), result
    print(f"{case}: charged {needed} bytes, peak {peak} ({peak / needed:.2f}x)")
    assert peak <= PEAK_FACTOR * needed + PEAK_ALLOWANCE
    # One byte less: refused, and refusing costs little.
    result, peak = _load_peak(data, max_bytes=needed - 1)
    assert isinstance(result, ValueError) and "max_bytes" in str(result)
    assert peak <= PEAK_FACTOR * needed + PEAK_ALLOWANCE


@pytest.mark.parametrize("case", sorted(MEMORY_CASES))
def test_max_bytes_refuses_what_would_take_more(case):
    data = MEMORY_CASES[case](_valid_file())
    max_bytes = 10**6  # less than each case needs
    result, peak = _load_peak(data, max_bytes)
    assert isinstance(result, ValueError) and "max_bytes" in str(result)
    assert peak <= PEAK_FACTOR * max_bytes + PEAK_ALLOWANCE


def test_labels_of_a_2_gib_str_dtype_are_refused_before_allocation():
    # The file is a few KB; each label of this dtype would take 2 GiB.
    data = _with_meta(
        _strings_file(),
        lambda meta: [
            node.update(dtype="<U536870911")
            for node in (
                meta["attributes"]["classes_"],
                meta["attributes"]["_label_binarizer"]["classes"],
            )
        ],
    )
    for max_bytes in (100_000, 2**31):  # the default refuses it too
        result, peak = _load_peak(data, max_bytes=max_bytes)
        assert isinstance(result, ValueError) and "max_bytes" in str(result)
        assert peak < 10**6


def test_inconsistent_file_is_refused_before_its_arrays_are_read():
    # About 10 MB of arrays, deflated to a few KB, in a file whose
    # n_features_in_ contradicts them: refused without reading them.
    data = _with_meta(_big_weights_file(), _set(["attributes", "n_features_in_"], 7))
    result, peak = _load_peak(data, max_bytes=None)
    assert isinstance(result, ValueError) and "n_features_in_" in str(result)
    assert peak < 10**6


def test_npy_header_must_match_the_member_size():
    data = _valid_file()
    # The header claims 10**9 rows; the member holds 96 bytes of data.
    npy = bytearray(_npy(np.zeros((4, 3))))
    npy[npy.index(b"(4, 3)") : npy.index(b"(4, 3)") + 6] = b"(9, 3)"
    bad = _rebuild(
        data, members={"arrays/coefs_0.npy": bytes(npy)}, drop=("arrays/coefs_0.npy",)
    )
    with pytest.raises(ValueError, match="header"):
        load(io.BytesIO(bad))


# ------------------------------------------------- fit's invariants on load
def _fitted(kind, **params):
    X, y = _data(kind)
    params = {"hidden_layer_sizes": (3,), "max_iter": 2, "random_state": 0, **params}
    return NNClassifier(**params).fit(X, y), X


def _relabel(clf, loss):
    """``clf`` claiming another loss (and its link) than it was fitted with."""
    clf._loss = REGISTRIES["losses"].get(loss)()
    clf.out_activation_ = clf._loss.link.name
    return clf


RELABELLED = {
    "multiclass relabelled logistic": ("multiclass", "binary_log_loss"),
    "binary relabelled softmax": ("binary", "log_loss"),
    "multilabel relabelled log_loss": ("multilabel", "log_loss"),
}


@pytest.mark.parametrize("case", sorted(RELABELLED))
def test_loader_refuses_a_loss_that_does_not_suit_the_target(case):
    kind, loss = RELABELLED[case]
    clf, X = _fitted(kind)
    _roundtrip(clf)  # the model as fitted loads
    buf = io.BytesIO()
    save(_relabel(clf, loss), buf)
    with pytest.raises(ValueError, match="Cannot load.*(suit|outputs)"):
        load(io.BytesIO(buf.getvalue()))


def _activation_edit(raw):
    """Set the leaky_relu negative_slope to the JSON text ``raw``."""

    def edit(text):
        marker = '"negative_slope": 0.01'
        assert text.count(marker) == 2  # the parameter and _activation
        return text.replace(marker, f'"negative_slope": {raw}')

    return edit


def _leaky_file():
    clf, _ = _fitted("binary", activation=REGISTRIES["activations"].get("leaky_relu")())
    buf = io.BytesIO()
    save(clf, buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    "raw, value",
    [
        ('{"type": "float", "value": "nan"}', np.nan),
        ("1e999", np.inf),
        ('"abc"', "abc"),
        ("-1.0", -1.0),
    ],
)
def test_loader_checks_component_hyperparameters_as_fit_does(raw, value):
    data = _leaky_file()
    src = zipfile.ZipFile(io.BytesIO(data))
    text = _activation_edit(raw)(src.read("metadata.json").decode())
    bad = _rebuild(data, raw_meta=text)
    # 1e999 is refused when parsed (it overflows), the others by the check.
    with pytest.raises(ValueError, match="Cannot load.*(negative_slope|1e999)"):
        load(io.BytesIO(bad))
    # The same value given to fit is refused by the same check.
    leaky = REGISTRIES["activations"].get("leaky_relu")(negative_slope=value)
    X, y = _data("binary")
    with pytest.raises((TypeError, ValueError), match="negative_slope"):
        NNClassifier(activation=leaky).fit(X, y)


def test_loader_checks_estimator_parameters_of_a_fitted_model():
    bad = _rebuild(_valid_file(), _set(["params", "alpha"], -1.0))
    with pytest.raises(ValueError, match="Cannot load.*alpha must be"):
        load(io.BytesIO(bad))
    overflow = _rebuild(_valid_file(), raw_meta=None)
    text = zipfile.ZipFile(io.BytesIO(overflow)).read("metadata.json").decode()
    text = text.replace('"loss_": ', '"loss_": 1e999, "x_": ', 1)
    with pytest.raises(ValueError, match="Cannot load.*overflows"):
        load(io.BytesIO(_rebuild(overflow, raw_meta=text)))


# ------------------------------------------------------------- atomic save
_LABELS = "'(classes_|_label_binarizer)'"  # the first to hold the bad label


def _surrogate_classifier():
    X, y = _data("binary")
    labels = np.array(["ok", "bad\ud800"], dtype=object)[y]
    return NNClassifier(hidden_layer_sizes=(3,), max_iter=1, random_state=0).fit(
        X, labels
    )


def test_failed_save_leaves_the_existing_file_intact(tmp_path):
    path = tmp_path / "model.sknn"
    clf, X = _fitted("binary")
    save(clf, path)
    before = path.read_bytes()
    path.chmod(0o600)
    with pytest.raises(ValueError, match=f"attribute {_LABELS}.*not valid Unicode"):
        save(_surrogate_classifier(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.sknn"]
    _assert_same_model(clf, load(path), X)
    # A successful save replaces the file and keeps its permissions.
    save(_relabel(clf, "binary_log_loss"), path)
    assert (path.stat().st_mode & 0o777) == 0o600


def test_failed_save_writes_nothing_to_a_file_object():
    buf = io.BytesIO(b"old")
    with pytest.raises(ValueError, match=f"attribute {_LABELS}"):
        save(_surrogate_classifier(), buf)
    assert buf.getvalue() == b"old"


def test_failed_write_removes_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "model.sknn"
    path.write_bytes(b"old")
    clf, _ = _fitted("binary")

    def broken_writestr(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken_writestr)
    with pytest.raises(OSError, match="disk full"):
        save(clf, path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["model.sknn"]


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


# ------------------------------------------------------------------ pipelines
def _pipeline(kind="multiclass", **params):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = _data(kind)
    clf = NNClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0, **params)
    return make_pipeline(StandardScaler(), clf).fit(X, y), X


def _saved(obj):
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


def test_pipeline_roundtrip_through_skops():
    pipe, X = _pipeline(optimizer=SGD(momentum=0.5))
    data = _saved(pipe)
    assert "schema.json" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    copy = load(io.BytesIO(data))
    assert [type(s) for s in copy] == [type(s) for s in pipe]
    np.testing.assert_array_equal(copy.predict_proba(X), pipe.predict_proba(X))
    _assert_same_model(pipe[-1], copy[-1], copy[0].transform(X))


def _untrusted_pipeline():
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.pipeline import make_pipeline

    class Passthrough(TransformerMixin, BaseEstimator):
        def fit(self, X, y=None):
            return self

        def transform(self, X):
            return X

    X, y = _data("binary")
    return make_pipeline(Passthrough(), NNClassifier(max_iter=1)).fit(X, y)


def test_pipeline_with_untrusted_types_is_refused_on_save():
    with pytest.raises(ValueError, match="does not trust.*Passthrough"):
        save(_untrusted_pipeline(), io.BytesIO())


def test_pipeline_without_skops_names_the_extra(monkeypatch):
    import sys

    pipe, _ = _pipeline()
    data = _saved(pipe)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    monkeypatch.setitem(sys.modules, "skops", None)
    with pytest.raises(ImportError, match=r"sknn\[skops\]"):
        save(pipe, io.BytesIO())
    with pytest.raises(ImportError, match=r"sknn\[skops\]"):
        load(io.BytesIO(data))


def _edit_pipeline_model(pipe, edit):
    edit(pipe[-1])
    return _saved(pipe)


@pytest.mark.parametrize("case", sorted(RELABELLED))
def test_pipeline_loader_refuses_a_loss_that_does_not_suit_the_target(case):
    kind, loss = RELABELLED[case]
    pipe, _ = _pipeline(kind)
    load(io.BytesIO(_saved(pipe)))  # the pipeline as fitted loads
    data = _edit_pipeline_model(pipe, lambda clf: _relabel(clf, loss))
    with pytest.raises(ValueError, match="Cannot load.*(suit|outputs)"):
        load(io.BytesIO(data))


@pytest.mark.parametrize("value", [np.nan, np.inf, "abc", -1.0])
def test_pipeline_loader_checks_component_hyperparameters(value):
    leaky = REGISTRIES["activations"].get("leaky_relu")
    pipe, _ = _pipeline(activation=leaky())
    load(io.BytesIO(_saved(pipe)))

    def edit(clf):
        clf._activation.negative_slope = value

    with pytest.raises(ValueError, match="Cannot load.*negative_slope"):
        load(io.BytesIO(_edit_pipeline_model(pipe, edit)))


def test_pipeline_loader_checks_the_fitted_state():
    pipe, _ = _pipeline()
    load(io.BytesIO(_saved(pipe)))

    def edit(clf):
        clf.n_features_in_ = 7

    with pytest.raises(ValueError, match="Cannot load.*n_features_in_"):
        load(io.BytesIO(_edit_pipeline_model(pipe, edit)))


def _skops_members(data, replace):
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, replace(name, src.read(name)))
    return out.getvalue()


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_pipeline_loader_peak_memory_is_bounded_by_max_bytes(optimizer, monkeypatch):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = np.random.RandomState(0).normal(size=(20, 500))
    clf = NNClassifier(
        hidden_layer_sizes=(400,), optimizer=optimizer, max_iter=1, random_state=0
    )
    data = _saved(make_pipeline(StandardScaler(), clf).fit(X, np.arange(20) % 2))
    needed = _needed_bytes(data, monkeypatch)
    result, peak = _load_peak(data, max_bytes=needed)
    assert not isinstance(result, ValueError), result
    print(
        f"pipeline, {optimizer}: charged {needed}, peak {peak} ({peak / needed:.2f}x)"
    )
    assert peak <= PEAK_FACTOR * needed + PEAK_ALLOWANCE
    result, peak = _load_peak(data, max_bytes=needed - 1)
    assert isinstance(result, ValueError) and "max_bytes" in str(result)


def test_pipeline_loader_refuses_what_max_bytes_does_not_allow():
    pipe, _ = _pipeline()
    data = _saved(pipe)
    assert isinstance(load(io.BytesIO(data), max_bytes=2 * 10**6), type(pipe))
    # A weight array of 16 MB deflates to a few KB: refused before skops reads.
    big = _skops_members(
        data,
        lambda name, content: (
            _npy(np.zeros((2000, 1000)))
            if name.endswith(".npy") and b"(4, 4)" in content[:128]
            else content
        ),
    )
    result, peak = _load_peak(big, max_bytes=2 * 10**6)
    assert isinstance(result, ValueError) and "max_bytes" in str(result)
    assert peak <= PEAK_FACTOR * 2 * 10**6 + PEAK_ALLOWANCE
    # A .npy header that disagrees with its member size is refused too.
    lying = _skops_members(
        data,
        lambda name, content: (
            content.replace(b"(4, 4)", b"(9, 9)", 1)
            if name.endswith(".npy")
            else content
        ),
    )
    with pytest.raises(ValueError, match="Cannot load.*header"):
        load(io.BytesIO(lying))


def test_pipeline_file_is_replaced_atomically(tmp_path):
    path = tmp_path / "pipe.sknn"
    pipe, X = _pipeline()
    save(pipe, path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="does not trust"):
        save(_untrusted_pipeline(), path)
    assert path.read_bytes() == before
    np.testing.assert_array_equal(load(path).predict(X), pipe.predict(X))
