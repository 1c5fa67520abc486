"""scikit-learn's callback API (``sklearn.callback``, experimental since 1.9).

The estimators inherit ``sklearn.callback.CallbackSupportMixin`` (scikit-learn
>= 1.9), so ``set_callbacks`` registers scikit-learn callbacks such as
``ProgressBar`` and ``ScoringMonitor``; with an older scikit-learn an empty
class stands in for it, ``with_callbacks`` does nothing and nothing of
``sklearn.callback`` is imported.

A fit is a tree of tasks, as in scikit-learn's own estimators::

    fit (root)
    ├── epoch 0            (stochastic optimizers)
    │   ├── batch 0        (an epoch of one batch is a leaf)
    │   └── ...
    ├── ...
    └── lbfgs-iter k       (full-batch optimizers: one leaf per iteration)

The root and every epoch or iteration task pass ``X``, ``y``, the sample
weights (``metadata``) and a ready-to-predict copy of the estimator
(``fitted_estimator``); batch tasks pass the batch's ``X`` and ``y`` only.
A callback whose ``on_fit_task_end`` returns True stops training after that
batch, epoch or iteration (an epoch cut short is recorded over the batches it
ran). Without scikit-learn callbacks on the estimator, training does not touch
the API.
"""

import copy
import functools

from sklearn.base import is_classifier

from . import _state

try:
    from sklearn.callback import CallbackSupportMixin, with_callbacks

    AVAILABLE = True
except ImportError:  # scikit-learn < 1.9: no callback API
    AVAILABLE = False

    class CallbackSupportMixin:
        """Placeholder: this scikit-learn has no callback API."""

    def with_callbacks(method):
        return method


__all__ = ["AVAILABLE", "CallbackSupportMixin", "with_callbacks", "fit_tasks"]


class _NoTasks:
    """The task tree of a fit without scikit-learn callbacks: does nothing."""

    def begin_epoch(self, n_batches, X, Y, sw, labels, task_name="epoch"):
        pass

    def end_epoch(self):
        return False

    def begin_batch(self, idx):
        pass

    def end_batch(self):
        return False

    def end(self):
        pass


_NO_TASKS = _NoTasks()


def fit_tasks(estimator, X, Y, sw, labels, n_subtasks):
    """The task tree of this fit; its root task has begun.

    Parameters
    ----------
    estimator : NNClassifier or NNRegressor
        The estimator being fitted, its fitted attributes initialised.
    X, Y, sw, labels : arrays
        The validated training data, the encoded targets (2-D), the sample
        weights (or None) and the class labels (or None).
    n_subtasks : int
        The most epochs or iterations this fit can run.
    """
    if not (AVAILABLE and getattr(estimator, "_skl_callbacks", None)):
        return _NO_TASKS
    return _Tasks(estimator, X, Y, sw, labels, n_subtasks)


def _targets(estimator, Y, labels):
    """``y`` as the user gave it: labels, an indicator matrix or the targets."""
    if labels is not None:
        return labels
    if is_classifier(estimator):
        return Y.astype(int)
    return Y.ravel() if Y.shape[1] == 1 else Y


class _Tasks:
    """Begin and end the tasks of one fit on scikit-learn's callback contexts."""

    def __init__(self, estimator, X, Y, sw, labels, n_subtasks):
        self._est = estimator
        self._root_data = self._data = (X, Y, sw, labels)
        self._epoch = self._batch = None
        self._root = estimator._init_callback_context(max_subtasks=n_subtasks)
        self._root.call_on_fit_task_begin(**self._kwargs(self._data))

    def _kwargs(self, data):
        X, Y, sw, labels = data
        return dict(
            estimator=self._est,
            X=X,
            y=functools.partial(_targets, self._est, Y, labels),
            metadata=None if sw is None else {"sample_weight": sw},
            reconstruction_attributes=self._snapshot,
        )

    def _snapshot(self):
        # The trained state (weights, running statistics) changes with the next
        # step: callbacks get a copy of every trained attribute.
        state = self._est.__dict__
        return {
            name: copy.deepcopy(state[name])
            for name, attr in _state.STATE.items()
            if attr.trained and name in state
        }

    def begin_epoch(self, n_batches, X, Y, sw, labels, task_name="epoch"):
        """Begin an epoch of ``n_batches`` batches, or an L-BFGS iteration.

        An epoch of one batch (or none) is a leaf: its batch is the epoch.
        """
        self._data = (X, Y, sw, labels)
        self._batches = n_batches > 1
        self._epoch = self._root.subcontext(
            task_name=task_name, max_subtasks=n_batches if self._batches else 0
        )
        self._epoch.call_on_fit_task_begin(**self._kwargs(self._data))

    def end_epoch(self):
        ctx, self._epoch = self._epoch, None
        return ctx.call_on_fit_task_end(**self._kwargs(self._data))

    def begin_batch(self, idx):
        if not self._batches:
            return
        # Lazily, and not the engine's batch buffer that the next batch reuses.
        X, Y, _, labels = self._data
        self._batch_kwargs = dict(
            estimator=self._est,
            X=lambda: X[idx],
            y=lambda: _targets(
                self._est, Y[idx], None if labels is None else labels[idx]
            ),
        )
        self._batch = self._epoch.subcontext(task_name="batch")
        self._batch.call_on_fit_task_begin(**self._batch_kwargs)

    def end_batch(self):
        ctx, self._batch = self._batch, None
        return ctx is not None and ctx.call_on_fit_task_end(**self._batch_kwargs)

    def end(self):
        """End the tasks left open (by an interruption), then the root task."""
        for ctx in (self._batch, self._epoch):
            if ctx is not None:
                ctx.call_on_fit_task_end(estimator=self._est)
        self._batch = self._epoch = None
        self._root.call_on_fit_task_end(**self._kwargs(self._root_data))
