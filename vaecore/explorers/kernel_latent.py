"""The kernel latent explorer (ipywidgets): sliders, the decoded image, and where the code sits.

:func:`latent_explorer` shows one slider per latent dimension, the image decoded
from the current slider values, and, beside it, a scatter of reference codes
(e.g. the test set coloured by digit) with a marker where the current point sits.
Moving a slider decodes again and moves the marker; the scatter itself is drawn
once and only the marker is re-drawn on top of it (blitting), so it stays quick
with tens of thousands of points.

A conditional VAE (:mod:`vaecore.conditional`) gets a selector above the sliders, as the
in-page explorer does: toggle buttons with the class names (a dropdown for more than 16
classes) or one checkbox per binary attribute; a change decodes the same code again under
the new condition.

It needs a running kernel to react (the model decodes in Python), but everything is
plain ipywidgets plus PNG images, so no extra notebook extension (such as ``ipympl``)
is required. For the rendered book, :func:`vaecore.explorers.twin.from_widget` makes
its in-page twin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import ipywidgets as widgets
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from vaecore.explorers.common import (
    base_code,
    check_dims,
    condition_choice,
    pick_dims,
    reference_codes,
)
from vaecore.images import png_bytes
from vaecore.plots.scatter import latent_scatter_2d, latent_scatter_3d
from vaecore.toolbox import decode_latents, input_shape

__all__ = ["LatentExplorer", "View", "latent_explorer"]

View = Literal["2d", "3d"]


class LatentExplorer(widgets.HBox):
    """The widget returned by :func:`latent_explorer`; see there for the arguments.

    Useful attributes: ``sliders`` (one ``FloatSlider`` per entry of ``dims``),
    ``image`` (the decoded image, an ``ipywidgets.Image``), ``scatter`` (the
    scatter plot as an ``ipywidgets.Image``, or ``None``), ``decoded`` (the last
    decoded image as an array), ``z`` (the current latent vector) and
    ``marker_position`` (where the marker is drawn); a conditional VAE's ``selector``
    (``ToggleButtons`` / ``Dropdown`` of the classes, or a list of ``Checkbox``),
    ``condition`` (the current condition row) and ``condition_spec`` (kind, names, label).
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
        condition: Any = None,
        condition_names: Sequence[str] | None = None,
        condition_label: str | None = None,
    ) -> None:
        self.model = model
        self.condition_spec = condition_choice(model, condition, condition_names, condition_label)
        self.latent_dim = int(model.latent_dim)
        self.z_ref = reference_codes(z_ref, self.latent_dim)
        if not slider_range > 0:
            raise ValueError(f"slider_range must be positive, got {slider_range}")
        self.base = base_code(base, self.latent_dim)
        self.dims = check_dims(
            pick_dims(self.latent_dim, self.z_ref, max_sliders) if dims is None else dims,
            self.latent_dim,
        )
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

        self.selector = self._make_selector()
        chooser = [] if self.selector is None else [
            widgets.HTML(f"<b>{self.condition_spec['label'].capitalize()}</b>"),
            widgets.HBox(self.selector, layout=widgets.Layout(flex_flow="row wrap"))
            if isinstance(self.selector, list) else self.selector,
        ]  # fmt: skip
        self.decoded: np.ndarray = np.zeros(input_shape(model), np.float32)
        children = [
            widgets.VBox([*chooser, widgets.HTML("<b>Latent values</b>"), *self.sliders, reset]),
            widgets.VBox([widgets.HTML("<b>Decoded image</b>"), self.image, self.readout]),
        ]
        if self.scatter is not None:
            children.append(widgets.VBox([widgets.HTML("<b>Where z sits</b>"), self.scatter]))
        super().__init__(children, layout=widgets.Layout(align_items="flex-start"))
        for slider in self.sliders:
            slider.observe(self._on_slider, names="value")
        choosers = self.selector if isinstance(self.selector, list) else [self.selector]
        for widget in choosers if self.selector is not None else []:
            widget.observe(self._on_slider, names="value")
        self._refresh()

    def _make_selector(self):
        """A conditional VAE's selector: class buttons (a dropdown for many), or attribute checkboxes."""
        c = self.condition_spec
        if c is None:
            return None
        if c["kind"] == "classes":
            options = [(name, k) for k, name in enumerate(c["names"])]
            start = int(np.argmax(c["start"]))
            if len(options) <= 16:
                return widgets.ToggleButtons(
                    options=options, value=start, tooltips=[f"{c['label']} {n}" for n in c["names"]],
                    style={"button_width": "auto"},
                )  # fmt: skip
            return widgets.Dropdown(options=options, value=start, description=c["label"])
        return [
            widgets.Checkbox(value=bool(v > 0.5), description=name, indent=False, layout=widgets.Layout(width="auto"))
            for name, v in zip(c["names"], c["start"], strict=True)
        ]

    @property
    def condition(self) -> np.ndarray | None:
        """The condition the selector sets (a one-hot row or 0/1 attributes), or None (no condition)."""
        c = self.condition_spec
        if c is None:
            return None
        if c["kind"] == "classes":
            return np.eye(c["size"], dtype=np.float32)[int(self.selector.value)]
        return np.asarray([float(b.value) for b in self.selector], np.float32)

    def set_condition(self, condition: Any) -> None:
        """Set the selector (for classes an index, a name or a one-hot row; for attributes K
        values, the names that are on, or ``{name: on}``, which leaves the others as they are)
        and decode once."""
        c = self.condition_spec
        if c is None:
            raise ValueError("this model has no condition (it is not a conditional VAE)")
        if c["kind"] == "binary" and isinstance(condition, Mapping):
            condition = {**{n: bool(v > 0.5) for n, v in zip(c["names"], self.condition, strict=True)}, **condition}
        row = condition_choice(self.model, condition, c["names"], c["label"])["start"]
        self._batch_update = True
        try:
            if c["kind"] == "classes":
                self.selector.value = int(np.argmax(row))
            else:
                for box, v in zip(self.selector, row, strict=True):
                    box.value = bool(v > 0.5)
        finally:
            self._batch_update = False
        self._refresh()

    def _describe_condition(self) -> str:
        c, row = self.condition_spec, self.condition
        if c["kind"] == "classes":  # "digit 7" ("class 17" for a name that says it)
            name = c["names"][int(np.argmax(row))]
            return name if name.startswith(c["label"] + " ") else f"{c['label']} {name}"
        on = [n for n, v in zip(c["names"], row, strict=True) if v > 0.5]
        return f"{c['label']}: {', '.join(on) if on else 'none'}"

    # ------------------------------------------------------------- set-up
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
            latent_scatter_3d(
                self.z_ref, labels, class_names, dims=sdims, title=None, ax=self._ax
            )
        else:
            self._ax = self._fig.add_subplot(1, 1, 1)
            latent_scatter_2d(
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
        row = self.condition
        self.decoded = decode_latents(self.model, z[None], condition=None if row is None else row[None])[0]
        self.image.value = png_bytes(self.decoded, self.image_width)
        # the values the sliders set (not z[0..7], which the sliders may not move)
        shown = ", ".join(f"z[{d}] = {z[d]:.2f}" for d in self.dims)
        if row is not None:
            shown = f"{self._describe_condition()}; {shown}"
        self.readout.value = f"<code>{shown}</code>"
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
        self.scatter.value = png_bytes(pixels / 255.0)


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
    condition: Any = None,
    condition_names: Sequence[str] | None = None,
    condition_label: str | None = None,
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
        condition, condition_names, condition_label: a conditional VAE's selector (where
            it starts, the class or attribute names it shows, what it is called), as in
            :func:`vaecore.explorers.page.latent_explorer`; a model without a condition
            refuses them.

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
        condition=condition,
        condition_names=condition_names,
        condition_label=condition_label,
    )
