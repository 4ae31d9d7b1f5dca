"""The kernel attribute explorer (ipywidgets): edit faces with attribute vectors, across models.

Choose a model and a face, then move attribute-vector strengths and latent offsets;
the model decodes in Python, so it needs a running kernel.
:func:`vaecore.explorers.twin.from_widget` makes its in-page twin (one model, or all
of them behind a menu).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import numpy as np

from vaecore._shared import to_numpy
from vaecore.explorers.common import check_dims, pick_dims
from vaecore.images import png_bytes
from vaecore.toolbox import decode_latents, encode_images

__all__ = ["AttributeExplorer", "attribute_explorer"]


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
        self.images = to_numpy(images, np.float32)
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
            these = {a: to_numpy(v, np.float32).reshape(-1) for a, v in vectors[name].items()}
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
                out[name] = pick_dims(latent, self.codes(name), max_sliders)
                continue
            out[name] = check_dims(dims[name], latent, f"dims of model {name!r}")
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
        self.original.value = png_bytes(self.images[self.face_choice.value], self.image_width)
        self.image.value = png_bytes(self.decoded, self.image_width)
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
