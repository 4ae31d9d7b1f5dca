"""Comparing two models with their noise: paired differences over images and seeds.

A test ELBO is a mean over a few dozen or a few thousand test images, and a run is one
draw of the initial weights and the training noise. Two settings are told apart only
when their difference is large against both sources of noise, so the book reports a
comparison as :func:`paired_difference` does:

* **paired over images**: model B's score minus model A's on the *same* test image,
  averaged over images. Images differ far more from each other than two models differ
  on one image, so the paired standard error is much smaller than the standard errors
  of the two means taken apart;
* **over seeds**: with scores from several seeds (one row per seed, the same seed for
  A and B), the spread of the per-seed mean differences is the noise from training.

:func:`mean_pm` formats a mean with its standard error for a table. Pure NumPy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["mean_pm", "paired_difference", "standard_error"]


def standard_error(values: Any) -> float:
    """Standard error of the mean of 1-D ``values`` (NaN for fewer than two values)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    return float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else float("nan")


def _per_seed_scores(scores: Any, name: str) -> np.ndarray:
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        s = s[None]
    if s.ndim != 2 or s.shape[1] < 1:
        raise ValueError(f"{name} must be per-image scores, (images,) or (seeds, images); got shape {np.shape(scores)}")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} has {int(np.sum(~np.isfinite(s)))} values that are NaN or infinite")
    return s


def paired_difference(a: Any, b: Any) -> dict[str, float]:
    """``b - a`` on the same images (and seeds), with its standard errors.

    Args:
        a, b: per-image scores of two models on the same images in the same order,
            shape ``(images,)`` for one run each, or ``(seeds, images)`` where row ``i``
            of both comes from seed ``i``.

    Returns:
        ``difference`` (mean of ``b - a`` over seeds and images), ``se_images`` (the
        standard error over images of the seed-averaged per-image differences),
        ``se_seeds`` (the standard error over seeds of the per-image-averaged
        differences; NaN for one seed), ``fraction_b_higher`` (the share of images whose
        seed-averaged ``b - a`` is positive), ``seeds`` and ``images``.
    """
    a, b = _per_seed_scores(a, "a"), _per_seed_scores(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must score the same seeds and images: shapes {a.shape} and {b.shape}")
    diffs = b - a
    per_image, per_seed = diffs.mean(axis=0), diffs.mean(axis=1)
    return {
        "difference": float(diffs.mean()),
        "se_images": standard_error(per_image),
        "se_seeds": standard_error(per_seed),
        "fraction_b_higher": float(np.mean(per_image > 0)),
        "seeds": int(diffs.shape[0]),
        "images": int(diffs.shape[1]),
    }


def mean_pm(values: Any, decimals: int = 0) -> str:
    """``"mean ± s.e."`` of 1-D ``values`` with thousands separators (the mean alone for one value)."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        raise ValueError("mean_pm needs at least one value")
    text = f"{v.mean():,.{decimals}f}"
    return text if v.size == 1 else f"{text} ± {standard_error(v):,.{decimals}f}"
