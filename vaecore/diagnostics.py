"""What a trained VAE learned, measured: test ELBO, importance-weighted NLL, bits/dim, KL per unit.

Every chapter reports the same numbers the same way, so they live here:

* :func:`evaluate`: the test ELBO (reconstruction and KL apart), the
  importance-weighted NLL with ``k`` samples (Burda et al., 2015) and its bits
  per dimension, and the number of active units, for a set of images.
* :func:`per_image_scores`: the same numbers image by image, for paired comparisons of
  two models on the same images (:func:`vaecore.compare.paired_difference`).
* :func:`kl_per_dimension`: the mean KL(q(z_j|x) || N(0, 1)) of each latent
  dimension; the dimensions that carry the most KL are the ones the decoder
  uses (:func:`top_kl_dims` picks them for explorers and traversals).
* :func:`unit_activity` / :func:`active_units`: Burda et al.'s activity
  ``Cov_x(E_q[z_j | x])``; a unit is *active* above 0.01.
* :func:`kl_per_unit_map` / :func:`active_units_per_channel`: the same for a latent
  map ``(h, w, c)``, shaped as the map and counted per channel (a flat code's unit
  ``j`` is ``np.unravel_index(j, model.latent_shape)``).
* :func:`bits_per_dim_is_exact`: whether a likelihood's bits per dimension are an
  exact code length for given images (what :func:`evaluate` reports beside them).

:func:`evaluate` is the one evaluation path: the command line's ``vaecore evaluate``
calls it too.

Images are an array or tensor ``(N, H, W, C)`` in [0, 1], or a ``tf.data``
pipeline of such batches (``(x, y)`` batches are fine; labels are ignored).
For a conditional VAE (:mod:`vaecore.conditional`) pass the images as an array and
their conditions as ``y=`` (one for all, or one each): the numbers are then given y
(``evaluate``'s NLL is -log p(x | y)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import tensorflow as tf
from keras import ops

from vaecore import losses

ACTIVITY_THRESHOLD = 0.01  # Burda et al. (2015), section 5.2


def _as_array(images: Any) -> np.ndarray:
    """An array of images from an array, a tensor, or a (possibly labelled) dataset."""
    if isinstance(images, tf.data.Dataset):
        parts = [
            np.asarray(batch[0] if isinstance(batch, tuple | list) else batch) for batch in images
        ]
        if not parts:
            raise ValueError("the dataset yielded no images")
        if parts[0].ndim == 3:  # unbatched elements
            return np.stack(parts).astype(np.float32)
        return np.concatenate(parts).astype(np.float32)
    arr = np.asarray(images, dtype=np.float32)
    if arr.ndim != 4:
        raise ValueError(f"expected images of shape (N, H, W, C), got shape {arr.shape}")
    return arr


def _batches(x: np.ndarray, batch_size: int):
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size]


def _given(model: Any, y: Any, n: int, batch_size: int):
    """Per batch, the extra ``y`` keyword of a conditional model's calls (``{}`` without y)."""
    if y is None:
        return lambda i: {}
    from vaecore.conditional import condition_rows

    rows = condition_rows(model, y, n)
    return lambda i: {"y": rows[i * batch_size : (i + 1) * batch_size]}


def posterior_parameters(model: Any, images: Any, batch_size: int = 256, y: Any = None):
    """``(z_mean, z_log_var)`` of every image, as numpy arrays of shape ``(N, latent)``."""
    x = _as_array(images)
    given = _given(model, y, len(x), batch_size)
    means, log_vars = [], []
    for i, batch in enumerate(_batches(x, batch_size)):
        mean, log_var = model.encode(batch, **given(i))
        means.append(np.asarray(mean))
        log_vars.append(np.asarray(log_var))
    return np.concatenate(means), np.concatenate(log_vars)


def posterior_samples(
    model: Any, images: Any, seed: int = 0, batch_size: int = 256, y: Any = None
) -> np.ndarray:
    """One draw ``z = mean + exp(log_var / 2) * eps`` from ``q(z | x)`` per image, ``(N, latent)``.

    Where posterior means are used as codes, a dimension the model does not use still
    varies a little with the image and can look informative; in a sample its noise
    (standard deviation near 1) drowns that variation, so only what the code really
    transmits survives. ``seed`` fixes ``eps``.
    """
    mean, log_var = posterior_parameters(model, images, batch_size, y)
    eps = np.random.default_rng(seed).standard_normal(mean.shape)
    return (mean + np.exp(0.5 * log_var) * eps).astype(np.float32)


