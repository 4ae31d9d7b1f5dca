"""The book's figures: image grids, latent scatters, manifolds and training curves.

Every function draws with matplotlib and returns the :class:`~matplotlib.figure.Figure`;
none calls ``plt.show()``, so the same code works in notebooks, scripts and tests.
Each takes an optional ``fig`` (draw into this figure) and, where one panel suffices,
an optional ``ax`` (draw into this axes), so figures can be combined.

Images are ``(N, H, W, C)`` arrays or tensors with values in ``[0, 1]``; single-channel
images are shown with the gray colour map.

New figures are pyplot figures, so ``%matplotlib inline`` shows them at the end of
the cell and ``%matplotlib widget`` makes them interactive (rotatable 3D scatters).
Assign the result (``fig = plots.image_grid(x)``) or end the line with ``;`` so
the notebook does not show the figure a second time as the cell's value.

The figures live in three modules, by job, and every name is available here:
:mod:`.grids` (``image_grid``, ``as_jpeg`` for photographs, ``reconstructions``, ``manifold_image``,
``latent_manifold``; ``montage`` is :func:`vaecore.images.montage`), :mod:`.scatter`
(``latent_scatter_2d``, ``latent_scatter_3d``, ``latent_scatter_3d_views``) and
:mod:`.curves` (``training_curves``).
"""

from vaecore.images import montage
from vaecore.plots.curves import METRIC_TITLES, METRIC_YLABELS, training_curves
from vaecore.plots.grids import (
    as_jpeg,
    image_grid,
    latent_manifold,
    manifold_image,
    reconstructions,
)
from vaecore.plots.scatter import (
    MAX_CLASSES,
    latent_scatter_2d,
    latent_scatter_3d,
    latent_scatter_3d_views,
)

__all__ = [
    "MAX_CLASSES",
    "METRIC_TITLES",
    "METRIC_YLABELS",
    "as_jpeg",
    "image_grid",
    "latent_manifold",
    "latent_scatter_2d",
    "latent_scatter_3d",
    "latent_scatter_3d_views",
    "manifold_image",
    "montage",
    "reconstructions",
    "training_curves",
]
