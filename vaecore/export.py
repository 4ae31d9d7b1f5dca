"""A trained Keras encoder or decoder as a compact, JSON-able spec, and a NumPy runtime for it.

What the in-page explorers (:mod:`vaecore.explorers.page`) put into a page, and
useful on its own to measure what shipping a decoder costs:

* :func:`export_network` writes a vaecore decoder (or encoder) as a list of
  operations (dense, conv2d, conv2d-transpose with 'same' padding, folded batch
  norm, activations) and one base64 blob of weights, float16 by default
  (``"int8"``: per-output-channel scales, a quarter of float32; ``"float32"``);
  :func:`decoder_spec` / :func:`encoder_spec` do it for a VAE's two halves;
* a conditional VAE's networks (:mod:`vaecore.conditional`) take a second input,
  the condition vector of K values: the spec says ``"condition_shape": [K]`` and
  its ``concat_condition`` op appends those K values to the activation's last
  axis, to a vector ``(n,) -> (n + K,)`` or to every pixel of a map
  ``(h, w, c) -> (h, w, c + K)``; :func:`decoder_spec` also says what the values
  mean (``"condition": {"kind": "classes" | "binary", "size": K, "names": ...}``);
* :func:`run_network` runs such a spec in NumPy exactly as the JavaScript runtime
  (``vaecore/static/vaecore_web.js``) does, so the quantization error is known
  before anything reaches a browser.

Weights come out of Keras as NumPy (``layer.get_weights()``), so any Keras backend works.
"""

from __future__ import annotations

import base64
import inspect
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vaecore._shared import to_numpy

__all__ = [
    "PRECISIONS",
    "decoder_spec",
    "encoder_spec",
    "export_network",
    "run_network",
]

PRECISIONS = ("float16", "int8", "float32")
_DTYPES = {"float16": "f16", "int8": "i8", "float32": "f32"}
_ACTIVATIONS = {
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "sigmoid", "tanh",
    "softplus", "silu", "gelu",
}  # fmt: skip


class _Blob:
    """Collects tensors into one byte string (4-byte aligned) plus their descriptions."""

    def __init__(self, precision: str) -> None:
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
        self.precision = precision
        self.parts: list[bytes] = []
        self.tensors: list[dict[str, Any]] = []
        self.size = 0

    def add(self, array: np.ndarray, precision: str | None = None) -> int:
        """Store ``array`` (quantized along its last axis for int8); returns its index."""
        array = np.ascontiguousarray(array, dtype=np.float32)
        precision = precision or self.precision
        entry: dict[str, Any] = {"shape": list(array.shape), "dtype": _DTYPES[precision]}
        if precision == "float16":
            data = array.astype("<f2").tobytes()
        elif precision == "float32":
            data = array.astype("<f4").tobytes()
        else:
            flat = array.reshape(-1, array.shape[-1])
            scale = np.abs(flat).max(axis=0) / 127.0
            scale[scale == 0] = 1.0
            data = np.clip(np.round(flat / scale), -127, 127).astype(np.int8).tobytes()
            entry["scale"] = [float(s) for s in scale.astype(np.float32)]
        entry["offset"] = self.size
        pad = (-len(data)) % 4
        self.parts.append(data + b"\0" * pad)
        self.size += len(data) + pad
        self.tensors.append(entry)
        return len(self.tensors) - 1


def _activation(layer: Any) -> tuple[str, float | None]:
    """The name (and leaky slope) of a Keras layer's activation, if the runtime has it."""
    fn = getattr(layer, "activation", None)
    if fn is None:
        return "linear", None
    name = getattr(fn, "__name__", str(fn))
    if name == "swish":
        name = "silu"
    if name not in _ACTIVATIONS:
        raise ValueError(
            f"layer {layer.name!r}: activation {name!r} has no in-page implementation; "
            f"supported: {sorted(_ACTIVATIONS)}"
        )
    if name == "leaky_relu":
        slope = inspect.signature(fn).parameters["negative_slope"].default
        return name, float(slope)
    return name, None


