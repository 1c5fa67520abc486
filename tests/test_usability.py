"""What a user coming from scikit-learn's MLP meets: clear errors instead of
silent mistakes, MLP's parameter names answered with sknn's spelling, and
early stopping on a validation set of the user's own."""

import inspect
import re

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.base import clone
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from sknn import NNClassifier, NNRegressor
from sknn.callbacks import Callback, EarlyStopping

# Short fits that reach max_iter are intended here.
pytestmark = pytest.mark.filterwarnings("ignore", category=ConvergenceWarning)


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    order = np.random.RandomState(0).permutation(len(y))
    train, valid = order[:100], order[100:]
    return X[train], y[train], X[valid], y[valid]


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(
        n_samples=160, n_features=5, n_targets=2, noise=1.0, random_state=0
    )
    y /= y.std(axis=0)
    return X[:120], y[:120], X[120:], y[120:]


class ValidationF1(Callback):
    """Writes the macro F1 on a fixed data set into each history record."""

    def __init__(self, X=None, y=None):
        self.X = X
        self.y = y

    def on_epoch_end(self, estimator, epoch, logs):
        logs["val_f1"] = f1_score(self.y, estimator.predict(self.X), average="macro")


# --------------------------------------------------- EarlyStopping's monitor
@pytest.mark.parametrize(
    "monitor, early_stopping, hint",
    [
        ("valid_loss", False, "set early_stopping=True"),  # no validation set
        ("valid_score", False, "set early_stopping=True"),
        ("valid_los", True, "'valid_loss'"),  # a typo: the real keys are listed
    ],
)
def test_early_stopping_callback_on_a_missing_key_raises(
    iris, monitor, early_stopping, hint
):
    X, y, _, _ = iris
    clf = NNClassifier(
        hidden_layer_sizes=(5,),
        max_iter=5,
        early_stopping=early_stopping,
        callbacks=[EarlyStopping(monitor=monitor, lower_is_better=True)],
        random_state=0,
    )
    with pytest.raises(ValueError, match=f"no key {monitor!r}") as info:
        clf.fit(X, y)
    assert hint in str(info.value) and "'train_loss'" in str(info.value)
    assert not hasattr(clf, "coefs_")  # the failed fit leaves it unfitted


def test_early_stopping_refuses_to_guess_the_direction_of_a_user_key(iris):
    X, y, X_val, y_val = iris
    f1 = ValidationF1(X_val, y_val)
    clf = NNClassifier(
        hidden_layer_sizes=(5,),
        max_iter=5,
        callbacks=[f1, EarlyStopping(monitor="val_f1")],
        random_state=0,
    )
    with pytest.raises(ValueError, match="lower_is_better=False") as info:
        clf.fit(X, y)
    assert "'val_f1'" in str(info.value)
    assert not hasattr(clf, "history_")  # refused before the first epoch


def test_early_stopping_maximises_a_user_score_when_told(iris):
    X, y, X_val, y_val = iris
    clf = NNClassifier(
        hidden_layer_sizes=(3,),
        learning_rate=0.05,
        max_iter=60,
        callbacks=[
            ValidationF1(X_val, y_val),
            EarlyStopping(monitor="val_f1", lower_is_better=False, patience=8),
        ],
        random_state=0,
    ).fit(X, y)
    scores = [r["val_f1"] for r in clf.history_]
    assert max(scores) > min(scores)
    stopper = clf.callbacks_[1]
    assert stopper.best_ == max(scores)
    assert scores[stopper.best_epoch_ - 1] == max(scores)
    # The weights kept are those of the highest F1, not of the lowest.
    final = f1_score(y_val, clf.predict(X_val), average="macro")
    assert final == max(scores)


