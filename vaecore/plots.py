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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from scipy.stats import norm

from vaecore.toolbox import decode_latents, encode_images, input_shape, to_tensor
from vaecore.training import read_history

__all__ = [
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

#: Up to this many distinct integer labels are treated as classes (legend), above as a
#: continuous value (colour bar).
MAX_CLASSES = 20

#: Titles of the standard VAE metrics in :func:`training_curves`.
METRIC_TITLES = {
    "loss": "Total loss",
    "reconstruction_loss": "Reconstruction loss",
    "kl_loss": "KL divergence",
}


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _numpy(x: Any) -> np.ndarray:
    """Tensor or array-like -> numpy array."""
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


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


def _as_image_batch(images: Any) -> tuple[np.ndarray, int | None, int | None]:
    """Images -> ``(N, H, W, C)`` plus the rows/columns implied by a 5-D input."""
    arr = _numpy(images).astype(np.float32)
    rows = cols = None
    if arr.ndim == 5:  # (rows, cols, H, W, C), e.g. from toolbox.latent_translate
        rows, cols = arr.shape[:2]
        arr = arr.reshape(-1, *arr.shape[2:])
    elif arr.ndim == 3:  # (N, H, W) grayscale
        arr = arr[..., None]
    if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4) or len(arr) == 0:
        raise ValueError(
            f"images must be (N, H, W, C) with C in 1, 3 or 4 (or (rows, cols, H, W, C)), "
            f"got shape {arr.shape}"
        )
    return arr, rows, cols


def _grid_shape(n: int, nrows: int | None, ncols: int | None) -> tuple[int, int]:
    """Rows and columns for ``n`` cells; a roughly square grid by default."""
    if nrows is None and ncols is None:
        ncols = int(np.ceil(np.sqrt(n)))
    if ncols is None:
        ncols = int(np.ceil(n / nrows))
    if nrows is None:
        nrows = int(np.ceil(n / ncols))
    if nrows * ncols < n:
        raise ValueError(f"a {nrows}x{ncols} grid cannot hold {n} images")
    return nrows, ncols


# ---------------------------------------------------------------------------
# Image grids
# ---------------------------------------------------------------------------


def montage(
    images: Any, nrows: int | None = None, ncols: int | None = None, pad: int = 0
) -> np.ndarray:
    """Tile ``(N, H, W, C)`` images into one ``(rows*H, cols*W, C)`` array (white padding)."""
    arr, rows, cols = _as_image_batch(images)
    nrows, ncols = _grid_shape(len(arr), nrows or rows, ncols or cols)
    n, h, w, c = arr.shape
    cell_h, cell_w = h + pad, w + pad
    out = np.ones((nrows * cell_h - pad, ncols * cell_w - pad, c), dtype=np.float32)
    for i, image in enumerate(arr):
        r, col = divmod(i, ncols)
        out[r * cell_h : r * cell_h + h, col * cell_w : col * cell_w + w] = image
    return out


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
    arr, rows, cols = _as_image_batch(images)
    nrows, ncols = _grid_shape(len(arr), nrows or rows, ncols or cols)
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
    if suptitle:
        fig.suptitle(suptitle)
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
    originals = _numpy(to_tensor(images, size=input_shape(model)))[:n]
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
# Latent scatters
# ---------------------------------------------------------------------------


