"""What every latent explorer (kernel or page) checks and picks the same way, kept once.

* :func:`pick_dims`: which latent dimensions get a slider by default;
* :func:`check_dims`, :func:`reference_codes`, :func:`base_code`: the arguments every
  explorer takes, validated with the same messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from vaecore._shared import to_numpy

__all__ = ["base_code", "check_dims", "pick_dims", "reference_codes"]


def pick_dims(latent: int, z_ref: np.ndarray | None, max_sliders: int) -> tuple[int, ...]:
    """All dimensions when few; else the ``max_sliders`` most used ones.

    "Most used" means the largest variance of ``z_ref`` across the data set: in a
    VAE, dimensions the model ignores collapse to the prior and their code means
    barely vary ("inactive units"), so their sliders would do nothing visible.
    Without ``z_ref``, the first ``max_sliders``.
    """
    if latent <= max_sliders:
        return tuple(range(latent))
    if z_ref is None:
        return tuple(range(max_sliders))
    order = np.argsort(-np.asarray(z_ref).var(axis=0), kind="stable")[:max_sliders]
    return tuple(int(d) for d in order)


def check_dims(dims: Sequence[int], latent: int, what: str = "dims") -> tuple[int, ...]:
    """``dims`` as ints: at least one, no repeats, each in ``0 .. latent - 1``."""
    dims = tuple(int(d) for d in dims)
    if not dims or len(set(dims)) != len(dims) or any(not 0 <= d < latent for d in dims):
        raise ValueError(
            f"{what} must be distinct latent indices from 0 to {latent - 1} "
            f"(latent_dim={latent}), got {dims}"
        )
    return dims


def reference_codes(z_ref: Any, latent: int) -> np.ndarray | None:
    """``z_ref`` as a float32 ``(n, latent)`` array (``None`` stays ``None``)."""
    if z_ref is None:
        return None
    codes = to_numpy(z_ref, np.float32)
    if codes.ndim != 2 or codes.shape[1] != latent:
        raise ValueError(f"z_ref must be (n, {latent}) codes of this model, got shape {codes.shape}")
    return codes


def base_code(base: Any, latent: int) -> np.ndarray:
    """The code the dimensions without a slider are held at: zeros, or ``base`` (length ``latent``)."""
    if base is None:
        return np.zeros(latent, np.float32)
    code = to_numpy(base, np.float32).reshape(-1)
    if code.shape != (latent,):
        raise ValueError(f"base must have length {latent}, got {code.size}")
    return code
