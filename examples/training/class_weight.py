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
from sklearn.datasets import make_classification
from sklearn.metrics import (
    ConfusionMatrixDisplay,
    balanced_accuracy_score,
    recall_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier

X, y = make_classification(
    n_samples=4000,
    n_features=20,
    n_informative=5,
    weights=[0.95],
    class_sep=0.8,
    random_state=0,
)
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
