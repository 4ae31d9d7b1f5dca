"""Architecture definitions: a plain dict that describes a VAE, checked field by field.

Two forms, as in the original CVAE project:

Dense (an MLP VAE)::

    {"input": (28, 28, 1), "latent": 2, "hidden": [512], "name": "mnist_dense"}

Convolutional::

    {"input": (64, 64, 3), "latent": 512,
     "encode": [(32, 3, (2, 2)), (64, 3, (2, 2))],   # (filters, kernel, strides)
     "decode": None,                                  # None: mirror the encoder
     "name": "face_cvae_1"}

Optional keys: ``activation`` (any Keras activation name; ``relu`` by default)
and, for conv models, ``batch_norm`` (bool, default False).

:func:`validate_arch_def` returns a normalized copy (tuples, not lists; kernel
and strides as pairs; ``decode`` filled in when mirrored) or raises a
``ValueError`` that names the field and what is wrong with it. The normalized
dict is JSON-friendly, so it is stored in the model's config and survives
``model.save``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras

REQUIRED_KEYS = ("input", "latent", "name")
OPTIONAL_KEYS = ("hidden", "encode", "decode", "activation", "batch_norm")
KNOWN_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _pair(value: Any, field: str) -> tuple[int, int]:
    """An int or a 2-sequence of positive ints, as a pair."""
    if _is_int(value):
        value = (value, value)
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) != 2
        or not all(_is_int(v) for v in value)
    ):
        raise ValueError(
            f"arch_def field {field!r}: expected an int or a pair of ints, got {value!r}"
        )
    if min(value) < 1:
        raise ValueError(f"arch_def field {field!r}: values must be >= 1, got {value!r}")
    return (int(value[0]), int(value[1]))


def _check_input(value: Any) -> tuple[int, int, int]:
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) != 3
        or not all(_is_int(v) for v in value)
    ):
        raise ValueError(
            f"arch_def field 'input': expected a tuple (height, width, channels) of 3 ints, got {value!r}"
        )
    if min(value) < 1:
        raise ValueError(f"arch_def field 'input': sizes must be >= 1, got {tuple(value)!r}")
    return tuple(int(v) for v in value)  # type: ignore[return-value]


def _check_layers(
    value: Any, field: str
) -> tuple[tuple[int, tuple[int, int], tuple[int, int]], ...]:
    """A non-empty list of (filters, kernel, strides) entries."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) == 0:
        raise ValueError(
            f"arch_def field {field!r}: expected a non-empty list of (filters, kernel, strides), got {value!r}"
        )
    layers = []
    for i, entry in enumerate(value):
        where = f"{field}[{i}]"
        if not isinstance(entry, Sequence) or isinstance(entry, str) or len(entry) != 3:
            raise ValueError(
                f"arch_def field {where!r}: expected a tuple (filters, kernel, strides) of length 3, got {entry!r}"
            )
        filters, kernel, strides = entry
        if not _is_int(filters) or filters < 1:
            raise ValueError(
                f"arch_def field {where!r}: filters must be an int >= 1, got {filters!r}"
            )
        layers.append(
            (int(filters), _pair(kernel, f"{where}.kernel"), _pair(strides, f"{where}.strides"))
        )
    return tuple(layers)


def _check_divisible(size: tuple[int, int], layers, field: str) -> tuple[int, int]:
    """Strides must divide the size at each layer, so a mirrored decoder hits the input size exactly."""
    h, w = size
    for i, (_, _, (sh, sw)) in enumerate(layers):
        if h % sh or w % sw:
            raise ValueError(
                f"arch_def field '{field}[{i}].strides': strides {(sh, sw)} do not divide the "
                f"feature map size {(h, w)} at that layer (input {size}); choose strides or an "
                f"input size so that every stride divides the size it is applied to"
            )
        h, w = h // sh, w // sw
    return h, w


def validate_arch_def(arch_def: Mapping[str, Any]) -> dict[str, Any]:
    """Check an architecture definition and return its normalized form.

    Raises:
        ValueError: naming the offending field and what is wrong with it.
    """
    if not isinstance(arch_def, Mapping):
        raise ValueError(f"arch_def must be a dict, got {type(arch_def).__name__}")
    unknown = sorted(set(arch_def) - set(KNOWN_KEYS))
    if unknown:
        raise ValueError(
            f"arch_def has unknown field(s) {unknown}; known fields are {list(KNOWN_KEYS)}"
        )
    missing = [k for k in REQUIRED_KEYS if k not in arch_def]
    if missing:
        raise ValueError(f"arch_def is missing required field(s) {missing}")

    out: dict[str, Any] = {}
    out["input"] = _check_input(arch_def["input"])
    latent = arch_def["latent"]
    if not _is_int(latent) or latent < 1:
        raise ValueError(f"arch_def field 'latent': expected an int >= 1, got {latent!r}")
    out["latent"] = int(latent)
    name = arch_def["name"]
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"arch_def field 'name': expected a non-empty string, got {name!r}")
    out["name"] = name
    activation = arch_def.get("activation", "relu")
    try:
        keras.activations.get(activation)
    except (ValueError, TypeError) as err:
        raise ValueError(f"arch_def field 'activation': unknown activation {activation!r}") from err
    out["activation"] = activation

    has_dense, has_conv = "hidden" in arch_def, "encode" in arch_def
    if has_dense == has_conv:
        raise ValueError(
            "arch_def needs exactly one of 'hidden' (a dense VAE) or 'encode' (a conv VAE), "
            f"got {'both' if has_dense else 'neither'}"
        )
    if has_dense:
        for key in ("decode", "batch_norm"):
            if key in arch_def:
                raise ValueError(
                    f"arch_def field {key!r} applies to conv VAEs ('encode'), not dense ones ('hidden')"
                )
        hidden = arch_def["hidden"]
        if (
            not isinstance(hidden, Sequence)
            or isinstance(hidden, str)
            or not all(_is_int(h) and h >= 1 for h in hidden)
        ):
            raise ValueError(
                f"arch_def field 'hidden': expected a list of ints >= 1, got {hidden!r}"
            )
        out["hidden"] = tuple(int(h) for h in hidden)
        return out

    encode = _check_layers(arch_def["encode"], "encode")
    _check_divisible(out["input"][:2], encode, "encode")
    decode = arch_def.get("decode")
    if decode is None:
        decode = tuple((f, k, s) for f, k, s in reversed(encode))
    else:
        decode = _check_layers(decode, "decode")
        total_h = total_w = 1
        for _, _, (sh, sw) in decode:
            total_h, total_w = total_h * sh, total_w * sw
        h, w = out["input"][:2]
        if h % total_h or w % total_w:
            raise ValueError(
                f"arch_def field 'decode': the strides multiply to {(total_h, total_w)}, which does "
                f"not divide the input size {(h, w)}; the decoder could not produce the input size"
            )
    out["encode"] = encode
    out["decode"] = decode
    batch_norm = arch_def.get("batch_norm", False)
    if not isinstance(batch_norm, bool):
        raise ValueError(f"arch_def field 'batch_norm': expected True or False, got {batch_norm!r}")
    out["batch_norm"] = batch_norm
    return out


def is_conv(arch_def: Mapping[str, Any]) -> bool:
    """True for a convolutional definition, False for a dense one."""
    return "encode" in arch_def


def to_jsonable(arch_def: Mapping[str, Any]) -> dict[str, Any]:
    """Tuples to lists, so the definition can go into a Keras config / JSON file."""

    def convert(value):
        if isinstance(value, tuple | list):
            return [convert(v) for v in value]
        return value

    return {k: convert(v) for k, v in arch_def.items()}
