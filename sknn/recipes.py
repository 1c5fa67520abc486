"""Recipes: named settings of the estimators' parameters, ready to try.

A recipe gives each estimator type a dict of parameters.
``NNClassifier.from_recipe(name, **params)`` (or ``NNRegressor``'s) returns an
ordinary estimator with its type's parameters, then ``params`` on top: every
value shows in its ``repr`` and ``get_params``, ``clone`` keeps it, and a
search can tune any of it (``architecture__n_members``,
``optimizer__weight_decay``, ...).

``"tabular"``
    For tables of numbers and one-hot encoded categories; the
    documentation's tabular benchmark compares it with scikit-learn's MLP
    and HistGradientBoosting on 34 data sets.

    - The classifier is an ensemble of eight of scikit-learn's default
      perceptrons trained as one network (:class:`~sknn.architectures.MLP`
      with ``n_members=8``; otherwise the estimator's defaults, which are
      ``MLPClassifier``'s).
    - The regressor is an ensemble of eight perceptrons of two hidden layers
      of 64 units with periodic embeddings of the numerical features
      (``MLP(embedding="plr", n_members=8)``), trained for 100 epochs in
      batches of 64 rows with AdamW (decoupled weight decay 0.01), a cosine
      learning-rate schedule and dropout 0.1, on all the training data.

Examples
--------
>>> from sknn import NNClassifier, NNRegressor
>>> from sknn.recipes import list_recipes
>>> list_recipes()
['tabular']
>>> NNClassifier.from_recipe("tabular", random_state=0)
NNClassifier(architecture=MLP(n_members=8), random_state=0)
>>> NNRegressor.from_recipe("tabular").architecture
MLP(embedding='plr', n_members=8)
"""

from sklearn.base import clone

from .architectures import MLP
from .optimizers import AdamW

__all__ = ["get_recipe", "list_recipes"]

# The estimator types a recipe sets parameters for (scikit-learn's names).
ESTIMATOR_TYPES = ("classifier", "regressor")

# Recipe name -> estimator type -> the parameters it sets (read with get_recipe).
RECIPES = {
    "tabular": {
        "classifier": {"architecture": MLP(n_members=8)},
        "regressor": {
            "architecture": MLP(embedding="plr", n_members=8),
            "hidden_layer_sizes": (64, 64),
            "optimizer": AdamW(),
            "lr_schedule": "cosine",
            "dropout": 0.1,
            "max_iter": 100,
            "batch_size": 64,
        },
    },
}


def list_recipes():
    """Names of the recipes.

    Returns
    -------
    names : list of str
    """
    return sorted(RECIPES)


def get_recipe(name, estimator_type):
    """The parameters recipe ``name`` gives an estimator, with fresh components.

    Parameters
    ----------
    name : str
        One of :func:`list_recipes`.
    estimator_type : {"classifier", "regressor"}
        For :class:`~sknn.NNClassifier` or :class:`~sknn.NNRegressor`.

    Returns
    -------
    params : dict
        Parameter name -> value; component values are new instances, so
        changing them leaves the recipe as it is.

    Examples
    --------
    >>> from sknn.recipes import get_recipe
    >>> get_recipe("tabular", "regressor")["architecture"]
    MLP(embedding='plr', n_members=8)
    """
    if not isinstance(name, str) or name not in RECIPES:
        raise ValueError(f"recipe must be one of {list_recipes()}; got {name!r}.")
    if not isinstance(estimator_type, str) or estimator_type not in ESTIMATOR_TYPES:
        raise ValueError(
            f"estimator_type must be one of {list(ESTIMATOR_TYPES)}; got "
            f"{estimator_type!r}."
        )
    params = RECIPES[name][estimator_type]
    return {k: clone(v, safe=False) for k, v in params.items()}
