"""Architectures: the layer lists of whole networks, chosen by one parameter.

An architecture is configuration only: given the number of input features,
the number of outputs and the estimator settings it reads, :meth:`layers`
returns the sequence of layers (:mod:`sknn.layers`) from the input to the
raw output, on which the loss then acts.

Which estimator parameters each architecture reads (``estimator_params``):

============  =============================================================
``MLP``       ``hidden_layer_sizes``, ``activation``, ``dropout``; its own
              ``n_members``
``ResNet``    none: its own ``n_blocks``, ``d_block``, ``d_hidden``,
              ``d_hidden_multiplier``, ``dropout1``, ``dropout2``
============  =============================================================

Every other estimator parameter (``alpha`` on the L2-covered weights, the
optimizer, the schedule, ``batch_size``, ``weight_init``, early stopping...)
applies to every architecture alike.

``embedding`` (on every architecture) puts a numerical-feature embedding
before the layers: None, ``"plr"`` (periodic embeddings,
:class:`sknn.layers.PeriodicEmbedding`), ``"ple"`` (piecewise-linear
encoding, :class:`sknn.layers.PiecewiseLinearEncoding`), or a layer instance.
Its parameters are searchable as ``architecture__embedding__<name>``, and its
``columns`` may name the columns of a DataFrame given to ``fit``.

Examples
--------
>>> from sknn.architectures import ResNet
>>> arch = ResNet(n_blocks=1, d_block=8, embedding="plr")
>>> [type(layer).__name__ for layer in arch.layers(4, 2)]
['PeriodicEmbedding', 'Dense', 'ResNetBlock', 'BatchNorm', 'ActivationLayer', 'Dense']
>>> arch.set_params(embedding__n_frequencies=4).embedding.n_frequencies
4
"""

from . import layers as _layers
from ._base import Component
from ._registry import _make_registry
from ._validation import check_params

__all__ = [
    "Architecture",
    "MLP",
    "ResNet",
    "register_architecture",
]

# Short names of the embeddings, and the layer each stands for.
_EMBEDDINGS = {"plr": "PeriodicEmbedding", "ple": "PiecewiseLinearEncoding"}


def _embedding_layer(spec):
    """A fresh layer instance for ``embedding=spec``, or None."""
    if spec is None:
        return None
    if isinstance(spec, str):
        if spec not in _EMBEDDINGS:
            raise ValueError(
                f"embedding={spec!r} is not an embedding; use None, "
                f"{', '.join(map(repr, _EMBEDDINGS))} or a layer instance."
            )
        return getattr(_layers, _EMBEDDINGS[spec])()
    if isinstance(spec, _layers.Layer):
        from sklearn.base import clone

        return clone(spec)
    raise TypeError(
        f"embedding must be None, {', '.join(map(repr, _EMBEDDINGS))} or a "
        f"sknn.layers.Layer instance; got {spec!r}."
    )


class Architecture(Component):
    """Base class of architectures.

    Subclasses implement :meth:`body` (the layers after the embedding) and
    list the estimator parameters it takes in ``estimator_params``.

    Parameters
    ----------
    embedding : None, {"plr", "ple"} or Layer, default=None
        A numerical-feature embedding put before the other layers.
    """

    #: Names of the estimator parameters :meth:`layers` takes as keywords.
    estimator_params = ()
    #: Names of the hyperparameters (its own, or estimator parameters in
    #: ``estimator_params``) that make its layers draw noise in training when
    #: they are not zero, such as dropout rates. Which layers draw noise is
    #: what the layers say (:attr:`sknn.layers.Layer.stochastic`); these
    #: names say what to change, e.g. for a full-batch optimizer.
    noise_params = ()

    def __init__(self, embedding=None):
        self.embedding = embedding

    def set_params(self, **params):
        """Set parameters; ``embedding__<name>`` turns a named embedding into a layer.

        Parameters
        ----------
        **params : dict
            Parameters, ``embedding__<name>`` for the embedding's own.

        Returns
        -------
        self : Architecture
            This architecture.
        """
        if any(k.startswith("embedding__") for k in params):
            value = params.get("embedding", self.embedding)
            if value is None or isinstance(value, str):
                if value is None:
                    raise ValueError(
                        "Cannot set embedding parameters with embedding=None; set "
                        "embedding='plr', 'ple' or a layer instance first."
                    )
                params["embedding"] = _embedding_layer(value)
        return super().set_params(**params)

    def check(self):
        """Raise ``ValueError``/``TypeError`` for an invalid hyper-parameter."""
        check_params(self)
        _embedding_layer(self.embedding)

    def layers(self, n_features, n_outputs, **settings):
        """The layers of the network, input to raw output.

        Parameters
        ----------
        n_features : int
            Width of the input.
        n_outputs : int
            Width of the raw output (the loss's).
        **settings
            The estimator parameters named in :attr:`estimator_params`.

        Returns
        -------
        layers : list of Layer
        """
        unknown = set(settings) - set(self.estimator_params)
        if unknown:
            raise TypeError(
                f"{type(self).__name__} does not take the estimator parameters "
                f"{sorted(unknown)}; it takes {list(self.estimator_params)}."
            )
        self.check()
        embedding = _embedding_layer(self.embedding)
        head = [] if embedding is None else [embedding]
        return head + self.body(n_outputs, **settings)

    def body(self, n_outputs, **settings):
        """The layers after the embedding, ending with the output layer."""
        raise NotImplementedError


registry = _make_registry("architectures", Architecture)
register_architecture = registry.register


