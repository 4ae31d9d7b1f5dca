"""A latent explorer that decodes in the reader's browser: no kernel, no network.

:func:`latent_explorer` returns an object whose ``_repr_html_`` is a self-contained
HTML/JavaScript output: sliders for the latent code, the decoded image, and, with
reference codes, a map of them with a marker (2-D, or 3-D rotatable by dragging;
for more than 3 latent dimensions, the plane of the first two slider dims). A
notebook cell that displays it works in Jupyter, in Colab and in the rendered book
alike, because the decoder itself is in the output:

* :func:`export_network` writes a trained Keras decoder (or encoder) as a compact
  spec: a list of operations (dense, conv2d, conv2d-transpose with 'same' padding,
  folded batch norm, activations) and one base64 blob of weights, float16 by
  default (``"int8"``: per-output-channel scales, a quarter of float32; ``"float32"``);
* ``vaecore/static/vaecore_web.js`` is the runtime that runs such a spec, inlined
  into each output (about 20 kB; why our own runtime rather than TensorFlow.js or
  onnxruntime-web is said at the top of that file);
* :func:`run_network` is the same runtime in NumPy, used to measure what the
  quantization costs before anything reaches a browser.

Each explorer carries a few codes and the Keras decoder's 8-bit images of them; the
page decodes them again when it opens and prints the largest difference, so every
rendered explorer states its own faithfulness (the browser tests read that number).

With ``draw=True`` (dense 28 x 28 models, e.g. MNIST) the page also gets a drawing
pad: the encoder runs in the page and the marker shows where the drawing lands.
"""

from __future__ import annotations

import base64
import html
import json
import uuid
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "WebChoice",
    "WebExplorer",
    "attribute_explorer",
    "compose_code",
    "from_widget",
    "decoder_spec",
    "encoder_spec",
    "export_network",
    "latent_explorer",
    "model_choice",
    "run_network",
    "runtime_js",
]

PRECISIONS = ("float16", "int8", "float32")
AUTO_INT8_BYTES = 3_000_000  # precision="auto": float16 weights above this go int8
_DTYPES = {"float16": "f16", "int8": "i8", "float32": "f32"}
_ACTIVATIONS = {
    "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "sigmoid", "tanh",
    "softplus", "silu", "gelu",
}  # fmt: skip


def runtime_js() -> str:
    """The JavaScript runtime and explorer UI (``vaecore/static/vaecore_web.js``)."""
    return resources.files("vaecore").joinpath("static/vaecore_web.js").read_text("utf-8")


# ----------------------------------------------------------------------- export
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
        import inspect

        slope = inspect.signature(fn).parameters["negative_slope"].default
        return name, float(slope)
    return name, None


def export_network(
    network: Any, precision: str = "float16", skip: Sequence[str] = ("z_log_var",)
) -> dict[str, Any]:
    """A Keras functional model (a vaecore encoder or decoder) as a JSON-able spec.

    The layers are taken in order; those named in ``skip`` are left out (the
    encoder's ``z_log_var`` head, so the spec computes ``z_mean``). Weights are
    stored as ``precision`` (biases and batch-norm parameters always as float32),
    kernels reordered so the runtime's inner loops run over output channels.

    Raises:
        ValueError: a layer or activation the runtime does not implement.
    """
    from keras import layers as kl

    blob = _Blob(precision)
    ops: list[dict[str, Any]] = []
    input_shape = [int(d) for d in network.inputs[0].shape[1:]]
    shape = list(input_shape)
    for layer in network.layers:
        if isinstance(layer, kl.InputLayer) or layer.name in skip:
            continue
        if isinstance(layer, kl.Flatten):
            shape = [int(np.prod(shape))]
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
            gamma = np.asarray(layer.gamma) if layer.scale else 1.0
            beta = np.asarray(layer.beta) if layer.center else 0.0
            mean, var = np.asarray(layer.moving_mean), np.asarray(layer.moving_variance)
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
    return {
        "format": "vaecore-web-1",
        "input_shape": input_shape,
        "output_shape": shape,
        "precision": precision,
        "layers": ops,
        "tensors": blob.tensors,
        "blob": base64.b64encode(b"".join(blob.parts)).decode("ascii"),
    }


