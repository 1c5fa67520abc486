"""
==========================================
A custom activation and a custom optimizer
==========================================

Components are small classes with hyperparameters in ``__init__`` and no
state: the activation computes a function and its derivative, the optimizer
creates its state with ``init`` and updates the parameters in place with
``step``. Registered under a name, they are used like the built-in ones, and
the estimator's ``get_params``/``set_params`` reach their hyperparameters, so a
grid search can tune them.

Here: swish, ``f(z) = z * sigmoid(beta * z)``, and AdaMax (Adam with the
infinity norm, Kingma and Ba 2015). Both are checked with :mod:`sknn.testing`,
which runs the same contract checks as on sknn's own components.
"""

# %%
# The activation
# --------------
import matplotlib.pyplot as plt
import numpy as np
from scipy import special
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sknn
from sknn import NNClassifier
from sknn.activations import Activation
from sknn.inspection import LossCurveDisplay
from sknn.optimizers import Optimizer
from sknn.testing import check_activation, check_optimizer


@sknn.register_activation("swish")
class Swish(Activation):
    """Swish, ``f(z) = z * sigmoid(beta * z)``.

    Parameters
    ----------
    beta : float, default=1.0
        Slope of the gate; 1.0 gives SiLU, large values approach ReLU.
    """

    uses_input = True  # the derivative needs z, not only f(z)

    def __init__(self, beta=1.0):
        self.beta = beta

    def forward(self, z, out=None):
        return np.multiply(z, special.expit(self.beta * z), out=out)

    def backward(self, grad, a, z=None):
        # d/dz z s(bz) = s + b z s (1 - s) = s + b a (1 - s), with s = s(bz)
        gate = special.expit(self.beta * z)
        grad *= gate + self.beta * a * (1 - gate)
        return grad


# %%
# The optimizer
# -------------
# The state is a dict of arrays that the estimator keeps as
# ``optimizer_state_``, so ``partial_fit`` and ``warm_start`` resume it.
@sknn.register_optimizer("adamax")
class AdaMax(Optimizer):
    """Adam with the infinity norm: steps of at most ``learning_rate``.

    Parameters
    ----------
    learning_rate : float or None, default=None
        Step size; None uses the estimator's ``learning_rate``.
    beta_1, beta_2 : float, default=0.9, 0.999
        Decay of the first moment and of the running maximum.
    epsilon : float, default=1e-8
        Added to the maximum before dividing.
    """

    def __init__(self, learning_rate=None, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.learning_rate = learning_rate
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def init(self, params):
        return {"t": 0, "m": np.zeros_like(params), "u": np.zeros_like(params)}

    def step(self, params, grad, state, learning_rate):
        state["t"] += 1
        m, u = state["m"], state["u"]
        m *= self.beta_1
        m += (1 - self.beta_1) * grad
        np.maximum(self.beta_2 * u, np.abs(grad), out=u)
        scale = learning_rate / (1 - self.beta_1 ** state["t"])
        params -= scale * m / (u + self.epsilon)


# %%
# Checking them
# -------------
# Each check raises ``AssertionError`` at the first violation of the contract:
# derivatives against finite differences, in-place updates, both dtypes,
# convergence on a quadratic and on the Rosenbrock function, no state kept on
# the component.
print(f"registered activations: {', '.join(sknn.list_activations())}")
print(f"registered optimizers: {', '.join(sknn.list_optimizers())}")
for check, component in [
    (check_activation, Swish(beta=1.5)),
    (check_activation, Swish(beta=0.5)),
    (check_optimizer, AdaMax(learning_rate=0.01)),
]:
    check(component)
    print(f"{check.__name__}({component!r}): passed")


class BrokenSwish(Swish):
    """Swish with a wrong derivative, to show what the check reports."""

    def backward(self, grad, a, z=None):
        grad *= special.expit(self.beta * z)  # forgets the second term
        return grad


try:
    check_activation(BrokenSwish())
except AssertionError as exc:
    print(f"check_activation(BrokenSwish()): failed as expected: {str(exc)[:90]}...")

# %%
# Using them by name, and tuning them
# -----------------------------------
X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

clf = make_pipeline(
    StandardScaler(),
    NNClassifier(
        (32,),
        activation="swish",
        optimizer="adamax",
        learning_rate=0.01,
        early_stopping=True,
        random_state=0,
    ),
).fit(X_train, y_train)
print(
    "held-out accuracy with activation='swish', optimizer='adamax': "
    f"{clf.score(X_test, y_test):.3f}"
)

# As instances, their hyperparameters are searchable like any other.
pipe = make_pipeline(
    StandardScaler(),
    NNClassifier(
        (32,),
        activation=Swish(),
        optimizer=AdaMax(),
        early_stopping=True,
        random_state=0,
    ),
)
search = GridSearchCV(
    pipe,
    {
        "nnclassifier__activation__beta": [0.5, 1.0, 2.0],
        "nnclassifier__optimizer__learning_rate": [0.002, 0.01],
    },
    cv=3,
).fit(X_train, y_train)
best = search.best_params_
print(
    f"best activation__beta: {best['nnclassifier__activation__beta']}, "
    f"optimizer__learning_rate: {best['nnclassifier__optimizer__learning_rate']} "
    f"(cross-validated accuracy {search.best_score_:.3f})"
)

# %%
# What they look like
# -------------------
fig, (ax_f, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.2))
z = np.linspace(-5, 5, 201)
for beta in [0.5, 1.0, 2.0]:
    ax_f.plot(z, Swish(beta).forward(z.copy()), label=f"beta={beta}")
ax_f.set(xlabel="z", ylabel="f(z)", title="Swish")
ax_f.legend()
for optimizer, color in [("adamax", "tab:blue"), ("adam", "tab:orange")]:
    nn = clf[-1].set_params(optimizer=optimizer)
    clf.fit(X_train, y_train)
    LossCurveDisplay.from_estimator(
        nn, ax=ax_loss, name=optimizer, score=False, color=color
    )
ax_loss.set_title("breast cancer, activation='swish'")
fig.tight_layout()