@register_architecture("mlp")
class MLP(Architecture):
    """The multilayer perceptron of ``hidden_layer_sizes`` (the default).

    Each hidden layer is a dense layer with the estimator's ``activation``,
    followed by dropout when the estimator's ``dropout`` is above 0; the
    output layer is dense with raw (identity) outputs. Without an embedding
    this is the network of scikit-learn's MLP, and the estimator trains it
    with its dense engine.

    With ``n_members=k > 1`` the network is an ensemble of ``k``
    independent multilayer perceptrons trained at once
    (:class:`sknn.layers.EnsembleDense`, sharing only the embedding): the
    objective is the mean of the members' losses and the prediction the
    mean of their raw outputs. Training costs about ``k`` times one
    member's; the ensemble's predictions vary less from seed to seed and
    fold to fold than a single network's.

    Parameters
    ----------
    embedding : None, {"plr", "ple"} or Layer, default=None
        A numerical-feature embedding put before the first hidden layer.
    n_members : int, default=1
        Number of networks in the ensemble; 1 for a single network.

    Examples
    --------
    >>> from sknn.architectures import MLP
    >>> layers = MLP().layers(4, 1, hidden_layer_sizes=(8,), dropout=0.1)
    >>> [type(layer).__name__ for layer in layers]
    ['Dense', 'Dropout', 'Dense']
    >>> layers = MLP(n_members=4).layers(4, 1, hidden_layer_sizes=(8,))
    >>> [(type(layer).__name__, layer.input) for layer in layers]
    [('EnsembleDense', 'shared'), ('EnsembleDense', 'split')]
    """

    estimator_params = ("hidden_layer_sizes", "activation", "dropout")
    noise_params = ("dropout",)
    _param_checks = {"n_members": {"low": 1, "integer": True}}

    def __init__(self, embedding=None, n_members=1):
        self.embedding = embedding
        self.n_members = n_members

    def body(
        self, n_outputs, hidden_layer_sizes=(100,), activation="relu", dropout=0.0
    ):
        k = int(self.n_members)
        widths = [int(units) for units in hidden_layer_sizes] + [int(n_outputs)]
        body = []
        for i, units in enumerate(widths):
            act = activation if i < len(widths) - 1 else "identity"
            if k == 1:
                body.append(_layers.Dense(units, activation=act))
            else:
                split = "shared" if i == 0 else "split"
                body.append(_layers.EnsembleDense(units, k, act, input=split))
            if dropout and i < len(widths) - 1:
                body.append(_layers.Dropout(dropout))
        return body


@register_architecture("resnet")
class ResNet(Architecture):
    """The tabular ResNet of Gorishniy et al. (2021).

    A dense layer to ``d_block`` units, ``n_blocks`` residual blocks
    ``x + Dropout(Linear(Dropout(ReLU(Linear(BatchNorm(x))))))`` with
    ``d_hidden`` units inside, then the head BatchNorm -> ReLU -> Linear.
    The names follow ``rtdl_revisiting_models.ResNet``.

    Parameters
    ----------
    n_blocks : int, default=2
        Number of residual blocks.
    d_block : int, default=256
        Width of the blocks' input and output.
    d_hidden : int or None, default=None
        Width inside a block; None means ``d_hidden_multiplier * d_block``.
    d_hidden_multiplier : float, default=2.0
        Width inside a block relative to ``d_block``, when ``d_hidden`` is None.
    dropout1 : float, default=0.15
        Dropout rate after the block's first linear layer and its ReLU.
    dropout2 : float, default=0.0
        Dropout rate after the block's second linear layer.
    embedding : None, {"plr", "ple"} or Layer, default=None
        A numerical-feature embedding put before the first layer.

    Examples
    --------
    >>> from sknn.architectures import ResNet
    >>> [type(layer).__name__ for layer in ResNet(n_blocks=2).layers(4, 1)]
    ['Dense', 'ResNetBlock', 'ResNetBlock', 'BatchNorm', 'ActivationLayer', 'Dense']
    """

    noise_params = ("dropout1", "dropout2")
    _param_checks = {
        "n_blocks": {"low": 1, "integer": True},
        "d_block": {"low": 1, "integer": True},
        "d_hidden": {"low": 1, "integer": True, "allow_none": True},
        "d_hidden_multiplier": {"low": 0, "low_open": True},
        "dropout1": {"low": 0, "high": 1, "high_open": True},
        "dropout2": {"low": 0, "high": 1, "high_open": True},
    }

    def __init__(
        self,
        n_blocks=2,
        d_block=256,
        d_hidden=None,
        d_hidden_multiplier=2.0,
        dropout1=0.15,
        dropout2=0.0,
        embedding=None,
    ):
        self.n_blocks = n_blocks
        self.d_block = d_block
        self.d_hidden = d_hidden
        self.d_hidden_multiplier = d_hidden_multiplier
        self.dropout1 = dropout1
        self.dropout2 = dropout2
        self.embedding = embedding

    def body(self, n_outputs):
        d_hidden = self.d_hidden
        if d_hidden is None:
            d_hidden = max(1, round(self.d_hidden_multiplier * self.d_block))
        body = [_layers.Dense(int(self.d_block), activation="identity")]
        body += [
            _layers.ResNetBlock(
                d_hidden=d_hidden, dropout1=self.dropout1, dropout2=self.dropout2
            )
            for _ in range(int(self.n_blocks))
        ]
        return body + [
            _layers.BatchNorm(),
            _layers.ActivationLayer("relu"),
            _layers.Dense(int(n_outputs), activation="identity"),
        ]