def decoder_spec(model: Any, precision: str = "float16") -> dict[str, Any]:
    """The decoder of a vaecore VAE as a spec: latent code -> pixel logits (the page applies the sigmoid)."""
    return export_network(model.decoder, precision)


def encoder_spec(model: Any, precision: str = "float16") -> dict[str, Any]:
    """The encoder of a vaecore VAE as a spec: image -> ``z_mean``."""
    return export_network(model.encoder, precision)


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


def run_network(spec: Mapping[str, Any], x: Any) -> np.ndarray:
    """Run a spec on one input in NumPy, exactly as the JavaScript runtime does."""
    weights = _tensors(spec)
    x = np.asarray(x, np.float32).reshape(spec["input_shape"])
    for op in spec["layers"]:
        kind = op["op"]
        if kind == "dense":
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


# ----------------------------------------------------------------------- explorer
def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x, np.float32)


def _pick_dims(latent: int, z_ref: np.ndarray | None, max_sliders: int) -> list[int]:
    """All dims when few; else the ``max_sliders`` whose reference codes vary most."""
    if latent <= max_sliders:
        return list(range(latent))
    if z_ref is None:
        return list(range(max_sliders))
    return [int(d) for d in np.argsort(-z_ref.var(axis=0), kind="stable")[:max_sliders]]


def _names(labels: np.ndarray, class_names: Any) -> list[str]:
    top = int(labels.max()) + 1 if labels.size else 0
    if class_names is None:
        return [str(i) for i in range(top)]
    if isinstance(class_names, Mapping):
        return [str(class_names.get(i, i)) for i in range(top)]
    return [str(class_names[i]) if i < len(class_names) else str(i) for i in range(top)]


class WebExplorer:
    """What :func:`latent_explorer` returns: display it (``_repr_html_``) or :meth:`save` it.

    Attributes: ``spec`` (everything the page gets: both networks, the map, the
    self-check), ``check_error`` (the NumPy runtime's worst pixel difference from
    Keras on the check codes, in 1/255 units; the page measures its own).
    """

    _css_class = "vaecore-explorer"
    _mount = "mount"

    def __init__(self, spec: dict[str, Any], check_error: int) -> None:
        self.spec = spec
        self.check_error = check_error
        self.element_id = f"{self._css_class}-" + uuid.uuid4().hex[:12]

    def html(self) -> str:
        """The self-contained HTML fragment: a div, the inlined runtime, the spec."""
        payload = json.dumps(self.spec, separators=(",", ":")).replace("</", "<\\/")
        return (
            f'<div id="{self.element_id}" class="{self._css_class}">'
            "(The latent explorer needs JavaScript.)</div>\n"
            f"<script>{runtime_js()}\n"
            f'vaecoreWeb.{self._mount}("{self.element_id}", {payload});</script>'
        )

    def _repr_html_(self) -> str:
        return self.html()

    @property
    def size_bytes(self) -> int:
        """Bytes the explorer adds to a page (runtime, weights and codes included)."""
        return len(self.html().encode("utf-8"))

    def save(self, path: str | Path, title: str = "vaecore latent explorer") -> Path:
        """A standalone HTML page holding just this explorer (opens offline)."""
        path = Path(path)
        page = (
            f'<!doctype html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
            f"</title></head><body>\n{self.html()}\n</body></html>\n"
        )
        path.write_text(page, encoding="utf-8")
        return path

    def __repr__(self) -> str:
        return f"WebExplorer(latent={len(self.spec['base'])}, {self.size_bytes / 1e6:.2f} MB)"


class WebChoice(WebExplorer):
    """What :func:`model_choice` returns: several explorers behind one menu in the page.

    Attributes: ``explorers`` (name -> :class:`WebExplorer`), ``spec`` (names, the
    first one shown, every explorer's spec), ``check_error`` (the worst of theirs).
    """

    _css_class = "vaecore-choice"
    _mount = "mountChoice"

    def __init__(self, spec: dict[str, Any], explorers: dict[str, WebExplorer]) -> None:
        super().__init__(spec, max(e.check_error for e in explorers.values()))
        self.explorers = explorers

    def __repr__(self) -> str:
        return f"WebChoice({list(self.explorers)}, {self.size_bytes / 1e6:.2f} MB)"


