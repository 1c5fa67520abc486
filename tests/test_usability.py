"""What a user coming from scikit-learn's MLP meets: clear errors instead of
silent mistakes."""

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import f1_score
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier
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
