"""Latent explorers, named by where they run.

==================================  ==========================================  =====================
module                              what                                        runs
==================================  ==========================================  =====================
:mod:`.kernel_latent`               ipywidgets sliders + decoded image + map    a live kernel
:mod:`.kernel_attribute`            ipywidgets face editor across models        a live kernel
:mod:`.page`                        latent explorer decoding in the page;       the page alone (no
                                    ``model_choice`` (several behind a menu)    kernel, no network)
:mod:`.page_attribute`              face editor decoding in the page            the page alone
:mod:`.page_vq`                     a VQ-VAE's code grid: click a cell, pick    the page alone
                                    another codebook entry
:mod:`.twin`                        ``from_widget``: kernel explorer -> page    (conversion)
:mod:`.scatter3d`                   rotatable plotly 3-D scatter of codes       the page alone
==================================  ==========================================  =====================

"kernel" explorers call the model in Python on every slider move; "page" explorers
carry the decoder (:mod:`vaecore.export`) and a small JavaScript runtime in their HTML
output, so they work in the rendered book, Jupyter and Colab alike. :mod:`.common`
holds what they all check and pick the same way.

The older import paths stay, as thin re-exports, so existing notebooks run
unchanged: ``vaecore.widgets`` (the kernel explorers), ``vaecore.web`` (the page
explorers, ``from_widget`` and the export) and ``vaecore.interactive`` (``scatter3d``).

Submodules load when first used (``vaecore.explorers.page``), so importing this
package pulls in neither ipywidgets nor plotly.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = [
    "common",
    "kernel_attribute",
    "kernel_latent",
    "page",
    "page_attribute",
    "page_vq",
    "scatter3d",
    "twin",
]


def __getattr__(name: str) -> ModuleType:
    """Import a submodule on first attribute access (``explorers.page``)."""
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
