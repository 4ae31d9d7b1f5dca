"""Paths between two latent codes: the straight line and the great circle.

Pure NumPy, no model: :func:`interpolate_latents` returns the codes, and
:func:`vaecore.toolbox.interpolate` encodes two images, walks this path and
decodes every step.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from vaecore._shared import to_numpy

__all__ = ["Method", "interpolate_latents"]

Method = Literal["linear", "slerp"]

#: Below this value of sin(angle) two latent vectors count as parallel for slerp.
_PARALLEL_EPS = 1e-6


def interpolate_latents(
    z_a: Any, z_b: Any, steps: int = 8, method: Method = "linear"
) -> np.ndarray:
    """``steps`` latent vectors from ``z_a`` to ``z_b``, both endpoints included.

    ``"linear"`` walks the straight line. ``"slerp"`` walks the great circle
    between the two directions (the formula of Shoemake, 1985): under a Gaussian
    prior most mass sits on a thin shell, and the straight line between two codes
    cuts through its low-norm interior, which tends to decode to blurry "average"
    images. For equal-norm endpoints slerp keeps the norm constant.
    Vectors that are (anti-)parallel or zero have no unique great circle, so
    slerp falls back to linear there. The returned endpoints equal the inputs exactly.

    Args:
        z_a, z_b: vectors of the same length (a leading batch axis of 1 is allowed).
        steps: number of vectors returned, at least 2.
        method: ``"linear"`` or ``"slerp"``.

    Returns:
        ``(steps, latent)`` float32 array.
    """
    a, b = to_numpy(z_a, np.float32).reshape(-1), to_numpy(z_b, np.float32).reshape(-1)
    if a.shape != b.shape:
        raise ValueError(f"z_a and z_b must have the same size, got {a.size} and {b.size}")
    if int(steps) < 2:
        raise ValueError(f"steps must be at least 2 (the two endpoints), got {steps}")
    if method not in ("linear", "slerp"):
        raise ValueError(f"method must be 'linear' or 'slerp', got {method!r}")
    t = np.linspace(0.0, 1.0, int(steps))[:, None]
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    path = _slerp(a64, b64, t) if method == "slerp" else None
    if path is None:
        path = (1.0 - t) * a64 + t * b64
    path = path.astype(np.float32)
    path[0], path[-1] = a, b
    return path


def _slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray | None:
    """Spherical interpolation, or ``None`` where it is undefined (parallel/zero vectors)."""
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a == 0.0 or norm_b == 0.0:
        return None
    cos_omega = np.clip(np.dot(a / norm_a, b / norm_b), -1.0, 1.0)
    omega = np.arccos(cos_omega)
    sin_omega = np.sin(omega)
    if sin_omega < _PARALLEL_EPS:
        return None
    return (np.sin((1.0 - t) * omega) * a + np.sin(t * omega) * b) / sin_omega
