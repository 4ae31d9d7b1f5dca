"""Rotatable plotly 3-D scatters under their first import path, kept so notebooks run unchanged.

The code lives in :mod:`vaecore.explorers.scatter3d` (``latent_scatter_3d``, ``to_html``,
``CDN_SCRIPT_CLASS``); see :mod:`vaecore.explorers` for which explorer is which.
"""

from vaecore.explorers.scatter3d import CDN_SCRIPT_CLASS, latent_scatter_3d, to_html

__all__ = ["CDN_SCRIPT_CLASS", "latent_scatter_3d", "to_html"]
