"""
==================
Saving and loading
==================

:func:`sknn.save` writes a fitted (or unfitted) estimator to a file of JSON and
plain arrays; :func:`sknn.load` reads it back without importing or running
anything the file names. The loaded model predicts exactly as the saved one,
and training continues exactly where it stopped: the optimizer's state and the
history are saved too.
"""

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import sknn
from sknn import NNClassifier
from sknn.inspection import LossCurveDisplay

X, y = load_digits(return_X_y=True)
X = X / 16  # pixel intensities into [0, 1]
X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)

clf = NNClassifier((64,), learning_rate=0.01, random_state=0).fit(X_train, y_train)

# %%
# Save, load, predict
# -------------------
path = Path(tempfile.mkdtemp()) / "digits.sknn"
sknn.save(clf, path)
loaded = sknn.load(path)
print(f"{path.name}: {path.stat().st_size / 1024:.0f} KiB")
print(f"loaded: {loaded!r}")
same = np.array_equal(loaded.predict_proba(X_test), clf.predict_proba(X_test))
print(f"identical predicted probabilities: {same}")

# %%
# Training continues
# ------------------
# ``partial_fit`` on the loaded model makes the same steps as on the original.
for model in (clf, loaded):
    for _ in range(5):
        model.partial_fit(X_train, y_train)
same = np.array_equal(clf.coefs_[0], loaded.coefs_[0])
print(f"same weights after 5 more epochs each: {same}")
print(f"history: {len(loaded.history_)} epochs, {clf.n_iter_} in the last call")

fig, (ax_loss, ax_digits) = plt.subplots(
    1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [1.3, 1]}
)
display = LossCurveDisplay.from_estimator(loaded, ax=ax_loss, name="loaded")
ax_loss.axvspan(len(loaded.history_) - 5 + 0.5, len(loaded.history_) + 0.5, alpha=0.2)
ax_loss.set(yscale="log", title="history_ of the loaded model (shaded: after loading)")
ax_digits.axis("off")
images = np.hstack([X_test[i].reshape(8, 8) for i in range(8)])
ax_digits.imshow(images, cmap="gray_r")
predicted = loaded.predict(X_test[:8])
ax_digits.set_title("predicted by the loaded model: " + " ".join(map(str, predicted)))
fig.tight_layout()