@pytest.mark.parametrize(
    "monitor, lower",
    [("train_loss", True), ("valid_loss", True), ("valid_score", False)],
)
def test_early_stopping_infers_the_direction_of_built_in_keys(iris, monitor, lower):
    X, y, _, _ = iris
    clf = NNClassifier(
        hidden_layer_sizes=(5,),
        max_iter=30,
        early_stopping=True,
        n_iter_no_change=np.inf,
        callbacks=[EarlyStopping(monitor=monitor, patience=100)],
        random_state=0,
    ).fit(X, y)
    values = [r[monitor] for r in clf.history_]
    best = min(values) if lower else max(values)
    assert clf.callbacks_[0].best_ == best


def test_early_stopping_checks_lower_is_better(iris):
    X, y, _, _ = iris
    clf = NNClassifier(
        max_iter=2, callbacks=[EarlyStopping("train_loss", lower_is_better="yes")]
    )
    with pytest.raises(TypeError, match="lower_is_better must be True, False or None"):
        clf.fit(X, y)


# ------------------------------------------------ partial_fit: what and why
def test_partial_fit_refuses_balanced_class_weight(iris):
    X, y, _, _ = iris
    clf = NNClassifier(hidden_layer_sizes=(5,), class_weight="balanced")
    with pytest.raises(ValueError, match="compute_class_weight"):
        clf.partial_fit(X[:20], y[:20], classes=[0, 1, 2])
    assert not hasattr(clf, "coefs_")
    # Weights computed once from all the labels and given as a dict work, and
    # weigh a chunk of a single class as they weigh the whole data.
    weights = dict(zip([0, 1, 2], [1.0, 2.0, 3.0]))
    chunk = y == 2
    by_dict = NNClassifier(
        hidden_layer_sizes=(5,), class_weight=weights, random_state=0
    )
    by_dict.partial_fit(X[chunk], y[chunk], classes=[0, 1, 2])
    by_sw = NNClassifier(hidden_layer_sizes=(5,), random_state=0)
    by_sw.partial_fit(
        X[chunk], y[chunk], classes=[0, 1, 2], sample_weight=np.full(chunk.sum(), 3.0)
    )
    np.testing.assert_allclose(by_dict.coefs_[0], by_sw.coefs_[0])


@pytest.mark.parametrize("Est", [NNClassifier, NNRegressor])
@pytest.mark.parametrize(
    "params, why",
    [
        ({"optimizer": "lbfgs"}, "full-batch optimizer LBFGS"),
        ({"early_stopping": True}, "early_stopping=True"),
    ],
)
def test_missing_partial_fit_says_why_in_its_own_message(Est, params, why):
    est = Est(**params)
    assert not hasattr(est, "partial_fit")
    with pytest.raises(AttributeError) as info:
        est.partial_fit  # noqa: B018
    message = str(info.value)
    assert "has no attribute 'partial_fit'" in message
    assert why in message and "Use fit" in message
    assert hasattr(Est(), "partial_fit")
    # The unbound method checks too, and keeps its signature and docstring.
    with pytest.raises(AttributeError, match=re.escape(why)):
        Est.partial_fit(est, None, None)
    assert "sample_weight" in inspect.signature(Est.partial_fit).parameters
    assert "one epoch" in Est.partial_fit.__doc__


# ----------------------------------------------------------- MLP's names
@pytest.mark.parametrize("name", ["constant", "invscaling", "adaptive"])
def test_mlp_schedule_names_as_learning_rate_point_to_lr_schedule(iris, name):
    X, y, _, _ = iris
    with pytest.raises(TypeError, match="lr_schedule=") as info:
        NNClassifier(learning_rate=name).fit(X, y)
    message = str(info.value)
    assert "learning_rate must be a float" in message and "plateau" in message


MLP_NAMES = [
    ("solver", "sgd", "optimizer='sgd'"),
    ("learning_rate_init", 0.01, "learning_rate=0.01"),
    ("momentum", 0.5, "optimizer=SGD(momentum=0.5)"),
    ("nesterovs_momentum", False, "optimizer=SGD(nesterov=False)"),
    ("beta_1", 0.8, "optimizer=Adam(beta_1=0.8)"),
    ("beta_2", 0.99, "optimizer=Adam(beta_2=0.99)"),
    ("epsilon", 1e-6, "optimizer=Adam(epsilon=1e-06)"),
    ("power_t", 0.25, "lr_schedule=InvScaling(power_t=0.25)"),
    ("max_fun", 100, "optimizer=LBFGS(max_fun=100)"),
]


