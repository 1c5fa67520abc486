"""
===================================
Streaming training with partial_fit
===================================

When the data arrive in chunks (from files, a database or a queue),
:meth:`~sknn.NNClassifier.partial_fit` trains on each chunk as it comes: one
epoch over the chunk per call, with the optimizer's state (Adam's moments and
step count) carried from call to call, so the result does not depend on how
the stream was cut. The first call must name every class with ``classes=``.

Here a generator yields chunks of 500 rows of a synthetic 5-class problem; the
network is scored on a fixed held-out set after every chunk.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

from sknn import NNClassifier
from sknn.inspection import LossCurveDisplay

X, y = make_classification(
    n_samples=22_000,
    n_features=30,
    n_informative=15,
    n_classes=5,
    class_sep=1.5,
    random_state=0,
)
X_stream, X_test, y_stream, y_test = train_test_split(
    X, y, test_size=2000, random_state=0
)


def chunks(X, y, size=500):
    """Yield the data in consecutive chunks, as a stream would."""
    for start in range(0, len(X), size):
        yield X[start : start + size], y[start : start + size]


# %%
# Training chunk by chunk
# -----------------------
clf = NNClassifier((64,), learning_rate=3e-3, batch_size=50, random_state=0)
seen, accuracy = [], []
for X_chunk, y_chunk in chunks(X_stream, y_stream):
    clf.partial_fit(X_chunk, y_chunk, classes=np.arange(5))
    seen.append(clf.t_)
    accuracy.append(clf.score(X_test, y_test))
print(f"{len(seen)} chunks, {clf.t_} rows seen, {len(clf.history_)} history records")
print(f"held-out accuracy after the first chunk: {accuracy[0]:.3f}")
print(f"held-out accuracy after the last chunk: {accuracy[-1]:.3f}")

# %%
# Each call adds one record to ``history_``, so the loss curve has one point
# per chunk: the training loss of that chunk's epoch.
fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.5))
LossCurveDisplay.from_estimator(clf, ax=ax_loss, name="partial_fit")
ax_loss.set_xlabel("chunk")
ax_acc.plot(seen, accuracy, marker=".")
ax_acc.set(xlabel="rows seen", ylabel="held-out accuracy", title="after each chunk")
fig.tight_layout()
