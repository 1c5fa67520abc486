"""LossCurveDisplay draws exactly the values of ``history_``."""

import builtins
import sys

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier, NNRegressor

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from sknn.inspection import LossCurveDisplay  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _column(estimator, key):
    return [record[key] for record in estimator.history_]


def _xy(line):
    return list(line.get_xdata()), list(line.get_ydata())


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_lines_hold_the_history_with_a_validation_set(iris):
    X, y = iris
    clf = NNClassifier((8,), early_stopping=True, random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(clf)

    epochs = _column(clf, "epoch")
    assert set(display.lines_) == {"train_loss", "valid_loss", "valid_score"}
    for key, line in display.lines_.items():
        assert _xy(line) == (epochs, _column(clf, key))
    assert display.line_ is display.lines_["train_loss"]
    assert display.lines_["valid_score"] in display.score_ax_.get_lines()
    assert display.lines_["valid_loss"] in display.ax_.get_lines()
    assert display.figure_ is display.ax_.figure
    assert display.score_ax_.get_ylabel() == "validation score"
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert labels == [
        "NNClassifier: training loss",
        "NNClassifier: validation loss",
        "NNClassifier: validation score",
    ]


def test_without_a_validation_set_only_the_training_loss_is_drawn():
    X, y = make_regression(200, 5, noise=1.0, random_state=0)
    reg = NNRegressor((8,), max_iter=20, n_iter_no_change=100, random_state=0)
    with pytest.warns(ConvergenceWarning):
        reg.fit(X, y)
    display = LossCurveDisplay.from_estimator(reg)
    assert list(display.lines_) == ["train_loss"]
    assert _xy(display.line_) == (list(range(1, 21)), reg.loss_curve_)
    assert display.score_ax_ is None


def test_partial_fit_history_continues_and_pipeline_uses_its_last_step(iris):
    X, y = iris
    clf = NNClassifier((8,), random_state=0)
    for _ in range(3):
        clf.partial_fit(X, y, classes=np.unique(y))
    display = LossCurveDisplay.from_estimator(clf)
    assert _xy(display.line_) == ([1, 2, 3], _column(clf, "train_loss"))

    pipe = make_pipeline(
        StandardScaler(), NNClassifier((8,), early_stopping=True, random_state=0)
    ).fit(X, y)
    display = LossCurveDisplay.from_estimator(pipe, name="scaled")
    assert _xy(display.lines_["valid_score"])[1] == _column(pipe[-1], "valid_score")
    assert display.line_.get_label() == "scaled: training loss"


def test_plot_on_given_axes_with_line_keywords_and_without_score(iris):
    X, y = iris
    clf = NNClassifier((8,), early_stopping=True, random_state=0).fit(X, y)
    fig, ax = plt.subplots()
    display = LossCurveDisplay.from_estimator(clf, ax=ax, score=False, color="red")
    assert display.ax_ is ax and display.figure_ is fig
    assert set(display.lines_) == {"train_loss", "valid_loss"}
    assert display.score_ax_ is None
    assert all(line.get_color() == "red" for line in display.lines_.values())

    # The constructor takes the values; plot() draws them again on other axes.
    _, other = plt.subplots()
    display.plot(ax=other, name="again")
    assert display.ax_ is other
    assert _xy(display.lines_["valid_score"])[1] == _column(clf, "valid_score")


def test_unfitted_estimator_raises_not_fitted():
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(NNClassifier())


def test_missing_matplotlib_names_the_extra(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for name in [m for m in sys.modules if m.startswith("matplotlib")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    display = LossCurveDisplay(epochs=[1], train_loss=[1.0])
    with pytest.raises(ImportError, match=r'pip install "sknn\[plot\]"'):
        display.plot()