def model_choice(
    explorers: Mapping[str, WebExplorer], start: str | None = None, label: str = "Model", title: str | None = None
) -> WebChoice:
    """Several in-page explorers behind one menu: e.g. one per beta of the same data.

    The page builds an explorer the first time its name is chosen. Between attribute
    explorers the face and the attribute strengths carry over (an attribute means
    the same in every model), the latent offsets start at 0 (a latent dim does not)::

        web.model_choice({f"beta {b}": web.attribute_explorer(m, faces, vectors[b]) for b, m in models.items()})

    Every decoder is in the page: mind ``size_bytes`` (int8 decoders are a quarter of
    float32). ``start``: the name shown first (default the first); ``label``: the
    menu's label; ``title``: a heading before it.

    Raises:
        ValueError: no explorers, a name that is not a non-empty string, a value that
            is not a single explorer, or an unknown ``start``.
    """
    if not isinstance(explorers, Mapping) or not explorers:
        raise ValueError("explorers must be a non-empty mapping {name: WebExplorer}")
    for name, e in explorers.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"explorer names must be non-empty strings, got {name!r}")
        if not isinstance(e, WebExplorer) or isinstance(e, WebChoice):
            raise ValueError(
                f"explorer {name!r} is a {type(e).__name__}; give explorers made by "
                "web.latent_explorer or web.attribute_explorer"
            )
    names = list(explorers)
    start = names[0] if start is None else start
    if start not in explorers:
        raise ValueError(f"start={start!r} is not one of {names}")
    spec = {
        "title": title,
        "label": str(label),
        "names": names,
        "start": names.index(start),
        "explorers": [explorers[n].spec for n in names],
    }
    return WebChoice(spec, dict(explorers))


def from_widget(
    explorer: Any,
    labels: Any = None,
    class_names: Any = None,
    model: str | Sequence[str] | None = None,
    faces: int = 8,
    **kwargs: Any,
) -> WebExplorer:
    """The in-page twin of an ipywidgets explorer from :mod:`vaecore.widgets`.

    For a :class:`~vaecore.widgets.LatentExplorer`: same model, reference codes,
    slider dims, base code, range, map view and image width, starting at the
    widget's current code. The widget does not keep the labels, so pass them (and
    ``class_names``) again to colour the map. One line after a chapter's widget cell
    makes the rendered book's explorer work::

        web.from_widget(explorer)

    For an :class:`~vaecore.widgets.AttributeExplorer` (several models): one
    :func:`attribute_explorer` per model, with its attribute vectors and latent dims
    and the widget's first ``faces`` images, behind a :func:`model_choice` menu that
    starts at the widget's model, face, strengths and offsets (a widget of one model
    gives that explorer alone). ``model`` picks one model (a single explorer) or a
    list of them (a menu of those)::

        web.from_widget(attribute_widget)                 # all models, one menu
        web.from_widget(attribute_widget, model="beta 1")  # that model alone
    """
    if hasattr(explorer, "strength_sliders"):  # an AttributeExplorer
        if labels is not None or class_names is not None:
            raise ValueError("an attribute explorer has no map: labels and class_names do not apply")
        if model is None and len(explorer.models) == 1:
            model = next(iter(explorer.models))
        if model is None or not isinstance(model, str):
            chosen = list(explorer.models) if model is None else [str(m) for m in model]
            unknown = [m for m in chosen if m not in explorer.models]
            if unknown or not chosen:
                raise ValueError(f"unknown models {unknown}; the widget has {list(explorer.models)}")
            current = explorer.model_choice.value
            parts = {m: from_widget(explorer, model=m, faces=faces, **kwargs) for m in chosen}
            return model_choice(parts, start=current if current in parts else chosen[0])
        name = model
        if name not in explorer.models:
            raise ValueError(f"unknown model {name!r}; the widget has {list(explorer.models)}")
        current = name == explorer.model_choice.value
        n = min(int(faces), len(explorer.images))
        face = int(explorer.face_choice.value) if current else 0
        options: dict[str, Any] = {
            "dims": list(explorer._dims[name]),
            "strength_range": float(explorer.strength_sliders[explorer.attributes[0]].max)
            if explorer.attributes else 2.0,
            "slider_range": float(explorer.latent_sliders[0].max) if explorer.latent_sliders else 3.0,
            "step": float(explorer.latent_sliders[0].step) if explorer.latent_sliders else 0.05,
            "image_width": explorer.image_width,
        }
        if current and face < n:
            options["face"] = face
            options["strengths"] = {a: float(s.value) for a, s in explorer.strength_sliders.items()}
            options["offsets"] = {
                d: float(s.value) for d, s in zip(explorer.dims, explorer.latent_sliders, strict=False)
            }
        options.update(kwargs)
        return attribute_explorer(
            explorer.models[name], explorer.images[:n], explorer.vectors[name],
            codes=explorer.codes(name)[:n], title=name, **options,
        )  # fmt: skip
    if model is not None:
        raise ValueError("model= chooses among an attribute explorer's models; this widget has one")
    options = {
        "z_ref": explorer.z_ref,
        "dims": list(explorer.dims),
        "base": explorer.base,
        "slider_range": explorer.slider_range,
        "view": explorer.view,
        "image_width": explorer.image_width,
        "start": explorer.z,
        "step": float(explorer.sliders[0].step) if explorer.sliders else 0.05,
    }
    if explorer.z_ref is None:
        options["view"] = None
    options.update(kwargs)
    return latent_explorer(explorer.model, labels=labels, class_names=class_names, **options)


