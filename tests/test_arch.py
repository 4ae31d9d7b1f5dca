"""Every invalid architecture definition gets a ValueError that names the field."""

import pytest

from vaecore.arch import ArchDefError, validate_arch_def
from vaecore.architectures import get_architecture, list_architectures

DENSE = {"input": (28, 28, 1), "latent": 2, "hidden": [512], "name": "mnist_dense"}
CONV = {
    "input": (64, 64, 3),
    "latent": 16,
    "encode": [(32, 3, (2, 2)), (64, 3, 2)],
    "decode": None,
    "name": "face_cvae_1",
}


def with_(base, **changes):
    d = dict(base)
    for k, v in changes.items():
        if v is ...:
            d.pop(k)
        else:
            d[k] = v
    return d


def test_dense_is_normalized():
    arch = validate_arch_def(DENSE)
    assert arch["input"] == (28, 28, 1)
    assert arch["hidden"] == (512,)
    assert arch["activation"] == "relu"


def test_keras_activation_functions_are_stored_by_name():
    import keras

    assert validate_arch_def(with_(DENSE, activation=keras.activations.gelu))["activation"] == "gelu"
    assert validate_arch_def(with_(DENSE, activation="leaky_relu"))["activation"] == "leaky_relu"


@pytest.mark.parametrize(
    "activation, words",
    [
        (lambda x: x, "callable '<lambda>'"),
        (abs, "callable 'abs'"),
        (3, "unknown activation 3"),
    ],
    ids=["lambda", "builtin", "number"],
)
def test_other_activations_are_refused_clearly(activation, words):
    with pytest.raises(ArchDefError, match="'activation'") as err:
        validate_arch_def(with_(DENSE, activation=activation))
    assert words in str(err.value)


def test_refused_callable_model_is_never_built():
    from vaecore import build_vae

    with pytest.raises(ArchDefError, match="Keras activation name such as 'relu'"):
        build_vae(with_(DENSE, activation=lambda x: x * 2))


def test_conv_decode_none_mirrors_encoder():
    arch = validate_arch_def(CONV)
    assert arch["encode"] == ((32, (3, 3), (2, 2)), (64, (3, 3), (2, 2)))
    assert arch["decode"] == ((64, (3, 3), (2, 2)), (32, (3, 3), (2, 2)))


def test_lists_from_json_are_accepted():
    arch = validate_arch_def(with_(CONV, input=[64, 64, 3], encode=[[32, 3, [2, 2]]]))
    assert arch["encode"] == ((32, (3, 3), (2, 2)),)


@pytest.mark.parametrize(
    "arch_def, field, words",
    [
        (with_(DENSE, latent=0), "'latent'", ">= 1"),
        (with_(DENSE, latent=2.5), "'latent'", "int"),
        (with_(DENSE, input=(28, 28)), "'input'", "3 ints"),
        (with_(DENSE, input=(28, 0, 1)), "'input'", ">= 1"),
        (with_(DENSE, name=""), "'name'", "non-empty"),
        (with_(DENSE, hidden=[512, -1]), "'hidden'", "ints >= 1"),
        (with_(DENSE, activation="nope"), "'activation'", "unknown activation"),
        (with_(DENSE, laten=2), "unknown field", "laten"),
        (with_(DENSE, latent=...), "missing required", "latent"),
        (with_(DENSE, decode=None), "'decode'", "conv"),
        (with_(DENSE, hidden=...), "needs 'hidden'", "neither"),
        (with_(CONV, encode=[(32, 3)]), "'encode[0]'", "length 3"),
        (with_(CONV, encode=[(32, 3, (2, 2, 2))]), "'encode[0].strides'", "pair"),
        (with_(CONV, encode=[(0, 3, 2)]), "'encode[0]'", "filters"),
        (with_(CONV, encode=[(32, 3, 2), (64, 3, 3)]), "'encode[1].strides'", "do not divide"),
        (with_(CONV, encode=[]), "'encode'", "non-empty"),
        (with_(CONV, decode=[(32, 3, 3)]), "'decode'", "not divide"),
        (with_(CONV, batch_norm="yes"), "'batch_norm'", "True or False"),
    ],
)
def test_invalid_definitions_name_the_field(arch_def, field, words):
    with pytest.raises(ValueError) as err:
        validate_arch_def(arch_def)
    assert field in str(err.value)
    assert words in str(err.value)


def test_not_a_dict():
    with pytest.raises(ValueError, match="must be a dict"):
        validate_arch_def([("input", (28, 28, 1))])


