"""
===============================================
A schedule, early stopping and custom callbacks
===============================================

:class:`~sknn.NNRegressor` on the diabetes data that ships with scikit-learn.

The learning rate warms up for 5 epochs and then follows a cosine decay down to
``min_lr`` at ``max_iter``; ``early_stopping`` holds out 20% of the training data,
stops when its R^2 stops improving and restores the weights of the best epoch;
the ``EarlyStopping`` callback adds a second rule on the validation loss; a small
custom callback records the norm of the weights after every epoch; and
``verbose=1`` prints the per-epoch table.
"""

# %%
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNRegressor
from sknn.callbacks import Callback, EarlyStopping
from sknn.inspection import LossCurveDisplay
from sknn.schedules import Cosine


class WeightNorm(Callback):
    """Record the L2 norm of all the weights after every epoch."""

    def on_train_begin(self, estimator, X=None, y=None):
        self.norms_ = []

    def on_epoch_end(self, estimator, epoch, logs):
        self.norms_.append(float(np.sqrt(sum((w**2).sum() for w in estimator.coefs_))))


# %%
# Training
# --------
X, y = load_diabetes(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

reg = NNRegressor(
    hidden_layer_sizes=(16,),
    learning_rate=0.01,
    lr_schedule=Cosine(warmup=5, min_lr=1e-4),
    alpha=1.0,
    max_iter=60,
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=20,
    callbacks=[EarlyStopping(monitor="valid_loss", patience=15), WeightNorm()],
    verbose=1,
    random_state=0,
)
# Scale the inputs, and the target (the network's outputs start near 0).
model = TransformedTargetRegressor(
    regressor=make_pipeline(StandardScaler(), reg), transformer=StandardScaler()
)
with warnings.catch_warnings():
    # The cosine schedule spans max_iter epochs: reaching it is intended.
    warnings.simplefilter("ignore", ConvergenceWarning)
    model.fit(X_train, y_train)

# %%
# What happened
# -------------
nn = model.regressor_[-1]
history = nn.history_
stopper, recorder = nn.callbacks_[0], nn.callbacks_[1]
if stopper.wait_ >= stopper.patience:
    reason = f"EarlyStopping saw no better valid_loss for {stopper.patience} epochs"
elif nn.n_iter_ < nn.max_iter:
    reason = f"no better validation R^2 for more than {nn.n_iter_no_change} epochs"
else:
    reason = "max_iter reached"
print(f"stopped after {nn.n_iter_} epochs: {reason}")
print(
    "learning rate, epochs 1-8: "
    + ", ".join(f"{h['learning_rate']:.4f}" for h in history[:8])
)
print(
    f"learning rate: first epoch {history[0]['learning_rate']:.2g}, "
    f"last epoch {history[-1]['learning_rate']:.3g}"
)
best = max(history, key=lambda r: (r["valid_score"], -r["valid_loss"]))
print(
    f"best epoch {best['epoch']}: validation R^2 {best['valid_score']:.3f} "
    f"(best_validation_score_ = {nn.best_validation_score_:.3f})"
)
print(
    f"weight norm: epoch 1 {recorder.norms_[0]:.2f}, "
    f"last epoch {recorder.norms_[-1]:.2f}"
)
print(f"test R^2: {model.score(X_test, y_test):.3f}")

# %%
# The history's losses and validation R², the learning rate of each epoch, and
# the custom callback's record.
fig, (ax_loss, ax_lr, ax_norm) = plt.subplots(1, 3, figsize=(13, 4))
LossCurveDisplay.from_estimator(nn, ax=ax_loss, name="")
epochs = [record["epoch"] for record in history]
ax_lr.plot(epochs, [record["learning_rate"] for record in history])
ax_lr.set(xlabel="epoch", ylabel="learning rate", title="Cosine(warmup=5)")
ax_norm.plot(epochs, recorder.norms_)
ax_norm.set(xlabel="epoch", ylabel="norm of the weights", title="WeightNorm callback")
fig.tight_layout()
