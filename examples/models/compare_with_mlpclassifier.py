"""
===============================
sknn beside MLPClassifier
===============================

With the same parameters and ``random_state``, :class:`~sknn.NNClassifier`
trains the same network as scikit-learn's
:class:`~sklearn.neural_network.MLPClassifier`: the same initial weights, the
same shuffles and the same Adam steps, so the two loss curves lie on top of each
other. What differs is the time each epoch takes.

Both train for exactly 40 epochs here (``n_iter_no_change`` larger than
``max_iter``), so both warn that they stopped at ``max_iter``: the warning is
expected and silenced.
"""

# %%
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

from sknn import NNClassifier

X, y = load_digits(return_X_y=True)
X = StandardScaler().fit_transform(X)
params = dict(hidden_layer_sizes=(100,), max_iter=40, n_iter_no_change=1000)
models = {
    "sknn NNClassifier": NNClassifier(random_state=0, **params),
    "scikit-learn MLPClassifier": MLPClassifier(random_state=0, **params),
}

# %%
# Same trajectory
# ---------------
seconds = {name: [] for name in models}
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    for _ in range(3):  # alternate the two, and keep each one's fastest fit
        for name, model in models.items():
            start = time.perf_counter()
            model.fit(X, y)
            seconds[name].append((time.perf_counter() - start) / model.n_iter_)

sknn_curve = np.array(models["sknn NNClassifier"].loss_curve_)
mlp_curve = np.array(models["scikit-learn MLPClassifier"].loss_curve_)
gap = np.max(np.abs(sknn_curve / mlp_curve - 1))
print(f"largest relative difference between the loss curves: {gap:.1e}")
same_weights = np.allclose(
    models["sknn NNClassifier"].coefs_[0],
    models["scikit-learn MLPClassifier"].coefs_[0],
    rtol=1e-5,
    atol=1e-8,
)
print(f"same first-layer weights after 40 epochs: {same_weights}")

# %%
# Time per epoch
# --------------
# The fastest of three fits each, the two run alternately in one process. The
# performance page has larger workloads and PyTorch.
for name, times in seconds.items():
    print(f"{name}: {min(times) * 1e3:.2f} ms per epoch")
ratio = min(seconds["sknn NNClassifier"]) / min(seconds["scikit-learn MLPClassifier"])
print(f"sknn / scikit-learn time per epoch: {ratio:.2f}")

fig, (ax_curve, ax_time) = plt.subplots(1, 2, figsize=(11, 4.2))
epochs = np.arange(1, len(sknn_curve) + 1)
ax_curve.plot(epochs, mlp_curve, linewidth=4, alpha=0.4, label="MLPClassifier")
ax_curve.plot(epochs, sknn_curve, linestyle="--", label="NNClassifier")
ax_curve.set(xlabel="epoch", ylabel="training loss", yscale="log", title="loss_curve_")
ax_curve.legend()
names = list(seconds)
ax_time.barh(names, [min(seconds[n]) * 1e3 for n in names], color=["C1", "C0"])
ax_time.set(xlabel="milliseconds per epoch", title="digits, 100 hidden units, Adam")
fig.tight_layout()