@pytest.mark.parametrize("Est", [NNClassifier, NNRegressor])
@pytest.mark.parametrize("name, value, spelling", MLP_NAMES)
def test_mlp_parameter_names_get_the_sknn_spelling(Est, name, value, spelling):
    with pytest.raises(TypeError, match="unexpected keyword argument") as info:
        Est(hidden_layer_sizes=(5,), **{name: value})
    assert repr(name) in str(info.value) and spelling in str(info.value)
    with pytest.raises(ValueError, match="Invalid parameter") as info:
        Est().set_params(**{name: value})
    assert spelling in str(info.value)


def test_mlp_names_are_answered_together_and_inside_a_pipeline():
    with pytest.raises(TypeError) as info:
        NNClassifier(solver="sgd", momentum=0.5)
    message = str(info.value)
    assert "arguments 'solver', 'momentum'" in message
    assert "optimizer='sgd'" in message and "optimizer__momentum" in message
    pipe = make_pipeline(StandardScaler(), NNClassifier())
    with pytest.raises(ValueError, match=re.escape("optimizer='lbfgs'")):
        pipe.set_params(nnclassifier__solver="lbfgs")
    search = GridSearchCV(NNClassifier(), {"solver": ["sgd", "adam"]}, cv=2)
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=re.escape("optimizer='sgd'")):
        search.fit(X, y)
    # Other unknown names get Python's own message.
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        NNClassifier(colour="red")


@pytest.mark.parametrize("Est", [NNClassifier, NNRegressor])
def test_constructor_signature_and_parameters_are_unchanged(Est):
    signature = inspect.signature(Est)
    assert sorted(signature.parameters) == sorted(Est().get_params())
    assert all(
        p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        for p in signature.parameters.values()
    )
    est = Est(alpha=0.5, optimizer="sgd")
    assert est.alpha == 0.5 and est.optimizer == "sgd"
    assert clone(est).get_params() == est.get_params()


