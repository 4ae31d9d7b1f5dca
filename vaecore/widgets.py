"""Interactive latent-space explorer for notebooks (ipywidgets).

:func:`latent_explorer` shows one slider per latent dimension, the image decoded
from the current slider values, and, beside it, a scatter of reference codes
(e.g. the test set coloured by digit) with a marker where the current point sits.
Moving a slider decodes again and moves the marker; the scatter itself is drawn
once and only the marker is re-drawn on top of it (blitting), so it stays quick
with tens of thousands of points.

It needs a running kernel to react, but everything is plain ipywidgets plus PNG
images, so no extra notebook extension (such as ``ipympl``) is required.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from vaecore import plots
from vaecore.toolbox import decode_latents, encode_images, generate_from, input_shape

__all__ = [
    "AttributeExplorer",
    "LatentExplorer",
    "attribute_explorer",
    "generate_from",
    "image_to_png",
    "latent_explorer",
]

View = Literal["2d", "3d"]


def image_to_png(image: Any, width: int | None = None) -> bytes:
    """PNG bytes of one ``(H, W, C)`` image in ``[0, 1]``, enlarged to about ``width`` px.

    Enlarging uses nearest-neighbour by a whole factor so small images (MNIST's
    28 x 28) stay crisp instead of being smoothed by the browser.
    """
    arr = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    arr = (arr * 255.0 + 0.5).astype(np.uint8)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    img = Image.fromarray(arr)
    if width is not None and width > img.width:
        factor = max(1, width // img.width)
        img = img.resize((img.width * factor, img.height * factor), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    img.save(buffer, format="PNG")
    return buffer.getvalue()


def _pick_dims(latent: int, z_ref: np.ndarray | None, max_sliders: int) -> tuple[int, ...]:
    """All dimensions when few; else the ``max_sliders`` most used ones.

    "Most used" means the largest variance of ``z_ref`` across the data set: in a
    VAE, dimensions the model ignores collapse to the prior and their code means
    barely vary ("inactive units"), so their sliders would do nothing visible.
    """
    if latent <= max_sliders:
        return tuple(range(latent))
    if z_ref is None:
        return tuple(range(max_sliders))
    order = np.argsort(-z_ref.var(axis=0), kind="stable")[:max_sliders]
    return tuple(int(d) for d in order)


class LatentExplorer(widgets.HBox):
    """The widget returned by :func:`latent_explorer`; see there for the arguments.

    Useful attributes: ``sliders`` (one ``FloatSlider`` per entry of ``dims``),
    ``image`` (the decoded image, an ``ipywidgets.Image``), ``scatter`` (the
    scatter plot as an ``ipywidgets.Image``, or ``None``), ``decoded`` (the last
    decoded image as an array), ``z`` (the current latent vector) and
    ``marker_position`` (where the marker is drawn).
    """

    def __init__(
        self,
        model: Any,
        z_ref: Any = None,
        labels: Any = None,
        class_names: Sequence[str] | Mapping | None = None,
        dims: Sequence[int] | None = None,
        slider_range: float = 3.0,
        view: View | None = None,
        base: Any = None,
        step: float = 0.05,
        max_sliders: int = 10,
        image_width: int = 224,
        continuous_update: bool = True,
    ) -> None:
        self.model = model
        self.latent_dim = int(model.latent_dim)
        self.z_ref = None if z_ref is None else plots._numpy(z_ref).astype(np.float32)
        self._check_inputs(slider_range, self.z_ref)
        self.base = self._base_code(base)
        self.dims = self._check_dims(dims, max_sliders)
        self.slider_range = float(slider_range)
        self.image_width = int(image_width)
        self.view = self._pick_view(view)
        self._batch_update = False

        self.sliders = [self._make_slider(d, step, continuous_update) for d in self.dims]
        self.image = widgets.Image(format="png")
        self.readout = widgets.HTML()
        reset = widgets.Button(description="Reset", tooltip="Back to the base code")
        reset.on_click(lambda _: self.reset())
        self.scatter = None
        if self.view is not None:
            self._init_scatter(labels, class_names)

        self.decoded: np.ndarray = np.zeros(input_shape(model), np.float32)
        children = [
            widgets.VBox([widgets.HTML("<b>Latent values</b>"), *self.sliders, reset]),
            widgets.VBox([widgets.HTML("<b>Decoded image</b>"), self.image, self.readout]),
        ]
        if self.scatter is not None:
            children.append(widgets.VBox([widgets.HTML("<b>Where z sits</b>"), self.scatter]))
        super().__init__(children, layout=widgets.Layout(align_items="flex-start"))
        for slider in self.sliders:
            slider.observe(self._on_slider, names="value")
        self._refresh()

    # ------------------------------------------------------------- set-up
    def _check_inputs(self, slider_range: float, z_ref: np.ndarray | None) -> None:
        """Reject a bad slider range or reference codes of the wrong shape."""
        if not slider_range > 0:
            raise ValueError(f"slider_range must be positive, got {slider_range}")
        if z_ref is not None and (z_ref.ndim != 2 or z_ref.shape[1] != self.latent_dim):
            raise ValueError(
                f"z_ref must be (n, {self.latent_dim}) codes of this model, got shape {z_ref.shape}"
            )

    def _base_code(self, base: Any) -> np.ndarray:
        """The latent code the dimensions without a slider are held at (zeros by default)."""
        if base is None:
            return np.zeros(self.latent_dim, np.float32)
        base = plots._numpy(base).astype(np.float32).reshape(-1)
        if base.shape != (self.latent_dim,):
            raise ValueError(f"base must have length {self.latent_dim}, got {base.size}")
        return base

    def _check_dims(self, dims: Sequence[int] | None, max_sliders: int) -> tuple[int, ...]:
        """Validate the dimensions that get a slider."""
        if dims is None:
            return _pick_dims(self.latent_dim, self.z_ref, max_sliders)
        dims = tuple(int(d) for d in dims)
        if not dims or len(set(dims)) != len(dims):
            raise ValueError(f"dims must be distinct latent indices, got {dims}")
        if any(not 0 <= d < self.latent_dim for d in dims):
            raise ValueError(f"dims {dims} out of range for latent_dim={self.latent_dim}")
        return dims

    def _pick_view(self, view: View | None) -> View | None:
        """Scatter kind: 2D by default when reference codes are given."""
        if view is None:
            return "2d" if self.z_ref is not None else None
        if view not in ("2d", "3d"):
            raise ValueError(f"view must be '2d', '3d' or None, got {view!r}")
        if self.z_ref is None:
            raise ValueError(f"view={view!r} needs z_ref, the codes to scatter")
        needed = 2 if view == "2d" else 3
        if len(self.dims) < needed:
            raise ValueError(f"view={view!r} needs at least {needed} slider dims, got {self.dims}")
        return view

    def _make_slider(self, dim: int, step: float, continuous_update: bool) -> widgets.FloatSlider:
        """One slider for latent dimension ``dim``, starting at the base code."""
        limit = max(self.slider_range, abs(float(self.base[dim])))
        return widgets.FloatSlider(
            value=float(self.base[dim]),
            min=-limit,
            max=limit,
            step=step,
            description=f"z[{dim}]",
            continuous_update=continuous_update,
            readout_format=".2f",
        )

    @property
    def scatter_dims(self) -> tuple[int, ...]:
        """The latent dimensions on the scatter's axes (the first 2 or 3 slider dims)."""
        return self.dims[: 3 if self.view == "3d" else 2]

    def _init_scatter(self, labels: Any, class_names: Any) -> None:
        """Draw the reference scatter once and keep its pixels as the blit background."""
        self._fig = Figure(figsize=(5.6 if self.view == "3d" else 4.8, 4.2), dpi=80)
        self._canvas = FigureCanvasAgg(self._fig)
        sdims = self.scatter_dims
        if self.view == "3d":
            self._ax = self._fig.add_subplot(1, 1, 1, projection="3d")
            plots.latent_scatter_3d(
                self.z_ref, labels, class_names, dims=sdims, title=None, ax=self._ax
            )
        else:
            self._ax = self._fig.add_subplot(1, 1, 1)
            plots.latent_scatter_2d(
                self.z_ref, labels, class_names, dims=sdims, title=None, ax=self._ax
            )
        self._fix_limits(sdims)
        start = [[float(self.base[d])] for d in sdims]
        style = {"marker": "X", "markersize": 14, "color": "black", "markeredgecolor": "white"}
        (self._marker,) = self._ax.plot(*start, linestyle="", animated=True, **style)
        self._fig.tight_layout()
        self._canvas.draw()
        self._background = self._canvas.copy_from_bbox(self._fig.bbox)
        self.scatter = widgets.Image(format="png")

    def _fix_limits(self, sdims: Sequence[int]) -> None:
        """Axis limits covering both the data and the slider range, so the marker stays visible."""
        setters = (self._ax.set_xlim, self._ax.set_ylim, getattr(self._ax, "set_zlim", None))
        for setter, d in zip(setters, sdims, strict=False):
            lo = min(float(self.z_ref[:, d].min()), -self.slider_range)
            hi = max(float(self.z_ref[:, d].max()), self.slider_range)
            pad = 0.05 * (hi - lo)
            setter(lo - pad, hi + pad)

    # ------------------------------------------------------------- state
    @property
    def z(self) -> np.ndarray:
        """The current latent vector: the base code with the slider values filled in."""
        z = self.base.copy()
        for d, slider in zip(self.dims, self.sliders, strict=True):
            z[d] = slider.value
        return z

    @property
    def marker_position(self) -> tuple[float, ...] | None:
        """Data coordinates of the scatter marker (``None`` without a scatter)."""
        if self.scatter is None:
            return None
        if self.view == "3d":
            return tuple(float(np.ravel(c)[0]) for c in self._marker.get_data_3d())
        return tuple(float(np.ravel(c)[0]) for c in self._marker.get_data())

    def update(self, values: Mapping[int, float] | Sequence[float]) -> None:
        """Set several sliders at once and refresh once.

        Args:
            values: ``{latent_dim_index: value}``, or one value per slider in
                ``self.dims`` order. Like dragging, values are clamped to the
                slider range; use :func:`generate_from` for arbitrary codes.
        """
        if isinstance(values, Mapping):
            pairs = [(int(d), float(v)) for d, v in values.items()]
            unknown = [d for d, _ in pairs if d not in self.dims]
            if unknown:
                raise ValueError(f"no slider for latent dims {unknown}; sliders: {self.dims}")
        else:
            values = [float(v) for v in values]
            if len(values) != len(self.sliders):
                raise ValueError(
                    f"expected {len(self.sliders)} values (one per slider, dims {self.dims}), "
                    f"got {len(values)}"
                )
            pairs = list(zip(self.dims, values, strict=True))
        self._batch_update = True
        try:
            for d, v in pairs:
                self.sliders[self.dims.index(d)].value = v
        finally:
            self._batch_update = False
        self._refresh()

    def reset(self) -> None:
        """Move every slider back to the base code."""
        self.update({d: float(self.base[d]) for d in self.dims})

    # ------------------------------------------------------------- drawing
    def _on_slider(self, _change: Mapping) -> None:
        """Slider callback: refresh unless :meth:`update` is setting several at once."""
        if not self._batch_update:
            self._refresh()

    def _refresh(self) -> None:
        """Decode the current point and move the marker."""
        z = self.z
        self.decoded = decode_latents(self.model, z[None])[0]
        self.image.value = image_to_png(self.decoded, self.image_width)
        shown = ", ".join(f"{v:.2f}" for v in z[: min(len(z), 8)])
        more = ", ..." if len(z) > 8 else ""
        self.readout.value = f"<code>z = [{shown}{more}]</code>"
        if self.scatter is not None:
            self._move_marker(z)

    def _move_marker(self, z: np.ndarray) -> None:
        """Blit: restore the saved scatter pixels, draw only the marker, send the PNG."""
        coords = [[float(z[d])] for d in self.scatter_dims]
        if self.view == "3d":
            self._marker.set_data_3d(*coords)
        else:
            self._marker.set_data(*coords)
        self._canvas.restore_region(self._background)
        self._ax.draw_artist(self._marker)
        pixels = np.asarray(self._canvas.buffer_rgba())[..., :3]
        self.scatter.value = image_to_png(pixels / 255.0)