def kl_per_dimension(model: Any, images: Any, batch_size: int = 256, y: Any = None) -> np.ndarray:
    """Mean KL(q(z_j | x) || N(0, 1)) of each latent dimension over ``images``, in nats.

    The values add up to the model's mean KL term. A dimension near 0 is
    unused: its posterior equals the prior for every image.
    """
    mean, log_var = posterior_parameters(model, images, batch_size, y)
    kl = -0.5 * (1.0 + log_var - np.square(mean) - np.exp(log_var))
    return kl.mean(axis=0)


def top_kl_dims(model: Any, images: Any, n: int, batch_size: int = 256) -> list[int]:
    """The ``n`` latent dimensions with the largest mean KL, largest first."""
    kl = kl_per_dimension(model, images, batch_size)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    return [int(d) for d in np.argsort(-kl, kind="stable")[:n]]


def unit_activity(model: Any, images: Any, batch_size: int = 256, y: Any = None) -> np.ndarray:
    """Burda et al.'s activity of each unit: the variance over images of ``E_q[z_j | x]``."""
    mean, _ = posterior_parameters(model, images, batch_size, y)
    return mean.var(axis=0)


def active_units(
    model: Any,
    images: Any,
    threshold: float = ACTIVITY_THRESHOLD,
    batch_size: int = 256,
    y: Any = None,
) -> int:
    """How many latent units have an activity above ``threshold`` (0.01 as in Burda et al.)."""
    return int((unit_activity(model, images, batch_size, y) > threshold).sum())


def kl_per_unit_map(model: Any, images: Any, batch_size: int = 256) -> np.ndarray:
    """:func:`kl_per_dimension` in the shape of one code, ``model.latent_shape`` (a map: ``(h, w, c)``)."""
    return kl_per_dimension(model, images, batch_size).reshape(model.latent_shape)


def active_units_per_channel(
    model: Any, images: Any, threshold: float = ACTIVITY_THRESHOLD, batch_size: int = 256
) -> np.ndarray:
    """For a latent map, how many units of each channel are active: shape ``(c,)``.

    ``.sum()`` is :func:`active_units`. A flat code counts as one channel of
    ``latent_dim`` units.
    """
    active = unit_activity(model, images, batch_size) > threshold
    shape = tuple(model.latent_shape)
    if len(shape) == 1:
        return np.array([active.sum()])
    return active.reshape(-1, shape[-1]).sum(axis=0)  # (h * w, c): units of each channel


def bits_per_dim_is_exact(likelihood: str, images: np.ndarray) -> tuple[bool, str]:
    """Whether ``likelihood``'s bits/dim on ``images`` are an exact code length, and why.

    Exact: the discretized logistic on images on the k/255 grid (8-bit data), or
    the Bernoulli on binary images. A discretized logistic scores an off-grid value
    as the 8-bit bin it falls in, so its bits are then those of the rounded images;
    a Gaussian is a density of continuous values (its bits/dim + log2(255) are the
    bits of a density on [0, 255], a consistency check, not a code length).
    """
    if likelihood == "discretized_logistic":
        if losses.is_on_grid(images):
            return True, "discretized logistic on 8-bit images: an exact code length"
        return False, (
            "the images are not on the k/255 grid (resized, padded, augmented or 16-bit?): "
            "the discretized logistic scored each value as its nearest 8-bit level, so these "
            "are the bits of the rounded images; quantize after the last resampling step "
            "(vaecore.losses.quantize_to_grid)"
        )
    if likelihood == "bernoulli":
        if bool(np.isin(images, (0.0, 1.0)).all()):
            return True, "bernoulli on binary images: an exact code length"
        return False, "bernoulli on grey values: cross-entropy, not a code length (binarize)"
    return False, (
        f"a {likelihood} likelihood is a density of continuous values, not a code length "
        "(+ log2(255) gives the bits of a density on [0, 255], a consistency check only)"
    )


