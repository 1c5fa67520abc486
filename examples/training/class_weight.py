"""
================================
Class imbalance and class_weight
================================

With 5% positives, a classifier that minimises the average log-loss learns to
favour the majority class. ``class_weight="balanced"`` weighs each sample by
``n_samples / (n_classes * count(its class))`` in the loss (multiplied into any
``sample_weight``), which trades precision for recall on the rare class.
A dict such as ``{0: 1, 1: 5}`` sets the weights by hand.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    balanced_accuracy_score,
    recall_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier

# 5% positives: the rare class is where a combination of five of the 20
# features, plus noise, is largest.
rng = np.random.default_rng(0)
X = rng.normal(size=(4000, 20))
score = X[:, :5] @ rng.normal(size=5) + rng.normal(scale=1.5, size=4000)
y = (score > np.quantile(score, 0.95)).astype(int)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)
print(f"share of positives: {y.mean():.3f}")

# %%
# Unweighted and balanced
# -----------------------
models = {}
for class_weight in [None, "balanced"]:
    nn = NNClassifier(
        (32,), class_weight=class_weight, early_stopping=True, random_state=0
    )
    models[class_weight] = make_pipeline(StandardScaler(), nn).fit(X_train, y_train)

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
for ax, (class_weight, model) in zip(axes, models.items()):
    y_pred = model.predict(X_test)
    ConfusionMatrixDisplay.from_predictions(
        y_test, y_pred, ax=ax, colorbar=False, normalize="true", values_format=".2f"
    )
    ax.set_title(f"class_weight={class_weight!r}")
    print(
        f"class_weight={class_weight!r}: recall of the rare class "
        f"{recall_score(y_test, y_pred):.3f}, balanced accuracy "
        f"{balanced_accuracy_score(y_test, y_pred):.3f}"
    )
fig.tight_layout()
