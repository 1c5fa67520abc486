"""Callbacks: hooks into the training loop.

Callbacks passed to an estimator are cloned at the start of every ``fit``
(the clones are in ``callbacks_``), so the user's objects never change; a
clone may keep run-time state while training.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sknn import NNClassifier
>>> from sknn.callbacks import EarlyStopping
>>> X, y = load_iris(return_X_y=True)
>>> clf = NNClassifier(hidden_layer_sizes=(8,), max_iter=500, early_stopping=True,
...                    callbacks=[EarlyStopping(patience=3)], random_state=0)
>>> clf.fit(X, y).n_iter_ < 500
True
"""

import sys

import numpy as np

from ._base import Component, StopTraining
from ._registry import _make_registry

__all__ = ["Callback", "EarlyStopping", "ProgressTable", "StopTraining"]


class Callback(Component):
    """Base class of callbacks; every hook does nothing by default.

    Per fit, the hooks run in this order::

        on_train_begin
        for each epoch:
            on_epoch_begin
            for each minibatch:          (stochastic optimizers only)
                on_batch_begin
                on_grad_computed
                on_batch_end
            on_epoch_end
        on_train_end

    A full-batch optimizer (L-BFGS) calls the epoch hooks once per
    iteration and no batch hook. Only the hooks a callback overrides are
    called, so an unused hook costs nothing per batch. To stop training,
    raise :class:`sknn.StopTraining` from ``on_epoch_end`` or
    ``on_batch_end``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sknn import NNClassifier
    >>> from sknn.callbacks import Callback
    >>> class GradNorms(Callback):
    ...     def on_train_begin(self, estimator, X=None, y=None):
    ...         self.norms_ = []
    ...     def on_grad_computed(self, estimator, grad, batch):
    ...         self.norms_.append(float(np.linalg.norm(grad)))
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NNClassifier(hidden_layer_sizes=(8,), batch_size=50, max_iter=2,
    ...                    n_iter_no_change=5, callbacks=[GradNorms()],
    ...                    random_state=0)
    >>> len(clf.fit(X, y).callbacks_[0].norms_)  # 2 epochs of 3 batches
    6
    """

    def on_train_begin(self, estimator, X=None, y=None):
        """Called once at the start of ``fit``/``partial_fit``.

        Parameters
        ----------
        estimator : NNClassifier or NNRegressor
            The estimator about to train, its fitted attributes initialised.
        X, y : array-like or None
            The training data and targets as passed to ``fit``.
        """

    def on_epoch_begin(self, estimator, epoch):
        """Called before each epoch (each L-BFGS iteration).

        Parameters
        ----------
        estimator : NNClassifier or NNRegressor
            The estimator being trained.
        epoch : int
            One-based number of the epoch about to run, over the whole
            history (as in :meth:`on_epoch_end`).
        """

    def on_batch_begin(self, estimator, batch):
        """Called before each minibatch (not by full-batch optimizers).

        Parameters
        ----------
        estimator : NNClassifier or NNRegressor
            The estimator being trained.
        batch : int
            Zero-based number of the minibatch within the epoch.
        """

    def on_grad_computed(self, estimator, grad, batch):
        """Called with each minibatch's gradient, before the optimizer step.

        Parameters
        ----------
        estimator : NNClassifier or NNRegressor
            The estimator being trained.
        grad : ndarray of shape (n_params,)
            The gradient as one flat vector, laid out as the flat parameter
            vector (every ``coefs_`` then every ``intercepts_``, each
            flattened in C order). Writable: changing it in place changes
            the step. It leaves out the L2 term when the optimizer adds it
            itself (``optimizer.takes_l2``, e.g. AdamW).
        batch : int
            Zero-based number of the minibatch within the epoch.
        """

    def on_batch_end(self, estimator, batch, logs):
        """Called after each minibatch's optimizer step.

        Parameters
        ----------
        estimator : NNClassifier or NNRegressor
            The estimator being trained; ``coefs_`` hold the updated weights.
        batch : int
            Zero-based number of the minibatch within the epoch.
        logs : dict
            ``{"batch": batch, "size": rows in the batch, "loss": the batch's
            objective}``. Raising :class:`sknn.StopTraining` here ends
            training after this batch; the epoch is recorded over the batches
            it ran.
        """

    def on_epoch_end(self, estimator, epoch, logs):
        """Called after each epoch with the epoch's ``history_`` record.

        Parameters
        ----------
        estimator : NNClassifier or NNRegressor
            The estimator being trained; ``coefs_`` and ``intercepts_`` are
            its live parameters.
        epoch : int
            One-based epoch number over the whole history.
        logs : dict
            The record just appended to ``estimator.history_``.
        """

    def on_train_end(self, estimator):
        """Called once when training ends, however it ends."""


