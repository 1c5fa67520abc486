"""The declared fitted state (sknn._state) and the model format it defines."""

import copy
import io
import json
import os
import pickle
import warnings
import zipfile

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sknn import NNClassifier, NNRegressor
from sknn._persistence import FORMAT_VERSION, load, save
from sknn._registry import REGISTRIES
from sknn._state import COMPONENT_PARAMS, STATE, declared, saved
from sknn.callbacks import EarlyStopping

DATA = os.path.join(os.path.dirname(__file__), "data")
quiet = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(n=40, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n, 3))
    return X, (X[:, 0] > 0).astype(int), X @ [1.0, -1.0, 0.5]


def _fitted_variants():
    X, yc, yr = _data()
    return [
        NNClassifier((4,), max_iter=3, random_state=0).fit(X, yc),
        NNClassifier(
            (4,),
            max_iter=3,
            early_stopping=True,
            dropout=0.2,
            callbacks=[EarlyStopping(patience=2)],
            random_state=0,
        ).fit(X, yc),
        NNRegressor((3,), max_iter=3, random_state=0).fit(X, yr),
        NNRegressor((3,), optimizer="lbfgs", max_iter=3, random_state=0).fit(X, yr),
    ]


def _saved_meta(est):
    buf = io.BytesIO()
    save(est, buf)
    meta = json.loads(zipfile.ZipFile(buf).read("metadata.json"))
    return meta, buf.getvalue()


# --------------------------------------------------------------- declaration
@quiet
def test_fit_leaves_only_declared_state():
    for est in _fitted_variants():
        params = set(est.get_params(deep=False))
        state = set(vars(est)) - params
        assert state <= set(declared(type(est))), state - set(declared(type(est)))
        required = {n for n, a in declared(type(est)).items() if a.required}
        assert required <= state, required - state


def test_per_class_attributes():
    assert "classes_" in declared(NNClassifier)
    assert "_label_binarizer" in declared(NNClassifier)
    assert "classes_" not in declared(NNRegressor)
    assert "_label_binarizer" not in declared(NNRegressor)
    assert "_skl_callbacks" in declared(NNRegressor)
    assert "_skl_callbacks" not in saved(NNRegressor)


@quiet
def test_optional_attributes_follow_the_parameters():
    X, y, _ = _data()
    plain = NNClassifier((3,), max_iter=2, random_state=0).fit(X, y)
    es = NNClassifier((3,), max_iter=2, early_stopping=True, random_state=0).fit(X, y)
    assert plain.validation_scores_ is None and plain.best_validation_score_ is None
    assert plain.best_loss_ is not None and not hasattr(plain, "_salt")
    assert es.best_loss_ is None and len(es.validation_scores_) == es.n_iter_
    assert isinstance(es._salt, int)
    # warm_start turning early stopping on starts what it needs, as declared
    plain.set_params(warm_start=True, early_stopping=True, max_iter=2).fit(X, y)
    assert len(plain.validation_scores_) == 2
    assert plain.best_validation_score_ == max(plain.validation_scores_)


@quiet
def test_failed_resumed_fit_rolls_back_every_declared_attribute():
    X, y, _ = _data()

    class Boom(EarlyStopping):
        def on_epoch_end(self, estimator, epoch, logs):
            estimator.history_.append({"corrupted": True})
            estimator.coefs_[0][:] = np.nan
            raise RuntimeError("boom")

    clf = NNClassifier((3,), max_iter=2, random_state=0).fit(X, y)
    before = {
        n: copy.deepcopy(getattr(clf, n))
        for n in declared(NNClassifier)
        if hasattr(clf, n)
    }
    user_coefs = clf.coefs_
    clf.set_params(callbacks=[Boom()], warm_start=True)
    with pytest.raises(RuntimeError, match="boom"):
        clf.fit(X, y)
    for name, value in before.items():
        now = getattr(clf, name)
        if isinstance(value, list) and value and isinstance(value[0], np.ndarray):
            for a, b in zip(value, now):
                np.testing.assert_array_equal(a, b)
        elif isinstance(value, np.random.RandomState):
            assert value.get_state()[1].tolist() == now.get_state()[1].tolist()
        elif name not in ("_activation", "_loss", "_label_binarizer", "callbacks_"):
            assert repr(value) == repr(now), name
    assert clf.coefs_ is user_coefs  # the arrays the user holds, untouched
    assert np.isfinite(clf.coefs_[0]).all()


