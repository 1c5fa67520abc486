"""
==========
Quickstart
==========

A :class:`~sknn.NNClassifier` in a scikit-learn pipeline, tuned by
:class:`~sklearn.model_selection.GridSearchCV` on the digits data that ships with
scikit-learn. The grid searches over the architecture, the activation and the
optimizer, and ``nn__optimizer`` takes component instances, so their own
hyperparameters could be searched too (``nn__optimizer__learning_rate``).

Run it with ``python examples/quickstart.py``.
"""

# %%
# Data and pipeline
# -----------------
import time

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier
from sknn.inspection import LossCurveDisplay
from sknn.optimizers import SGD, Adam

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        ("nn", NNClassifier(early_stopping=True, max_iter=300, random_state=0)),
    ]
)

# %%
# Grid search
# -----------
# ``early_stopping=True`` holds out 10% of each training fold, stops when the
# accuracy on it stops improving and restores the best epoch's weights.
grid = {
    "nn__hidden_layer_sizes": [(32,), (64, 32)],
    "nn__activation": ["relu", "tanh"],
    "nn__optimizer": [Adam(learning_rate=0.01), SGD(learning_rate=0.05)],
}
start = time.perf_counter()
search = GridSearchCV(pipe, grid, cv=3).fit(X_train, y_train)
elapsed = time.perf_counter() - start

print(
    f"grid search: {len(search.cv_results_['params'])} candidates x 3 folds "
    f"in {elapsed:.1f} s"
)
for params, mean, std in zip(
    search.cv_results_["params"],
    search.cv_results_["mean_test_score"],
    search.cv_results_["std_test_score"],
):
    short = {k.removeprefix("nn__"): v for k, v in params.items()}
    print(f"  {mean:.3f} +/- {std:.3f}  {short}")
print(f"best cross-validated accuracy: {search.best_score_:.3f}")
print(f"best parameters: {search.best_params_}")
print(f"held-out test accuracy: {search.score(X_test, y_test):.3f}")

# %%
# The best model
# --------------
# :class:`~sknn.inspection.LossCurveDisplay` draws the best network's training
# loss, validation loss and validation accuracy per epoch, from its
# ``history_``; the confusion matrix is that of the held-out test set.
fig, (ax_loss, ax_cm) = plt.subplots(1, 2, figsize=(11, 4.5))
LossCurveDisplay.from_estimator(search.best_estimator_, ax=ax_loss, name="best")
ax_loss.set_title("best network, refitted on the training set")
ConfusionMatrixDisplay.from_estimator(
    search.best_estimator_, X_test, y_test, ax=ax_cm, colorbar=False
)
ax_cm.set_title("held-out test set")
fig.tight_layout()
best = search.best_estimator_.named_steps["nn"]
print(f"the best network trained {best.n_iter_} epochs")