def _overriding(callbacks, hook):
    """The callbacks among ``callbacks`` whose class overrides ``hook``."""
    base = getattr(Callback, hook)
    return [cb for cb in callbacks if getattr(type(cb), hook, base) is not base]


registry = _make_registry("callbacks", Callback)
register_callback = registry.register


def _improvement(
    value, best, wait, min_delta, lower_is_better, tie=None, best_tie=None
):
    """One epoch of the early-stopping rule: ``(best, wait, keep)``.

    ``value`` improves when it beats ``best`` (the best value so far; None
    before the first epoch) by at least ``min_delta``, and strictly: ``wait``
    restarts at 0 and ``keep`` is True (this epoch becomes the best epoch).
    Otherwise ``wait`` grows by one. ``best`` follows every value that beats
    it, even by less than ``min_delta``. ``tie`` (lower is better) breaks a
    tie with ``best``: a value equal to ``best`` whose ``tie`` is below
    ``best_tie`` is kept, without restarting ``wait``. The comparisons are
    scikit-learn's (``value <= best - tol``), so that counts match its MLP.
    """
    if best is None:
        return value, 0, True
    if value < best if lower_is_better else value > best:
        if lower_is_better:
            improves = value <= best - min_delta
        else:
            improves = value >= best + min_delta
        return value, 0 if improves else wait + 1, improves
    keep = tie is not None and value == best and tie < best_tie
    return best, wait + 1, keep


