"""NNClassifier and NNRegressor with architectures other than the plain MLP."""

import copy
import pickle
import re

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris, make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import sknn
from sknn import NNClassifier, NNRegressor
from sknn.architectures import MLP, ResNet
from sknn.callbacks import Callback
from sknn.layers import (
    BatchNorm,
    Dense,
    Dropout,
    Layer,
    PeriodicEmbedding,
    PiecewiseLinearEncoding,
    ResNetBlock,
)

# Few epochs keep these fits fast; they do not converge.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _architectures():
    # Small, so that scikit-learn's checks run in seconds.
    return [
        ResNet(n_blocks=1, d_block=16),
        ResNet(
            n_blocks=1, d_block=16, embedding=PeriodicEmbedding(8, 0.1, d_embedding=8)
        ),
        MLP(embedding=PiecewiseLinearEncoding(n_bins=8)),
        MLP(n_members=3, embedding=PeriodicEmbedding(8, 0.1, d_embedding=8)),
    ]


def _estimators():
    for arch in _architectures():
        for cls in (NNClassifier, NNRegressor):
            yield cls(
                hidden_layer_sizes=(16,),
                architecture=arch,
                learning_rate=1e-2,
                max_iter=100,
                random_state=0,
            )


@parametrize_with_checks(list(_estimators()))
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture
def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture
def regression():
    X, y = make_regression(n_samples=120, n_features=5, noise=1, random_state=0)
    return X, y / y.std()


@pytest.mark.parametrize("arch", _architectures(), ids=repr)
def test_fitted_attributes(iris, arch):
    X, y = iris
    clf = NNClassifier(architecture=arch, max_iter=3, random_state=0).fit(X, y)
    assert not hasattr(clf, "coefs_") and not hasattr(clf, "intercepts_")
    assert [type(a) for a in clf.layers_] == [
        type(a) for a in arch.layers(4, 3, **_settings(arch))
    ]
    assert clf.params_.ndim == 1 and clf.params_.dtype == np.float64
    assert len(clf.layer_state_) == len(clf.layers_)
    assert clf.n_outputs_ == 3 and clf.n_layers_ == len(clf.layers_)
    # Refitting with the plain MLP replaces them with coefs_.
    clf.set_params(architecture="mlp").fit(X, y)
    assert hasattr(clf, "coefs_") and not hasattr(clf, "params_")
    assert not hasattr(clf, "layers_") and not hasattr(clf, "layer_state_")


def _settings(arch):
    if isinstance(arch, MLP):
        return {"hidden_layer_sizes": (100,), "activation": "relu", "dropout": 0.0}
    return {}


def test_default_architecture_is_the_plain_mlp(iris):
    X, y = iris
    a = NNClassifier(max_iter=3, random_state=0).fit(X, y)
    b = NNClassifier(architecture=MLP(), max_iter=3, random_state=0).fit(X, y)
    assert NNClassifier().architecture == "mlp"
    assert not hasattr(a, "params_")
    for u, v in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
        np.testing.assert_array_equal(u, v)


def test_nested_parameters():
    clf = NNClassifier(architecture=ResNet())
    clf.set_params(
        architecture__n_blocks=3,
        architecture__embedding="ple",
        architecture__embedding__n_bins=7,
    )
    assert clf.architecture.n_blocks == 3
    assert clf.architecture.embedding.n_bins == 7
    assert clf.get_params()["architecture__embedding__n_bins"] == 7


def test_grid_search_over_blocks(iris):
    X, y = iris
    search = GridSearchCV(
        NNClassifier(
            architecture=ResNet(d_block=8, d_hidden=8), max_iter=3, random_state=0
        ),
        {"architecture__n_blocks": [1, 2]},
        cv=2,
    ).fit(X, y)
    blocks = [
        sum(
            type(layer).__name__ == "ResNetBlock"
            for layer in search.best_estimator_.layers_
        )
    ]
    assert blocks == [search.best_params_["architecture__n_blocks"]]
    assert len(search.cv_results_["params"]) == 2


