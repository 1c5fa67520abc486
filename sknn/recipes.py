"""Recipes: named settings of the estimators' parameters, ready to try.

A recipe is a dict of ``NNClassifier``/``NNRegressor`` parameters.
``NNClassifier.from_recipe(name, **params)`` (or ``NNRegressor``'s) returns an
ordinary estimator with those parameters, then ``params`` on top: every
value shows in its ``repr`` and ``get_params``, ``clone`` keeps it, and a
search can tune any of it (``architecture__n_members``,
``optimizer__weight_decay``, ...).

``"tabular"``
    For tables of numbers and one-hot encoded categories. An ensemble of
    multilayer perceptrons with periodic embeddings of the numerical
    features: eight perceptrons of two hidden layers of 64 units
    (:class:`~sknn.architectures.MLP` with ``embedding="plr"`` and
    ``n_members=8``), trained together for 100 epochs with AdamW (decoupled
    weight decay 0.01), a cosine learning-rate schedule and dropout 0.1, on
    all the training data (no validation split: on small tables the rows it
    would hold out cost more than early stopping saves). The
    documentation's tabular benchmark compares it with scikit-learn's MLP
    and HistGradientBoosting on 34 data sets.

Examples
--------
>>> from sknn import NNClassifier
>>> from sknn.recipes import list_recipes
>>> list_recipes()
['tabular']
>>> clf = NNClassifier.from_recipe("tabular", random_state=0)
>>> clf.architecture
MLP(embedding='plr', n_members=8)
"""

from sklearn.base import clone

from .architectures import MLP
from .optimizers import AdamW

__all__ = ["get_recipe", "list_recipes"]

# Recipe name -> the estimator parameters it sets (read with get_recipe).
RECIPES = {
    "tabular": {
        "architecture": MLP(embedding="plr", n_members=8),
        "hidden_layer_sizes": (64, 64),
        "optimizer": AdamW(),
        "lr_schedule": "cosine",
        "dropout": 0.1,
        "max_iter": 100,
    },
}


def list_recipes():
    """Names of the recipes.

    Returns
    -------
    names : list of str
    """
    return sorted(RECIPES)


def get_recipe(name):
    """The estimator parameters of recipe ``name``, with fresh components.

    Parameters
    ----------
    name : str
        One of :func:`list_recipes`.

    Returns
    -------
    params : dict
        Parameter name -> value; component values are new instances, so
        changing them leaves the recipe as it is.

    Examples
    --------
    >>> from sknn.recipes import get_recipe
    >>> get_recipe("tabular")["lr_schedule"]
    'cosine'
    """
    if not isinstance(name, str) or name not in RECIPES:
        raise ValueError(f"recipe must be one of {list_recipes()}; got {name!r}.")
    return {k: clone(v, safe=False) for k, v in RECIPES[name].items()}
