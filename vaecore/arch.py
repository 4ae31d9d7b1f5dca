"""Architecture definitions: a plain dict that describes a VAE, checked field by field.

Two forms, as in the original CVAE project:

Dense (an MLP VAE)::

    {"input": (28, 28, 1), "latent": 2, "hidden": [512], "name": "mnist_dense"}

Convolutional::

    {"input": (64, 64, 3), "latent": 512,
     "encode": [(32, 3, (2, 2)), (64, 3, (2, 2))],   # (filters, kernel, strides)
     "decode": None,                                  # None: mirror the encoder
     "name": "face_cvae_1"}

A **latent map** instead of a latent vector (a fully convolutional VAE): give
``latent`` as ``(height, width, channels)`` in a conv dict, e.g. ``(8, 8, 8)`` for
32 x 32 images and two stride-2 layers. The encoder's last feature map must have
that height and width, ``hidden`` / ``decode_hidden`` must be empty (no dense
layer on either side), and the decoder's strides must take the map back to the
input size exactly; :func:`validate_arch_def` says which of these fails and by how
much. (The model's codes are still flat vectors of ``h * w * c`` units outside
the networks, unit ``j`` at ``np.unravel_index(j, (h, w, c))``, so every tool that
takes ``(n, latent_dim)`` codes works unchanged.)

Optional keys: ``activation`` (any Keras activation name; ``relu`` by default; a Keras
activation function such as ``keras.activations.gelu`` is stored by its name, any other
callable is refused, since the dict is stored as JSON);
for conv models ``batch_norm`` (bool, default False), ``hidden`` (dense layers
between the flattened conv features and the latent code, e.g. ``[16]``) and
``decode_hidden`` (the decoder's dense layers before its projection to the
first feature map; default ``None`` mirrors ``hidden``, ``[]`` means none, as
in the original dogs model).

A **condition** (a conditional VAE, Sohn et al. 2015; :mod:`vaecore.conditional`):
``"condition": 10`` (one of 10 classes, given as integer labels or one-hot rows;
the same as ``{"classes": 10}``) or ``{"binary": 4}`` (4 binary attributes, each
0 or 1, e.g. CelebA's). Either count may be a list of names instead, e.g.
``{"binary": ["Smiling", "Eyeglasses"]}``. Normalized to ``{"classes": K}`` or
``{"binary": K}``, with ``"names"`` when names were given; an arch dict without the
key is an unconditional VAE, unchanged.

:func:`validate_arch_def` returns a normalized copy (tuples, not lists; kernel
and strides as pairs; ``decode`` and ``decode_hidden`` filled in when
mirrored) or raises an :class:`ArchDefError` (a ``ValueError``) that lists
*every* problem it found, each naming its field. The normalized dict is
JSON-friendly, so it is stored in the model's config and survives
``model.save``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras

REQUIRED_KEYS = ("input", "latent", "name")
OPTIONAL_KEYS = (
    "hidden", "encode", "decode", "decode_hidden", "activation", "batch_norm", "condition"
)  # fmt: skip
CONDITION_KINDS = ("classes", "binary")
KNOWN_KEYS = REQUIRED_KEYS + OPTIONAL_KEYS
CONV_ONLY_KEYS = ("decode", "decode_hidden", "batch_norm")

Layer = tuple[int, tuple[int, int], tuple[int, int]]


class ArchDefError(ValueError):
    """An invalid architecture definition. ``problems`` lists each one, naming its field."""

    def __init__(self, problems: Sequence[str], name: Any = None):
        self.problems = list(problems)
        label = f"arch_def {name!r}" if isinstance(name, str) and name.strip() else "arch_def"
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            lines = "\n".join(f"  - {p}" for p in self.problems)
            message = f"{label} has {len(self.problems)} problems:\n{lines}"
        super().__init__(message)


class _Problems:
    """Collects problems instead of stopping at the first one."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, field: str | None, message: str) -> None:
        self.items.append(
            f"arch_def field {field!r}: {message}" if field else f"arch_def {message}"
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_list(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _pair(value: Any, field: str, problems: _Problems) -> tuple[int, int] | None:
    """An int or a 2-sequence of positive ints, as a pair (None after recording a problem)."""
    if _is_int(value):
        value = (value, value)
    if not _is_list(value) or len(value) != 2 or not all(_is_int(v) for v in value):
        problems.add(field, f"expected an int or a pair of ints, got {value!r}")
        return None
    if min(value) < 1:
        problems.add(field, f"values must be >= 1, got {value!r}")
        return None
    return (int(value[0]), int(value[1]))


def _check_input(value: Any, problems: _Problems) -> tuple[int, int, int] | None:
    if not _is_list(value) or len(value) != 3 or not all(_is_int(v) for v in value):
        problems.add(
            "input", f"expected a tuple (height, width, channels) of 3 ints, got {value!r}"
        )
        return None
    if min(value) < 1:
        problems.add("input", f"sizes must be >= 1, got {tuple(value)!r}")
        return None
    return tuple(int(v) for v in value)  # type: ignore[return-value]


def _check_units(value: Any, field: str, problems: _Problems) -> tuple[int, ...] | None:
    if not _is_list(value) or not all(_is_int(h) and h >= 1 for h in value):
        problems.add(field, f"expected a list of ints >= 1, got {value!r}")
        return None
    return tuple(int(h) for h in value)


def _check_layers(value: Any, field: str, problems: _Problems) -> tuple[Layer, ...] | None:
    """A non-empty list of (filters, kernel, strides) entries."""
    if not _is_list(value) or len(value) == 0:
        problems.add(
            field, f"expected a non-empty list of (filters, kernel, strides), got {value!r}"
        )
        return None
    layers: list[Layer] = []
    ok = True
    for i, entry in enumerate(value):
        where = f"{field}[{i}]"
        if not _is_list(entry) or len(entry) != 3:
            problems.add(
                where, f"expected a tuple (filters, kernel, strides) of length 3, got {entry!r}"
            )
            ok = False
            continue
        filters, kernel, strides = entry
        if not _is_int(filters) or filters < 1:
            problems.add(where, f"filters must be an int >= 1, got {filters!r}")
            ok = False
        kernel = _pair(kernel, f"{where}.kernel", problems)
        strides = _pair(strides, f"{where}.strides", problems)
        if ok and kernel and strides:
            layers.append((int(filters), kernel, strides))
        else:
            ok = False
    return tuple(layers) if ok else None


def feature_map_sizes(size: tuple[int, int], layers: Sequence[Layer]) -> list[tuple[int, int]]:
    """The (height, width) after each stride of ``layers``, starting from ``size``."""
    h, w = size
    sizes = []
    for _, _, (sh, sw) in layers:
        h, w = h // sh, w // sw
        sizes.append((h, w))
    return sizes


def _check_divisible(size: tuple[int, int], layers: Sequence[Layer], problems: _Problems) -> None:
    """Strides must divide the size at each layer, so a mirrored decoder hits the input size exactly."""
    h, w = size
    for i, (_, _, (sh, sw)) in enumerate(layers):
        if h % sh or w % sw:
            chain = " -> ".join(f"{a}x{b}" for a, b in [size, *feature_map_sizes(size, layers[:i])])
            problems.add(
                f"encode[{i}].strides",
                f"strides {(sh, sw)} do not divide the feature map size {(h, w)} at that layer "
                f"(input {size}: {chain}); remove the layer, use stride 1, or choose an input "
                "size that every stride divides",
            )
            return
        h, w = h // sh, w // sw


def _check_activation(activation: Any, problems: _Problems) -> str | None:
    """A Keras activation name; a Keras activation function is stored by its name.

    Any other callable (a lambda, a custom function, a layer) is refused: the
    normalized dict goes into the model's config as JSON, so ``model.save`` could
    not restore it.
    """
    if isinstance(activation, str):
        try:
            keras.activations.get(activation)
        except (ValueError, TypeError):
            problems.add("activation", f"unknown activation {activation!r}")
        return activation
    if callable(activation):
        name = getattr(activation, "__name__", None)
        try:
            builtin = isinstance(name, str) and keras.activations.get(name) is activation
        except (ValueError, TypeError):
            builtin = False
        if builtin:
            return name
        label = name or type(activation).__name__
        problems.add(
            "activation",
            f"got the callable {label!r}; give a Keras activation name such as 'relu' or "
            "'gelu' (the arch_def is stored as JSON in the model's config, so a function "
            "could not be restored by load_model)",
        )
        return None
    problems.add("activation", f"unknown activation {activation!r}; give a Keras activation name")
    return None


def validate_arch_def(arch_def: Mapping[str, Any]) -> dict[str, Any]:
    """Check an architecture definition and return its normalized form.

    Every field is checked, and all problems are reported together.

    Raises:
        ArchDefError: a ``ValueError`` listing each problem, each naming its field.
    """
    if not isinstance(arch_def, Mapping):
        raise ArchDefError([f"arch_def must be a dict, got {type(arch_def).__name__}"])
    problems = _Problems()
    name = arch_def.get("name")
    unknown = sorted(set(arch_def) - set(KNOWN_KEYS) - {"codebook"})
    if "codebook" in arch_def:
        problems.add(
            "codebook", "is a VQ-VAE's: build it with vaecore.build_vqvae (vaecore.vq), not as a VAE"
        )
    if unknown:
        problems.add(None, f"has unknown field(s) {unknown}; known fields are {list(KNOWN_KEYS)}")
    missing = [k for k in REQUIRED_KEYS if k not in arch_def]
    if missing:
        problems.add(None, f"is missing required field(s) {missing}")

    out: dict[str, Any] = {}
    if "input" in arch_def:
        out["input"] = _check_input(arch_def["input"], problems)
    if "latent" in arch_def:
        latent = arch_def["latent"]
        if _is_list(latent):
            if len(latent) != 3 or not all(_is_int(v) and v >= 1 for v in latent):
                problems.add(
                    "latent",
                    "a latent map must be (height, width, channels), 3 ints >= 1, "
                    f"got {latent!r}",
                )
            elif "encode" not in arch_def:
                problems.add(
                    "latent",
                    f"a latent map {tuple(latent)!r} needs a conv VAE ('encode'); a dense VAE "
                    "takes an int",
                )
            else:
                out["latent"] = tuple(int(v) for v in latent)
        elif not _is_int(latent) or latent < 1:
            problems.add(
                "latent", f"expected an int >= 1 (or a map (h, w, c) for conv), got {latent!r}"
            )
        else:
            out["latent"] = int(latent)
    if "name" in arch_def:
        if not isinstance(name, str) or not name.strip():
            problems.add("name", f"expected a non-empty string, got {name!r}")
        out["name"] = name
    out["activation"] = _check_activation(arch_def.get("activation", "relu"), problems)

    if "condition" in arch_def:
        condition = _check_condition(arch_def["condition"], problems)
        if condition is not None:
            out["condition"] = condition

    conv = "encode" in arch_def
    if not conv:
        if "hidden" not in arch_def:
            problems.add(
                None,
                "needs 'hidden' (a dense VAE) or 'encode' (a conv VAE, optionally with 'hidden' "
                "dense layers after the convolutions), got neither",
            )
        for key in CONV_ONLY_KEYS:
            if key in arch_def:
                problems.add(key, "applies to conv VAEs ('encode'), not dense ones ('hidden')")
        if "hidden" in arch_def:
            out["hidden"] = _check_units(arch_def["hidden"], "hidden", problems)
    else:
        out.update(_check_conv(arch_def, out.get("input"), problems))

    if problems.items:
        raise ArchDefError(problems.items, name)
    return out


def _check_condition(value: Any, problems: _Problems) -> dict[str, Any] | None:
    """``10`` / ``{"classes": 10}`` / ``{"binary": 4}`` (a count or a list of names), normalized."""
    if _is_int(value):
        value = {"classes": value}
    if not isinstance(value, Mapping):
        problems.add(
            "condition",
            f"expected a number of classes (an int >= 2) or a dict such as {{'binary': 4}} "
            f"or {{'classes': 10}}, got {value!r}",
        )
        return None
    kinds = [k for k in CONDITION_KINDS if k in value]
    unknown = sorted(set(value) - {*CONDITION_KINDS, "names"})
    if len(kinds) != 1 or unknown:
        problems.add(
            "condition",
            f"needs exactly one of {list(CONDITION_KINDS)} (and optionally 'names'), got keys "
            f"{sorted(value)}",
        )
        return None
    kind = kinds[0]
    size, names = value[kind], value.get("names")
    if _is_list(size):
        size, names = len(size), size if names is None else names
    least = 2 if kind == "classes" else 1
    if not _is_int(size) or size < least:
        what = "classes (a one-hot condition)" if kind == "classes" else "attributes"
        problems.add(
            "condition", f"{kind!r} must be an int >= {least}, the number of {what}, got {size!r}"
        )
        return None
    out: dict[str, Any] = {kind: int(size)}
    if names is not None:
        if (
            not _is_list(names)
            or len(names) != size
            or not all(isinstance(n, str) and n.strip() for n in names)
            or len(set(names)) != len(names)
        ):
            problems.add(
                "condition",
                f"names must be {size} distinct non-empty strings (one per {kind[:-1] if kind == 'classes' else 'attribute'}), "
                f"got {names!r}",
            )
            return None
        out["names"] = tuple(names)
    return out


def condition_spec(arch_def: Mapping[str, Any]) -> dict[str, Any] | None:
    """The normalized condition ``{"classes": K}`` / ``{"binary": K}`` (+ ``names``), or None."""
    condition = arch_def.get("condition")
    if condition is None:
        return None
    if _is_int(condition):
        return {"classes": int(condition)}
    return dict(condition)


def condition_size(arch_def: Mapping[str, Any]) -> int:
    """Length of the condition vector the networks take (0: no condition)."""
    spec = condition_spec(arch_def)
    return 0 if spec is None else int(spec.get("classes", spec.get("binary")))


def _check_conv(
    arch_def: Mapping[str, Any], input_shape: tuple[int, int, int] | None, problems: _Problems
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["hidden"] = _check_units(arch_def.get("hidden", ()), "hidden", problems)
    encode = _check_layers(arch_def["encode"], "encode", problems)
    if encode is not None and input_shape is not None:
        _check_divisible(input_shape[:2], encode, problems)
    decode = arch_def.get("decode")
    if decode is None:
        decode = None if encode is None else tuple(reversed(encode))
    else:
        decode = _check_layers(decode, "decode", problems)
        if decode is not None and input_shape is not None:
            total_h = total_w = 1
            for _, _, (sh, sw) in decode:
                total_h, total_w = total_h * sh, total_w * sw
            h, w = input_shape[:2]
            if h % total_h or w % total_w:
                problems.add(
                    "decode",
                    f"the strides multiply to {(total_h, total_w)}, which does not divide the "
                    f"input size {(h, w)}; the decoder could not produce the input size",
                )
    decode_hidden = arch_def.get("decode_hidden")
    if decode_hidden is None:
        decode_hidden = None if out["hidden"] is None else tuple(reversed(out["hidden"]))
    else:
        decode_hidden = _check_units(decode_hidden, "decode_hidden", problems)
    batch_norm = arch_def.get("batch_norm", False)
    if not isinstance(batch_norm, bool):
        problems.add("batch_norm", f"expected True or False, got {batch_norm!r}")
    out.update(encode=encode, decode=decode, decode_hidden=decode_hidden, batch_norm=batch_norm)
    latent = arch_def.get("latent")
    if _is_list(latent) and len(latent) == 3 and all(_is_int(v) for v in latent):
        _check_latent_map(tuple(latent), input_shape, out, arch_def, problems)
    return out


def _check_latent_map(
    latent: tuple[int, ...],
    input_shape: tuple[int, int, int] | None,
    out: Mapping[str, Any],
    arch_def: Mapping[str, Any],
    problems: _Problems,
) -> None:
    """A latent map: no dense layers, and conv stacks that meet it at its height and width."""
    for key in ("hidden", "decode_hidden"):
        if arch_def.get(key):
            problems.add(
                key,
                f"a latent map {latent!r} joins the convolutions directly: {key!r} must be "
                f"empty (got {arch_def[key]!r})",
            )
    if input_shape is None:
        return
    if out.get("encode") is not None:
        h, w = feature_map_sizes(input_shape[:2], out["encode"])[-1]
        if (h, w) != latent[:2]:
            problems.add(
                "latent",
                f"the latent map is {latent[0]}x{latent[1]} but the encoder's last feature map "
                f"is {h}x{w} (input {input_shape[0]}x{input_shape[1]}); change the latent "
                "size or the strides of 'encode'",
            )
    if out.get("decode") is not None:
        sh = sw = 1
        for _, _, (a, b) in out["decode"]:
            sh, sw = sh * a, sw * b
        if (latent[0] * sh, latent[1] * sw) != tuple(input_shape[:2]):
            problems.add(
                "decode",
                f"the strides multiply to {(sh, sw)}, which takes the {latent[0]}x{latent[1]} "
                f"latent map to {latent[0] * sh}x{latent[1] * sw}, not the input size "
                f"{input_shape[0]}x{input_shape[1]}",
            )


def is_conv(arch_def: Mapping[str, Any]) -> bool:
    """True for a convolutional definition, False for a dense one."""
    return "encode" in arch_def


def is_spatial(arch_def: Mapping[str, Any]) -> bool:
    """True when the definition asks for a latent map ``(h, w, c)``, not a vector."""
    return _is_list(arch_def.get("latent"))


def latent_shape(arch_def: Mapping[str, Any]) -> tuple[int, ...]:
    """The shape of one code inside the networks: ``(latent,)`` or the map ``(h, w, c)``."""
    latent = arch_def["latent"]
    return tuple(int(v) for v in latent) if _is_list(latent) else (int(latent),)


def to_jsonable(arch_def: Mapping[str, Any]) -> dict[str, Any]:
    """Tuples to lists, so the definition can go into a Keras config / JSON file."""

    def convert(value):
        if isinstance(value, tuple | list):
            return [convert(v) for v in value]
        if isinstance(value, Mapping):  # the condition
            return {k: convert(v) for k, v in value.items()}
        return value

    return {k: convert(v) for k, v in arch_def.items()}