@pytest.mark.parametrize("arch", _architectures(), ids=repr)
def test_partial_fit_resumes_exactly(iris, arch):
    X, y = iris
    kw = dict(architecture=arch, random_state=0, shuffle=False, batch_size=32)
    full = NNClassifier(max_iter=2, **kw).fit(X, y)
    inc = NNClassifier(**kw)
    inc.partial_fit(X, y, classes=[0, 1, 2])
    inc.partial_fit(X, y)
    np.testing.assert_array_equal(full.params_, inc.params_)
    for s, t in zip(full.layer_state_, inc.layer_state_):
        assert s.keys() == t.keys()
        for k in s:
            np.testing.assert_array_equal(s[k], t[k])
    np.testing.assert_array_equal(full.predict_proba(X), inc.predict_proba(X))


@pytest.mark.parametrize(
    "arch",
    [
        ResNet(n_blocks=1, d_block=16, dropout1=0.0),
        MLP(embedding="ple"),
        MLP(n_members=2),
    ],
    ids=repr,
)
def test_warm_start_continues(regression, arch):
    X, y = regression
    kw = dict(architecture=arch, random_state=0, shuffle=False, batch_size=32)
    full = NNRegressor(max_iter=2, **kw).fit(X, y)
    warm = NNRegressor(max_iter=1, warm_start=True, **kw).fit(X, y)
    held = warm.params_
    warm.fit(X, y)
    np.testing.assert_array_equal(full.params_, warm.params_)
    assert warm.params_ is held  # the arrays the user holds are live
    assert len(warm.history_) == 2


def test_warm_start_refuses_another_architecture(iris):
    X, y = iris
    clf = NNClassifier(max_iter=1, warm_start=True, random_state=0).fit(X, y)
    clf.set_params(architecture=ResNet(n_blocks=1, d_block=8))
    with pytest.raises(ValueError, match="architecture"):
        clf.fit(X, y)
    assert hasattr(clf, "coefs_")  # the failed fit left the model as it was


