"""Architectures as components: registry, parameters, embeddings, layer lists."""

import pytest
from sklearn.base import clone

import sknn
from sknn._registry import REGISTRIES
from sknn.architectures import MLP, Architecture, ResNet
from sknn.layers import (
    ActivationLayer,
    BatchNorm,
    Dense,
    Dropout,
    PeriodicEmbedding,
    PiecewiseLinearEncoding,
    ResNetBlock,
)


def test_registry_lists_and_resolves_the_builtins():
    assert {"mlp", "resnet"} <= set(sknn.list_architectures())
    registry = REGISTRIES["architectures"]
    assert registry.group == "sknn.architectures"
    assert registry.get("resnet") is ResNet
    assert isinstance(registry.resolve("mlp", "architecture"), MLP)
    with pytest.raises(ValueError, match="architecture='wide'.*mlp.*resnet"):
        registry.resolve("wide", "architecture")


def test_register_architecture():
    class Linear(Architecture):
        def body(self, n_outputs):
            return [Dense(n_outputs, activation="identity")]

    try:
        sknn.register_architecture("linear_test")(Linear)
        assert "linear_test" in sknn.list_architectures()
        layers = REGISTRIES["architectures"].resolve("linear_test", "a").layers(3, 2)
        assert [type(x) for x in layers] == [Dense]
    finally:
        REGISTRIES["architectures"]._classes.pop("linear_test", None)


def test_mlp_layers_follow_the_estimator_settings():
    layers = MLP().layers(
        4, 3, hidden_layer_sizes=(8, 5), activation="tanh", dropout=0.25
    )
    assert [type(x) for x in layers] == [Dense, Dropout, Dense, Dropout, Dense]
    assert [x.units for x in layers[::2]] == [8, 5, 3]
    assert [x.activation for x in layers[::2]] == ["tanh", "tanh", "identity"]
    assert layers[1].rate == 0.25
    assert [type(x) for x in MLP().layers(4, 1, hidden_layer_sizes=())] == [Dense]
    assert MLP.estimator_params == ("hidden_layer_sizes", "activation", "dropout")
    assert ResNet.estimator_params == ()


def test_resnet_layers_follow_the_paper():
    arch = ResNet(n_blocks=3, d_block=16, d_hidden_multiplier=1.5, dropout2=0.1)
    layers = arch.layers(7, 2)
    assert [type(x) for x in layers] == [
        Dense,
        ResNetBlock,
        ResNetBlock,
        ResNetBlock,
        BatchNorm,
        ActivationLayer,
        Dense,
    ]
    assert layers[0].units == 16 and layers[0].activation == "identity"
    blocks = layers[1:4]
    assert {(b.d_hidden, b.dropout1, b.dropout2) for b in blocks} == {(24, 0.15, 0.1)}
    assert layers[-1].units == 2 and layers[-1].activation == "identity"
    assert ResNet(d_block=16, d_hidden=5).layers(7, 2)[1].d_hidden == 5


def test_settings_an_architecture_does_not_take_are_refused():
    with pytest.raises(TypeError, match="ResNet does not take.*hidden_layer_sizes"):
        ResNet().layers(4, 1, hidden_layer_sizes=(10,))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_blocks": 0}, "ResNet.n_blocks must be an int >= 1"),
        ({"d_block": 2.5}, "ResNet.d_block must be an int"),
        ({"dropout1": 1.0}, "ResNet.dropout1 must be a float >= 0 and < 1"),
        ({"d_hidden_multiplier": 0}, "ResNet.d_hidden_multiplier must be a float > 0"),
        ({"embedding": "fourier"}, "embedding='fourier' is not an embedding.*'plr'"),
        ({"embedding": BatchNorm}, "embedding must be None, 'plr', 'ple' or a"),
    ],
)
def test_bad_parameters_are_named(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        ResNet(**params).layers(4, 1)
    with pytest.raises((ValueError, TypeError), match=match):
        REGISTRIES["architectures"].resolve(ResNet(**params), "architecture").check()


@pytest.mark.parametrize(
    "embedding, cls",
    [("plr", PeriodicEmbedding), ("ple", PiecewiseLinearEncoding)],
)
def test_embedding_is_prepended_and_its_parameters_are_nested(embedding, cls):
    arch = MLP(embedding=embedding)
    layers = arch.layers(4, 1, hidden_layer_sizes=(6,))
    assert [type(x) for x in layers] == [cls, Dense, Dense]
    name = "n_frequencies" if cls is PeriodicEmbedding else "n_bins"
    arch.set_params(**{f"embedding__{name}": 5})
    assert isinstance(arch.embedding, cls) and getattr(arch.embedding, name) == 5
    assert arch.get_params()[f"embedding__{name}"] == 5
    assert getattr(clone(arch).embedding, name) == 5
    assert getattr(arch.layers(4, 1)[0], name) == 5


def test_embedding_instance_is_copied_not_used():
    plr = PeriodicEmbedding(d_embedding=3)
    arch = ResNet(embedding=plr)
    first = arch.layers(4, 1)[0]
    assert isinstance(first, PeriodicEmbedding) and first is not plr
    assert first.d_embedding == 3


def test_nested_embedding_parameters_need_an_embedding():
    with pytest.raises(ValueError, match="embedding=None"):
        MLP().set_params(embedding__n_bins=4)
    arch = ResNet().set_params(embedding="ple", embedding__n_bins=7)
    assert arch.embedding.n_bins == 7