# -------------------------------------------- the user's own validation set
@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_classifier_early_stops_on_the_given_validation_set(iris, optimizer):
    X, y, X_val, y_val = iris
    seen = []

    class Record(Callback):
        def on_epoch_end(self, estimator, epoch, logs):
            seen.append(logs["valid_score"])

    clf = NNClassifier(
        hidden_layer_sizes=(8,),
        optimizer=optimizer,
        learning_rate=0.01,
        early_stopping=True,
        validation_fraction=0.5,  # not used
        max_iter=40,
        callbacks=[Record()],
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    scores = [r["valid_score"] for r in clf.history_]
    assert clf.validation_scores_ == scores == seen
    # The weights kept are those of the best score on X_val ...
    assert clf.score(X_val, y_val) == clf.best_validation_score_ == max(scores)
    # ... and every training sample was trained on.
    assert clf.t_ == clf.n_iter_ * len(y)


def test_regressor_early_stops_on_the_given_validation_set(regression):
    X, y, X_val, y_val = regression
    w = np.random.RandomState(1).uniform(0.5, 2.0, size=len(y_val))
    reg = NNRegressor(
        hidden_layer_sizes=(16,),
        learning_rate=0.01,
        early_stopping=True,
        max_iter=40,
        callbacks=[EarlyStopping(monitor="valid_loss", patience=5)],
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=w)
    assert len(reg.validation_scores_) == reg.n_iter_ == len(reg.history_)
    assert reg.t_ == reg.n_iter_ * len(y)
    # The best epoch by score is restored first, then the callback's best
    # epoch by validation loss: its score is recorded in history_.
    best = reg.history_[reg.callbacks_[0].best_epoch_ - 1]
    assert reg.score(X_val, y_val, sample_weight=w) == pytest.approx(
        best["valid_score"], rel=1e-12
    )


def test_given_validation_set_weights_and_dtype(iris):
    X, y, X_val, y_val = iris
    cw = {0: 1.0, 1: 3.0, 2: 0.5}
    w = np.random.RandomState(2).uniform(0.5, 2.0, size=len(y_val))
    clf = NNClassifier(
        hidden_layer_sizes=(8,),
        early_stopping=True,
        class_weight=cw,
        max_iter=20,
        random_state=0,
    ).fit(X.astype(np.float32), y, X_val=X_val, y_val=y_val, sample_weight_val=w)
    assert clf.coefs_[0].dtype == np.float32  # X_val follows X's dtype
    # class_weight weighs the validation samples as it weighs the training ones.
    weights = w * compute_sample_weight(cw, y_val)
    expected = clf.score(X_val.astype(np.float32), y_val, sample_weight=weights)
    assert clf.best_validation_score_ == pytest.approx(expected, rel=1e-6)


def test_given_validation_set_for_multilabel_and_string_classes(iris):
    X, y, X_val, y_val = iris
    names = np.array(["a", "b", "c"])
    clf = NNClassifier(hidden_layer_sizes=(8,), early_stopping=True, max_iter=10)
    clf.fit(X, names[y], X_val=X_val, y_val=names[y_val])
    assert clf.best_validation_score_ == clf.score(X_val, names[y_val])
    Y, Y_val = np.eye(3)[y].astype(int), np.eye(3)[y_val].astype(int)
    clf.fit(X, Y, X_val=X_val, y_val=Y_val)
    assert clf.best_validation_score_ == clf.score(X_val, Y_val)
    with pytest.raises(ValueError, match="label indicator matrix with 3 columns"):
        clf.fit(X, Y, X_val=X_val, y_val=y_val)


@pytest.mark.parametrize(
    "given, error",
    [
        ({"X_val": "X_val"}, "X_val is passed to fit without y_val"),
        ({"y_val": "y_val"}, "y_val is passed to fit without X_val"),
        ({"sample_weight_val": "w"}, "sample_weight_val is given without X_val"),
        ({"X_val": "X_val3", "y_val": "y_val"}, "X_val has 3 features"),
        ({"X_val": "X_val", "y_val": "y_val+5"}, r"y_val has classes \[5, 6, 7\]"),
        ({"X_val": "X_val", "y_val": "y_val[1:]"}, "y_val has 49 samples but X_val"),
        ({"X_val": "X_val", "y_val": "y_val", "sample_weight_val": "-w"}, "non-negat"),
        ({"X_val": "X_val[:1]", "y_val": "y_val[:1]"}, "X_val.*minimum of 2"),
        ({"X_val": "X_val_nan", "y_val": "y_val"}, "Input X_val contains NaN"),
    ],
)
def test_given_validation_set_is_checked_like_the_training_data(iris, given, error):
    X, y, X_val, y_val = iris
    X_val_nan = X_val.copy()
    X_val_nan[0, 0] = np.nan
    values = {
        "X_val": X_val,
        "X_val3": X_val[:, :3],
        "X_val_nan": X_val_nan,
        "X_val[:1]": X_val[:1],
        "y_val": y_val,
        "y_val+5": y_val + 5,
        "y_val[1:]": y_val[1:],
        "y_val[:1]": y_val[:1],
        "w": np.ones(len(y_val)),
        "-w": -np.ones(len(y_val)),
    }
    clf = NNClassifier(hidden_layer_sizes=(5,), early_stopping=True, max_iter=3)
    with pytest.raises(ValueError, match=error):
        clf.fit(X, y, **{k: values[v] for k, v in given.items()})
    assert not hasattr(clf, "coefs_")


def test_given_validation_set_needs_early_stopping(iris, regression):
    X, y, X_val, y_val = iris
    with pytest.raises(ValueError, match="early_stopping=False") as info:
        NNClassifier().fit(X, y, X_val=X_val, y_val=y_val)
    assert "n_iter_no_change=np.inf" in str(info.value)
    X, y, X_val, y_val = regression
    reg = NNRegressor(early_stopping=True, max_iter=3)
    with pytest.raises(ValueError, match="y_val has 1 output"):
        reg.fit(X, y, X_val=X_val, y_val=y_val[:, 0])


def _pipeline(transform_input=None):
    nn = NNClassifier(
        hidden_layer_sizes=(8,),
        learning_rate=0.01,
        early_stopping=True,
        max_iter=25,
        random_state=0,
    )
    with sklearn.config_context(enable_metadata_routing=True):
        nn.set_fit_request(X_val=True, y_val=True, sample_weight_val=True)
    return make_pipeline(StandardScaler(), nn, transform_input=transform_input)


def test_validation_set_routes_through_a_pipeline():
    X, y = load_iris(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(y))
    X, y, X_val, y_val = X[order[:100]], y[order[:100]], X[order[100:]], y[order[100:]]
    w = np.linspace(0.5, 1.5, len(y_val))
    scaler = StandardScaler().fit(X)
    direct = clone(_pipeline()[-1]).fit(
        scaler.transform(X),
        y,
        X_val=scaler.transform(X_val),
        y_val=y_val,
        sample_weight_val=w,
    )
    with sklearn.config_context(enable_metadata_routing=True):
        # transform_input makes the scaler (fitted on X) transform X_val too.
        pipe = _pipeline(transform_input=["X_val"])
        pipe.fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=w)
        assert pipe[-1].validation_scores_ == direct.validation_scores_
        # Without it, X_val reaches the network as given.
        raw = _pipeline().fit(X, y, X_val=X_val, y_val=y_val, sample_weight_val=w)
        assert raw[-1].validation_scores_ != direct.validation_scores_