def latent_explorer(
    model: Any,
    z_ref: Any = None,
    labels: Any = None,
    class_names: Sequence[str] | Mapping | None = None,
    dims: Sequence[int] | None = None,
    slider_range: float = 3.0,
    view: View | None = None,
    base: Any = None,
    step: float = 0.05,
    max_sliders: int = 10,
    image_width: int = 224,
    continuous_update: bool = True,
) -> LatentExplorer:
    """Sliders for the latent code, the decoded image, and where the code sits.

    Args:
        model: a trained VAE.
        z_ref: ``(n, latent_dim)`` reference codes to scatter, e.g. the test set's
            ``z_mean`` from :func:`vaecore.toolbox.encode_dataset`.
        labels: labels of ``z_ref`` for colouring; ``class_names`` names them.
        dims: latent dimensions that get a slider. Default: all of them when
            there are at most ``max_sliders``, else the ``max_sliders`` whose codes
            vary most across ``z_ref`` (the dimensions the model actually uses).
        slider_range: sliders run from ``-slider_range`` to ``+slider_range`` (the
            prior is N(0, 1), so 3 covers 99.7% of it).
        view: ``"2d"`` or ``"3d"`` scatter of ``z_ref`` over the first 2 or 3 slider
            dims; default ``"2d"`` when ``z_ref`` is given, no scatter otherwise.
        base: latent code for the dimensions without a slider (zeros by default).
        step: slider step.
        image_width: approximate display width of the decoded image in pixels.
        continuous_update: decode while dragging (``False``: on release).

    Returns:
        The :class:`LatentExplorer` widget (an ``HBox``); display it as the cell's
        last expression. Drive it from code with ``.update({0: 1.5})`` or its
        ``.sliders``.
    """
    return LatentExplorer(
        model,
        z_ref=z_ref,
        labels=labels,
        class_names=class_names,
        dims=dims,
        slider_range=slider_range,
        view=view,
        base=base,
        step=step,
        max_sliders=max_sliders,
        image_width=image_width,
        continuous_update=continuous_update,
    )


