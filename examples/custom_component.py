"""A custom activation and a custom learning-rate schedule, registered in process.

The activation (swish with a ``beta`` hyperparameter) and the schedule (linear
decay) are checked against the component contracts with ``sknn.testing``, used
by name in an ``NNClassifier`` on the bundled breast-cancer data, and the
activation's ``beta`` is tuned by grid search.

Run with ``python examples/custom_component.py``.
"""

import warnings

import numpy as np
from scipy import special
from sklearn.datasets import load_breast_cancer
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import sknn
from sknn import NNClassifier
from sknn.activations import Activation
from sknn.schedules import Schedule
from sknn.testing import check_activation, check_schedule


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


@sknn.register_schedule("linear")
class LinearDecay(Schedule):
    """Decrease the rate linearly to ``end_factor * base_lr`` at the last epoch.

    Parameters
    ----------
    end_factor : float, default=0.1
        The final rate as a fraction of the base rate, in (0, 1].
    """

    def __init__(self, end_factor=0.1):
        self.end_factor = end_factor

    def __call__(self, base_lr, epoch, history=(), max_iter=None):
        progress = min(epoch / max((max_iter or 1) - 1, 1), 1.0)
        return base_lr * (1 - (1 - self.end_factor) * progress)


class BrokenSwish(Swish):
    """Swish with a wrong derivative, to show what the check reports."""

    def backward(self, grad, a, z=None):
        grad *= special.expit(self.beta * z)  # forgets the second term
        return grad


print(f"registered activations: {', '.join(sknn.list_activations())}")
print(f"registered schedules: {', '.join(sknn.list_schedules())}")

# The contract checks raise AssertionError at the first violation.
for check, component in [
    (check_activation, Swish(beta=1.5)),
    (check_activation, Swish(beta=0.5)),
    (check_schedule, LinearDecay()),
]:
    check(component)
    print(f"{check.__name__}({component!r}): passed")
try:
    check_activation(BrokenSwish())
except AssertionError as exc:
    print(f"check_activation(BrokenSwish()): failed as expected: {str(exc)[:90]}...")
else:
    raise SystemExit("check_activation accepted a wrong derivative")

# The linear schedule spans max_iter epochs, so reaching max_iter is intended.
warnings.filterwarnings("ignore", category=ConvergenceWarning)

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, stratify=y, random_state=0)

# By name: the registered classes with their default hyperparameters.
clf = make_pipeline(
    StandardScaler(),
    NNClassifier(
        hidden_layer_sizes=(32,),
        activation="swish",
        lr_schedule="linear",
        learning_rate=0.01,
        max_iter=60,
        random_state=0,
    ),
)
clf.fit(X_train, y_train)
nn = clf[-1]
rates = [record["learning_rate"] for record in nn.history_]
print(
    f"held-out accuracy with activation='swish', lr_schedule='linear': "
    f"{clf.score(X_test, y_test):.3f}"
)
print(f"learning rate: epoch 1 {rates[0]:.4f}, epoch {len(rates)} {rates[-1]:.4f}")

# As an instance: its hyperparameter is searchable as activation__beta.
pipe = make_pipeline(
    StandardScaler(),
    NNClassifier(
        hidden_layer_sizes=(32,),
        activation=Swish(),
        lr_schedule=LinearDecay(),
        learning_rate=0.01,
        max_iter=60,
        random_state=0,
    ),
)
search = GridSearchCV(
    pipe,
    {
        "nnclassifier__activation__beta": [0.5, 1.0, 2.0],
        "nnclassifier__lr_schedule__end_factor": [0.1, 1.0],
    },
    cv=3,
).fit(X_train, y_train)
for params, score in zip(
    search.cv_results_["params"], search.cv_results_["mean_test_score"]
):
    beta = params["nnclassifier__activation__beta"]
    end = params["nnclassifier__lr_schedule__end_factor"]
    print(f"  beta={beta:<4} end_factor={end:<4} cross-validated accuracy {score:.3f}")
best = search.best_params_
print(
    f"best activation__beta: {best['nnclassifier__activation__beta']} "
    f"(cross-validated accuracy {search.best_score_:.3f})"
)
print(f"held-out accuracy of the best model: {search.score(X_test, y_test):.3f}")
