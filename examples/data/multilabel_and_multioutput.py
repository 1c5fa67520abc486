"""
==================================================
Multilabel classification, multi-output regression
==================================================

One network predicts several targets at once. For a multilabel target (a 0/1
indicator matrix, one column per label) :class:`~sknn.NNClassifier` uses one
logistic output per label and the binary log-loss; ``predict_proba`` gives one
probability per label. For a 2-D regression target :class:`~sknn.NNRegressor`
has one output per column.
"""

# %%
# Multilabel classification
# -------------------------
import matplotlib.pyplot as plt
import numpy as np
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_linnerud, make_multilabel_classification
from sklearn.metrics import f1_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier, NNRegressor

X, Y = make_multilabel_classification(
    n_samples=2000, n_features=20, n_classes=5, n_labels=2, random_state=0
)
X_train, X_test, Y_train, Y_test = train_test_split(X, Y, random_state=0)

clf = make_pipeline(
    StandardScaler(), NNClassifier((64,), early_stopping=True, random_state=0)
).fit(X_train, Y_train)
proba = clf.predict_proba(X_test)
print(f"Y has shape {Y.shape}; predict_proba gives {proba.shape}")
print(f"output activation: {clf[-1].out_activation_}")
per_label = f1_score(Y_test, clf.predict(X_test), average=None)
print("F1 per label: " + ", ".join(f"{f:.2f}" for f in per_label))

# %%
# Multi-output regression
# -----------------------
# The Linnerud data: three physiological measurements predicted from three
# exercise counts, 20 rows, fitted with the full-batch L-BFGS optimizer. The
# targets are scaled too, since the outputs are linear and start near zero.
X, Y = load_linnerud(return_X_y=True)
reg = TransformedTargetRegressor(
    regressor=make_pipeline(
        StandardScaler(),
        NNRegressor((16,), alpha=1.0, optimizer="lbfgs", max_iter=500, random_state=0),
    ),
    transformer=StandardScaler(),
).fit(X, Y)
Y_pred = reg.predict(X)
print(f"Y has shape {Y.shape}; predict gives {Y_pred.shape}")
print(
    "training R^2 per output: "
    + ", ".join(f"{r:.2f}" for r in r2_score(Y, Y_pred, multioutput="raw_values"))
)

# %%
fig, (ax_f1, *ax_out) = plt.subplots(1, 4, figsize=(14, 3.6))
ax_f1.bar(np.arange(len(per_label)), per_label)
ax_f1.set(xlabel="label", ylabel="F1 on the test set", title="multilabel", ylim=(0, 1))
names = load_linnerud().target_names
for ax, j in zip(ax_out, range(Y.shape[1])):
    ax.scatter(Y[:, j], Y_pred[:, j], s=15)
    lo, hi = Y[:, j].min(), Y[:, j].max()
    ax.plot([lo, hi], [lo, hi], color="gray", linewidth=1)
    ax.set(xlabel=f"true {names[j]}", ylabel="predicted", title=f"output {j}")
fig.tight_layout()