@register_callback("early_stopping")
class EarlyStopping(Callback):
    """Stop when a monitored value stops improving; optionally restore the best.

    The rule, shared with the estimator's own ``early_stopping`` (which is
    this rule on ``"valid_score"``, or on ``"train_loss"`` without a
    validation set, with ``min_delta=tol`` and
    ``patience=n_iter_no_change + 1``):

    - An epoch *improves* when its value beats ``best_``, the best value so
      far, by at least ``min_delta`` (and is strictly better, so with
      ``min_delta=0`` a repeated value is no improvement). It becomes the best
      epoch (``best_epoch_``, whose weights ``restore_best`` puts back) and
      resets ``wait_`` to 0; any other epoch adds 1 to ``wait_``, and training
      stops when ``wait_`` reaches ``patience``.
    - ``best_`` follows every value that beats it, even by less than
      ``min_delta``: later epochs must beat that (scikit-learn's ``tol``
      rule), so gains smaller than ``min_delta`` never add up to an
      improvement, and the best epoch is the last one that improved.
    - With ``monitor="valid_score"``, an epoch whose score equals ``best_``
      with a lower ``valid_loss`` than the best epoch becomes the best epoch
      (without resetting ``wait_``): a small validation set's accuracy stops
      changing long before the network stops improving.

    Parameters
    ----------
    monitor : str, default="valid_loss"
        Key of the history record to watch: ``"train_loss"``, ``"valid_loss"``
        or ``"valid_score"`` (the last two need a validation set:
        ``early_stopping=True``), or a key that another callback listed before
        this one writes into ``logs``. A key missing from the record raises
        ``ValueError`` naming the keys there are.
    patience : int, default=10
        Epochs without improvement before stopping, >= 1.
    min_delta : float, default=0.0
        Minimum gain over ``best_`` that counts as an improvement, >= 0.
    lower_is_better : bool or None, default=None
        Direction of improvement. None is accepted only for the built-in keys
        (``"train_loss"`` and ``"valid_loss"`` are lower-is-better,
        ``"valid_score"`` is higher-is-better); any other ``monitor`` needs
        True or False.
    restore_best : bool, default=True
        Put back the parameters of the best epoch when training ends.

    Attributes
    ----------
    best_ : float
        Best value of ``monitor`` seen (on the clone in ``callbacks_``).
    best_epoch_ : int
        The best epoch: the last that improved (see the rule above).
    wait_ : int
        Epochs since the last improvement.

    Examples
    --------
    A score computed by another callback, maximised:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.metrics import f1_score
    >>> from sknn import NNClassifier
    >>> from sknn.callbacks import Callback, EarlyStopping
    >>> X, y = load_iris(return_X_y=True)
    >>> class TrainF1(Callback):
    ...     def on_epoch_end(self, estimator, epoch, logs):
    ...         logs["train_f1"] = f1_score(y, estimator.predict(X), average="macro")
    >>> stop = EarlyStopping(monitor="train_f1", lower_is_better=False, patience=5)
    >>> clf = NNClassifier(hidden_layer_sizes=(8,), max_iter=300,
    ...                    callbacks=[TrainF1(), stop], random_state=0).fit(X, y)
    >>> clf.callbacks_[1].best_ == max(r["train_f1"] for r in clf.history_)
    True
    """

    _param_checks = {
        "patience": {"low": 1, "integer": True},
        "min_delta": {"low": 0},
        "restore_best": "bool",
    }

    def __init__(
        self,
        monitor="valid_loss",
        patience=10,
        min_delta=0.0,
        lower_is_better=None,
        restore_best=True,
    ):
        self.monitor = monitor
        self.patience = patience
        self.min_delta = min_delta
        self.lower_is_better = lower_is_better
        self.restore_best = restore_best

    # Directions of the keys that the estimator itself writes into history_.
    _directions = {"train_loss": True, "valid_loss": True, "valid_score": False}
    # The key that breaks ties of a monitored key.
    _tie_breaks = {"valid_score": "valid_loss"}

    def _lower_is_better(self):
        """The direction of ``monitor``: given, or known for a built-in key."""
        if not isinstance(self.monitor, str):
            raise TypeError(
                "EarlyStopping.monitor must be a str naming a history key; got "
                f"{self.monitor!r} of type {type(self.monitor).__name__}."
            )
        lower = self.lower_is_better
        if lower is None:
            if self.monitor not in self._directions:
                raise ValueError(
                    f"EarlyStopping(monitor={self.monitor!r}) cannot tell whether a "
                    "lower or a higher value is better; set lower_is_better=True "
                    "(a loss or an error) or lower_is_better=False (a score). The "
                    "direction is known only for "
                    f"{', '.join(map(repr, self._directions))}."
                )
            return self._directions[self.monitor]
        if not isinstance(lower, bool | np.bool_):
            raise TypeError(
                "EarlyStopping.lower_is_better must be True, False or None; got "
                f"{lower!r} of type {type(lower).__name__}."
            )
        return bool(lower)

    def on_train_begin(self, estimator, X=None, y=None):
        self._lower_is_better()  # refuse a bad monitor before training starts
        self.best_, self.best_epoch_, self.wait_ = None, None, 0
        self._best_params, self._best_tie = None, np.inf

    def _value(self, logs):
        """The monitored value and its tie-breaker in ``logs`` (or None)."""
        key = self.monitor
        if key not in logs:
            hint = (
                " valid_loss and valid_score need a validation set: set "
                "early_stopping=True (or pass X_val and y_val to fit)."
                if key in ("valid_loss", "valid_score")
                else ""
            )
            raise ValueError(
                f"EarlyStopping(monitor={key!r}): the history record has no key "
                f"{key!r}; it has {', '.join(map(repr, logs))}.{hint}"
            )
        return logs[key], logs.get(self._tie_breaks.get(key))

    def on_epoch_end(self, estimator, epoch, logs):
        value, tie = self._value(logs)
        best_tie = getattr(self, "_best_tie", np.inf)  # absent in older saves
        self.best_, self.wait_, keep = _improvement(
            value,
            self.best_,
            self.wait_,
            self.min_delta,
            self._lower_is_better(),
            tie,
            best_tie,
        )
        if keep:
            self.best_epoch_, self._best_tie = epoch, best_tie if tie is None else tie
            if self.restore_best:
                self._best_params = [
                    p.copy() for p in estimator.coefs_ + estimator.intercepts_
                ]
        if self.wait_ >= self.patience:
            raise StopTraining(
                f"{self.monitor} did not improve by at least {self.min_delta} for "
                f"{self.patience} epochs; best {self.best_:.6g}, best epoch "
                f"{self.best_epoch_}."
            )

    def on_train_end(self, estimator):
        if self.restore_best and self._best_params is not None:
            for live, best in zip(
                estimator.coefs_ + estimator.intercepts_, self._best_params
            ):
                live[...] = best
        self._best_params = None