class AttributeExplorer(widgets.HBox):
    """The widget returned by :func:`attribute_explorer`; see there for the arguments.

    The decoded code is ``encode(face) + sum_a strength_a * vectors[model][a]``, plus
    the latent sliders' offsets on their dimensions. Useful attributes: ``model_choice``
    (a ``Dropdown`` of the model names), ``face_choice`` (an ``IntSlider`` over the
    faces), ``strength_sliders`` (``{attribute: FloatSlider}``), ``latent_sliders``
    (offsets for the current model's ``dims``), ``original`` and ``image`` (the chosen
    face and the decoded one, ``ipywidgets.Image``), ``decoded``, ``z`` and ``dims``.
    """

    def __init__(
        self,
        models: Mapping[str, Any],
        images: Any,
        vectors: Mapping[str, Mapping[str, Any]],
        dims: Mapping[str, Sequence[int]] | None = None,
        max_sliders: int = 6,
        strength_range: float = 2.0,
        slider_range: float = 3.0,
        step: float = 0.05,
        image_width: int = 192,
        continuous_update: bool = True,
    ) -> None:
        if not models:
            raise ValueError("models must name at least one model")
        self.models = dict(models)
        self.images = plots._numpy(images).astype(np.float32)
        if self.images.ndim != 4 or len(self.images) == 0:
            raise ValueError(f"images must be a non-empty (n, H, W, C) batch, got {self.images.shape}")
        self.vectors = self._check_vectors(vectors)
        self.attributes = list(next(iter(self.vectors.values())))
        if not strength_range > 0 or not slider_range > 0:
            raise ValueError("strength_range and slider_range must be positive")
        self._codes: dict[str, np.ndarray] = {}
        self._dims = self._check_dims(dims, max_sliders)
        self.image_width = int(image_width)
        self._batch_update = False

        def slider(description: str, limit: float) -> widgets.FloatSlider:
            return widgets.FloatSlider(
                value=0.0, min=-limit, max=limit, step=step, description=description,
                continuous_update=continuous_update, readout_format=".2f",
            )

        self.model_choice = widgets.Dropdown(options=list(self.models), description="model")
        self.face_choice = widgets.IntSlider(
            value=0, min=0, max=len(self.images) - 1, description="face",
            continuous_update=continuous_update,
        )
        self.strength_sliders = {a: slider(a, strength_range) for a in self.attributes}
        n_latent = max(len(d) for d in self._dims.values())
        self.latent_sliders = [slider("", slider_range) for _ in range(n_latent)]
        reset = widgets.Button(description="Reset", tooltip="All sliders back to 0")
        reset.on_click(lambda _: self.reset())
        self.original = widgets.Image(format="png")
        self.image = widgets.Image(format="png")
        self.readout = widgets.HTML()
        self.decoded: np.ndarray = np.zeros(self.images.shape[1:], np.float32)
        super().__init__(
            [
                widgets.VBox([widgets.HTML("<b>Model and face</b>"), self.model_choice,
                              self.face_choice, widgets.HTML("<b>Attribute strengths</b>"),
                              *self.strength_sliders.values()]),
                widgets.VBox([widgets.HTML("<b>Latent offsets (most KL)</b>"),
                              *self.latent_sliders, reset]),
                widgets.VBox([widgets.HTML("<b>Face</b>"), self.original,
                              widgets.HTML("<b>Decoded</b>"), self.image, self.readout]),
            ],
            layout=widgets.Layout(align_items="flex-start"),
        )
        self._label_latent_sliders()
        self.model_choice.observe(self._on_model, names="value")
        for w in [self.face_choice, *self.strength_sliders.values(), *self.latent_sliders]:
            w.observe(self._on_change, names="value")
        self._refresh()

    # ------------------------------------------------------------- set-up
    def _check_vectors(self, vectors: Mapping[str, Mapping[str, Any]]) -> dict:
        """One vector per attribute per model, the same attributes for every model."""
        missing = [name for name in self.models if name not in vectors]
        if missing:
            raise ValueError(f"no attribute vectors for models {missing}")
        out, names = {}, None
        for name, model in self.models.items():
            these = {a: plots._numpy(v).astype(np.float32).reshape(-1) for a, v in vectors[name].items()}
            if names is None:
                names = list(these)
            if list(these) != names:
                raise ValueError(f"model {name!r} has attributes {list(these)}, expected {names}")
            for a, v in these.items():
                if v.shape != (int(model.latent_dim),):
                    raise ValueError(f"vector {a!r} of model {name!r} has length {v.size}, "
                                     f"expected {int(model.latent_dim)}")
            out[name] = these
        return out

    def _check_dims(self, dims: Mapping[str, Sequence[int]] | None, max_sliders: int) -> dict:
        """The latent dimensions that get a slider, per model."""
        out = {}
        for name, model in self.models.items():
            latent = int(model.latent_dim)
            if dims is None or name not in dims:
                out[name] = _pick_dims(latent, self.codes(name), max_sliders)
                continue
            these = tuple(int(d) for d in dims[name])
            if not these or len(set(these)) != len(these) or not all(0 <= d < latent for d in these):
                raise ValueError(f"dims of model {name!r} must be distinct indices < {latent}, got {these}")
            out[name] = these
        return out

    def codes(self, name: str) -> np.ndarray:
        """The posterior means of all ``images`` under model ``name`` (computed once)."""
        if name not in self._codes:
            self._codes[name] = encode_images(self.models[name], self.images)
        return self._codes[name]

    # ------------------------------------------------------------- state
    @property
    def dims(self) -> tuple[int, ...]:
        """The latent dimensions of the current model that have a slider."""
        return tuple(self._dims[self.model_choice.value])

    @property
    def z(self) -> np.ndarray:
        """The current code: the face's code, plus the attribute vectors, plus the offsets."""
        name = self.model_choice.value
        z = self.codes(name)[self.face_choice.value].copy()
        for a, s in self.strength_sliders.items():
            z += s.value * self.vectors[name][a]
        for d, s in zip(self.dims, self.latent_sliders, strict=False):
            z[d] += s.value
        return z

    def update(
        self,
        model: str | None = None,
        face: int | None = None,
        strengths: Mapping[str, float] | None = None,
        offsets: Mapping[int, float] | None = None,
    ) -> None:
        """Set several controls at once and decode once.

        Args:
            model: the model's name (switching resets the latent offsets).
            face: index into ``images``.
            strengths: ``{attribute: strength}``.
            offsets: ``{latent_dim: offset}`` for dimensions with a slider.
        """
        if model is not None and model not in self.models:
            raise ValueError(f"unknown model {model!r}; models: {list(self.models)}")
        unknown = [a for a in (strengths or {}) if a not in self.strength_sliders]
        if unknown:
            raise ValueError(f"unknown attributes {unknown}; attributes: {self.attributes}")
        self._batch_update = True
        try:
            if model is not None:
                self.model_choice.value = model
            dims = self.dims
            bad = [d for d in (offsets or {}) if d not in dims]
            if bad:
                raise ValueError(f"no slider for latent dims {bad}; sliders: {dims}")
            if face is not None:
                self.face_choice.value = int(face)
            for a, v in (strengths or {}).items():
                self.strength_sliders[a].value = float(v)
            for d, v in (offsets or {}).items():
                self.latent_sliders[dims.index(d)].value = float(v)
        finally:
            self._batch_update = False
        self._refresh()

    def reset(self) -> None:
        """Every strength and offset back to 0 (the plain reconstruction)."""
        self._batch_update = True
        try:
            for s in [*self.strength_sliders.values(), *self.latent_sliders]:
                s.value = 0.0
        finally:
            self._batch_update = False
        self._refresh()

    # ------------------------------------------------------------- drawing
    def _label_latent_sliders(self) -> None:
        """Name each latent slider after the current model's dimension; hide spare ones."""
        dims = self.dims
        for i, s in enumerate(self.latent_sliders):
            s.description = f"z[{dims[i]}]" if i < len(dims) else ""
            s.layout.display = None if i < len(dims) else "none"

    def _on_model(self, _change: Mapping) -> None:
        """A new model: its own top dimensions, offsets back to 0."""
        was = self._batch_update
        self._batch_update = True
        try:
            for s in self.latent_sliders:
                s.value = 0.0
            self._label_latent_sliders()
        finally:
            self._batch_update = was
        if not was:
            self._refresh()

    def _on_change(self, _change: Mapping) -> None:
        if not self._batch_update:
            self._refresh()

    def _refresh(self) -> None:
        """Decode the current code and show it beside the chosen face."""
        name = self.model_choice.value
        self.decoded = decode_latents(self.models[name], self.z[None])[0]
        self.original.value = image_to_png(self.images[self.face_choice.value], self.image_width)
        self.image.value = image_to_png(self.decoded, self.image_width)
        used = [f"{a} {s.value:+.2f}" for a, s in self.strength_sliders.items() if s.value]
        self.readout.value = f"<code>{name}, face {self.face_choice.value}" + (
            ": " + ", ".join(used) if used else "") + "</code>"


