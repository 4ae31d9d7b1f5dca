"""Every invalid architecture definition gets a ValueError that names the field."""

import pytest

from vaecore.arch import validate_arch_def

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
