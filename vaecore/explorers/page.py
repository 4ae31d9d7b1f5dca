"""In-page explorers: a latent explorer that decodes in the reader's browser, no kernel, no network.

:func:`latent_explorer` returns an object whose ``_repr_html_`` is a self-contained
HTML/JavaScript output: sliders for the latent code, the decoded image, and, with
reference codes, a map of them with a marker (2-D, or 3-D rotatable by dragging;
for more than 3 latent dimensions, the plane of the first two slider dims). A
notebook cell that displays it works in Jupyter, in Colab and in the rendered book
alike, because the decoder itself is in the output:

* :func:`vaecore.export.export_network` writes a trained Keras decoder (or encoder)
  as a compact spec: a list of operations and one base64 blob of weights, float16
  by default (``"int8"``: per-output-channel scales, a quarter of float32);
* ``vaecore/static/vaecore_web.js`` is the runtime that runs such a spec (every layer
  as matrix products in one WebAssembly SIMD kernel, ``vaecore_gemm.wat``), inlined
  into each output (about 60 kB; why our own runtime rather than TensorFlow.js or
  onnxruntime-web is said at the top of that file) as its own
  ``<script class="vaecore-runtime" data-sha256="...">``: the output stays self-contained
  for Jupyter, Colab and a saved .ipynb, and the book's build (``_ext/light_pages.py``)
  replaces each marked copy by one shared ``_static`` file of exactly those bytes (the
  hash names it and is checked), so a page loads the runtime once;
* :func:`vaecore.export.run_network` is the same runtime in NumPy, used to measure what the
  quantization costs before anything reaches a browser.

Each explorer carries a few codes and the Keras decoder's 8-bit images of them; the
page decodes them again when it opens and states the largest difference, so every
rendered explorer states its own faithfulness (the browser tests read that number,
``data-check-error``). That line, the decode time and the explorer's Python line
(:meth:`WebExplorer.note`) sit in a collapsed "details" under the explorer; what the
reader sees first is the hint (``hint=``), the sliders (with ``dim_labels=`` and the
KL of each dim, ``kl=``), the image and a readout of the values the sliders set.
The page opens on a real image's code (``z_ref[0]`` by default) and decodes at most
once per animation frame while a slider is dragged.

``draw=True`` (dense 28 x 28 models) adds a drawing pad: the encoder runs in the page.

A conditional VAE (:mod:`vaecore.conditional`) gets a selector beside the sliders: class
buttons (a menu past 16 classes) or a checkbox per binary attribute. A change decodes the
same code under the new condition (once per frame, as the sliders), and the readout starts
with it ("class 3; z[0] = ..."); ``condition=`` / ``condition_names=`` / ``condition_label=``.

:func:`model_choice` puts several explorers behind one menu; the attribute explorer
is in :mod:`vaecore.explorers.page_attribute`, and :func:`vaecore.explorers.twin.from_widget`
turns a kernel explorer into its in-page twin.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import uuid
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from vaecore._shared import class_names_list, to_numpy
from vaecore.explorers import common
from vaecore.explorers.common import check_dims, condition_choice, pick_dims, reference_codes
from vaecore.export import decoder_spec, encoder_spec, run_network
from vaecore.images import to_uint8

__all__ = [
    "AUTO_INT8_BYTES",
    "WebChoice",
    "WebExplorer",
    "latent_explorer",
    "model_choice",
    "runtime_js",
    "runtime_tag",
]

AUTO_INT8_BYTES = 3_000_000  # precision="auto": float16 weights above this go int8
RUNTIME_CLASS = "vaecore-runtime"  # the book's build shares scripts of this class (_ext/light_pages.py)


def runtime_js() -> str:
    """The JavaScript runtime and explorer UI (``vaecore/static/vaecore_web.js``)."""
    return resources.files("vaecore").joinpath("static/vaecore_web.js").read_text("utf-8")


def runtime_tag() -> str:
    """The runtime as one inline ``<script>``, marked with its class and the SHA-256 of its text.

    Self-contained wherever the output is shown (Jupyter, Colab, a saved .ipynb or HTML
    file); the book's build swaps it for a ``<script src>`` of a shared file holding
    exactly these bytes, and leaves it inline if the text does not match the hash.
    """
    js = runtime_js()
    digest = hashlib.sha256(js.encode("utf-8")).hexdigest()
    return f'<script class="{RUNTIME_CLASS}" data-sha256="{digest}">{js}</script>\n'


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
        """The self-contained HTML fragment: a div, the inlined runtime (:func:`runtime_tag`), the spec.

        The spec goes in with ``note``, the line Python prints for the explorer
        (:meth:`note`), which the page shows in its collapsed "details" with its own
        check against Keras and its decode time.
        """
        bare = self._fragment(self._payload(None))
        return self._fragment(self._payload(self.note(len(bare.encode("utf-8")))))

    def _payload(self, note: str | None) -> dict[str, Any]:
        return dict(self.spec, note=note)

    def _fragment(self, payload: Mapping[str, Any]) -> str:
        text = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
        hint = payload.get("hint")
        fallback = (f"<p>{html.escape(hint)}</p>" if hint else "") + "(The latent explorer needs JavaScript.)"
        return (
            f'<div id="{self.element_id}" class="{self._css_class}">{fallback}</div>\n'
            f"{runtime_tag()}"
            f'<script>vaecoreWeb.{self._mount}("{self.element_id}", {text});</script>'
        )

    def note(self, size_bytes: int | None = None) -> str:
        """The explorer in one line, for developers: its repr and the NumPy runtime's check."""
        return f"{self._describe(size_bytes)} | NumPy runtime vs Keras on the check codes: {self.check_error}/255"

    def _describe(self, size_bytes: int | None = None) -> str:
        size = self.size_bytes if size_bytes is None else size_bytes
        return f"WebExplorer(latent={len(self.spec['base'])}, {size / 1e6:.2f} MB)"

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
        return self._describe()


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

    def html(self) -> str:
        children = [dict(e.spec, note=e.note()) for e in self.explorers.values()]  # (once: each renders itself)
        bare = self._fragment(dict(self.spec, note=None, explorers=children))
        return self._fragment(dict(self.spec, note=self.note(len(bare.encode("utf-8"))), explorers=children))

    def note(self, size_bytes: int | None = None) -> str:
        worst = "; ".join(f"{n}: {e.check_error}/255" for n, e in self.explorers.items())
        return f"{self._describe(size_bytes)} | NumPy runtime vs Keras on the check codes: {worst}"

    def _describe(self, size_bytes: int | None = None) -> str:
        size = self.size_bytes if size_bytes is None else size_bytes
        return f"WebChoice({list(self.explorers)}, {size / 1e6:.2f} MB)"


