"""Image figures: grids of images, originals beside reconstructions, decoded manifolds.

Part of :mod:`vaecore.plots` (which re-exports every name); see there for the
conventions every figure follows (returns the figure, ``fig``/``ax`` to draw into).
"""

from __future__ import annotations

from collections.abc import Sequence
from io import BytesIO
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy.stats import norm

from vaecore._shared import to_numpy
from vaecore.images import as_image_batch, grid_shape, montage
from vaecore.toolbox import decode_latents, encode_images, input_shape, load_images

__all__ = ["image_grid", "latent_manifold", "manifold_image", "montage", "reconstructions"]


def _new_figure(fig: Figure | None, figsize: tuple[float, float]) -> Figure:
    """``fig`` cleared for reuse, or a fresh pyplot figure of ``figsize``."""
    if fig is None:
        return plt.figure(figsize=figsize)
    fig.clear()
    return fig


def _show_image(ax: Axes, image: np.ndarray) -> None:
    """Draw one ``HWC`` image without ticks; gray colour map for one channel."""
    image = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
    if image.ndim == 3 and image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(image, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)


def image_grid(
    images: Any,
    nrows: int | None = None,
    ncols: int | None = None,
    titles: Sequence[str] | None = None,
    row_labels: Sequence[str] | None = None,
    suptitle: str | None = None,
    cell_size: float = 1.4,
    ax: Axes | None = None,
    fig: Figure | None = None,
) -> Figure:
    """Show images in a grid, one axes per image.

    Args:
        images: ``(N, H, W, C)`` (or ``(N, H, W)``) array/tensor in ``[0, 1]``, or a
            ``(rows, cols, H, W, C)`` array whose layout is kept.
        nrows, ncols: grid shape; roughly square when neither is given.
        titles: one title per image.
        row_labels: one label per row, written left of the first column.
        suptitle: title of the whole figure.
        cell_size: inches per grid cell.
        ax: draw the grid as a single tiled image (:func:`montage`) into this axes;
            ``titles`` are then not drawn.
        fig: draw into this figure (cleared first).

    Returns:
        The figure; it has ``N`` image axes (one when ``ax`` was given).
    """
    arr, rows, cols = as_image_batch(images)
    nrows, ncols = grid_shape(len(arr), nrows or rows, ncols or cols)
    if titles is not None and len(titles) != len(arr):
        raise ValueError(f"got {len(titles)} titles for {len(arr)} images")
    if ax is not None:
        _show_image(ax, montage(arr, nrows, ncols, pad=1))
        if suptitle:
            ax.set_title(suptitle)
        return ax.figure
    fig = _new_figure(fig, (ncols * cell_size, nrows * cell_size + (0.4 if suptitle else 0.0)))
    for i, image in enumerate(arr):
        cell = fig.add_subplot(nrows, ncols, i + 1)
        _show_image(cell, image)
        if titles is not None:
            cell.set_title(str(titles[i]), fontsize="small")
        if row_labels is not None and i % ncols == 0 and i // ncols < len(row_labels):
            cell.set_ylabel(str(row_labels[i // ncols]))
    # margins in inches, not matplotlib's fractions of the height: a tall grid (twelve rows)
    # would otherwise open with inches of blank space between the title and the first row
    height = fig.get_figheight()
    top = 0.1 + (0.3 if titles is not None else 0.0) + (0.4 if suptitle else 0.0)
    fig.subplots_adjust(top=1.0 - min(top / height, 0.3), bottom=min(0.1 / height, 0.1))
    if suptitle:
        fig.suptitle(suptitle, y=1.0 - min(0.05 / height, 0.05), va="top")
    return fig


def reconstructions(
    model: Any,
    images: Any,
    n: int = 8,
    title: str | None = "Originals (top) and reconstructions (bottom)",
    fig: Figure | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Originals in the top row, the model's reconstructions below them.

    Reconstructions decode the latent *mean* of each image, so the figure is
    repeatable; it shows what the model keeps and what it blurs away.

    Args:
        model: a trained VAE.
        images: a batch of images (anything :func:`vaecore.toolbox.to_tensor` reads).
        n: how many of the first images to show.
    """
    originals = load_images(images, size=input_shape(model))[:n]
    decoded = decode_latents(model, encode_images(model, originals))
    grid = np.concatenate([originals, decoded], axis=0)
    return image_grid(
        grid,
        nrows=2,
        ncols=len(originals),
        row_labels=["original", "reconstruction"],
        suptitle=title,
        fig=fig,
        ax=ax,
    )


# ---------------------------------------------------------------------------
# Latent manifold
# ---------------------------------------------------------------------------


def _manifold_axes_values(n: int, quantiles: tuple[float, float]) -> np.ndarray:
    """``n`` z values evenly spaced in probability under N(0, 1)."""
    lo, hi = quantiles
    if not 0.0 < lo < hi < 1.0:
        raise ValueError(f"quantiles must satisfy 0 < low < high < 1, got {quantiles}")
    return norm.ppf(np.linspace(lo, hi, n))


def manifold_image(
    model: Any,
    n: int = 20,
    dims: tuple[int, int] = (0, 1),
    base: Any = None,
    quantiles: tuple[float, float] = (0.05, 0.95),
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode an ``n x n`` grid over two latent dimensions into one big image.

    Grid values are Gaussian quantiles, ``norm.ppf(linspace(0.05, 0.95, n))``: the
    prior is N(0, 1), so equal steps in probability cover where codes actually
    live instead of wasting cells on the tails. The other dimensions are held at
    ``base`` (zeros, the prior mean, by default).

    Returns:
        ``(image, x_values, y_values)``: the ``(n*H, n*W, C)`` image, with z[dims[0]]
        increasing left to right (``x_values``) and z[dims[1]] increasing bottom to
        top (``y_values``, listed top row first).
    """
    latent = int(model.latent_dim)
    if n < 1:
        raise ValueError(f"n must be positive, got {n}")
    if len(dims) != 2 or dims[0] == dims[1] or not all(0 <= d < latent for d in dims):
        raise ValueError(
            f"dims must be two different indices below latent_dim={latent}, got {dims}"
        )
    base = np.zeros(latent, np.float32) if base is None else to_numpy(base, np.float32)
    if base.shape != (latent,):
        raise ValueError(f"base must have shape ({latent},), got {base.shape}")
    x_values = _manifold_axes_values(n, quantiles)
    y_values = x_values[::-1]  # top row = largest value
    z = np.tile(base, (n * n, 1))
    yy, xx = np.meshgrid(y_values, x_values, indexing="ij")
    z[:, dims[0]] = xx.reshape(-1)
    z[:, dims[1]] = yy.reshape(-1)
    decoded = decode_latents(model, z)
    return montage(decoded, n, n), x_values, y_values


def latent_manifold(
    model: Any,
    n: int = 20,
    dims: tuple[int, int] = (0, 1),
    base: Any = None,
    quantiles: tuple[float, float] = (0.05, 0.95),
    max_ticks: int = 10,
    title: str | None = "Decoded latent manifold",
    figsize: tuple[float, float] = (8.0, 8.0),
    ax: Axes | None = None,
    fig: Figure | None = None,
) -> Figure:
    """Show :func:`manifold_image` with axes labelled by their z values.

    Args:
        model: a trained VAE.
        n: cells per side.
        dims: the two latent dimensions to sweep; the others stay at ``base``.
        base: latent code for the fixed dimensions (zeros by default).
        quantiles: probability range of the grid under N(0, 1).
        max_ticks: at most this many labelled ticks per axis.
    """
    image, x_values, y_values = manifold_image(model, n, dims, base, quantiles)
    if ax is None:
        fig = _new_figure(fig, figsize)
        ax = fig.add_subplot(1, 1, 1)
    h, w = input_shape(model)[:2]
    if image.shape[-1] == 1:
        ax.imshow(image[..., 0], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    else:
        ax.imshow(np.clip(image, 0.0, 1.0), interpolation="nearest")
    step = max(1, int(np.ceil(n / max_ticks)))
    ticks = np.arange(0, n, step)
    ax.set_xticks(ticks * w + (w - 1) / 2, [f"{v:.2f}" for v in x_values[ticks]], rotation=45)
    ax.set_yticks(ticks * h + (h - 1) / 2, [f"{v:.2f}" for v in y_values[ticks]])
    ax.set_xlabel(f"z[{dims[0]}]")
    ax.set_ylabel(f"z[{dims[1]}]")
    if title:
        ax.set_title(title)
    return ax.figure


def as_jpeg(fig: Figure, quality: int = 85, dpi: float | None = None) -> Any:
    """``fig`` as a JPEG image for a notebook's output, and the figure closed.

    Photographs (grids of faces, objects) weigh five to ten times less as JPEG than as
    the PNG that ``%matplotlib inline`` writes, at no visible cost; line plots and
    text stay PNG. The returned :class:`IPython.display.Image` is shown when it is the
    cell's value or passed to ``display``; the closed figure is not shown again.

    Args:
        fig: the figure (e.g. from :func:`image_grid`).
        quality: JPEG quality, 1 to 95.
        dpi: resolution; default the figure's own.
    """
    from IPython.display import Image  # IPython comes with Jupyter; only this function needs it

    if not 1 <= int(quality) <= 95:
        raise ValueError(f"quality must be between 1 and 95, got {quality}")
    buffer = BytesIO()
    fig.savefig(buffer, format="jpeg", dpi=dpi or fig.dpi, bbox_inches="tight",
                pil_kwargs={"quality": int(quality)})
    plt.close(fig)
    return Image(data=buffer.getvalue(), format="jpeg")
