"""Plots of fitted sknn estimators, in scikit-learn's Display style.

Matplotlib is an optional dependency: install it with ``pip install "sknn[plot]"``.
"""

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["LossCurveDisplay"]

_LABELS = {
    "train_loss": "training loss",
    "valid_loss": "validation loss",
    "valid_score": "validation score",
}


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "LossCurveDisplay needs matplotlib, which is not installed. Install "
            'the "plot" extra: pip install "sknn[plot]".'
        ) from exc
    return plt


class LossCurveDisplay:
    """Loss curves of a fitted network: training loss, validation loss and score.

    Draws the per-epoch records of an estimator's ``history_``: the training loss
    and, when the fit had a validation set, the validation loss on the same axis
    and the validation score on a second y axis. Create it with
    :meth:`from_estimator`; the constructor takes the values themselves.

    Parameters
    ----------
    epochs : array-like of shape (n_epochs,)
        Epoch numbers, from 1.
    train_loss : array-like of shape (n_epochs,)
        Training objective (data loss plus the L2 term) after each epoch.
    valid_loss : array-like of shape (n_epochs,) or None, default=None
        Data loss on the validation set after each epoch.
    valid_score : array-like of shape (n_epochs,) or None, default=None
        Score (accuracy or R²) on the validation set after each epoch.
    estimator_name : str or None, default=None
        Name shown in the legend.

    Attributes
    ----------
    lines_ : dict of str to matplotlib.lines.Line2D
        The lines drawn, keyed by ``"train_loss"``, ``"valid_loss"`` and
        ``"valid_score"`` (those that were drawn).
    line_ : matplotlib.lines.Line2D
        The training-loss line, ``lines_["train_loss"]``.
    ax_ : matplotlib.axes.Axes
        Axes with the losses.
    score_ax_ : matplotlib.axes.Axes or None
        Second y axis with the validation score, or None when no score was drawn.
    figure_ : matplotlib.figure.Figure
        Figure that contains the axes.

    See Also
    --------
    sklearn.model_selection.LearningCurveDisplay : Scores against training size.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from sknn import NNClassifier
    >>> from sknn.inspection import LossCurveDisplay
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NNClassifier(early_stopping=True, random_state=0).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(clf)
    >>> sorted(display.lines_)
    ['train_loss', 'valid_loss', 'valid_score']
    >>> list(display.line_.get_ydata()) == clf.loss_curve_
    True
    """

    def __init__(
        self,
        *,
        epochs,
        train_loss,
        valid_loss=None,
        valid_score=None,
        estimator_name=None,
    ):
        self.epochs = epochs
        self.train_loss = train_loss
        self.valid_loss = valid_loss
        self.valid_score = valid_score
        self.estimator_name = estimator_name

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, score=True, **kwargs):
        """Plot the loss curves of a fitted estimator from its ``history_``.

        Parameters
        ----------
        estimator : NNClassifier, NNRegressor or Pipeline
            A fitted estimator, or a fitted pipeline whose last step is one.
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw the losses on; None creates a figure and axes.
        name : str or None, default=None
            Name shown in the legend; None uses the estimator's class name.
        score : bool, default=True
            Draw the validation score on a second y axis, when there is one.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            every line.

        Returns
        -------
        display : LossCurveDisplay
            The display, with the lines drawn.
        """
        _pyplot()
        final = estimator
        if hasattr(final, "steps"):
            final = final[-1]
        check_is_fitted(final, "history_")
        history = final.history_

        def column(key):
            if not history or key not in history[0]:
                return None
            return np.array([record[key] for record in history], dtype=float)

        display = cls(
            epochs=column("epoch"),
            train_loss=column("train_loss"),
            valid_loss=column("valid_loss"),
            valid_score=column("valid_score"),
            estimator_name=name or type(final).__name__,
        )
        return display.plot(ax=ax, score=score, **kwargs)

    def plot(self, ax=None, *, name=None, score=True, **kwargs):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib.axes.Axes or None, default=None
            Axes to draw the losses on; None creates a figure and axes.
        name : str or None, default=None
            Name shown in the legend; None uses ``estimator_name``.
        score : bool, default=True
            Draw the validation score on a second y axis, when there is one.
        **kwargs : dict
            Keyword arguments passed to :meth:`matplotlib.axes.Axes.plot` for
            every line.

        Returns
        -------
        display : LossCurveDisplay
            The display itself, with ``ax_``, ``figure_`` and ``lines_`` set.
        """
        plt = _pyplot()
        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        prefix = f"{name}: " if name else ""

        self.lines_ = {}
        series = [("train_loss", self.train_loss, "-")]
        if self.valid_loss is not None:
            series.append(("valid_loss", self.valid_loss, "--"))
        for key, values, style in series:
            (self.lines_[key],) = ax.plot(
                self.epochs,
                values,
                **{"linestyle": style, "label": prefix + _LABELS[key], **kwargs},
            )
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss")
        handles = list(ax.get_lines())

        self.score_ax_ = None
        if score and self.valid_score is not None:
            self.score_ax_ = ax.twinx()
            line_kwargs = {"linestyle": ":", "label": prefix + _LABELS["valid_score"]}
            line_kwargs["color"] = kwargs.get("color", "tab:green")
            line_kwargs.update(
                {k: v for k, v in kwargs.items() if k not in ("color", "c")}
            )
            (self.lines_["valid_score"],) = self.score_ax_.plot(
                self.epochs, self.valid_score, **line_kwargs
            )
            self.score_ax_.set_ylabel("validation score")
            handles.append(self.lines_["valid_score"])
        ax.legend(handles=handles, labels=[h.get_label() for h in handles])

        self.line_ = self.lines_["train_loss"]
        self.ax_ = ax
        self.figure_ = ax.figure
        return self
