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

import numbers
import sys
import warnings

import numpy as np
from sklearn.metrics import check_scoring

from . import _state
from ._base import Component, StopTraining
from ._registry import REGISTRIES, _make_registry
from ._sklearn_callbacks import _targets

__all__ = [
    "Callback",
    "Checkpoint",
    "EarlyStopping",
    "EpochScoring",
    "GradientNormClipping",
    "ProgressTable",
    "StopTraining",
]


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
        Put back the parameters of the best epoch when training ends, with
        the layers' running statistics (``layer_state_``) of that epoch.

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
                f"{type(self).__name__}.monitor must be a str naming a history key; "
                f"got {self.monitor!r} of type {type(self.monitor).__name__}."
            )
        lower = self.lower_is_better
        if lower is None:
            if self.monitor not in self._directions:
                raise ValueError(
                    f"{type(self).__name__}(monitor={self.monitor!r}) cannot tell "
                    "whether a "
                    "lower or a higher value is better; set lower_is_better=True "
                    "(a loss or an error) or lower_is_better=False (a score). The "
                    "direction is known only for "
                    f"{', '.join(map(repr, self._directions))}."
                )
            return self._directions[self.monitor]
        if not isinstance(lower, bool | np.bool_):
            raise TypeError(
                f"{type(self).__name__}.lower_is_better must be True, False or None; "
                f"got {lower!r} of type {type(lower).__name__}."
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
                f"{type(self).__name__}(monitor={key!r}): the history record has no "
                f"key {key!r}; it has {', '.join(map(repr, logs))}.{hint}"
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
                self._best_params = _state.copy_arrays(_state.trained(vars(estimator)))
        if self.wait_ >= self.patience:
            raise StopTraining(
                f"{self.monitor} did not improve by at least {self.min_delta} for "
                f"{self.patience} epochs; best {self.best_:.6g}, best epoch "
                f"{self.best_epoch_}."
            )

    def on_train_end(self, estimator):
        if self.restore_best and self._best_params is not None:
            live = _state.trained(vars(estimator))
            _state.copy_arrays(self._best_params, into=live)
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
                _state.keep_best(est.__dict__)
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

    ``verbose=1`` on an estimator adds one of these, after the other
    callbacks. The columns are those of the first epoch's record: the
    estimator's own keys, and every other number that a callback listed
    before this one writes into ``logs`` (such as :class:`EpochScoring`'s),
    placed before ``lr`` and ``dur``.

    Parameters
    ----------
    sink : callable or None, default=None
        Receives each line; None prints to standard output and flushes.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknn import NNClassifier
    >>> from sknn.callbacks import EpochScoring, ProgressTable
    >>> X, y = load_iris(return_X_y=True)
    >>> lines = []
    >>> clf = NNClassifier(hidden_layer_sizes=(8,), max_iter=3, n_iter_no_change=1,
    ...                    callbacks=[EpochScoring("accuracy", on_train=True),
    ...                               ProgressTable(sink=lines.append)],
    ...                    random_state=0).fit(X, y)
    >>> lines[0].split()
    ['epoch', 'train_loss', 'train_accuracy', 'lr', 'dur']
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
        self._spec = None  # key -> (title, width, format), from the first record

    def on_epoch_end(self, estimator, epoch, logs):
        if self._spec is None:
            columns = self._columns
            extra = {
                k: (k, max(12, len(k)), ".6f")
                for k, v in logs.items()
                if k not in columns
                and isinstance(v, numbers.Real)
                and not isinstance(v, bool | np.bool_)
            }
            # Extra columns between the estimator's values and lr, dur.
            tail = ("learning_rate", "duration")
            self._spec = {
                **{k: c for k, c in columns.items() if k in logs and k not in tail},
                **extra,
                **{k: columns[k] for k in tail if k in logs},
            }
            titles = [f"{title:>{width}}" for title, width, _ in self._spec.values()]
            self._emit("  ".join(titles))
            self._emit("  ".join("-" * len(t) for t in titles))
        cells = []
        for key, (_, width, fmt) in self._spec.items():
            value = logs.get(key)
            finite = value is not None and np.isfinite(value)
            text = format(value, fmt) if finite else str(value)
            cells.append(f"{text:>{width}}")
        self._emit("  ".join(cells))


def _fit_data(estimator, train, valid):
    """What the training loop sets as ``estimator._fit_data`` for callbacks.

    ``train`` and ``valid`` are the loop's ``(X, Y, sw, labels, ...)`` tuples
    (``valid`` may be None); each becomes ``(X, y, sample_weight)`` with ``y``
    as the user gives it (labels, an indicator matrix or the targets).
    """

    def user(data):
        X, Y, sw, labels = data[:4]
        return X, _targets(estimator, Y, labels), sw

    return user(train), None if valid is None else user(valid)


@register_callback("epoch_scoring")
class EpochScoring(Callback):
    """Score a scikit-learn scorer after each epoch, into ``history_``.

    The score is written into the epoch's record (``history_``) under
    ``name``, so callbacks listed after this one see it:
    :class:`EarlyStopping` and :class:`Checkpoint` can monitor it and
    :class:`ProgressTable` (also the one ``verbose`` adds) shows it.

    Parameters
    ----------
    scoring : str, callable or None, default=None
        A scorer name of :func:`sklearn.metrics.get_scorer` (``"accuracy"``,
        ``"f1_macro"``, ``"neg_mean_absolute_error"``, ...), a callable
        ``scorer(estimator, X, y)``, or None for the estimator's ``score``
        (accuracy, R²). Scores are higher-is-better, as everywhere in
        scikit-learn: monitor them with ``lower_is_better=False``.
    on_train : bool, default=False
        Score the training data instead of the validation set. The validation
        set (the split of ``early_stopping=True`` or ``X_val``/``y_val``) is
        the default and needs ``early_stopping=True``.
    name : str or None, default=None
        The history key; None gives ``"valid_<scoring>"`` or
        ``"train_<scoring>"``, with ``score`` for None and the function's name
        for a callable. A key the record already has raises ``ValueError``.

    Notes
    -----
    The data scored is the training loop's ``estimator._fit_data``, set while
    the estimator trains: ``(train, valid)``, each ``(X, y, sample_weight)``
    as the network sees it (validated ``X``, ``y`` as given, the sample
    weights with ``class_weight`` applied, or None), ``valid`` None without a
    validation set. The training data is that of the epochs (without the
    validation split). Sample weights, when there are any, are passed to the
    scorer as ``sample_weight``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sknn import NNClassifier
    >>> from sknn.callbacks import EarlyStopping, EpochScoring
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = NNClassifier(
    ...     hidden_layer_sizes=(8,), max_iter=300, early_stopping=True,
    ...     callbacks=[EpochScoring("f1_macro"),
    ...                EarlyStopping("valid_f1_macro", lower_is_better=False)],
    ...     random_state=0).fit(X, y)
    >>> 0 <= clf.history_[-1]["valid_f1_macro"] <= 1
    True
    """

    _param_checks = {"on_train": "bool"}

    def __init__(self, scoring=None, on_train=False, name=None):
        self.scoring = scoring
        self.on_train = on_train
        self.name = name

    def _key(self):
        if self.name is not None:
            if not isinstance(self.name, str) or not self.name:
                raise TypeError(
                    f"EpochScoring.name must be None or a non-empty str; got "
                    f"{self.name!r}."
                )
            return self.name
        scoring = self.scoring
        if scoring is None:
            what = "score"
        elif isinstance(scoring, str):
            what = scoring
        else:
            what = getattr(scoring, "__name__", None)
            if what is None:
                raise ValueError(
                    f"EpochScoring(scoring={scoring!r}) needs a name: the scorer has "
                    "no __name__ to name the history key after."
                )
        return f"{'train' if self.on_train else 'valid'}_{what}"

    def _scorer(self, estimator):
        scoring = self.scoring
        if not (scoring is None or isinstance(scoring, str) or callable(scoring)):
            raise TypeError(
                "EpochScoring.scoring must be None, a scorer name of "
                "sklearn.metrics.get_scorer or a callable scorer(estimator, X, y); "
                f"got {scoring!r}."
            )
        try:
            return check_scoring(estimator, scoring=scoring)
        except ValueError as exc:
            raise ValueError(f"EpochScoring.scoring={scoring!r}: {exc}") from None

    def on_train_begin(self, estimator, X=None, y=None):
        # Refuse bad parameters before training starts.
        self._scorer(estimator)
        self._key()
        if not self.on_train and not estimator.early_stopping:
            raise ValueError(
                f"EpochScoring(scoring={self.scoring!r}) scores the validation set, "
                "and early_stopping=False gives none: set early_stopping=True (with "
                "n_iter_no_change=np.inf to keep only the callbacks' stopping "
                "rules), or on_train=True to score the training data."
            )

    def on_epoch_end(self, estimator, epoch, logs):
        key = self._key()
        if key in logs:
            raise ValueError(
                f"EpochScoring: the history record already has the key {key!r}; give "
                "this EpochScoring another name."
            )
        train, valid = estimator._fit_data
        X, y, sw = train if self.on_train else valid
        kwargs = {} if sw is None else {"sample_weight": sw}
        with warnings.catch_warnings():
            # The validated X has no column names even where fit's X had some.
            warnings.filterwarnings(
                "ignore", message="X does not have valid feature names"
            )
            logs[key] = float(self._scorer(estimator)(estimator, X, y, **kwargs))


@register_callback("checkpoint")
class Checkpoint(Callback):
    """Save the best model so far to a file while training.

    After each epoch whose monitored value improves on the best so far, the
    estimator is written with :func:`sknn.save` (atomically: an interrupted
    or failed save leaves the previous file intact), so ``sknn.load(path)``
    gives the model of the best epoch, ready to predict or to resume.

    Parameters
    ----------
    path : str, default="checkpoint.sknn"
        File to write (replaced at each save). A str, since the saved
        estimator holds this callback.
    monitor : str or None, default="valid_loss"
        History key to watch, as in :class:`EarlyStopping` (``"valid_loss"``
        and ``"valid_score"`` need a validation set); None saves after every
        epoch. The best epoch is :class:`EarlyStopping`'s with
        ``min_delta=0``: strictly better, and on ``"valid_score"`` a tie with a
        lower ``valid_loss``.
    lower_is_better : bool or None, default=None
        Direction of improvement; None only for the estimator's own keys, as
        in :class:`EarlyStopping`.

    Attributes
    ----------
    best_ : float or None
        Best value of ``monitor`` seen (on the clone in ``callbacks_``).
    saved_epoch_ : int or None
        Epoch of the model in the file.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from sknn import NNClassifier, load
    >>> from sknn.callbacks import Checkpoint
    >>> X, y = load_iris(return_X_y=True)
    >>> path = os.path.join(tempfile.mkdtemp(), "best.sknn")
    >>> clf = NNClassifier(hidden_layer_sizes=(8,), max_iter=50, early_stopping=True,
    ...                    callbacks=[Checkpoint(path)], random_state=0).fit(X, y)
    >>> best = load(path)
    >>> epoch = clf.callbacks_[0].saved_epoch_
    >>> best.history_[-1]["valid_loss"] == min(r["valid_loss"] for r in clf.history_)
    True
    >>> len(best.history_) == epoch
    True
    """

    # EarlyStopping's reading of ``monitor`` and its rule for the best epoch.
    _directions = EarlyStopping._directions
    _tie_breaks = EarlyStopping._tie_breaks
    _lower_is_better = EarlyStopping._lower_is_better
    _value = EarlyStopping._value

    def __init__(
        self, path="checkpoint.sknn", monitor="valid_loss", lower_is_better=None
    ):
        self.path = path
        self.monitor = monitor
        self.lower_is_better = lower_is_better

    def on_train_begin(self, estimator, X=None, y=None):
        if not isinstance(self.path, str) or not self.path:
            raise TypeError(
                f"Checkpoint.path must be a non-empty str (os.fspath(path) for a "
                f"pathlib.Path); got {self.path!r}."
            )
        if self.monitor is not None:
            self._lower_is_better()
        self.best_ = self.saved_epoch_ = None
        self._best_tie = np.inf

    def on_epoch_end(self, estimator, epoch, logs):
        if self.monitor is not None:
            value, tie = self._value(logs)
            self.best_, _, keep = _improvement(
                value, self.best_, 0, 0.0, self._lower_is_better(), tie, self._best_tie
            )
            if not keep:
                return
            self._best_tie = self._best_tie if tie is None else tie
        self.saved_epoch_ = epoch
        from ._persistence import save

        save(estimator, self.path)


@register_callback("gradient_norm_clipping")
class GradientNormClipping(Callback):
    """Rescale each minibatch's gradient to a norm of at most ``max_norm``.

    Where the gradient's norm exceeds ``max_norm`` it is multiplied by
    ``max_norm / norm`` before the optimizer step (PyTorch's
    ``clip_grad_norm_`` over all parameters); below it, the gradient is left
    unchanged. The norm is over the whole flat gradient, which includes the
    L2 term unless the optimizer applies L2 itself (``takes_l2``). A
    non-finite norm leaves the gradient as it is (the estimator detects the
    divergence). Needs a stochastic optimizer: full-batch optimizers have no
    minibatch step.

    Parameters
    ----------
    max_norm : float, default=1.0
        Largest norm a step's gradient keeps, > 0.
    norm_type : float, default=2
        Order of the norm, > 0: 2 is the Euclidean norm, ``np.inf`` the
        largest absolute value.

    Examples
    --------
    >>> import numpy as np
    >>> from sknn.callbacks import GradientNormClipping
    >>> grad = np.array([3.0, 4.0])
    >>> GradientNormClipping(max_norm=1.0).on_grad_computed(None, grad, 0)
    >>> grad
    array([0.6, 0.8])
    """

    _param_checks = {
        "max_norm": {"low": 0, "low_open": True},
        "norm_type": {"low": 0, "low_open": True, "allow_inf": True},
    }

    def __init__(self, max_norm=1.0, norm_type=2):
        self.max_norm = max_norm
        self.norm_type = norm_type

    def on_train_begin(self, estimator, X=None, y=None):
        cls = REGISTRIES["optimizers"].class_of(estimator.optimizer)
        if not getattr(cls, "stochastic", True):
            raise ValueError(
                f"GradientNormClipping needs a stochastic optimizer; the full-batch "
                f"optimizer {cls.__name__} takes no minibatch steps. Choose e.g. "
                "optimizer='adam'."
            )

    def on_grad_computed(self, estimator, grad, batch):
        norm = np.linalg.norm(grad, ord=self.norm_type)
        if norm > self.max_norm:  # False for NaN
            grad *= self.max_norm / norm
