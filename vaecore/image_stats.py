"""Two numbers that say how blurry and how grey a batch of images is.

A VAE's samples are judged by eye, and "blurry, grey blobs" is the usual verdict on a
small data set. These two statistics put a number on each word, so that samples of
two models (or samples and real images) can be compared in a table:

* :func:`sharpness`: the mean absolute response of the 3 x 3 Laplacian filter on the
  luminance, per image. A blurred image has weak second derivatives everywhere, so
  blurring an image always lowers it; a flat image scores 0.
* :func:`saturation`: the mean HSV saturation, ``(max(r, g, b) - min(r, g, b)) / max``,
  per image (0 for a black pixel). Grey pixels score 0, pure colours 1.

Both take images in [0, 1] of shape ``(N, H, W, C)`` (``C`` = 1 or 3; grey images have
saturation 0) and return one value per image, so a table can show a mean and its
standard error. Neither is a perceptual metric (FID and friends need a trained
classifier); they measure exactly what their names say.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from vaecore.compare import mean_pm

__all__ = ["LUMA", "describe", "luminance", "saturation", "sharpness"]

LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 weights of R, G, B
_LAPLACIAN = np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])


def _images(images: Any) -> np.ndarray:
    x = np.asarray(images, dtype=np.float64)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (N, H, W, 1) or (N, H, W, 3), got shape {np.shape(images)}")
    if x.shape[1] < 3 or x.shape[2] < 3:
        raise ValueError(f"images must be at least 3 x 3 pixels, got {x.shape[1]} x {x.shape[2]}")
    if x.size and (np.nanmin(x) < 0 or np.nanmax(x) > 1):
        raise ValueError(f"pixel values must lie in [0, 1], got [{np.min(x):.3g}, {np.max(x):.3g}]")
    return x


def luminance(images: Any) -> np.ndarray:
    """Luminance ``(N, H, W)`` of images in [0, 1] (BT.601 weights; grey images as they are)."""
    x = _images(images)
    return x[..., 0] if x.shape[-1] == 1 else x @ LUMA


def sharpness(images: Any) -> np.ndarray:
    """Mean absolute 3 x 3 Laplacian of the luminance, per image (valid pixels only), shape ``(N,)``."""
    y = luminance(images)
    h, w = y.shape[1:]
    response = sum(_LAPLACIAN[i, j] * y[:, i:h - 2 + i, j:w - 2 + j] for i in range(3) for j in range(3))
    return np.abs(response).mean(axis=(1, 2))


def saturation(images: Any) -> np.ndarray:
    """Mean HSV saturation per image, shape ``(N,)``: 0 for grey images, 1 for pure colours."""
    x = _images(images)
    if x.shape[-1] == 1:
        return np.zeros(len(x))
    top, bottom = x.max(axis=-1), x.min(axis=-1)
    s = np.divide(top - bottom, top, out=np.zeros_like(top), where=top > 0)
    return s.mean(axis=(1, 2))


def describe(pictures: Mapping[Any, Any], decimals: int = 3) -> Any:
    """One row per set of images: how many, and sharpness and saturation as "mean ± s.e.".

    ``pictures`` maps a label (a string, or a tuple such as ``(model, sampler)``, which
    becomes a multi-level index) to images in [0, 1]; returns a pandas ``DataFrame``. The standard error is over the
    images of the set, so two rows whose ranges do not come near each other differ by
    more than which images were drawn.
    """
    import pandas as pd  # only here: the statistics themselves are NumPy

    if not pictures:
        raise ValueError("describe needs at least one set of images")
    rows = {label: {"images": len(np.asarray(p)), "sharpness": mean_pm(sharpness(p), decimals),
                    "saturation": mean_pm(saturation(p), decimals)} for label, p in pictures.items()}
    return pd.DataFrame(rows).T