def test_every_problem_is_reported_at_once():
    bad = {
        "input": (92, 92, 3),
        "latent": 0,
        "encode": [(32, 3, 2), (64, 3, 2), (128, 3, 2)],
        "activation": "nope",
        "batch_norm": 1,
        "colour": "red",
        "name": "caltech_92",
    }
    with pytest.raises(ArchDefError) as err:
        validate_arch_def(bad)
    problems = err.value.problems
    assert len(problems) == 5, problems
    message = str(err.value)
    assert message.startswith("arch_def 'caltech_92' has 5 problems")
    for field in ["'latent'", "'activation'", "'batch_norm'", "'encode[2].strides'", "colour"]:
        assert field in message
    # the stride problem shows the chain of sizes that led to it
    assert "92x92 -> 46x46 -> 23x23" in message
    assert isinstance(err.value, ValueError)


def test_several_bad_layers_are_all_named():
    with pytest.raises(ArchDefError) as err:
        validate_arch_def(with_(CONV, encode=[(0, 3, 2), (32, 3, (2, 2, 2)), (8, 3)]))
    fields = " ".join(err.value.problems)
    assert "'encode[0]'" in fields and "'encode[1].strides'" in fields and "'encode[2]'" in fields


def test_conv_with_hidden_dense_layers_mirrors_them():
    arch = validate_arch_def(with_(CONV, hidden=[64, 16]))
    assert arch["hidden"] == (64, 16) and arch["decode_hidden"] == (16, 64)
    arch = validate_arch_def(with_(CONV, hidden=[16], decode_hidden=[]))
    assert arch["decode_hidden"] == ()
    assert validate_arch_def(CONV)["hidden"] == ()


def test_normalized_definition_validates_to_itself():
    arch = validate_arch_def(with_(CONV, hidden=[16]))
    assert validate_arch_def(arch) == arch


@pytest.mark.parametrize(
    "changes, field",
    [({"hidden": [16, 0]}, "'hidden'"), ({"decode_hidden": "16"}, "'decode_hidden'")],
)
def test_conv_hidden_errors_name_the_field(changes, field):
    with pytest.raises(ArchDefError, match=field):
        validate_arch_def(with_(CONV, **changes))


def test_decode_hidden_needs_a_conv_model():
    with pytest.raises(ArchDefError, match="'decode_hidden'"):
        validate_arch_def(with_(DENSE, decode_hidden=[4]))


def test_named_architectures_are_valid_and_copied():
    for name in list_architectures():
        validate_arch_def(get_architecture(name))
    arch = get_architecture("cifar10_conv", latent=16, name="cifar10_conv_z16")
    assert arch["latent"] == 16 and get_architecture("cifar10_conv")["latent"] != 16
    assert arch["name"] == "cifar10_conv_z16"
    with pytest.raises(KeyError, match="cifar10_conv"):
        get_architecture("nope")
    with pytest.raises(ArchDefError, match="laten"):
        get_architecture("cifar10_conv", laten=3)


MAP = {"input": (32, 32, 3), "latent": (8, 8, 8), "encode": [(32, 4, 2), (64, 4, 2)], "name": "cifar_map"}


def test_a_latent_map_is_normalized_and_round_trips_through_json():
    import json

    from vaecore.arch import is_spatial, latent_shape, to_jsonable

    arch = validate_arch_def(with_(MAP, latent=[8, 8, 8]))
    assert arch["latent"] == (8, 8, 8) and arch["hidden"] == () and arch["decode_hidden"] == ()
    assert is_spatial(arch) and latent_shape(arch) == (8, 8, 8)
    assert not is_spatial(validate_arch_def(DENSE)) and latent_shape(validate_arch_def(DENSE)) == (2,)
    assert validate_arch_def(json.loads(json.dumps(to_jsonable(arch)))) == arch


@pytest.mark.parametrize(
    "arch_def, field, words",
    [
        (with_(DENSE, latent=(4, 4, 2)), "'latent'", "needs a conv VAE"),
        (with_(MAP, latent=(8, 8)), "'latent'", "(height, width, channels)"),
        (with_(MAP, latent=(8, 0, 8)), "'latent'", "3 ints >= 1"),
        (with_(MAP, latent=(4, 4, 8)), "'latent'", "encoder's last feature map is 8x8"),
        (with_(MAP, hidden=[16]), "'hidden'", "must be empty"),
        (with_(MAP, decode_hidden=[16]), "'decode_hidden'", "must be empty"),
        (with_(MAP, decode=[(64, 4, 2)]), "'decode'", "takes the 8x8 latent map to 16x16"),
    ],
)
def test_invalid_latent_maps_name_the_field(arch_def, field, words):
    with pytest.raises(ArchDefError) as err:
        validate_arch_def(arch_def)
    assert field in str(err.value) and words in str(err.value)
