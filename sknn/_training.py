"""The training loop, in named steps a reader can follow and a subclass can replace.

One :class:`Trainer` runs one call to ``fit`` or ``partial_fit``::

    Trainer.fit                callbacks, Ctrl-C handling, the validation split
    ├── fit_stochastic         epochs of minibatches (stochastic optimizers)
    │   └── run_epoch          one pass over the (shuffled) minibatches
    │       └── batch_step     gradient, on_grad_computed, optimizer step
    ├── fit_full_batch         one minimisation, an epoch per iteration (L-BFGS)
    ├── end_epoch              record the epoch, run on_epoch_end, stop or not
    ├── evaluate               loss and score on the validation set
    └── restore                end with usable weights (divergence recovery)

The estimator holds every piece of state (``history_``, ``optimizer_state_``, the
early-stopping counters, ...); a trainer holds only what one call needs and is
dropped when it returns. The estimator's ``_trainer`` attribute names the class, so
a subclass of the estimator can bring a subclass of :class:`Trainer` that
replaces a step. The built-in early stopping is the first of the callbacks: the
estimator's ``_default_callbacks``.
"""

import contextlib
import signal
import threading
import time
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from . import _sklearn_callbacks, _state
from ._base import StopTraining
from ._sampling import KeyedUniforms, row_keys
from .callbacks import _fit_data, _overriding

__all__ = ["Trainer"]


class _Diverged(Exception):
    """Training made the loss, the weights or the validation outputs non-finite."""


_START = "the weights training started from"


@contextlib.contextmanager
def _deferred_interrupt():
    """Turn the first Ctrl-C into a request, honoured after the current batch.

    Only in the main thread and only while Python's default SIGINT handler is
    installed; a second Ctrl-C interrupts at once. Elsewhere a
    KeyboardInterrupt simply arrives wherever the code is, and the training
    loop still catches it.
    """
    request = []
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield request
        return

    def handler(signum, frame):
        if request:
            raise KeyboardInterrupt
        request.append(True)

    signal.signal(signal.SIGINT, handler)
    try:
        yield request
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