def latent_explorer(
    model: Any,
    z_ref: Any = None,
    labels: Any = None,
    class_names: Sequence[str] | Mapping | None = None,
    dims: Sequence[int] | None = None,
    slider_range: float = 3.0,
    view: str | None = None,
    base: Any = None,
    step: float = 0.05,
    max_sliders: int = 10,
    image_width: int = 224,
    precision: str = "auto",
    draw: bool = False,
    max_points: int = 2000,
    check_codes: int = 3,
    seed: int = 0,
    start: Any = None,
) -> WebExplorer:
    """The in-page latent explorer: the same arguments as :func:`vaecore.widgets.latent_explorer`.

    Args:
        model: a trained vaecore VAE (dense or conv decoder).
        z_ref, labels, class_names, dims, slider_range, base, step, max_sliders,
            image_width: as in :func:`vaecore.widgets.latent_explorer`.
        view: ``"2d"`` or ``"3d"`` map of ``z_ref`` over the first 2 or 3 slider
            dims; default ``"3d"`` for a 3-D latent space, ``"2d"`` otherwise
            (with ``z_ref``; no map without it).
        precision: weights in the page: ``"float16"``, ``"int8"`` (per-output-channel
            scales, half the bytes) or ``"float32"``; ``"auto"`` (default) takes
            float16 unless its weights pass ``AUTO_INT8_BYTES`` (3 MB), then int8 if
            its worst pixel stays within 4/255 of Keras on the check codes.
        draw: add a drawing pad whose drawing the in-page encoder maps to ``z``
            (dense models on 28 x 28 x 1 images, such as MNIST).
        max_points: at most this many reference codes on the map (drawn at random).
        check_codes: how many codes (the base, then random prior draws) carry their
            Keras decoding, for the page's self-check.
        start: the code shown first (default: ``base``, which Reset returns to).
    """
    if precision == "auto":
        small = decoder_spec(model, "float16")["blob"]
        if len(small) * 3 // 4 <= AUTO_INT8_BYTES:
            precision = "float16"
        else:
            args = {k: v for k, v in locals().items() if k not in ("precision", "small")}
            tried = latent_explorer(precision="int8", **args)
            if tried.check_error <= 4:
                return tried
            precision = "float16"

    latent = int(model.latent_dim)
    z_ref = None if z_ref is None else _numpy(z_ref)
    if z_ref is not None and (z_ref.ndim != 2 or z_ref.shape[1] != latent):
        raise ValueError(f"z_ref must be (n, {latent}) codes of this model, got {z_ref.shape}")
    if not slider_range > 0:
        raise ValueError(f"slider_range must be positive, got {slider_range}")
    base_code = np.zeros(latent, np.float32) if base is None else _numpy(base).reshape(-1)
    if base_code.shape != (latent,):
        raise ValueError(f"base must have length {latent}, got {base_code.size}")
    if dims is None:
        dims = _pick_dims(latent, z_ref, max_sliders)
    dims = [int(d) for d in dims]
    if not dims or len(set(dims)) != len(dims) or any(not 0 <= d < latent for d in dims):
        raise ValueError(f"dims must be distinct indices below latent_dim={latent}, got {dims}")
    if view is None and z_ref is not None:
        view = "3d" if len(dims) == 3 and latent == 3 else "2d"
    if view is not None:
        if view not in ("2d", "3d"):
            raise ValueError(f"view must be '2d', '3d' or None, got {view!r}")
        if z_ref is None:
            raise ValueError(f"view={view!r} needs z_ref, the codes to map")
        if len(dims) < (2 if view == "2d" else 3):
            raise ValueError(f"view={view!r} needs at least {2 if view == '2d' else 3} dims")
    if draw:
        shape = tuple(model.arch_def["input"])
        if shape != (28, 28, 1):
            raise ValueError(f"draw=True needs 28 x 28 x 1 images, this model takes {shape}")

    rng = np.random.default_rng(seed)
    spec: dict[str, Any] = {
        "decoder": decoder_spec(model, precision),
        "encoder": encoder_spec(model, precision) if draw else None,
        "precision": precision,
        "base": [float(v) for v in base_code],
        "start": None if start is None else [float(v) for v in _numpy(start).reshape(latent)],
        "dims": dims,
        "limits": [max(float(slider_range), abs(float(base_code[d]))) for d in dims],  # as widgets
        "step": float(step),
        "image_width": int(image_width),
        "map": None,
    }
    if view is not None:
        mdims = dims[: 3 if view == "3d" else 2]
        keep = np.arange(len(z_ref))
        if len(keep) > max_points:
            keep = np.sort(rng.choice(len(keep), max_points, replace=False))
        pts = np.round(z_ref[keep][:, mdims], 3)
        lo = np.minimum(pts.min(axis=0), -slider_range)
        hi = np.maximum(pts.max(axis=0), slider_range)
        pad = 0.05 * (hi - lo)
        spec["map"] = {
            "view": view,
            "dims": mdims,
            "points": pts.tolist(),
            "lo": (lo - pad).round(3).tolist(),
            "hi": (hi + pad).round(3).tolist(),
            "labels": None,
            "names": [],
        }
        if labels is not None:
            lab = np.asarray(labels).reshape(-1).astype(int)
            if len(lab) != len(z_ref):
                raise ValueError(f"labels has {len(lab)} entries but z_ref has {len(z_ref)}")
            spec["map"]["labels"] = lab[keep].tolist()
            spec["map"]["names"] = _names(lab, class_names)

    codes = np.concatenate([base_code[None], rng.standard_normal((check_codes - 1, latent))])
    spec["check"], check_error = _self_check(model, spec["decoder"], codes)
    return WebExplorer(spec, check_error)