def _check_codes(z: Any, dims: Sequence[int], labels: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate codes and labels; returns the selected columns and flat labels."""
    z = _numpy(z).astype(np.float32)
    if z.ndim != 2:
        raise ValueError(f"z must be (n, latent_dim), got shape {z.shape}")
    if len(set(dims)) != len(dims) or any(not 0 <= d < z.shape[1] for d in dims):
        raise ValueError(
            f"dims {tuple(dims)} must be {len(dims)} different indices below latent_dim={z.shape[1]}"
        )
    if labels is not None:
        labels = _numpy(labels)
        if labels.ndim == 2 and labels.shape[1] > 1:  # one-hot
            labels = labels.argmax(axis=1)
        labels = labels.reshape(-1)
        if len(labels) != len(z):
            raise ValueError(f"got {len(labels)} labels for {len(z)} codes")
    return z[:, list(dims)], labels


def _is_categorical(labels: np.ndarray) -> bool:
    """Integer-valued labels with few distinct values are classes."""
    if labels.dtype.kind in "OUSb":
        return True
    if labels.dtype.kind == "f" and not np.all(np.equal(np.mod(labels, 1), 0)):
        return False
    return len(np.unique(labels)) <= MAX_CLASSES


def _colour_args(labels: np.ndarray | None, cmap: str) -> tuple[dict, list | None]:
    """Scatter colour keywords and, for classes, ``(class value, colour)`` pairs."""
    if labels is None:
        return {"color": "tab:blue"}, None
    if not _is_categorical(labels):
        return {"c": labels, "cmap": "viridis"}, None
    classes = np.unique(labels)
    base = plt.get_cmap(cmap if len(classes) <= 10 else "tab20")
    colours = [base(i % base.N) for i in range(len(classes))]
    index = np.searchsorted(classes, labels)
    listed = ListedColormap(colours)
    norm_ = BoundaryNorm(np.arange(len(classes) + 1) - 0.5, len(classes))
    return {"c": index, "cmap": listed, "norm": norm_}, list(zip(classes, colours, strict=True))


def _class_name(value: Any, class_names: Sequence[str] | Mapping | None) -> str:
    """Readable name of class ``value``."""
    if class_names is None:
        return str(value)
    if isinstance(class_names, Mapping):
        return str(class_names.get(value, value))
    try:
        return str(class_names[int(value)])
    except (ValueError, TypeError, IndexError):
        return str(value)


def _decorate(
    ax: Axes,
    artist: Any,
    classes: list | None,
    class_names: Sequence[str] | Mapping | None,
    label_name: str,
    legend: bool,
) -> None:
    """Legend with class names for classes, colour bar for continuous labels."""
    if not legend:
        return
    if classes is not None:
        handles = [
            Line2D(
                [], [], marker="o", linestyle="", color=colour, label=_class_name(v, class_names)
            )
            for v, colour in classes
        ]
        where = {"loc": "best"}
        if getattr(ax, "name", "") == "3d":  # "best" lands on the cube: put it beside
            where = {"loc": "center left", "bbox_to_anchor": (1.02, 0.5)}
        ax.legend(handles=handles, title=label_name, fontsize="small", **where)
    elif getattr(artist, "get_array", lambda: None)() is not None:
        ax.figure.colorbar(artist, ax=ax, label=label_name, shrink=0.8)


def latent_scatter_2d(
    z: Any,
    labels: Any = None,
    class_names: Sequence[str] | Mapping | None = None,
    dims: tuple[int, int] = (0, 1),
    title: str | None = "Latent space (z mean)",
    label_name: str = "label",
    s: float = 4.0,
    alpha: float = 0.7,
    cmap: str = "tab10",
    legend: bool = True,
    ax: Axes | None = None,
    fig: Figure | None = None,
) -> Figure:
    """Scatter two latent dimensions, coloured by label.

    Args:
        z: ``(n, latent_dim)`` codes, e.g. from :func:`vaecore.toolbox.encode_dataset`.
        labels: ``(n,)`` class indices (or one-hot), strings, or continuous values.
        class_names: names for class indices (sequence or mapping) shown in the legend.
        dims: the two latent dimensions to plot.
        label_name: legend / colour bar title.
        legend: draw the legend (classes) or colour bar (continuous labels).
    """
    codes, labels = _check_codes(z, dims, labels)
    if ax is None:
        fig = _new_figure(fig, (6.0, 5.0))
        ax = fig.add_subplot(1, 1, 1)
    colour, classes = _colour_args(labels, cmap)
    artist = ax.scatter(codes[:, 0], codes[:, 1], s=s, alpha=alpha, linewidths=0, **colour)
    ax.set_xlabel(f"z[{dims[0]}]")
    ax.set_ylabel(f"z[{dims[1]}]")
    if title:
        ax.set_title(title)
    _decorate(ax, artist, classes, class_names, label_name, legend and labels is not None)
    return ax.figure


def _scatter_3d_into(
    ax: Axes,
    codes: np.ndarray,
    labels: np.ndarray | None,
    dims: Sequence[int],
    s: float,
    alpha: float,
    cmap: str,
) -> tuple[Any, list | None]:
    """Draw a 3D scatter into a 3D axes; returns the artist and class colours."""
    if getattr(ax, "name", "") != "3d":
        raise ValueError("ax must be a 3D axes: fig.add_subplot(projection='3d')")
    colour, classes = _colour_args(labels, cmap)
    artist = ax.scatter(
        codes[:, 0], codes[:, 1], codes[:, 2], s=s, alpha=alpha, linewidths=0, **colour
    )
    ax.set_xlabel(f"z[{dims[0]}]")
    ax.set_ylabel(f"z[{dims[1]}]")
    ax.set_zlabel(f"z[{dims[2]}]")
    ax.set_box_aspect(None, zoom=0.85)  # room for the z label
    return artist, classes


def latent_scatter_3d(
    z: Any,
    labels: Any = None,
    class_names: Sequence[str] | Mapping | None = None,
    dims: tuple[int, int, int] = (0, 1, 2),
    elev: float = 20.0,
    azim: float = -60.0,
    title: str | None = "Latent space (z mean)",
    label_name: str = "label",
    s: float = 4.0,
    alpha: float = 0.7,
    cmap: str = "tab10",
    legend: bool = True,
    ax: Axes | None = None,
    fig: Figure | None = None,
) -> Figure:
    """Scatter three latent dimensions on a 3D axes.

    Drag to rotate in a notebook running ``%matplotlib widget`` (needs ``ipympl``);
    for static pages use :func:`latent_scatter_3d_views`.

    Args are those of :func:`latent_scatter_2d`, plus ``elev``/``azim``, the viewing
    angles in degrees. ``ax`` must be a 3D axes.
    """
    codes, labels = _check_codes(z, dims, labels)
    if ax is None:
        fig = _new_figure(fig, (7.5, 5.5))
        ax = fig.add_subplot(1, 1, 1, projection="3d")
    artist, classes = _scatter_3d_into(ax, codes, labels, dims, s, alpha, cmap)
    ax.view_init(elev=elev, azim=azim)
    if title:
        ax.set_title(title)
    _decorate(ax, artist, classes, class_names, label_name, legend and labels is not None)
    return ax.figure


def latent_scatter_3d_views(
    z: Any,
    labels: Any = None,
    class_names: Sequence[str] | Mapping | None = None,
    angles: Sequence[tuple[float, float]] = ((20.0, -60.0), (20.0, 30.0), (60.0, -135.0)),
    dims: tuple[int, int, int] = (0, 1, 2),
    title: str | None = "Latent space (z mean) from several angles",
    label_name: str = "label",
    s: float = 3.0,
    alpha: float = 0.7,
    cmap: str = "tab10",
    legend: bool = True,
    fig: Figure | None = None,
) -> Figure:
    """The same 3D scatter from several fixed ``(elev, azim)`` angles, side by side.

    The static-book stand-in for rotating the plot by hand. One shared legend or
    colour bar is drawn on the right.
    """
    if len(angles) == 0:
        raise ValueError("angles must hold at least one (elev, azim) pair")
    codes, labels = _check_codes(z, dims, labels)
    fig = _new_figure(fig, (4.2 * len(angles) + 1.5, 4.5))
    artist = classes = None
    for i, (elev, azim) in enumerate(angles):
        ax = fig.add_subplot(1, len(angles), i + 1, projection="3d")
        artist, classes = _scatter_3d_into(ax, codes, labels, dims, s, alpha, cmap)
        ax.view_init(elev=elev, azim=azim)
        ax.set_title(f"elev={elev:g}°, azim={azim:g}°", fontsize="small")
    if legend and labels is not None:
        _figure_legend(fig, artist, classes, class_names, label_name)
    if title:
        fig.suptitle(title)
    return fig


def _figure_legend(
    fig: Figure,
    artist: Any,
    classes: list | None,
    class_names: Sequence[str] | Mapping | None,
    label_name: str,
) -> None:
    """Legend (classes) or colour bar (continuous) for a whole figure."""
    if classes is not None:
        handles = [
            Line2D(
                [], [], marker="o", linestyle="", color=colour, label=_class_name(v, class_names)
            )
            for v, colour in classes
        ]
        fig.legend(handles=handles, title=label_name, loc="center right", fontsize="small")
        fig.subplots_adjust(right=0.86)
    else:
        fig.colorbar(artist, ax=fig.axes, label=label_name, shrink=0.7)


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
    base = np.zeros(latent, np.float32) if base is None else _numpy(base).astype(np.float32)
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


# ---------------------------------------------------------------------------
# Training curves
# ---------------------------------------------------------------------------


def _history_to_columns(history: Any) -> dict[str, list[float]]:
    """Keras History, dict, DataFrame or CSVLogger path -> ``{column: values}``."""
    if isinstance(history, (str, Path)):
        path = Path(history).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"training log not found: {str(path)!r}")
        columns = read_history(path)  # a CSVLogger file or a run directory
        if not columns:
            raise ValueError(f"training log {str(path)!r} has no rows")
        return columns
    if hasattr(history, "history") and isinstance(history.history, Mapping):  # keras History
        columns = {k: list(map(float, v)) for k, v in history.history.items()}
        if getattr(history, "epoch", None):
            columns.setdefault("epoch", list(map(float, history.epoch)))
        return columns
    if hasattr(history, "to_dict") and hasattr(history, "columns"):  # pandas DataFrame
        return {str(k): list(map(float, v)) for k, v in history.to_dict("list").items()}
    if isinstance(history, Mapping):
        return {str(k): list(map(float, np.ravel(_numpy(v)))) for k, v in history.items()}
    raise TypeError(
        "history must be a keras History, a dict of lists, a pandas DataFrame or a CSV path, "
        f"got {type(history).__name__}"
    )


def _pick_metrics(columns: Mapping[str, list], metrics: Sequence[str] | None) -> list[str]:
    """The metrics to plot: requested ones, else the standard VAE ones present, else all."""
    base = [k for k in columns if k != "epoch" and not k.startswith("val_")]
    if metrics is None:
        metrics = [m for m in METRIC_TITLES if m in columns or f"val_{m}" in columns] or base
    missing = [m for m in metrics if m not in columns and f"val_{m}" not in columns]
    if missing or not metrics:
        raise ValueError(
            f"no data for metrics {missing or list(metrics)}; available columns: {sorted(columns)}"
        )
    return list(metrics)


def training_curves(
    history: Any,
    metrics: Sequence[str] | None = None,
    title: str | None = "Training curves",
    logy: bool = False,
    ax: Axes | Sequence[Axes] | None = None,
    fig: Figure | None = None,
) -> Figure:
    """Plot loss, reconstruction loss and KL divergence, train vs validation.

    Args:
        history: the ``History`` returned by ``model.fit``, a dict of lists, a pandas
            ``DataFrame``, the path of a CSV written by ``keras.callbacks.CSVLogger``,
            or a run directory of :func:`vaecore.train` (its ``history.csv``).
        metrics: the metric names to plot, one panel each (``val_<name>`` is added as
            the validation curve). Default: ``loss``, ``reconstruction_loss`` and
            ``kl_loss`` where present, otherwise every logged metric.
        logy: logarithmic y axes.
        ax: one axes per panel (a single axes is fine for a single metric).
        fig: draw into this figure (cleared first).

    Epochs are numbered from 1 on the x axis.
    """
    columns = _history_to_columns(history)
    metrics = _pick_metrics(columns, metrics)
    if ax is None:
        fig = _new_figure(fig, (4.2 * len(metrics), 3.6))
        axes = [fig.add_subplot(1, len(metrics), i + 1) for i in range(len(metrics))]
    else:
        axes = [ax] if isinstance(ax, Axes) else list(ax)
        if len(axes) < len(metrics):
            raise ValueError(f"need {len(metrics)} axes for metrics {metrics}, got {len(axes)}")
    for panel, metric in zip(axes, metrics, strict=False):
        _plot_metric(panel, columns, metric, logy)
    figure = axes[0].figure
    if title and ax is None:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def _plot_metric(ax: Axes, columns: Mapping[str, list], metric: str, logy: bool) -> None:
    """One panel: train and validation curves of ``metric``."""
    for key, label, style in ((metric, "train", "-"), (f"val_{metric}", "validation", "--")):
        values = columns.get(key)
        if not values:
            continue
        epochs = columns.get("epoch")
        x = (
            np.asarray(epochs[: len(values)]) + 1
            if epochs and len(epochs) >= len(values)
            else np.arange(1, len(values) + 1)
        )
        marker = "o" if len(values) <= 30 else None
        ax.plot(x, values, style, marker=marker, markersize=3, label=label)
    ax.set_title(METRIC_TITLES.get(metric, metric.replace("_", " ").capitalize()))
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if logy:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