class _EstimatorEarlyStopping(EarlyStopping):
    """The estimator's built-in early stopping, a default callback of every fit.

    :class:`EarlyStopping`'s rule with ``min_delta=tol`` and
    ``patience=n_iter_no_change + 1`` (scikit-learn stops when the count of
    epochs without improvement exceeds ``n_iter_no_change``). Its state is the
    estimator's, under scikit-learn's names: ``best_loss_`` or
    ``best_validation_score_`` (``best_``), ``_no_improvement_count``
    (``wait_``), and the best epoch's flat weights ``_best_params`` with its
    ``_best_valid_loss``, which the training loop restores first.
    """

    def __init__(self, monitor="train_loss", patience=11, min_delta=1e-4):
        super().__init__(monitor, patience, min_delta, restore_best=False)

    def on_train_begin(self, estimator, X=None, y=None):
        pass  # the state lives on the estimator, set up by fit

    def on_epoch_end(self, estimator, epoch, logs):
        est = estimator
        if self.monitor == "valid_score":
            est.best_validation_score_, wait, keep = _improvement(
                logs["valid_score"],
                est.best_validation_score_,
                est._no_improvement_count,
                self.min_delta,
                False,
                logs["valid_loss"],
                est._best_valid_loss,
            )
            if keep:
                est._best_valid_loss = logs["valid_loss"]
                est._best_params = np.concatenate(
                    [c.ravel() for c in est.coefs_] + est.intercepts_
                )
        else:
            est.best_loss_, wait, _ = _improvement(
                logs["train_loss"],
                est.best_loss_,
                est._no_improvement_count,
                self.min_delta,
                True,
            )
        est._no_improvement_count = wait
        if wait >= self.patience:
            what = (
                "Validation score" if self.monitor == "valid_score" else "Training loss"
            )
            raise StopTraining(
                f"{what} did not improve more than tol={self.min_delta} for "
                f"{self.patience - 1} consecutive epochs."
            )

    def on_train_end(self, estimator):
        pass


@register_callback("progress_table")
class ProgressTable(Callback):
    """Print one table row per epoch: the header once, then the values.

    ``verbose=1`` on an estimator adds one of these.

    Parameters
    ----------
    sink : callable or None, default=None
        Receives each line; None prints to standard output and flushes.
    """

    # history key -> (column title, width, number format)
    _columns = {
        "epoch": ("epoch", 6, "d"),
        "train_loss": ("train_loss", 12, ".6f"),
        "valid_loss": ("valid_loss", 12, ".6f"),
        "valid_score": ("valid_score", 12, ".6f"),
        "learning_rate": ("lr", 10, ".3g"),
        "duration": ("dur", 8, ".3f"),
    }

    def __init__(self, sink=None):
        self.sink = sink

    def _emit(self, line):
        if self.sink is None:
            print(line)
            sys.stdout.flush()
        else:
            self.sink(line)

    def on_train_begin(self, estimator, X=None, y=None):
        self._keys = None

    def on_epoch_end(self, estimator, epoch, logs):
        if self._keys is None:
            self._keys = [k for k in self._columns if k in logs]
            titles = [
                f"{self._columns[k][0]:>{self._columns[k][1]}}" for k in self._keys
            ]
            self._emit("  ".join(titles))
            self._emit("  ".join("-" * len(t) for t in titles))
        cells = []
        for key in self._keys:
            _, width, fmt = self._columns[key]
            value = logs.get(key)
            finite = value is not None and np.isfinite(value)
            text = format(value, fmt) if finite else str(value)
            cells.append(f"{text:>{width}}")
        self._emit("  ".join(cells))