def _self_check(model: Any, decoder: Mapping[str, Any], codes: np.ndarray) -> tuple[dict, int]:
    """The check codes with Keras's 8-bit decodings, and the NumPy runtime's worst pixel (/255)."""
    from vaecore.toolbox import decode_latents

    codes = np.round(codes, 4).astype(np.float32)  # what the page's JSON holds
    keras_images = decode_latents(model, codes)
    keras_u8 = np.round(np.clip(keras_images, 0, 1) * 255).astype(np.uint8)
    mine = np.stack(
        [1 / (1 + np.exp(-run_network(decoder, z))) for z in codes]
    ).reshape(keras_images.shape)
    mine_u8 = np.round(np.clip(mine, 0, 1) * 255).astype(np.int16)
    check = {
        "codes": codes.tolist(),
        "images": [base64.b64encode(im.tobytes()).decode("ascii") for im in keras_u8],
    }
    return check, int(np.abs(mine_u8 - keras_u8).max())


# ----------------------------------------------------------------------- attribute explorer
MAX_FACES = 64


def compose_code(
    spec: Mapping[str, Any],
    face: int = 0,
    strengths: Mapping[str, float] | Sequence[float] | None = None,
    offsets: Mapping[int, float] | None = None,
) -> np.ndarray:
    """The code an attribute explorer's page decodes, computed as its JavaScript does.

    ``codes[face] + sum_i strengths[i] * vectors[i]``, then each slider's offset added
    on its dim, in float32 step by step (the page's ``Float32Array``). ``spec`` is a
    :class:`WebExplorer`'s ``spec`` made by :func:`attribute_explorer`.
    """
    att = spec.get("attributes")
    if not att:
        raise ValueError("not an attribute explorer's spec (made by web.attribute_explorer)")
    names = [d["name"] for d in att["directions"]]
    if strengths is None:
        strengths = [0.0] * len(names)
    elif isinstance(strengths, Mapping):
        unknown = [a for a in strengths if a not in names]
        if unknown:
            raise ValueError(f"unknown attributes {unknown}; attributes: {names}")
        strengths = [float(strengths.get(a, 0.0)) for a in names]
    if len(strengths) != len(names):
        raise ValueError(f"{len(strengths)} strengths for {len(names)} attributes {names}")
    if not 0 <= face < len(att["codes"]):
        raise ValueError(f"face must be an index below {len(att['codes'])}, got {face}")
    z = np.asarray(att["codes"][face], np.float32).copy()
    for s, d in zip(strengths, att["directions"], strict=True):
        if s:
            z = (z.astype(np.float64) + float(s) * np.asarray(d["vector"], np.float64)).astype(np.float32)
    for dim, value in (offsets or {}).items():
        if int(dim) not in spec["dims"]:
            raise ValueError(f"no slider for latent dim {dim}; sliders: {spec['dims']}")
        z[int(dim)] = np.float32(float(z[int(dim)]) + float(value))
    return z