def export_network(
    network: Any, precision: str = "float16", skip: Sequence[str] = ("z_log_var",)
) -> dict[str, Any]:
    """A Keras functional model (a vaecore encoder or decoder) as a JSON-able spec.

    The layers are taken in order; those named in ``skip`` are left out (the
    encoder's ``z_log_var`` head, so the spec computes ``z_mean``; a decoder's
    scale head). Only a chain is exported: a skipped layer must be a side branch. Weights are
    stored as ``precision`` (biases and batch-norm parameters always as float32),
    kernels reordered so the runtime's inner loops run over output channels.

    Raises:
        ValueError: a layer or activation the runtime does not implement.
    """
    from keras import layers as kl

    from vaecore.networks import ConcatCondition

    blob = _Blob(precision)
    ops: list[dict[str, Any]] = []
    input_shape = [int(d) for d in network.inputs[0].shape[1:]]
    condition_shape = [int(d) for d in network.inputs[1].shape[1:]] if len(network.inputs) > 1 else None
    shape = list(input_shape)
    for layer in network.layers:
        if isinstance(layer, kl.InputLayer) or layer.name in skip:
            continue
        if isinstance(layer, ConcatCondition):
            ops.append({"op": "concat_condition", "n": condition_shape[0]})
            shape = [*shape[:-1], shape[-1] + condition_shape[0]]
            continue
        if isinstance(layer, kl.Flatten):
            shape = [int(np.prod(shape))]
            if condition_shape is not None:  # the condition joins the flat vector, not a map
                ops.append({"op": "reshape", "shape": shape})
            continue
        if isinstance(layer, kl.Reshape):
            shape = [int(d) for d in layer.target_shape]
            ops.append({"op": "reshape", "shape": shape})
            continue
        if isinstance(layer, kl.Dense):
            kernel, bias = (np.asarray(w) for w in layer.get_weights())
            act, alpha = _activation(layer)
            ops.append(
                {"op": "dense", "nin": int(kernel.shape[0]), "nout": int(kernel.shape[1]),
                 "W": blob.add(kernel), "b": blob.add(bias, "float32"), "act": act, "alpha": alpha}
            )  # fmt: skip
            shape = [int(kernel.shape[1])]
            continue
        if isinstance(layer, kl.Conv2DTranspose | kl.Conv2D):
            transpose = isinstance(layer, kl.Conv2DTranspose)
            if layer.padding != "same" or tuple(layer.dilation_rate) != (1, 1):
                raise ValueError(f"layer {layer.name!r}: only 'same' padding, no dilation")
            if transpose and getattr(layer, "output_padding", None) is not None:
                raise ValueError(f"layer {layer.name!r}: output_padding is not supported")
            kernel, bias = (np.asarray(w) for w in layer.get_weights())
            if transpose:  # Keras: (kh, kw, out, in) -> (kh, kw, in, out)
                kernel = kernel.transpose(0, 1, 3, 2)
            act, alpha = _activation(layer)
            sh, sw = (int(s) for s in layer.strides)
            ops.append(
                {"op": "conv_t" if transpose else "conv", "k": list(kernel.shape[:2]),
                 "s": [sh, sw], "cout": int(kernel.shape[3]), "W": blob.add(kernel),
                 "b": blob.add(bias, "float32"), "act": act, "alpha": alpha}
            )  # fmt: skip
            h, w = shape[0], shape[1]
            shape = (
                [h * sh, w * sw, int(kernel.shape[3])]
                if transpose
                else [-(-h // sh), -(-w // sw), int(kernel.shape[3])]
            )
            continue
        if isinstance(layer, kl.BatchNormalization):
            gamma = to_numpy(layer.gamma) if layer.scale else 1.0
            beta = to_numpy(layer.beta) if layer.center else 0.0
            mean, var = to_numpy(layer.moving_mean), to_numpy(layer.moving_variance)
            scale = gamma / np.sqrt(var + layer.epsilon)
            shift = beta - mean * scale
            ops.append(
                {"op": "affine", "scale": blob.add(scale, "float32"),
                 "shift": blob.add(np.broadcast_to(shift, scale.shape), "float32")}
            )  # fmt: skip
            continue
        if isinstance(layer, kl.Activation):
            act, alpha = _activation(layer)
            ops.append({"op": "act", "act": act, "alpha": alpha})
            continue
        raise ValueError(
            f"layer {layer.name!r} ({type(layer).__name__}) has no in-page implementation"
        )
    spec = {
        "format": "vaecore-web-1",
        "input_shape": input_shape,
        "output_shape": shape,
        "precision": precision,
        "layers": ops,
        "tensors": blob.tensors,
        "blob": base64.b64encode(b"".join(blob.parts)).decode("ascii"),
    }
    if condition_shape is not None:  # only then: the specs of other networks stay as they were
        spec["condition_shape"] = condition_shape
    return spec


def _with_condition_meta(spec: dict[str, Any], model: Any) -> dict[str, Any]:
    """A conditional VAE's spec with what its condition values mean (kind, size, names)."""
    if getattr(model, "conditional", False):
        names = getattr(model, "condition_names", None)
        spec["condition"] = {
            "kind": model.condition_kind,
            "size": int(model.condition_size),
            "names": None if names is None else list(names),
        }
    return spec


def decoder_spec(model: Any, precision: str = "float16") -> dict[str, Any]:
    """The decoder of a vaecore VAE as a spec: latent code -> pixel logits (the page applies the sigmoid).

    Only the mean head: a decoder that also predicts every pixel's scale
    (``scale="pixel"``) has its scale head (:data:`vaecore.networks.SCALE_HEAD_LAYERS`)
    left out, since the explorers show the mean image. For a latent map the spec's
    ``input_shape`` is the map ``(h, w, c)``; the runtimes read a flat code of
    ``h * w * c`` values in that order, the model's flat codes. A conditional VAE's
    spec also takes the condition (``condition_shape``, ``condition``; see the module
    docstring): ``run_network(spec, z, condition=one_hot_or_attributes)``.
    """
    from vaecore.networks import SCALE_HEAD_LAYERS

    return _with_condition_meta(export_network(model.decoder, precision, skip=SCALE_HEAD_LAYERS), model)


def encoder_spec(model: Any, precision: str = "float16") -> dict[str, Any]:
    """The encoder of a vaecore VAE as a spec: image (and a conditional VAE's condition) -> ``z_mean``."""
    return _with_condition_meta(export_network(model.encoder, precision), model)


# ----------------------------------------------------------------------- NumPy runtime
def _tensors(spec: Mapping[str, Any]) -> list[np.ndarray]:
    raw = base64.b64decode(spec["blob"])
    out = []
    for t in spec["tensors"]:
        n = int(np.prod(t["shape"]))
        start = t["offset"]
        if t["dtype"] == "f32":
            a = np.frombuffer(raw, "<f4", n, start)
        elif t["dtype"] == "f16":
            a = np.frombuffer(raw, "<f2", n, start).astype(np.float32)
        else:
            scale = np.asarray(t["scale"], np.float32)
            a = (np.frombuffer(raw, np.int8, n, start).reshape(-1, len(scale)) * scale).ravel()
        out.append(a.astype(np.float32).reshape(t["shape"]))
    return out


def _act(x: np.ndarray, name: str | None, alpha: float | None) -> np.ndarray:
    from scipy.special import erf

    if name in (None, "linear"):
        return x
    table = {
        "relu": lambda v: np.maximum(v, 0),
        "relu6": lambda v: np.clip(v, 0, 6),
        "leaky_relu": lambda v: np.where(v > 0, v, alpha * v),
        "elu": lambda v: np.where(v > 0, v, np.expm1(np.minimum(v, 0))),
        "selu": lambda v: 1.0507009873554805
        * np.where(v > 0, v, 1.6732632423543772 * np.expm1(np.minimum(v, 0))),
        "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
        "tanh": np.tanh,
        "softplus": lambda v: np.logaddexp(0, v),
        "silu": lambda v: v / (1 + np.exp(-v)),
        "gelu": lambda v: 0.5 * v * (1 + erf(v / np.sqrt(2))),
    }
    return table[name](x).astype(np.float32)


def _same_pad(size: int, stride: int, k: int) -> int:
    out = -(-size // stride)
    return max((out - 1) * stride + k - size, 0) // 2


def run_network(spec: Mapping[str, Any], x: Any, condition: Any = None) -> np.ndarray:
    """Run a spec on one input in NumPy, exactly as the JavaScript runtime does.

    ``condition``: for a spec with ``condition_shape`` (a conditional VAE's network),
    its K values (a one-hot row or 0/1 attributes), which ``concat_condition`` appends.
    """
    weights = _tensors(spec)
    x = np.asarray(x, np.float32).reshape(spec["input_shape"])
    if "condition_shape" in spec:
        if condition is None:
            raise ValueError(
                f"this network takes a condition of {spec['condition_shape'][0]} values: "
                "pass condition= (a one-hot row or 0/1 attributes)"
            )
        condition = np.asarray(condition, np.float32).reshape(spec["condition_shape"])
    elif condition is not None:
        raise ValueError("this network takes no condition (it is not a conditional VAE's)")
    for op in spec["layers"]:
        kind = op["op"]
        if kind == "concat_condition":
            tiled = np.broadcast_to(condition, (*x.shape[:-1], condition.shape[0]))
            x = np.concatenate([x, tiled], axis=-1)
        elif kind == "dense":
            x = x.reshape(-1) @ weights[op["W"]] + weights[op["b"]]
        elif kind == "reshape":
            x = x.reshape(op["shape"])
        elif kind == "affine":
            x = x * weights[op["scale"]] + weights[op["shift"]]
        elif kind in ("conv", "conv_t"):
            x = _conv_np(x, weights[op["W"]], weights[op["b"]], op["s"], kind == "conv_t")
        x = _act(x, op.get("act"), op.get("alpha"))
    return x


def _conv_np(x: np.ndarray, w: np.ndarray, b: np.ndarray, strides, transpose: bool) -> np.ndarray:
    """'same' conv2d or conv2d-transpose of one HWC image; ``w`` is (kh, kw, in, out)."""
    h, wd, _ = x.shape
    kh, kw, _, co = w.shape
    sh, sw = strides
    if transpose:
        ho, wo = h * sh, wd * sw
        pt, pl = max(kh - sh, 0) // 2, max(kw - sw, 0) // 2
        out = np.zeros((ho + kh + sh, wo + kw + sw, co), np.float32)
        for ky in range(kh):
            for kx in range(kw):
                contrib = x @ w[ky, kx]  # (h, wd, co)
                out[ky : ky + h * sh : sh, kx : kx + wd * sw : sw] += contrib
        return out[pt : pt + ho, pl : pl + wo] + b
    ho, wo = -(-h // sh), -(-wd // sw)
    pt, pl = _same_pad(h, sh, kh), _same_pad(wd, sw, kw)
    padded = np.zeros((h + kh + sh * 2, wd + kw + sw * 2, x.shape[2]), np.float32)
    padded[pt : pt + h, pl : pl + wd] = x
    out = np.zeros((ho, wo, co), np.float32)
    for ky in range(kh):
        for kx in range(kw):
            patch = padded[ky : ky + ho * sh : sh, kx : kx + wo * sw : sw][:ho, :wo]
            out += patch @ w[ky, kx]
    return out + b