class Trainer:
    """Train ``estimator``'s network ``net`` for one call to ``fit``/``partial_fit``.

    Parameters
    ----------
    estimator : NNClassifier or NNRegressor
        The estimator, its fitted attributes initialised or resumed.
    net : sknn._engine.Network or sknn._network.Network
        The network over the estimator's flat parameter vector.
    spec : object
        The checked parameters, components resolved (``_check_params``).
    incremental : bool
        True for ``partial_fit``: one epoch, no validation split.
    first : bool
        True when this call starts from fresh weights.
    """

    # Slots, not a __dict__: the per-batch steps read these without a dict.
    __slots__ = (
        "estimator",
        "net",
        "spec",
        "incremental",
        "first",
        "interrupt",
        "tasks",
        "callbacks",
        "epoch_begin",
        "batch_begin",
        "grad_computed",
        "batch_end",
        "step",
        "takes_l2",
        "params",
        "grad",
        "state",
    )

    def __init__(self, estimator, net, spec, incremental, first):
        self.estimator, self.net, self.spec = estimator, net, spec
        self.incremental, self.first = incremental, first
        self.interrupt, self.tasks = [], None
        self.callbacks = []
        self.epoch_begin = self.batch_begin = self.grad_computed = []
        self.batch_end = []
        self.step, self.takes_l2 = spec.optimizer.step, spec.optimizer.takes_l2
        self.params, self.grad = net.params, net.grad
        self.state = None

    # ------------------------------------------------------------- fit loop
    def fit(self, X, y, Y, sw, labels, valid):
        """Run the callbacks around training on ``X`` (validated) and ``Y``.

        ``y`` is the target as given to ``fit`` (for ``on_train_begin``),
        ``Y`` its encoding, ``labels`` the class labels (or None) and ``valid``
        the validation set given to ``fit`` (or None).
        """
        est, spec, incremental = self.estimator, self.spec, self.incremental
        if not incremental or not hasattr(est, "callbacks_") or self.first:
            est.callbacks_ = [clone(cb) for cb in spec.callbacks]
            for cb in est.callbacks_:
                cb.on_train_begin(est, X, y)
        if not incremental:
            est._no_improvement_count = 0
        # Most epochs, or L-BFGS iterations plus the one it may leave open.
        n_tasks = 1 if incremental else est.max_iter + (not spec.optimizer.stochastic)
        self.tasks = _sklearn_callbacks.fit_tasks(est, X, Y, sw, labels, n_tasks)
        try:
            # Non-finite values are detected and reported by the loop itself
            # (see restore); NumPy's overflow warnings would only be noise.
            with (
                _deferred_interrupt() as self.interrupt,
                np.errstate(over="ignore", invalid="ignore", divide="ignore"),
            ):
                split = est.early_stopping and not incremental and valid is None
                keys = row_keys(X, est._salt) if split or spec.noise else None
                if split:
                    (X, Y, sw, labels, keys), valid = est._split_validation(
                        X, Y, sw, labels, keys
                    )
                est._fit_data = _fit_data(est, (X, Y, sw, labels), valid)
                defaults = est._default_callbacks(
                    valid is not None, spec.optimizer.stochastic
                )
                self.use_callbacks([*defaults, *est.callbacks_])
                est.n_iter_ = 0
                if spec.optimizer.stochastic:
                    self.fit_stochastic(X, Y, sw, labels, keys, valid)
                else:
                    self.fit_full_batch(X, Y, sw, labels, valid)
            self.tasks.end()
        finally:
            if not incremental:
                for cb in est.callbacks_:
                    cb.on_train_end(est)
            est.__dict__.pop("_fit_data", None)  # run-time only, for callbacks

    def use_callbacks(self, callbacks):
        """Call ``callbacks`` in this fit; each hook only where it is overridden."""
        self.callbacks = callbacks
        self.epoch_begin = _overriding(callbacks, "on_epoch_begin")
        self.batch_begin = _overriding(callbacks, "on_batch_begin")
        self.grad_computed = _overriding(callbacks, "on_grad_computed")
        self.batch_end = _overriding(callbacks, "on_batch_end")

    def fit_stochastic(self, X, Y, sw, labels, keys, valid):
        """Epochs until ``max_iter`` or a stop, then :meth:`restore`."""
        est, spec, incremental = self.estimator, self.spec, self.incremental
        self.state = est.optimizer_state_
        n = X.shape[0]
        batch_size = est._batch_size(n)
        order = np.arange(n)
        # The trained state (weights, running statistics) at the start of
        # training, of the previous and of this epoch: an epoch's end state is
        # only vouched for by the next epoch's loss.
        live = _state.trained(est.__dict__)
        initial, previous_start, epoch_start = (
            _state.copy_arrays(live) for _ in range(3)
        )
        epochs_before = epoch = len(est.history_)
        stopped, diverged, lr = False, None, spec.base_lr
        try:
            for _ in range(1 if incremental else est.max_iter):
                epoch = len(est.history_) + 1
                for cb in self.epoch_begin:
                    cb.on_epoch_begin(est, epoch)
                start_time = time.perf_counter()
                previous_start, epoch_start = epoch_start, previous_start
                _state.copy_arrays(live, into=epoch_start)
                lr = spec.schedule(
                    spec.base_lr, len(est.history_), est.history_, est.max_iter
                )
                if est.shuffle:
                    perm = np.arange(n)
                    est._rng.shuffle(perm)
                    order = order[perm]
                self.tasks.begin_epoch(-(-n // batch_size), X, Y, sw, labels)
                total, rows, halt = self.run_epoch(
                    X, Y, sw, keys, order, batch_size, lr
                )
                train_loss = total / rows
                if not (np.isfinite(train_loss) and _state.all_finite(live)):
                    raise _Diverged(f"training loss {train_loss}")
                stopped = self.end_epoch(train_loss, lr, start_time, valid, rows)
                stopped = self.tasks.end_epoch() or halt or stopped
                if stopped and not incremental:
                    break
        except KeyboardInterrupt:
            stopped = True
            warnings.warn(
                f"Training interrupted by the user after {est.n_iter_} epochs; "
                "keeping the weights reached so far.",
                UserWarning,
            )
        except _Diverged as exc:
            diverged = str(exc)

        # Weights to end with, best first. An epoch's end weights are only
        # vouched for by the next epoch's loss: after a divergence, go back to
        # the start of the previous epoch.
        def after(k):
            return _START if k <= epochs_before else f"the weights after epoch {k}"

        candidates = [
            *([] if diverged else [(None, None), (epoch_start, after(epoch - 1))]),
            (previous_start, after(epoch - 2)),
            (initial, _START),
        ]
        probes = [X] + ([] if valid is None else [valid[0]])
        diverged, restored = self.restore(valid, candidates, probes, diverged)
        if diverged:
            self.warn_diverged(epoch, diverged, restored, lr)
        elif not incremental and not stopped and est.n_iter_ == est.max_iter:
            warnings.warn(
                f"Maximum iterations ({est.max_iter}) reached and the optimization "
                "hasn't converged yet.",
                ConvergenceWarning,
            )

    def run_epoch(self, X, Y, sw, keys, order, batch_size, lr):
        """One pass over the minibatches of ``X`` in ``order``.

        Returns ``(summed loss, rows seen, halted)``: the sum of the batch
        objectives weighted by their sizes, the rows of the batches run, and
        whether a callback stopped training after a batch.
        """
        est, net, tasks, interrupt = (
            self.estimator,
            self.net,
            self.tasks,
            self.interrupt,
        )
        batch_step, batch_begin, batch_end = (
            self.batch_step,
            self.batch_begin,
            self.batch_end,
        )
        n, shuffle, dropout = X.shape[0], est.shuffle, self.spec.noise
        epoch_salt = (est._salt + 7919 * len(est.history_)) if keys is not None else 0
        total, stop, noise = 0.0, 0, None
        for batch, start in enumerate(range(0, n, batch_size)):
            stop = min(start + batch_size, n)
            if shuffle:
                idx = order[start:stop]
                Xb, Yb = net.gather(X, idx), Y[idx]
            else:
                idx = slice(start, stop)
                Xb, Yb = X[idx], Y[idx]
            swb = None if sw is None else sw[idx]
            tasks.begin_batch(idx)
            if dropout:
                noise = KeyedUniforms(keys[idx], epoch_salt)
            if batch_begin:
                for cb in batch_begin:
                    cb.on_batch_begin(est, batch)
            loss = batch_step(Xb, Yb, swb, noise, lr, batch)
            total += loss * (stop - start)
            if interrupt:
                raise KeyboardInterrupt
            if batch_end and self.end_batch(batch, stop - start, loss):
                return total, stop, True
            if tasks.end_batch():
                return total, stop, True
        return total, stop, False

    def batch_step(self, Xb, Yb, swb, noise, lr, batch):
        """Gradient of one minibatch, ``on_grad_computed``, optimizer step; its loss."""
        net = self.net
        loss = net.loss_grad(Xb, Yb, swb, noise, add_l2=not self.takes_l2)
        if self.grad_computed:
            for cb in self.grad_computed:
                cb.on_grad_computed(self.estimator, self.grad, batch)
        if self.takes_l2:
            self.step(self.params, self.grad, self.state, lr, l2=net.l2)
        else:
            self.step(self.params, self.grad, self.state, lr)
        return loss

    def end_batch(self, batch, size, loss):
        """Run ``on_batch_end``; True when a callback stops training."""
        logs = {"batch": batch, "size": size, "loss": float(loss)}
        return self._notify(self.batch_end, "on_batch_end", batch, logs)

    def fit_full_batch(self, X, Y, sw, labels, valid):
        """Minimise over all of ``X`` at once (L-BFGS); each iteration is an epoch."""
        est, net, spec, tasks = self.estimator, self.net, self.spec, self.tasks
        clock = [time.perf_counter()]
        # An iteration begins with its first evaluation of the objective, so
        # that a last iteration that never comes is never begun.
        pending = [bool(self.epoch_begin)]

        def fun(params):
            if pending[0]:
                pending[0] = False
                for cb in self.epoch_begin:
                    cb.on_epoch_begin(est, len(est.history_) + 1)
            return net.loss_grad(X, Y, sw), net.grad

        def callback(loss):
            if self.interrupt:
                raise KeyboardInterrupt
            stop = self.end_epoch(loss, np.nan, clock[0], valid, X.shape[0])
            if tasks.end_epoch() or stop:
                raise StopIteration
            pending[0] = bool(self.epoch_begin)
            tasks.begin_epoch(0, X, Y, sw, labels, "lbfgs-iter")
            clock[0] = time.perf_counter()

        start, diverged = _state.copy_arrays(_state.trained(est.__dict__)), None
        tasks.begin_epoch(0, X, Y, sw, labels, "lbfgs-iter")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                result = spec.optimizer.minimize(
                    fun, net.params, est.max_iter, est.tol, callback
                )
        except KeyboardInterrupt:
            warnings.warn(
                f"Training interrupted by the user after {est.n_iter_} iterations; "
                "keeping the weights reached so far.",
                UserWarning,
            )
            result = None
        except _Diverged as exc:
            diverged, result = str(exc), None
        candidates = [(None, None), (start, _START)]
        probes = [X] + ([] if valid is None else [valid[0]])
        diverged, restored = self.restore(valid, candidates, probes, diverged)
        if diverged:
            # The iteration that made the last weights: the last one recorded,
            # unless training stopped inside the next one.
            epoch = len(est.history_) + (result is None or est.n_iter_ == 0)
            self.warn_diverged(epoch, diverged, restored, None)
        elif result is not None:
            est.loss_ = float(result.fun)
            # status 1: stopped by max_iter or by an evaluation budget (max_fun).
            if result.status == 1:
                warnings.warn(
                    f"L-BFGS did not converge: {result.message}. Increase max_iter "
                    "(or the optimizer's max_fun) or scale the data.",
                    ConvergenceWarning,
                )

    # --------------------------------------------------------------- epochs
    def end_epoch(self, train_loss, lr, start_time, valid, n_samples):
        """Count and record one epoch, run ``on_epoch_end``; True to stop.

        Raises ``_Diverged`` (before counting the epoch) when the validation
        outputs are not finite. The built-in early stopping is the first
        callback (see ``_default_callbacks``).
        """
        est = self.estimator
        record = {"epoch": len(est.history_) + 1, "train_loss": float(train_loss)}
        if valid is not None:
            record["valid_loss"], record["valid_score"] = self.evaluate(*valid)
        est.n_iter_ += 1
        est.t_ += n_samples
        record["learning_rate"] = float(lr)
        record["duration"] = time.perf_counter() - start_time
        est.history_.append(record)
        est.loss_curve_.append(record["train_loss"])
        est.loss_ = record["train_loss"]
        if valid is not None:
            est.validation_scores_.append(record["valid_score"])
        return self._notify(self.callbacks, "on_epoch_end", record["epoch"], record)

    def _notify(self, callbacks, hook, *args):
        """Call ``hook`` of every callback; True when one raised StopTraining."""
        est, reasons = self.estimator, []
        for cb in callbacks:
            try:
                getattr(cb, hook)(est, *args)
            except StopTraining as exc:
                reasons.append(str(exc))
        if est.verbose:
            for reason in reasons:
                print(f"Stopping: {reason}")
        return bool(reasons)

    def evaluate(self, X, Y, sw, labels, keys=None):
        """``(loss, score)`` of the current weights on a validation set."""
        net = self.net
        raw = net.forward(X)
        if not np.isfinite(raw).all():
            raise _Diverged("non-finite outputs on the validation set")
        per_sample = net.loss.loss(Y, raw)
        loss = float(np.average(per_sample, weights=sw))
        return loss, float(self.estimator._validation_score(raw, Y, sw, labels))

    # ------------------------------------------------------------- recovery
    def restore(self, valid, candidates, probes, diverged):
        """End with usable weights; return ``(divergence or None, their name)``.

        The one rule for what training leaves behind: a finite trained state
        (weights and running statistics, :func:`sknn._state.trained`) whose
        outputs are finite on ``probes`` (the training data and the validation
        set). With a validation set, the best epoch's state comes first, then
        ``candidates``, each ``(kept state, name)``: the current state is
        ``(None, None)``, and rejecting it is a divergence. Each candidate is
        rolled back to as a whole. After a divergence, or when the optimizer
        state fails its own check (not finite), the optimizer state restarts.
        If no candidate is usable, X itself overflows the network and is
        refused.
        """
        est, net, spec = self.estimator, self.net, self.spec
        live = _state.trained(est.__dict__)
        best = _state.best(est.__dict__) if valid is not None else None
        if best is not None:
            # Trying the best state first overwrites the current one: keep it.
            candidates = [
                (best, "the weights of the best validation score"),
                *(
                    (_state.copy_arrays(live) if kept is None else kept, name)
                    for kept, name in candidates
                ),
            ]
        for kept, name in candidates:
            if kept is not None:
                _state.copy_arrays(kept, into=live)
            if _state.all_finite(live) and all(
                np.isfinite(net.forward(Xp)).all() for Xp in probes
            ):
                break
            if name is None:
                diverged = diverged or "the last weights give non-finite outputs"
        else:
            raise ValueError(
                "The network's outputs overflow even with the weights training "
                f"started from: the values in X are too large for {net.dtype.name}. "
                "Scale the inputs (e.g. StandardScaler)."
            )
        try:  # e.g. Adagrad's sum of squares can overflow while weights do not
            spec.optimizer.check_state(est.optimizer_state_, net.params)
            state_ok = True
        except ValueError:
            state_ok = False
        if diverged or not state_ok:
            est.optimizer_state_ = spec.optimizer.init(net.params)
        return diverged, name

    def warn_diverged(self, epoch, what, restored, lr):
        """Say where training diverged, what was restored and what to try."""
        warnings.warn(
            f"Training diverged at epoch {epoch} ({what}); stopped and restored "
            f"{restored}. Try a smaller learning_rate"
            + (f" (was {lr:g})" if lr is not None else "")
            + ", scaling the inputs (e.g. StandardScaler), or a larger alpha.",
            UserWarning,
        )