def test_resumed_fit_copies_as_declared():
    from sknn._state import private_copy

    X, y, _ = _data()
    clf = NNClassifier((3,), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    clf._undeclared = object()
    state = vars(clf)
    work = private_copy(state, NNClassifier)
    assert work["_undeclared"] is state["_undeclared"]
    for name, attr in declared(NNClassifier).items():
        if name not in state or attr.kind == "layers":
            continue
        same = work[name] is state[name]
        assert same == (attr.copy == "share" or state[name] is None), name
        if attr.copy == "shallow":
            assert work[name] == state[name]
    # the weights: one new flat vector
    assert all(not np.shares_memory(a, b) for a, b in zip(work["coefs_"], clf.coefs_))


def test_unpickled_weights_are_views_of_one_vector():
    from sknn._state import flat_weights

    X, y, _ = _data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = NNClassifier((4, 2), max_iter=2, random_state=0).fit(X, y)
    copy_ = pickle.loads(pickle.dumps(clf))
    layout, flat = flat_weights(vars(copy_))
    assert flat is not None and flat.shape == (layout.n_params,)


# --------------------------------------------------------------- file format
@quiet
def test_file_holds_exactly_the_declared_saved_state():
    for est in _fitted_variants():
        meta, _ = _saved_meta(est)
        assert meta["format_version"] == FORMAT_VERSION == 2
        present = set(saved(type(est))) & set(vars(est))
        assert set(meta["attributes"]) == present


@quiet
def test_undeclared_attributes_do_not_change_the_file():
    X, y, _ = _data()
    clf = NNClassifier((3,), max_iter=2, random_state=0).fit(X, y)
    for record in clf.history_:
        record["duration"] = 0.0  # the only wall-clock value
    _, before = _saved_meta(clf)
    clf._cache = np.ones(5)  # a new private attribute
    clf.scratch_ = {"a": 1}
    clf.__dict__["_renamed_count"] = clf.__dict__["_no_improvement_count"]
    _, after = _saved_meta(clf)
    assert after == before
    assert not hasattr(load(io.BytesIO(after)), "_cache")


@quiet
def test_loader_ignores_undeclared_and_refuses_foreign_attributes():
    X, y, yr = _data()
    clf = NNClassifier((3,), max_iter=2, random_state=0).fit(X, y)
    reg = NNRegressor((3,), max_iter=2, random_state=0).fit(X, yr)

    def edited(est, edit):
        meta, data = _saved_meta(est)
        edit(meta)
        src = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            dst.writestr("metadata.json", json.dumps(meta))
            for name in src.namelist():
                if name != "metadata.json":
                    dst.writestr(name, src.read(name))
        return io.BytesIO(out.getvalue())

    loaded = load(edited(clf, lambda m: m["attributes"].update(later_=[1, 2])))
    assert not hasattr(loaded, "later_")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    classes = _saved_meta(clf)[0]["attributes"]["classes_"]
    with pytest.raises(ValueError, match="not state of a NNRegressor"):
        load(edited(reg, lambda m: m["attributes"].update(classes_=classes)))
    for name in [n for n, a in saved(NNClassifier).items() if a.required]:
        # (an attribute held in arrays leaves them unused: refused as well)
        match = f"lacks the attributes.*'{name}'|arrays .* are not used"
        with pytest.raises(ValueError, match=match):
            load(edited(clf, lambda m, name=name: m["attributes"].pop(name)))


def _v1(name):
    expected = np.load(os.path.join(DATA, f"format_v1_{name}.npz"))
    path = os.path.join(DATA, f"format_v1_{name}.sknn")
    meta = json.loads(zipfile.ZipFile(path).read("metadata.json"))
    assert meta["format_version"] == 1
    return load(path), expected


@pytest.mark.filterwarnings("ignore:X does not have valid feature names")
def test_version_1_classifier_loads_with_equal_predictions():
    clf, expected = _v1("classifier")
    assert list(clf.feature_names_in_) == ["a", "b", "c"]
    assert type(clf.callbacks_[0]) is EarlyStopping
    np.testing.assert_array_equal(clf.predict(expected["X"]), expected["predict"])
    np.testing.assert_allclose(
        clf.predict_proba(expected["X"]), expected["proba"], rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("name", ["binary", "regressor"])
def test_version_1_file_loads_and_continues(name):
    est, expected = _v1(name)
    X, y = expected["X"], expected["y"]
    predict = est.predict_proba if name == "binary" else est.predict
    key = "proba" if name == "binary" else "predict"
    np.testing.assert_allclose(predict(X), expected[key], rtol=1e-6, atol=1e-7)
    assert X.dtype == est.coefs_[0].dtype
    est.partial_fit(X, y)  # the random stream and optimizer state continue
    np.testing.assert_allclose(
        predict(X), expected[f"{key}_after"], rtol=1e-5, atol=1e-6
    )
    # and it saves as version 2, loading back to the same model
    copy_ = load(io.BytesIO(_saved_meta(est)[1]))
    np.testing.assert_array_equal(
        predict(X), (copy_.predict_proba if name == "binary" else copy_.predict)(X)
    )


def test_version_1_unfitted_file_loads():
    est = load(os.path.join(DATA, "format_v1_unfitted.sknn"))
    assert type(est) is NNRegressor and not hasattr(est, "coefs_")
    assert est.hidden_layer_sizes == (3, 2) and est.alpha == 0.5


# ------------------------------------------------------ component parameters
def test_component_table_covers_the_estimator_parameters():
    for Est in (NNClassifier, NNRegressor):
        params = Est().get_params()
        assert set(COMPONENT_PARAMS) <= set(params)
        assert Est._component_kinds == {n: p.kind for n, p in COMPONENT_PARAMS.items()}
        assert Est._component_lists == {
            n for n, p in COMPONENT_PARAMS.items() if p.many
        }
        spec = Est()._check_params()
        for name, p in COMPONENT_PARAMS.items():
            value = getattr(spec, p.spec)
            base = REGISTRIES[p.kind].base
            if p.many:
                assert all(isinstance(v, base) for v in value)
            elif value is not None:  # the classifier's loss is chosen in fit
                assert isinstance(value, base), name


@pytest.mark.parametrize("name", sorted(COMPONENT_PARAMS))
def test_every_component_parameter_resolves_through_its_registry(name):
    p = COMPONENT_PARAMS[name]
    other = next(k for k in REGISTRIES if k != p.kind)
    wrong = next(iter(REGISTRIES[other]._classes.values()))()
    bad = [wrong] if p.many else wrong
    with pytest.raises(TypeError, match=name):
        NNRegressor(**{name: bad})._check_params()
    # the loader refuses the same parameter from a file
    meta, data = _saved_meta(NNRegressor())
    from sknn._persistence import _Writer

    meta["params"][name] = _Writer().encode(bad, name, name)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        dst.writestr("metadata.json", json.dumps(meta))
    with pytest.raises(ValueError, match=f"parameter '{name}' must be"):
        load(io.BytesIO(out.getvalue()))


def test_state_names_are_unique_and_kinds_known():
    from sknn._persistence import _KIND_CHECKS

    special = {"layers", "labels", "label_binarizer", "optimizer_state", "other"}
    for name, attr in STATE.items():
        assert attr.name == name
        assert attr.kind in set(_KIND_CHECKS) | special, name
        assert attr.copy in ("deep", "shallow", "share"), name
        if attr.kind in ("component", "components"):
            assert attr.of in COMPONENT_PARAMS, name


@quiet
def test_skops_path_checks_the_declared_state():
    pytest.importorskip("skops.io")
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, _, yr = _data()
    reg = NNRegressor((3,), max_iter=2, random_state=0)
    pipe = make_pipeline(StandardScaler(), reg).fit(X, yr)

    def reloaded():
        buf = io.BytesIO()
        save(pipe, buf)
        return load(io.BytesIO(buf.getvalue()))

    np.testing.assert_array_equal(reloaded().predict(X), pipe.predict(X))
    reg.classes_ = np.array([0, 1])
    with pytest.raises(ValueError, match="not state of a NNRegressor"):
        reloaded()
    del reg.classes_
    del reg._rng
    with pytest.raises(ValueError, match="lacks the attributes.*_rng"):
        reloaded()


@quiet
@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_scikit_learn_callbacks_are_shared_not_copied_by_a_resumed_fit(how):
    # set_callbacks' objects are the user's: a resumed fit (partial_fit,
    # warm_start) reports to them, as a fresh fit does.
    callback = pytest.importorskip("sklearn.callback")
    X, y, _ = _data()
    monitor = callback.ScoringMonitor(scoring="accuracy")
    clf = NNClassifier((3,), max_iter=2, random_state=0).set_callbacks(monitor)
    if how == "partial_fit":
        clf.partial_fit(X, y, classes=[0, 1])
    else:
        clf.set_params(warm_start=True).fit(X, y)
    assert clf._skl_callbacks[0] is monitor
    rows = [r for r in monitor.get_logs().data if r["task_name"] == "epoch"]
    assert len(rows) == clf.n_iter_ >= 1