def test_validation_set_routes_through_grid_search():
    X, y = load_iris(return_X_y=True)
    order = np.random.RandomState(0).permutation(len(y))
    X, y, X_val, y_val = X[order[:100]], y[order[:100]], X[order[100:]], y[order[100:]]
    folds = [(np.arange(50), np.arange(50, 100)), (np.arange(50, 100), np.arange(50))]

    def best_validation_score(est, X_, y_):
        return est[-1].best_validation_score_

    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            _pipeline(transform_input=["X_val"]),
            {"nnclassifier__alpha": [1e-4, 1.0]},
            cv=folds,
            scoring=best_validation_score,
        ).fit(X, y, X_val=X_val, y_val=y_val)
        for i, (train, _) in enumerate(folds):
            for j, alpha in enumerate([1e-4, 1.0]):
                pipe = _pipeline(transform_input=["X_val"])
                pipe.set_params(nnclassifier__alpha=alpha)
                pipe.fit(X[train], y[train], X_val=X_val, y_val=y_val)
                got = search.cv_results_[f"split{i}_test_score"][j]
                assert got == pipe[-1].best_validation_score_
    refit = search.best_estimator_[-1]
    assert refit.score(StandardScaler().fit(X).transform(X_val), y_val) == (
        refit.best_validation_score_
    )


def test_given_validation_set_may_be_sparse_or_a_dataframe(iris):
    pd = pytest.importorskip("pandas")
    X, y, X_val, y_val = iris
    kw = dict(hidden_layer_sizes=(5,), early_stopping=True, max_iter=5, random_state=0)
    dense = NNClassifier(**kw).fit(X, y, X_val=X_val, y_val=y_val)
    sparse = NNClassifier(**kw).fit(
        sp.csr_matrix(X), y, X_val=sp.csc_matrix(X_val), y_val=y_val
    )
    np.testing.assert_allclose(sparse.validation_scores_, dense.validation_scores_)
    df, df_val = (
        pd.DataFrame(X, columns=list("abcd")),
        pd.DataFrame(X_val, columns=list("abcd")),
    )
    framed = NNClassifier(**kw).fit(df, y, X_val=df_val, y_val=pd.Series(y_val))
    assert framed.validation_scores_ == dense.validation_scores_
    with pytest.raises(ValueError, match="X_val: The feature names should match"):
        NNClassifier(**kw).fit(df, y, X_val=df_val[list("dcba")], y_val=y_val)
