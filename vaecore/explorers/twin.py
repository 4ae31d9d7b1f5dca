"""Kernel explorer -> in-page twin: :func:`from_widget`.

A chapter builds its ipywidgets explorer (:mod:`vaecore.explorers.kernel_latent`,
:mod:`vaecore.explorers.kernel_attribute`) for readers with a live kernel; one line
after it, ``from_widget(explorer)``, gives the same explorer decoding in the page, so
the rendered book works too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vaecore.explorers.page import WebExplorer, latent_explorer, model_choice
from vaecore.explorers.page_attribute import attribute_explorer

__all__ = ["from_widget"]


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
    widget's current code. A widget made without ``base`` (other dims at 0) but with
    reference codes gives a twin based on the first reference code ``z_ref[0]``, a real
    image's code (Reset returns there), its sliders where the widget's were moved
    and at ``z_ref[0]`` where they were not. ``hint``, ``dim_labels`` and ``kl``
    (see :func:`~vaecore.explorers.page.latent_explorer`) go in ``kwargs``. The widget does not keep the labels, so pass them (and
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
            hint = kwargs.pop("hint", None)  # once, over the menu
            parts = {m: from_widget(explorer, model=m, faces=faces, **kwargs) for m in chosen}
            return model_choice(parts, start=current if current in parts else chosen[0], hint=hint)
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
    base, start = explorer.base, explorer.z
    if explorer.z_ref is not None and not np.any(base):
        # the widget holds the other dims at 0 (no base given): the twin holds them at the first
        # reference code instead, a real image's (Reset returns there), with the widget's sliders
        base = np.round(np.asarray(explorer.z_ref[0], np.float32), 4)
        start = base.copy()
        for d in explorer.dims:
            start[d] = explorer.z[d] if explorer.z[d] != 0 else base[d]
    options = {
        "z_ref": explorer.z_ref,
        "dims": list(explorer.dims),
        "base": base,
        "slider_range": explorer.slider_range,
        "view": explorer.view,
        "image_width": explorer.image_width,
        "start": start,
        "step": float(explorer.sliders[0].step) if explorer.sliders else 0.05,
    }
    if explorer.z_ref is None:
        options["view"] = None
    if explorer.condition_spec is not None:  # a conditional VAE: the selector where the widget has it
        options["condition"] = explorer.condition
        options["condition_names"] = explorer.condition_spec["names"]
        options["condition_label"] = explorer.condition_spec["label"]
    options.update(kwargs)
    return latent_explorer(explorer.model, labels=labels, class_names=class_names, **options)