@pytest.mark.parametrize("arch", _architectures(), ids=repr)
def test_float32_stays_float32(regression, arch):
    X, y = regression
    reg = NNRegressor(architecture=arch, max_iter=2, random_state=0)
    reg.fit(X.astype(np.float32), y)
    assert reg.params_.dtype == np.float32
    for s in reg.layer_state_:
        for v in s.values():
            assert v.dtype != np.float64
    assert reg.predict(X.astype(np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "arch", [ResNet(n_blocks=1, d_block=8), MLP(n_members=3)], ids=repr
)
def test_sparse_input_equals_dense(regression, arch):
    X, y = regression
    kw = dict(architecture=arch, max_iter=2, random_state=0)
    dense = NNRegressor(**kw).fit(X, y)
    sparse = NNRegressor(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(dense.params_, sparse.params_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        dense.predict(X), sparse.predict(sp.csr_matrix(X)), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("embedding", ["plr", "ple"])
def test_sparse_input_embedding_raises(regression, embedding):
    X, y = regression
    reg = NNRegressor(architecture=MLP(embedding=embedding), max_iter=2)
    with pytest.raises(TypeError, match="sparse"):
        reg.fit(sp.csr_matrix(X), y)
    assert not hasattr(reg, "n_features_in_") or not hasattr(reg, "params_")


@pytest.mark.parametrize("arch", _architectures(), ids=repr)
def test_sample_weight_equals_repeated_rows(regression, arch):
    X, y = regression
    w = np.random.RandomState(0).randint(1, 3, size=len(y))
    # One full batch each ("auto": at most 200 rows).
    kw = dict(architecture=arch, max_iter=3, random_state=0)
    kw["shuffle"] = False
    weighted = NNRegressor(**kw).fit(X, y, sample_weight=w.astype(float))
    repeated = NNRegressor(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(
        weighted.predict(X), repeated.predict(X), rtol=1e-6, atol=1e-6
    )


def test_class_weight(iris):
    X, y = iris
    kw = dict(architecture=ResNet(n_blocks=1, d_block=8), max_iter=3, random_state=0)
    weights = {0: 1.0, 1: 2.0, 2: 1.0}
    a = NNClassifier(class_weight=weights, **kw).fit(X, y)
    b = NNClassifier(**kw).fit(X, y, sample_weight=np.where(y == 1, 2.0, 1.0))
    np.testing.assert_array_equal(a.params_, b.params_)
    c = NNClassifier(**kw).fit(X, y)
    assert not np.array_equal(a.params_, c.params_)


@pytest.mark.parametrize("arch", _architectures(), ids=repr)
def test_save_load_round_trip(tmp_path, iris, arch):
    X, y = iris
    clf = NNClassifier(architecture=arch, max_iter=3, random_state=0).fit(X, y)
    sknn.save(clf, tmp_path / "model.sknn")
    loaded = sknn.load(tmp_path / "model.sknn")
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(loaded.params_, clf.params_)
    # The loaded model resumes as the original does, layer state included.
    clf.partial_fit(X, y)
    loaded.partial_fit(X, y)
    np.testing.assert_array_equal(loaded.params_, clf.params_)
    pickled = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(pickled.predict_proba(X), clf.predict_proba(X))


def test_onnx_export_refuses_other_architectures(iris):
    pytest.importorskip("skl2onnx")
    from skl2onnx import to_onnx

    import sknn.onnx  # noqa: F401  (registers the converters)

    X, y = iris
    clf = NNClassifier(architecture=ResNet(n_blocks=1, d_block=8), max_iter=2)
    clf.fit(X, y)
    with pytest.raises(TypeError, match="architecture=ResNet"):
        to_onnx(clf, X[:1].astype(np.float32))


# ------------------------------------------------- noise and full-batch optimizers
class _GaussianNoise(Layer):
    """A user layer that adds noise in training, declared by its ``std``."""

    noise_params = ("std",)

    def __init__(self, std=0.1):
        self.std = std

    def forward(self, params, state, X, *, training, sample_weight=None, noise=None):
        if not (training and self.std):
            return X, None
        return X + self.std * (noise.random_sample(X.shape) - 0.5), None

    def backward(self, params, state, cache, d_out, grads, need_input_grad=True):
        return d_out if need_input_grad else None


class _AlwaysNoisy(_GaussianNoise):
    """A user layer that says it draws noise without naming a parameter."""

    noise_params = ()

    @property
    def stochastic(self):
        return True


@pytest.mark.parametrize(
    "arch, names",
    [
        (ResNet(n_blocks=1, d_block=8), ["architecture__dropout1=0.15"]),
        (
            ResNet(n_blocks=1, d_block=8, dropout1=0.0, dropout2=0.2),
            ["architecture__dropout2=0.2"],
        ),
        (
            ResNet(n_blocks=2, d_block=8, dropout1=0.1, dropout2=0.2),
            ["architecture__dropout1=0.1", "architecture__dropout2=0.2"],
        ),
        (MLP(embedding=_GaussianNoise(0.3)), ["architecture__embedding__std=0.3"]),
        (MLP(embedding=_AlwaysNoisy()), ["architecture=MLP("]),
    ],
    ids=["resnet-default", "dropout2", "both", "user-layer", "undeclared-source"],
)
def test_full_batch_optimizer_refuses_a_network_that_draws_noise(iris, arch, names):
    X, y = iris
    clf = NNClassifier(architecture=arch, optimizer="lbfgs", max_iter=5)
    with pytest.raises(ValueError) as info:
        clf.fit(X, y)
    message = str(info.value)
    for name in names:
        assert name in message, message
    assert "need" in message and "stochastic optimizer" in message
    assert "full-batch optimizer LBFGS" in message
    assert "optimizer='adam'" in message  # what is accepted
    assert not hasattr(clf, "n_features_in_")  # refused before training


def test_layer_declares_whether_it_draws_noise():
    assert Dropout(0.2).stochastic and not Dropout(0.0).stochastic
    assert ResNetBlock(dropout2=0.1).stochastic
    assert not ResNetBlock(dropout1=0.0, dropout2=0.0).stochastic
    assert not BatchNorm().stochastic and not Dense(3).stochastic
    assert _GaussianNoise(0.1).stochastic and not _GaussianNoise(0.0).stochastic


def test_full_batch_optimizer_trains_a_layered_network_without_noise(iris):
    X, y = iris
    arch = ResNet(n_blocks=1, d_block=8, dropout1=0.0)
    # The estimator's dropout belongs to the MLP: ResNet does not read it.
    clf = NNClassifier(
        architecture=arch, optimizer="lbfgs", dropout=0.3, max_iter=100, random_state=0
    ).fit(X, y)
    assert clf.n_iter_ > 1 and clf.loss_curve_[-1] < clf.loss_curve_[0] / 2
    assert clf.score(X, y) > 0.95
    # The same network with a zero rate is accepted, whatever its source.
    emb = NNClassifier(
        architecture=MLP(embedding=_GaussianNoise(0.0)), optimizer="lbfgs", max_iter=5
    )
    emb.fit(X, y)
    assert np.isfinite(emb.predict_proba(X)).all()


# ------------------------------------------- resuming under changed hyperparameters
_CHANGES = [
    (ResNet(n_blocks=1, d_block=8), {"architecture__d_block": 16}, "weight"),
    (ResNet(n_blocks=1, d_block=8), {"architecture__n_blocks": 2}, "layers"),
    (ResNet(n_blocks=1, d_block=8), {"architecture__d_hidden": 4}, "weight1"),
    (
        MLP(embedding=PiecewiseLinearEncoding(n_bins=8)),
        {"architecture__embedding__n_bins": 4},
        "n_bins=4, not the fitted 8",
    ),
    (MLP(embedding="ple"), {"hidden_layer_sizes": (7,)}, "weight"),
]
_CHANGE_IDS = ["d_block", "n_blocks", "d_hidden", "n_bins", "hidden_layer_sizes"]


@pytest.mark.parametrize("arch, change, what", _CHANGES, ids=_CHANGE_IDS)
def test_warm_start_refuses_changed_network(regression, arch, change, what):
    X, y = regression
    kw = dict(max_iter=1, warm_start=True, random_state=0)
    reg = NNRegressor(architecture=clone(arch), **kw).fit(X, y)
    params, layers = reg.params_.copy(), reg.layers_
    reg.set_params(**change)
    with pytest.raises(ValueError) as info:
        reg.fit(X, y)
    message = str(info.value)
    assert what in message and "warm_start=False" in message, message
    # The failed fit left the model as it was.
    np.testing.assert_array_equal(reg.params_, params)
    assert reg.layers_ is layers
    # From scratch, the new network is fitted.
    reg.set_params(warm_start=False).fit(X, y)
    assert reg.params_.shape != params.shape


@pytest.mark.parametrize("arch, change, what", _CHANGES, ids=_CHANGE_IDS)
def test_partial_fit_refuses_changed_network(regression, arch, change, what):
    X, y = regression
    reg = NNRegressor(architecture=clone(arch), random_state=0)
    reg.partial_fit(X, y)
    params = reg.params_.copy()
    reg.set_params(**change)
    with pytest.raises(ValueError, match="warm_start=False") as info:
        reg.partial_fit(X, y)
    assert what in str(info.value)
    np.testing.assert_array_equal(reg.params_, params)


@pytest.mark.parametrize("resume", ["warm_start", "partial_fit"])
@pytest.mark.parametrize(
    "embedding, change",
    [
        (PiecewiseLinearEncoding(n_bins=8, columns=[0]), {"n_bins": 16}),
        (
            PeriodicEmbedding(n_frequencies=2, d_embedding=2, columns=[0]),
            {"columns": [1]},
        ),
    ],
    ids=["n_bins", "columns"],
)
def test_resuming_refuses_a_change_the_fitted_state_depends_on(
    regression, resume, embedding, change
):
    # Column 0 has three values: 8 or 16 bins give the same three edges, and
    # embedding column 1 instead of 0 keeps every shape. The fitted state
    # (bin edges, embedded columns) would silently stay the old one.
    X, y = regression
    X = X.copy()
    X[:, 0] = np.arange(len(X)) % 3
    reg = NNRegressor(
        architecture=MLP(embedding=clone(embedding)),
        max_iter=1,
        warm_start=True,
        random_state=0,
    )
    getattr(reg, "fit" if resume == "warm_start" else "partial_fit")(X, y)
    params, state = reg.params_.copy(), copy.deepcopy(reg.layer_state_)
    reg.set_params(**{f"architecture__embedding__{k}": v for k, v in change.items()})
    ((name, value),) = change.items()
    with pytest.raises(ValueError, match="warm_start=False") as info:
        getattr(reg, "fit" if resume == "warm_start" else "partial_fit")(X, y)
    assert f"{name}={value!r}, not the fitted" in str(info.value)
    np.testing.assert_array_equal(reg.params_, params)
    _assert_same_layer_state(reg.layer_state_, state)
    # From scratch the state follows the new hyperparameter.
    reg.set_params(warm_start=False).fit(X, y)
    assert getattr(reg.layers_[0], name) == value


def test_warm_start_continues_with_the_current_dropout(regression):
    X, y = regression
    kw = dict(random_state=0, shuffle=False, batch_size=32, max_iter=1)
    arch = ResNet(n_blocks=1, d_block=8, dropout1=0.0)
    same = NNRegressor(architecture=clone(arch), warm_start=True, **kw).fit(X, y)
    changed = NNRegressor(architecture=clone(arch), warm_start=True, **kw).fit(X, y)
    same.fit(X, y)
    changed.set_params(architecture__dropout1=0.5).fit(X, y)
    # The fitted parameters and running statistics continue; the new rate
    # takes effect, as a changed alpha or learning rate does.
    assert [layer.dropout1 for layer in changed.layers_[1:2]] == [0.5]
    assert changed.params_.shape == same.params_.shape
    assert not np.array_equal(changed.params_, same.params_)
    assert len(changed.history_) == 2
    # Nothing changed: the continuation is exactly two epochs of one fit.
    full = NNRegressor(architecture=arch, **{**kw, "max_iter": 2}).fit(X, y)
    np.testing.assert_array_equal(full.params_, same.params_)


# ------------------------------------------------------- divergence recovery
class _RecordState(Callback):
    """Keeps the trained state after every epoch."""

    def on_train_begin(self, estimator, X=None, y=None):
        self.states_ = []

    def on_epoch_end(self, estimator, epoch, logs):
        state = copy.deepcopy(estimator.layer_state_)
        self.states_.append((estimator.params_.copy(), state))


def _assert_same_layer_state(a, b):
    assert len(a) == len(b)
    for s, t in zip(a, b):
        assert s.keys() == t.keys()
        for k in s:
            np.testing.assert_array_equal(s[k], t[k])


def test_divergence_rolls_back_the_layer_state(regression):
    X, y = regression
    kw = dict(
        architecture=ResNet(n_blocks=1, d_block=8, dropout1=0.0),
        optimizer="sgd",
        learning_rate=0.5,  # diverges after a few epochs
        shuffle=False,
        batch_size=20,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="diverged") as record:
        reg = NNRegressor(max_iter=30, callbacks=[_RecordState()], **kw).fit(X, y)
    message = next(str(w.message) for w in record if "diverged" in str(w.message))
    epoch = int(re.search(r"restored the weights after epoch (\d+)", message)[1])
    assert epoch >= 2
    # Weights and running statistics are those of the restored epoch...
    params, state = reg.callbacks_[0].states_[epoch - 1]
    np.testing.assert_array_equal(reg.params_, params)
    _assert_same_layer_state(reg.layer_state_, state)
    # ... which a fit stopped at that epoch reaches too.
    ref = NNRegressor(max_iter=epoch, **kw).fit(X, y)
    np.testing.assert_array_equal(reg.params_, ref.params_)
    _assert_same_layer_state(reg.layer_state_, ref.layer_state_)
    np.testing.assert_array_equal(reg.predict(X), ref.predict(X))
    assert np.isfinite(reg.predict(X)).all()


def test_divergence_with_diverged_statistics_restores_the_start(regression):
    X, y = regression
    kw = dict(
        architecture=ResNet(n_blocks=1, d_block=8, dropout1=0.0),
        optimizer="sgd",
        learning_rate=1.0,
        shuffle=False,
        batch_size=20,
        random_state=0,
    )
    # The running statistics overflow with the weights: restoring the weights
    # alone left a network whose outputs overflow even at the start.
    with pytest.warns(UserWarning, match="restored the weights training started"):
        reg = NNRegressor(max_iter=30, **kw).fit(X, y)
    for s in reg.layer_state_:
        assert all(np.isfinite(v).all() for v in s.values())
    assert np.isfinite(reg.predict(X)).all()


def test_early_stopping_restores_the_best_epochs_layer_state(regression):
    X, y = regression
    kw = dict(
        architecture=ResNet(n_blocks=1, d_block=8, dropout1=0.0),
        early_stopping=True,
        n_iter_no_change=2,
        learning_rate=0.05,
        random_state=0,
    )
    reg = NNRegressor(max_iter=60, callbacks=[_RecordState()], **kw).fit(X, y)
    best = int(np.argmax(reg.validation_scores_))
    assert best < len(reg.history_) - 1  # later epochs were worse
    params, state = reg.callbacks_[0].states_[best]
    np.testing.assert_array_equal(reg.params_, params)
    _assert_same_layer_state(reg.layer_state_, state)


def test_best_epochs_layer_state_is_saved_and_checked(tmp_path, regression):
    X, y = regression
    arch = ResNet(n_blocks=1, d_block=8, dropout1=0.0)
    kw = dict(architecture=arch, early_stopping=True, max_iter=5, random_state=0)
    reg = NNRegressor(**kw).fit(X, y)
    assert len(reg._best_layer_state) == len(reg.layer_state_)
    sknn.save(reg, tmp_path / "model.sknn")
    loaded = sknn.load(tmp_path / "model.sknn")
    _assert_same_layer_state(loaded._best_layer_state, reg._best_layer_state)
    # Resumed, the loaded model continues exactly as the original.
    for est in (reg, loaded):
        est.set_params(warm_start=True, max_iter=3).fit(X, y)
    np.testing.assert_array_equal(loaded.params_, reg.params_)
    _assert_same_layer_state(loaded.layer_state_, reg.layer_state_)
    # A best state that does not fit the network is refused.
    reg._best_layer_state = reg._best_layer_state[:-1]
    sknn.save(reg, tmp_path / "bad.sknn")
    with pytest.raises(ValueError, match="_best_layer_state"):
        sknn.load(tmp_path / "bad.sknn")


# ------------------------------------------------- embedding columns by name
@pytest.fixture
def diabetes_frame():
    pytest.importorskip("pandas")
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    return X.iloc[:150], (y / y.std()).iloc[:150]


_EMBEDDINGS = [
    lambda columns: PiecewiseLinearEncoding(n_bins=4, columns=columns),
    lambda columns: PeriodicEmbedding(4, 0.1, d_embedding=3, columns=columns),
]


@pytest.mark.parametrize("embedding", _EMBEDDINGS, ids=["ple", "plr"])
def test_embedding_columns_by_name(tmp_path, diabetes_frame, embedding):
    X, y = diabetes_frame
    kw = dict(max_iter=3, random_state=0)
    by_name = MLP(embedding=embedding(["bmi", "age"]))
    reg = NNRegressor(architecture=by_name, **kw).fit(X, y)
    # The fitted layer holds the positions of those columns, once mapped.
    assert list(X.columns[[0, 2]]) == ["age", "bmi"]
    assert reg.layers_[0].columns == [2, 0]
    np.testing.assert_array_equal(reg.layer_state_[0]["columns"], [0, 2])
    assert reg.architecture.embedding.columns == ["bmi", "age"]  # unchanged
    # It is the network of the same positions, and predicts on an array too.
    by_position = MLP(embedding=embedding([0, 2]))
    ref = NNRegressor(architecture=by_position, **kw).fit(X.to_numpy(), y)
    np.testing.assert_array_equal(reg.params_, ref.params_)
    np.testing.assert_array_equal(reg.predict(X), ref.predict(X.to_numpy()))
    # Saved and loaded, and resumed with the names.
    sknn.save(reg, tmp_path / "model.sknn")
    loaded = sknn.load(tmp_path / "model.sknn")
    np.testing.assert_array_equal(loaded.predict(X), reg.predict(X))
    loaded.set_params(warm_start=True).fit(X, y)
    assert len(loaded.history_) == 6 and loaded.layers_[0].columns == [2, 0]


@pytest.mark.parametrize("embedding", _EMBEDDINGS, ids=["ple", "plr"])
def test_embedding_column_names_are_checked(diabetes_frame, embedding):
    X, y = diabetes_frame
    reg = NNRegressor(architecture=MLP(embedding=embedding(["age", "weight"])))
    with pytest.raises(ValueError) as info:
        reg.fit(X, y)
    message = str(info.value)
    assert "architecture__embedding__columns" in message
    assert "'weight'" in message and "'age'" in message and "'s6'" in message
    # Names need the feature names of a DataFrame.
    reg = NNRegressor(architecture=MLP(embedding=embedding(["age"])))
    with pytest.raises(ValueError, match="DataFrame") as info:
        reg.fit(X.to_numpy(), y)
    assert "architecture__embedding__columns" in str(info.value)
    assert not hasattr(reg, "params_")
