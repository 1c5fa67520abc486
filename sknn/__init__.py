"""sknn: scikit-learn neural-network estimators with pluggable components.

>>> from sknn import NNClassifier, list_optimizers
>>> list_optimizers()
['adagrad', 'adam', 'adamw', 'lbfgs', 'rmsprop', 'sgd']
"""

from . import (
    activations,
    architectures,
    callbacks,
    initializers,
    layers,
    losses,
    optimizers,
    schedules,
)
from ._base import Component, StopTraining
from ._persistence import load, save
from ._registry import REGISTRIES
from .estimators import NNClassifier, NNRegressor

__version__ = "0.1.0"

register_activation = activations.register_activation
register_loss = losses.register_loss
register_optimizer = optimizers.register_optimizer
register_schedule = schedules.register_schedule
register_initializer = initializers.register_initializer
register_callback = callbacks.register_callback
register_layer = layers.register_layer
register_architecture = architectures.register_architecture


def list_activations():
    """Names of the available activations, plugins included."""
    return REGISTRIES["activations"].names()


def list_losses():
    """Names of the available losses, plugins included."""
    return REGISTRIES["losses"].names()


def list_optimizers():
    """Names of the available optimizers, plugins included."""
    return REGISTRIES["optimizers"].names()


def list_schedules():
    """Names of the available learning-rate schedules, plugins included."""
    return REGISTRIES["schedules"].names()


def list_initializers():
    """Names of the available weight initializers, plugins included."""
    return REGISTRIES["initializers"].names()


def list_callbacks():
    """Names of the available callbacks, plugins included."""
    return REGISTRIES["callbacks"].names()


def list_layers():
    """Names of the available layers, plugins included."""
    return REGISTRIES["layers"].names()


def list_architectures():
    """Names of the available architectures, plugins included."""
    return REGISTRIES["architectures"].names()


__all__ = [
    "NNClassifier",
    "NNRegressor",
    "Component",
    "StopTraining",
    "save",
    "load",
    "register_activation",
    "register_loss",
    "register_optimizer",
    "register_schedule",
    "register_initializer",
    "register_callback",
    "register_layer",
    "register_architecture",
    "list_activations",
    "list_losses",
    "list_optimizers",
    "list_schedules",
    "list_initializers",
    "list_callbacks",
    "list_layers",
    "list_architectures",
    "__version__",
]
