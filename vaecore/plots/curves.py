"""Training curves: loss, reconstruction and KL per epoch, train beside validation (test).

Part of :mod:`vaecore.plots` (which re-exports every name).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from vaecore._shared import to_numpy
from vaecore.plots.grids import _new_figure
from vaecore.runs import read_history

__all__ = ["METRIC_TITLES", "METRIC_YLABELS", "training_curves"]

#: Titles of the standard VAE metrics in :func:`training_curves`.
METRIC_TITLES = {
    "loss": "Total loss",
    "reconstruction_loss": "Reconstruction loss",
    "kl_loss": "KL divergence",
}

#: Panel titles of other metrics that :func:`training_curves` knows by name.
_OTHER_TITLES = {"elbo": "ELBO", "kl_weight": "KL weight"}

#: The y-axis label of each known metric, in words; ``{units}`` is the ``units``
#: argument of :func:`training_curves` (vaecore logs every loss term in nats per
#: image: sums over the pixels, means over the images).
METRIC_YLABELS = {
    "loss": "reconstruction + β·KL ({units})",
    "reconstruction_loss": "−log p(x|z) ({units})",
    "kl_loss": "KL(q(z|x) ‖ p(z)) ({units})",
    "elbo": "ELBO ({units}, higher is better)",
    "kl_weight": "β (weight of the KL term)",
}


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
        return {str(k): list(map(float, np.ravel(to_numpy(v)))) for k, v in history.items()}
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
    val_label: str = "test",
    units: str | None = "nats per image",
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
        val_label: the legend name of the ``val_<name>`` curves, i.e. of the data that
            was passed as ``validation_data``. The default is ``"test"`` because every
            chapter of this book, and ``vaecore train``, validates on the test split (none
            holds out part of the training data); pass ``"validation"`` (or any name) when
            the validation data is something else.
        units: the unit of the loss terms on the y axes (``loss``, ``reconstruction_loss``,
            ``kl_loss``, ``elbo``). vaecore logs them in nats per image, the default;
            ``None`` leaves the unit out, e.g. for a history logged per pixel.

    Each panel's y axis says in words what it shows and in what unit (metrics it does
    not know by name keep their name); the x axis is the epoch, numbered from 1.
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
        _plot_metric(panel, columns, metric, logy, val_label, units)
    figure = axes[0].figure
    if title and ax is None:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def _ylabel(metric: str, units: str | None) -> str:
    """The y-axis label of ``metric``: words and unit where known, else the metric's name."""
    label = METRIC_YLABELS.get(metric)
    if label is None:
        return metric.replace("_", " ")
    return (
        label.format(units=units)
        if units
        else label.replace(" ({units})", "").replace("({units}, ", "(")
    )


def _plot_metric(
    ax: Axes,
    columns: Mapping[str, list],
    metric: str,
    logy: bool,
    val_label: str = "test",
    units: str | None = "nats per image",
) -> None:
    """One panel: train and validation (``val_label``) curves of ``metric``."""
    for key, label, style in ((metric, "train", "-"), (f"val_{metric}", val_label, "--")):
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
    title = METRIC_TITLES.get(metric) or _OTHER_TITLES.get(metric)
    ax.set_title(title or metric.replace("_", " ").capitalize())
    ax.set_xlabel("epoch")
    ax.set_ylabel(_ylabel(metric, units))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if logy:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