def per_image_scores(
    model: Any,
    images: Any,
    num_samples: int = 100,
    batch_size: int = 100,
    seed: int = 0,
    chunk_size: int = 100,
    y: Any = None,
) -> dict[str, np.ndarray]:
    """The numbers behind :func:`evaluate`, one per image, in nats.

    Returns float64 arrays of shape ``(N,)``: ``reconstruction_nll`` and ``kl`` (the two
    terms of the one-sample ELBO), ``elbo``, and ``nll`` (the importance-weighted
    estimate of -log p(x) with ``num_samples`` samples). Two models scored on the same
    images give paired scores, which is what :func:`vaecore.compare.paired_difference`
    needs to tell them apart (image-to-image spread is far larger than the difference
    two models make on one image). With the same arguments the draws are those of
    :func:`evaluate`, whose means these arrays are. Arguments as :func:`evaluate`.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size!r}")
    x = _as_array(images)
    given = _given(model, y, len(x), batch_size)
    reconstruction, kl, log_px = [], [], []
    for i, batch in enumerate(_batches(x, batch_size)):
        mean, log_var = model.encode(batch, **given(i))
        eps = np.random.default_rng(seed + i).standard_normal(np.shape(mean)).astype(np.float32)
        z = mean + ops.exp(0.5 * log_var) * eps
        reconstruction.append(np.asarray(model.nll_given_z(batch, z, **given(i))))
        kl.append(np.asarray(losses.gaussian_kl(mean, log_var)))
        log_px.append(
            np.asarray(
                model.importance_weighted_log_likelihood(
                    batch,
                    num_samples=num_samples,
                    chunk_size=chunk_size,
                    seed=seed + 7919 * (i + 1),
                    **given(i),
                )
            )
        )
    reconstruction_nll = np.concatenate(reconstruction).astype(np.float64)
    kl_term = np.concatenate(kl).astype(np.float64)
    return {
        "reconstruction_nll": reconstruction_nll,
        "kl": kl_term,
        "elbo": -(reconstruction_nll + kl_term),
        "nll": -np.concatenate(log_px).astype(np.float64),
    }


def evaluate(
    model: Any,
    images: Any,
    num_samples: int = 100,
    batch_size: int = 100,
    seed: int = 0,
    chunk_size: int = 100,
    y: Any = None,
) -> dict[str, float]:
    """Test-set numbers of a VAE, per image, in nats (higher ELBO is better, lower NLL is better).

    Returns a dict with ``elbo``, ``reconstruction_nll`` and ``kl`` (the
    one-sample ELBO and its two terms, averaged over images), ``nll`` (the
    importance-weighted estimate of -log p(x) with ``num_samples`` samples, a
    tighter bound than -ELBO), ``nll_stderr`` (its standard error over
    images), ``bits_per_dim`` (``nll`` in bits per pixel value),
    ``elbo_bits_per_dim``, ``active_units``, ``num_images`` and ``num_samples``,
    and ``bits_per_dim_exact`` / ``bits_per_dim_note`` (see
    :func:`bits_per_dim_is_exact`: whether those bits are an exact code length).

    Bits per dimension are comparable with published numbers only when the
    likelihood is a probability of the stored pixel values: the
    ``discretized_logistic`` likelihood on 8-bit images, or ``bernoulli`` on
    binary images. A Gaussian is a density of continuous values, so its "bits"
    depend on the scale of the data and are not comparable.

    Memory: the importance-weighted bound decodes ``batch_size * chunk_size``
    images at once (``chunk_size`` importance samples per image at a time), so
    for large images lower either one: at 128 x 128 x 3, ``batch_size=100`` and
    the default ``chunk_size=100`` hold 10,000 decoded images (2 GB of float32
    outputs alone, several times that in the decoder's activations). The
    estimate's distribution does not depend on either; its random draws do.

    :func:`per_image_scores` gives the same numbers image by image, for paired comparisons.

    ``y``: a conditional VAE's conditions (one for all images, or one each); every
    number is then given y, ``nll`` estimating -log p(x | y).
    """
    x = _as_array(images)
    dims = int(np.prod(x.shape[1:]))
    scores = per_image_scores(model, x, num_samples, batch_size, seed, chunk_size, y)
    reconstruction_nll, kl_term, elbo, nll = (scores[k] for k in ("reconstruction_nll", "kl", "elbo", "nll"))
    to_bits = 1.0 / (dims * math.log(2.0))
    exact, note = bits_per_dim_is_exact(model.likelihood, x)
    return {
        "elbo": float(elbo.mean()),
        "reconstruction_nll": float(reconstruction_nll.mean()),
        "kl": float(kl_term.mean()),
        "nll": float(nll.mean()),
        "nll_stderr": float(nll.std() / math.sqrt(len(nll))),
        "bits_per_dim": float(nll.mean() * to_bits),
        "elbo_bits_per_dim": float(-elbo.mean() * to_bits),
        "active_units": active_units(model, x, y=y),
        "num_images": int(len(x)),
        "num_samples": int(num_samples),
        "bits_per_dim_exact": exact,
        "bits_per_dim_note": note,
    }
