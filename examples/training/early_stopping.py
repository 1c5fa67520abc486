"""
==============
Early stopping
==============

A large network on a small, noisy data set fits the noise if it trains for too
long. With ``early_stopping=True``, :class:`~sknn.NNClassifier` holds out
``validation_fraction`` of the training data (stratified for a classifier),
scores it after every epoch, stops when the score has not improved by ``tol``
for more than ``n_iter_no_change`` epochs, and restores the weights of the best
epoch. When the validation data are given in advance, ``fit`` takes them as
``X_val`` and ``y_val`` instead, and nothing is held out of the training data.
"""

# %%
import matplotlib.pyplot as plt
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from sknn import NNClassifier
from sknn.inspection import LossCurveDisplay

# 20% of the labels are flipped at random: noise that a big network can memorise.
X, y = make_classification(
    n_samples=1000, n_features=40, n_informative=10, flip_y=0.2, random_state=0
)
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

# %%
# Training until the training loss stops improving
# ------------------------------------------------
# Without a validation set, training stops when the *training* loss has not
# improved for more than ``n_iter_no_change`` epochs, long after the network has
# started to memorise the flipped labels.
plain = NNClassifier((128, 128), max_iter=500, random_state=0).fit(X_train, y_train)

# %%
# Stopping on a held-out validation set
# -------------------------------------
# A patience of 20 epochs shows how the validation loss rises after the best
# epoch while the training loss keeps falling.
stopped = NNClassifier(
    (128, 128),
    early_stopping=True,
    validation_fraction=0.2,
    n_iter_no_change=20,
    max_iter=500,
    random_state=0,
).fit(X_train, y_train)

best = max(stopped.history_, key=lambda r: (r["valid_score"], -r["valid_loss"]))
print(f"without early stopping: {plain.n_iter_} epochs")
print(
    f"with early stopping: {stopped.n_iter_} epochs, best epoch {best['epoch']} "
    f"(validation accuracy {stopped.best_validation_score_:.3f})"
)
print(f"test accuracy without early stopping: {plain.score(X_test, y_test):.3f}")
print(
    f"test accuracy with early stopping (best epoch's weights): "
    f"{stopped.score(X_test, y_test):.3f}"
)

fig, (ax_plain, ax_stopped) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
LossCurveDisplay.from_estimator(plain, ax=ax_plain, name="no early stopping")
ax_plain.set_title("training loss only")
display = LossCurveDisplay.from_estimator(stopped, ax=ax_stopped, name="early stopping")
ax_stopped.axvline(best["epoch"], color="gray", linewidth=1)
ax_stopped.annotate(
    "best epoch: weights restored",
    (best["epoch"], ax_stopped.get_ylim()[1]),
    xytext=(5, -15),
    textcoords="offset points",
    fontsize="small",
)
ax_stopped.set_title("validation_fraction=0.2, n_iter_no_change=20")
fig.tight_layout()

# %%
# Stopping on a validation set you give
# -------------------------------------
# When the validation data are fixed in advance (a later period, another site,
# a curated set), pass them to ``fit``. They are scored after every epoch just
# like a held-out fraction, and ``validation_fraction`` is not used: the whole
# of ``X_fit`` trains the network.
X_fit, X_val, y_fit, y_val = train_test_split(
    X_train, y_train, test_size=0.2, random_state=1
)
given = NNClassifier(
    (128, 128), early_stopping=True, n_iter_no_change=20, max_iter=500, random_state=0
).fit(X_fit, y_fit, X_val=X_val, y_val=y_val)
# The weights kept are those of the best epoch on X_val.
print(
    f"with X_val and y_val: {given.n_iter_} epochs, best validation accuracy "
    f"{given.best_validation_score_:.3f}, the restored weights score "
    f"{given.score(X_val, y_val):.3f} on X_val"
)
print(f"test accuracy: {given.score(X_test, y_test):.3f}")

display = LossCurveDisplay.from_estimator(given, name="X_val given")
display.ax_.set_title(f"fit(X_fit, y_fit, X_val=..., y_val=...), {len(X_val)} rows")
display.figure_.tight_layout()