def _vectors(vectors: Mapping[str, Any] | None, latent: int) -> dict[str, np.ndarray]:
    """Named direction vectors, each of the model's latent length and finite."""
    if vectors is None:
        return {}
    if not isinstance(vectors, Mapping):
        raise ValueError(
            "vectors must be a mapping {name: (latent_dim,) vector}, e.g. {'Smiling': v}, "
            f"got {type(vectors).__name__}"
        )
    out = {}
    for name, v in vectors.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"vector names must be non-empty strings, got {name!r}")
        arr = _numpy(v)
        if arr.size != latent or (arr.ndim > 1 and arr.shape[0] != 1 and arr.ndim != 1):
            raise ValueError(
                f"vector {name!r} has shape {arr.shape}; it must be ({latent},), one value "
                "per latent dimension of this model"
            )
        arr = arr.reshape(-1)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"vector {name!r} has non-finite values")
        out[name] = arr
    return out


def attribute_explorer(
    model: Any,
    faces: Any = None,
    vectors: Mapping[str, Any] | None = None,
    dims: Sequence[int] | None = None,
    *,
    codes: Any = None,
    names: Sequence[str] | None = None,
    max_sliders: int = 6,
    strength_range: float = 2.0,
    slider_range: float = 3.0,
    step: float = 0.05,
    image_width: int = 192,
    precision: str = "auto",
    face: int = 0,
    strengths: Mapping[str, float] | None = None,
    offsets: Mapping[int, float] | None = None,
    title: str | None = None,
    check_codes: int = 4,
    seed: int = 0,
) -> WebExplorer:
    """The in-page twin of :func:`vaecore.widgets.attribute_explorer`, for one model.

    Choose a face (thumbnails or a list), then edit it with attribute sliders and
    latent offsets; the page decodes ``codes[face] + sum_a s_a v_a`` plus the
    offsets on their dims, as the widget does::

        web.attribute_explorer(model, x_test[:8], {"Smiling": v_smile}, dims=top)

    Args:
        model: a trained vaecore VAE (its decoder goes into the page).
        faces: ``(n, H, W, C)`` images of this model, ``n <= 64``: shown as
            thumbnails and encoded to their posterior means (unless ``codes``).
        vectors: ``{name: (latent_dim,) vector}`` directions with a strength slider
            each (e.g. :func:`vaecore.toolbox.attribute_vector`); may be empty.
        dims: latent dims with an offset slider; default the ``max_sliders`` dims
            whose codes vary most over the faces.
        codes: ``(n, latent_dim)`` base codes instead of (or for) ``faces``.
        names: a label per face (default "face 0", "face 1", ...).
        strength_range, slider_range: the sliders run over +-these.
        precision: as in :func:`latent_explorer` (``"auto"``: float16, int8 for big
            decoders when it stays within 4/255).
        face, strengths, offsets: what the page shows first.
        title: a heading over the explorer (e.g. the model's name).
        check_codes: how many codes carry their Keras decoding for the page's
            self-check: the first faces, with all attribute vectors and offsets
            added to all but the first.

    Raises:
        ValueError: faces, codes or vectors of the wrong shape, bad dims or names.
    """
    latent = int(model.latent_dim)
    shape = tuple(int(d) for d in model.arch_def["input"])
    images = None
    if faces is not None:
        images = _numpy(faces)
        if images.ndim == 3 and images.shape == shape:
            images = images[None]
        if images.ndim != 4 or images.shape[1:] != shape or len(images) == 0:
            raise ValueError(
                f"faces must be a non-empty (n, {', '.join(map(str, shape))}) batch of this "
                f"model's images, got shape {images.shape}"
            )
    if codes is None:
        if images is None:
            raise ValueError("give faces (images to encode) or codes (their latent codes)")
        from vaecore.toolbox import encode_images

        codes = encode_images(model, images)
    codes = _numpy(codes)
    if codes.ndim != 2 or codes.shape[1] != latent or len(codes) == 0:
        raise ValueError(f"codes must be (n, {latent}) codes of this model, got shape {codes.shape}")
    if images is not None and len(images) != len(codes):
        raise ValueError(f"{len(images)} faces but {len(codes)} codes")
    if len(codes) > MAX_FACES:
        raise ValueError(f"at most {MAX_FACES} faces fit a page, got {len(codes)}; pass faces[:8]")
    if not np.all(np.isfinite(codes)):
        raise ValueError("codes have non-finite values")
    names = [f"face {i}" for i in range(len(codes))] if names is None else [str(n) for n in names]
    if len(names) != len(codes):
        raise ValueError(f"{len(names)} names for {len(codes)} faces")
    vecs = _vectors(vectors, latent)
    if not strength_range > 0 or not slider_range > 0:
        raise ValueError("strength_range and slider_range must be positive")
    if dims is None:
        dims = _pick_dims(latent, codes if len(codes) > 1 else None, max_sliders)
    dims = [int(d) for d in dims]
    if not 0 <= int(face) < len(codes):
        raise ValueError(f"face must be an index below {len(codes)}, got {face}")
    unknown = [a for a in (strengths or {}) if a not in vecs]
    if unknown:
        raise ValueError(f"unknown attributes {unknown}; attributes: {list(vecs)}")
    bad = [d for d in (offsets or {}) if int(d) not in dims]
    if bad:
        raise ValueError(f"no slider for latent dims {bad}; sliders: {dims}")

    rounded = np.round(codes, 4).astype(np.float32)  # what the page's JSON holds
    explorer = latent_explorer(
        model, dims=dims, base=rounded[int(face)], slider_range=slider_range, step=step,
        image_width=image_width, precision=precision, check_codes=1,
    )  # fmt: skip  (validates dims; picks the precision on the face's code)
    spec = explorer.spec
    spec["limits"] = [float(slider_range)] * len(dims)  # offsets, not values
    spec["attributes"] = {
        "title": title,
        "names": names,
        "codes": rounded.tolist(),
        "faces": None
        if images is None
        else [
            base64.b64encode(np.round(np.clip(im, 0, 1) * 255).astype(np.uint8).tobytes()).decode("ascii")
            for im in images
        ],
        "directions": [
            {"name": n, "vector": np.round(v, 4).astype(np.float32).tolist()} for n, v in vecs.items()
        ],
        "strength_limit": float(strength_range),
        "face": int(face),
        "strengths": [float((strengths or {}).get(n, 0.0)) for n in vecs],
        "offsets": [float((offsets or {}).get(d, 0.0)) for d in dims],
    }
    rng = np.random.default_rng(seed)
    check = []
    for k in range(max(1, int(check_codes))):
        f = k % len(codes)
        if k == 0:
            check.append(compose_code(spec, f))
            continue
        s = {n: float(rng.uniform(-strength_range, strength_range)) for n in vecs}
        o = {d: float(rng.uniform(-slider_range, slider_range)) for d in dims}
        check.append(compose_code(spec, f, s, o))
    spec["check"], error = _self_check(model, spec["decoder"], np.stack(check))
    return WebExplorer(spec, error)