def model_choice(
    explorers: Mapping[str, WebExplorer],
    start: str | None = None,
    label: str = "Model",
    title: str | None = None,
    *,
    hint: str | None = None,
) -> WebChoice:
    """Several in-page explorers behind one menu: e.g. one per beta of the same data.

    The page builds an explorer the first time its name is chosen. Between attribute
    explorers the face and the attribute strengths carry over (an attribute means
    the same in every model), the latent offsets start at 0 (a latent dim does not)::

        web.model_choice({f"beta {b}": web.attribute_explorer(m, faces, vectors[b]) for b, m in models.items()})

    Every decoder is in the page: mind ``size_bytes`` (int8 decoders are a quarter of
    float32). ``start``: the name shown first (default the first); ``label``: the
    menu's label; ``title``: a heading before it; ``hint``: what to try, over the menu
    (plain text). Names that all begin with the label ("beta 1", "beta 2" under
    ``label="beta"``) are shown without it ("beta: 1"), and the explorers' own titles
    are left out under the menu, which names the model.

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
        "hint": _hint(hint),
    }
    return WebChoice(spec, dict(explorers))

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
    *,
    start_image: Any = None,
    hint: str | None = None,
    dim_labels: Mapping[int, str] | None = None,
    kl: Any = None,
    condition: Any = None,
    condition_names: Sequence[str] | None = None,
    condition_label: str | None = None,
) -> WebExplorer:
    """The in-page latent explorer: the same arguments as :func:`vaecore.widgets.latent_explorer`.

    It opens on a real image's code: ``base`` if given, else the code of ``start_image``
    (encoded, its ``z_mean``), else the first reference code ``z_ref[0]`` (a test image's
    code, when ``z_ref`` are the encoded test images), else zeros. Reset returns there, and
    the dimensions without a slider stay there. Say what to try in ``hint``::

        web.latent_explorer(model, z_ref=z_test, dims=top, kl=kl_per_dim,
                            hint="Slide z[14]: the background brightens.",
                            dim_labels={14: "background"})

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
        start_image: an image (``(H, W, C)`` of this model) whose code is the base, when
            no ``base`` is given (default: ``z_ref[0]``, see above).
        hint: one or two sentences over the explorer saying what to try, in the
            reader's words (plain text: it is escaped).
        dim_labels: ``{dim: "what it moves"}`` shown beside those sliders and in the
            readout (on a latent map each slider says its row, column and channel).
        kl: the KL of each latent dimension in nats, ``(latent_dim,)``
            (:func:`vaecore.diagnostics.kl_per_dimension`), shown beside each slider.
            Not computed here: ``z_ref`` holds only the posterior means, the KL needs
            their variances too.
        condition: a conditional VAE's condition the page starts at (it has a selector
            for it beside the sliders): for classes an index, a class name or a one-hot
            row (default: the class of ``labels[0]`` when the page opens on ``z_ref[0]``,
            else class 0); for binary attributes K values in [0, 1], the names that are
            on, or ``{name: on}`` (default: all off). ``start_image`` is encoded under it.
        condition_names: the K class or attribute names the selector shows (default: the
            arch dict's names, else ``"0"`` .. ``"K-1"`` for classes, e.g. MNIST's digits).
        condition_label: what the selector is called (default ``"class"`` or
            ``"attributes"``; e.g. ``"digit"``).

    Raises:
        ValueError: besides bad dims, codes or ranges, a ``condition``, ``condition_names``
            or ``condition_label`` for a model without a condition, names that are not
            one per class (or attribute), or a start condition the model cannot take.

    A click on the map moves the two map dims there, clamped to their sliders' ranges
    (``slider_range``, widened where ``base`` or ``start`` lie further out), so the
    thumbs always show the value decoded. The page decodes at most once per animation
    frame while a slider is dragged. How it checks itself against Keras (and how fast it
    decodes) is in a collapsed "details" line under the explorer.
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
    z_ref = reference_codes(z_ref, latent)
    if not slider_range > 0:
        raise ValueError(f"slider_range must be positive, got {slider_range}")
    first_label = None  # the page opens on z_ref[0]: under its class, when labels say it
    if labels is not None and z_ref is not None and base is None and start_image is None:
        first = np.asarray(labels).reshape(-1)[:1]
        first_label = int(first[0]) if first.size and np.issubdtype(first.dtype, np.integer) else None
    choice = condition_choice(model, condition, condition_names, condition_label, first_label)
    start_row = None if choice is None else np.asarray(choice["start"], np.float32)
    if base is None and start_image is not None:
        from vaecore.toolbox import encode_images  # the toolbox imports TensorFlow for tf.data

        image = to_numpy(start_image, np.float32)
        shape = tuple(int(d) for d in model.arch_def["input"])
        if image.shape != shape and image.shape != (1, *shape):
            raise ValueError(f"start_image must be one {shape} image of this model, got shape {image.shape}")
        rows = None if start_row is None else start_row[None]  # (a 1-D row would read as K labels)
        base = np.round(encode_images(model, image.reshape(1, *shape), condition=rows)[0], 4)
    elif base is not None and start_image is not None:
        raise ValueError("give base (a code) or start_image (an image to encode), not both")
    elif base is None and z_ref is not None:
        base = np.round(z_ref[0], 4)  # a real image's code, not the grey blob of z = 0
    base_code = common.base_code(base, latent)
    dims = list(check_dims(pick_dims(latent, z_ref, max_sliders) if dims is None else dims, latent))
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

    start_code = None if start is None else to_numpy(start, np.float32).reshape(latent)
    labels_text, kl_dims = _dim_texts(model, dims, dim_labels, kl)
    rng = np.random.default_rng(seed)
    spec: dict[str, Any] = {
        "decoder": decoder_spec(model, precision),
        "encoder": encoder_spec(model, precision) if draw else None,
        "precision": precision,
        "base": [float(v) for v in base_code],
        "start": None if start_code is None else [float(v) for v in start_code],
        "dims": dims,
        "limits": [
            max(float(slider_range), abs(float(base_code[d])), 0.0 if start_code is None else abs(float(start_code[d])))
            for d in dims
        ],  # as widgets (which widen the range to the base code), and to the start
        "step": float(step),
        "image_width": int(image_width),
        "map": None,
        "hint": _hint(hint),
        "dim_labels": labels_text,
        "kl": kl_dims,
        "condition": choice,
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
            spec["map"]["names"] = class_names_list(lab, class_names)

    codes = np.concatenate([base_code[None], rng.standard_normal((check_codes - 1, latent))])
    rows = None
    if choice is not None:  # the start condition, then others: the next classes, random attributes
        rows = np.zeros((len(codes), choice["size"]), np.float32)
        rows[0] = start_row
        for i in range(1, len(codes)):
            if choice["kind"] == "classes":
                rows[i, (int(np.argmax(start_row)) + i) % choice["size"]] = 1.0
            else:
                rows[i] = rng.integers(0, 2, choice["size"])
    spec["check"], check_error = _self_check(model, spec["decoder"], codes, rows)
    return WebExplorer(spec, check_error)


def _dim_texts(
    model: Any, dims: Sequence[int], dim_labels: Mapping[int, str] | None, kl: Any
) -> tuple[list[str | None], list[float | None] | None]:
    """Each slider's label (``dim_labels``, else a latent map's row/column/channel) and KL (nats)."""
    latent = int(model.latent_dim)
    unknown = [d for d in (dim_labels or {}) if int(d) not in dims]
    if unknown:
        raise ValueError(f"dim_labels names dims without a slider: {unknown}; sliders: {list(dims)}")
    labels: list[str | None] = [None] * len(dims)
    shape = tuple(int(d) for d in getattr(model, "latent_shape", (latent,)))
    if len(shape) == 3:  # a latent map: say where each unit sits
        for j, d in enumerate(dims):
            r, c, ch = (int(v) for v in np.unravel_index(d, shape))
            labels[j] = f"row {r}, column {c}, channel {ch}"
    for d, text in (dim_labels or {}).items():
        labels[list(dims).index(int(d))] = str(text)
    if kl is None:
        return labels, None
    kl = to_numpy(kl, np.float64).reshape(-1)
    if kl.shape != (latent,):
        raise ValueError(
            f"kl must hold one value per latent dimension ({latent}), got {kl.size} "
            "(diagnostics.kl_per_dimension(model, x) gives it)"
        )
    return labels, [round(float(kl[d]), 2) for d in dims]


def _hint(hint: Any) -> str | None:
    if hint is None:
        return None
    if not isinstance(hint, str):
        raise ValueError(f"hint must be a string (what to try, in the reader's words), got {type(hint).__name__}")
    return hint.strip() or None


def _self_check(
    model: Any, decoder: Mapping[str, Any], codes: np.ndarray, conditions: np.ndarray | None = None
) -> tuple[dict, int]:
    """The check codes with Keras's 8-bit decodings, and the NumPy runtime's worst pixel (/255).

    ``conditions``: a conditional VAE's condition row for each code (stored with them).
    """
    from vaecore.toolbox import decode_latents  # the toolbox imports TensorFlow for tf.data

    codes = np.round(codes, 4).astype(np.float32)  # what the page's JSON holds
    keras_images = decode_latents(model, codes, condition=conditions)
    keras_u8 = to_uint8(keras_images)  # rounded half up, as the page's Math.round
    rows = [None] * len(codes) if conditions is None else list(conditions)
    mine = np.stack(
        [1 / (1 + np.exp(-run_network(decoder, z, condition=y))) for z, y in zip(codes, rows, strict=True)]
    ).reshape(keras_images.shape)
    mine_u8 = to_uint8(mine).astype(np.int16)
    check = {
        "codes": codes.tolist(),
        "images": [base64.b64encode(im.tobytes()).decode("ascii") for im in keras_u8],
    }
    if conditions is not None:
        check["conditions"] = np.asarray(conditions, np.float32).tolist()
    return check, int(np.abs(mine_u8 - keras_u8).max())