def attribute_explorer(
    models: Mapping[str, Any],
    images: Any,
    vectors: Mapping[str, Mapping[str, Any]],
    dims: Mapping[str, Sequence[int]] | None = None,
    max_sliders: int = 6,
    strength_range: float = 2.0,
    slider_range: float = 3.0,
    step: float = 0.05,
    image_width: int = 192,
    continuous_update: bool = True,
) -> AttributeExplorer:
    """Choose a model and a face, then edit the face with attribute vectors and latent sliders.

    Made for comparing models trained alike (e.g. several betas): the decoded image
    is ``decode(encode(face) + sum_a s_a v_a + offsets)`` under the chosen model,
    where ``v_a`` is that model's vector for attribute ``a`` (e.g. from
    :func:`vaecore.toolbox.attribute_vector`) and the offsets move the model's
    most used latent dimensions.

    Args:
        models: ``{name: trained VAE}``, e.g. ``{"beta = 1": m1, "beta = 5": m5}``.
        images: ``(n, H, W, C)`` faces to choose from (encoded once per model, lazily).
        vectors: ``{model name: {attribute: (latent_dim,) vector}}``, the same
            attributes for every model.
        dims: ``{model name: latent dims}`` that get an offset slider; default, per
            model, the ``max_sliders`` dims whose codes vary most over ``images``
            (pass :func:`vaecore.diagnostics.top_kl_dims` for the most KL).
        strength_range: attribute sliders run over ``[-strength_range, strength_range]``.
        slider_range: latent offset sliders run over ``[-slider_range, slider_range]``.
        step: slider step.
        image_width: approximate display width of each image in pixels.
        continuous_update: decode while dragging (``False``: on release).

    Returns:
        The :class:`AttributeExplorer` widget; display it as the cell's last
        expression, drive it from code with ``.update(model=..., face=...,
        strengths={...}, offsets={...})``.
    """
    return AttributeExplorer(
        models, images, vectors, dims=dims, max_sliders=max_sliders,
        strength_range=strength_range, slider_range=slider_range, step=step,
        image_width=image_width, continuous_update=continuous_update,
    )
