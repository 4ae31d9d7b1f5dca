"""The kernel (ipywidgets) explorers under their first import path, kept so notebooks run unchanged.

``from vaecore import widgets`` keeps every name it had; they now live in
:mod:`vaecore.explorers.kernel_latent` (``latent_explorer``, ``LatentExplorer``),
:mod:`vaecore.explorers.kernel_attribute` (``attribute_explorer``,
``AttributeExplorer``), :mod:`vaecore.images` (``image_to_png`` is
:func:`~vaecore.images.png_bytes`) and :mod:`vaecore.toolbox` (``generate_from``).
See :mod:`vaecore.explorers` for which explorer is which.
"""

from vaecore.explorers.kernel_attribute import AttributeExplorer, attribute_explorer
from vaecore.explorers.kernel_latent import LatentExplorer, View, latent_explorer
from vaecore.images import png_bytes as image_to_png
from vaecore.toolbox import generate_from

__all__ = [
    "AttributeExplorer",
    "LatentExplorer",
    "View",
    "attribute_explorer",
    "generate_from",
    "image_to_png",
    "latent_explorer",
]
