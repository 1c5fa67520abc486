"""
==========================================
Loss curves of optimizers and schedules
==========================================

The same network trained on the digits data with each built-in stochastic
optimizer, then with SGD under each built-in learning-rate schedule. Every fit
holds out 10% of the training data (``early_stopping=True``), so the history
has a validation loss beside the training loss, and stops when the validation
accuracy stops improving.

:class:`~sknn.inspection.LossCurveDisplay` draws the curves from each
estimator's ``history_``: solid lines are the training loss, dashed lines the
validation loss.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier
from sknn.inspection import LossCurveDisplay
from sknn.optimizers import SGD, Adagrad, Adam, AdamW, RMSprop
from sknn.schedules import Constant, Cosine, Exponential, InvScaling, StepDecay

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)


def fit(**params):
    nn = NNClassifier((64,), early_stopping=True, max_iter=200, random_state=0)
    return nn.set_params(**params).fit(X, y)


# %%
# Optimizers
# ----------
# Each optimizer at a learning rate that suits it.
optimizers = {
    "SGD": SGD(learning_rate=0.05),
    "Adam": Adam(learning_rate=1e-3),
    "AdamW": AdamW(learning_rate=1e-3, weight_decay=1e-2),
    "RMSprop": RMSprop(learning_rate=1e-3),
    "Adagrad": Adagrad(learning_rate=0.05),
}
fitted = {name: fit(optimizer=opt) for name, opt in optimizers.items()}

fig, ax = plt.subplots(figsize=(8, 4.5))
displays = [
    LossCurveDisplay.from_estimator(nn, ax=ax, name=name, score=False, color=color)
    for (name, nn), color in zip(fitted.items(), plt.cm.tab10.colors)
]
ax.set_yscale("log")
ax.set_title("digits, 64 hidden units (solid: training, dashed: validation)")
# One legend entry per optimizer: its training-loss line.
ax.legend([d.line_ for d in displays], list(fitted))
for name, nn in fitted.items():
    print(
        f"{name:8s} {nn.n_iter_:3d} epochs, best validation accuracy "
        f"{nn.best_validation_score_:.3f}"
    )

# %%
# Learning-rate schedules
# -----------------------
# SGD with a base rate of 0.1 under each schedule. The right-hand plot is the
# rate each epoch actually used, as recorded in ``history_``.
schedules = {
    "constant": Constant(),
    "invscaling": InvScaling(power_t=0.5),
    "step": StepDecay(step_size=10, gamma=0.5),
    "exponential": Exponential(gamma=0.9),
    "cosine": Cosine(warmup=3, period=40),
}
fitted = {
    name: fit(optimizer="sgd", learning_rate=0.1, lr_schedule=schedule)
    for name, schedule in schedules.items()
}

fig, (ax_loss, ax_lr) = plt.subplots(1, 2, figsize=(11, 4.5))
displays = []
for (name, nn), color in zip(fitted.items(), plt.cm.tab10.colors):
    display = LossCurveDisplay.from_estimator(
        nn, ax=ax_loss, name=name, score=False, color=color
    )
    displays.append(display)
    epochs = [record["epoch"] for record in nn.history_]
    rates = [record["learning_rate"] for record in nn.history_]
    ax_lr.plot(epochs, rates, color=color, label=name)
ax_loss.set_yscale("log")
ax_loss.set_title("solid: training loss, dashed: validation loss")
ax_loss.legend([d.line_ for d in displays], list(fitted))
ax_lr.set(xlabel="epoch", ylabel="learning rate", title="the rate of each epoch")
ax_lr.legend(fontsize="small")
fig.tight_layout()
for name, nn in fitted.items():
    print(
        f"{name:12s} {nn.n_iter_:3d} epochs, best validation accuracy "
        f"{nn.best_validation_score_:.3f}"
    )
