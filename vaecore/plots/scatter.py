"""Latent scatters: two or three code dimensions, coloured by label (matplotlib).

Part of :mod:`vaecore.plots` (which re-exports every name). For a 3-D scatter the
reader can rotate in the rendered book, see :mod:`vaecore.explorers.scatter3d` (plotly).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from vaecore._shared import class_name, to_numpy
from vaecore.plots.grids import _new_figure

__all__ = ["MAX_CLASSES", "latent_scatter_2d", "latent_scatter_3d", "latent_scatter_3d_views"]

#: Up to this many distinct integer labels are treated as classes (legend), above as a
#: continuous value (colour bar).
MAX_CLASSES = 20


def _check_codes(z: Any, dims: Sequence[int], labels: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate codes and labels; returns the selected columns and flat labels."""
    z = to_numpy(z).astype(np.float32)
    if z.ndim != 2:
        raise ValueError(f"z must be (n, latent_dim), got shape {z.shape}")
    if len(set(dims)) != len(dims) or any(not 0 <= d < z.shape[1] for d in dims):
        raise ValueError(
            f"dims {tuple(dims)} must be {len(dims)} different indices below latent_dim={z.shape[1]}"
        )
    if labels is not None:
        labels = to_numpy(labels)
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


def _class_handles(classes: list, class_names: Sequence[str] | Mapping | None) -> list[Line2D]:
    """One legend marker per ``(class value, colour)`` pair, labelled with its name."""
    return [
        Line2D([], [], marker="o", linestyle="", color=colour, label=class_name(v, class_names))
        for v, colour in classes
    ]


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
        handles = _class_handles(classes, class_names)
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
        handles = _class_handles(classes, class_names)
        fig.legend(handles=handles, title=label_name, loc="center right", fontsize="small")
        fig.subplots_adjust(right=0.86)
    else:
        fig.colorbar(artist, ax=fig.axes, label=label_name, shrink=0.7)
