"""A model's layers as a compact table: layer, type, output shape, parameters.

Keras' ``model.summary()`` prints a wide box drawing with connection columns;
a chapter shows the same facts as a small table that sits beside the
``arch_def`` dict that made the model, one row per layer.
"""

from __future__ import annotations

from typing import Any

import keras
import pandas as pd


def _shape(layer: keras.layers.Layer) -> str:
    try:
        shape = layer.output.shape
    except (AttributeError, ValueError):
        return "?"
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ")"


def layer_table(model: keras.Model, include_input: bool = True) -> pd.DataFrame:
    """One row per layer of a functional Keras model (e.g. ``vae.encoder``, ``vae.decoder``).

    Columns: ``layer`` (its name), ``type`` (its class), ``output shape`` and
    ``params`` (its weight count). The last row, ``total``, adds up the
    parameters. For a whole :class:`vaecore.VAE` use its ``encoder`` and
    ``decoder`` parts.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"expected a Keras model (e.g. vae.encoder), got {type(model).__name__}")
    rows: list[dict[str, Any]] = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer) and not include_input:
            continue
        rows.append(
            {
                "layer": layer.name,
                "type": type(layer).__name__,
                "output shape": _shape(layer),
                "params": int(layer.count_params()) if layer.built else 0,
            }
        )
    rows.append(
        {"layer": "total", "type": "", "output shape": "", "params": int(model.count_params())}
    )
    return pd.DataFrame(rows)
