"""Losses and metrics of a VAE, in nats, summed over pixels, one value per example.

Every function here returns a tensor of shape ``(batch,)``: the sum over the
pixels (and latent dimensions) of one example. Summing, not averaging, keeps
``beta`` meaning what the beta-VAE paper means by it: averaging the
reconstruction over 784 pixels while summing the KL over the latent silently
multiplies beta by 784.

* :func:`gaussian_kl`: closed-form KL(q(z|x) || N(0, I)) for a diagonal Gaussian
  (:func:`gaussian_kl_per_dim`: its terms, one per latent dimension).
* :func:`bernoulli_nll` / :func:`gaussian_nll`: -log p(x|z) for binary and continuous pixels.
* :func:`discretized_logistic_nll`: -log P(x|z) for 8-bit pixels, a true probability over
  the 256 values of each pixel, so bits per dimension compare with the literature
  (:func:`quantize_to_grid` / :func:`is_on_grid`: the k/255 grid it needs).
* :func:`gaussian_nll_log_scale`: the Gaussian with a learned (per image, channel or
  pixel) log standard deviation, the calibrated decoder of Rybkin et al. (2021).
* :func:`elbo`: the evidence lower bound, reconstruction and KL together.
* :func:`importance_weighted_log_likelihood`: the k-sample bound of Burda et al.
  (2015), which tends to log p(x) as k grows; the standard test NLL estimate.
* :func:`bits_per_dim`: nats per image to bits per dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np
from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def _sum_all_but_batch(x):
    """Sum over every axis except the first."""
    return ops.sum(ops.reshape(x, (ops.shape(x)[0], -1)), axis=-1)


def gaussian_kl(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) in closed form, summed over the latent axis.

    KL = -1/2 * sum(1 + log_var - mean^2 - exp(log_var)). For latent maps
    ``(batch, h, w, c)`` the sum runs over every axis but the first.
    """
    per_dim = gaussian_kl_per_dim(z_mean, z_log_var)
    if len(per_dim.shape) > 2:
        return _sum_all_but_batch(per_dim)
    return ops.sum(per_dim, axis=-1)


def gaussian_kl_per_dim(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, 1)) of each latent unit, the shape of ``z_mean``.

    The terms :func:`gaussian_kl` sums; free bits and the KL-per-unit diagnostics
    need them apart. Elementwise, so a latent map ``(batch, h, w, c)`` gives the KL
    of every unit of the map.
    """
    z_mean = ops.convert_to_tensor(z_mean, "float32")
    z_log_var = ops.convert_to_tensor(z_log_var, "float32")
    return -0.5 * (1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))


def gaussian_log_density(z, mean, log_var):
    """log N(z; mean, exp(log_var)), summed over the last axis."""
    return -0.5 * ops.sum(LOG_2PI + log_var + ops.square(z - mean) * ops.exp(-log_var), axis=-1)


def standard_normal_log_density(z):
    """log N(z; 0, I), summed over the last axis."""
    return -0.5 * ops.sum(LOG_2PI + ops.square(z), axis=-1)


def bernoulli_nll(x, logits):
    """-log p(x | logits) for Bernoulli pixels (binary cross-entropy), summed per image.

    Takes decoder *logits*, not probabilities: the logit form is exact and
    numerically stable, and is what ``sigmoid(logits)`` images are the mean of.
    ``x`` may be binary (a true log-likelihood) or grey values in [0, 1]; for
    grey values the cross-entropy is the usual training surrogate, not a
    normalized density, so report NLLs on binarized data.
    """
    x = ops.convert_to_tensor(x, "float32")
    per_pixel = ops.maximum(logits, 0.0) - logits * x + ops.log1p(ops.exp(-ops.abs(logits)))
    return _sum_all_but_batch(per_pixel)


def gaussian_nll(x, mean, sigma: float):
    """-log N(x; mean, sigma^2 I) for pixels with a fixed scale ``sigma``, summed per image.

    Equals ``sum((x - mean)^2) / (2 sigma^2)`` plus the constant
    ``D * (log sigma + log(2 pi) / 2)``, so it is a true negative log density and
    ELBOs of different sigmas stay comparable. A smaller sigma weights the
    reconstruction more against the KL (like a smaller beta).
    """
    x = ops.convert_to_tensor(x, "float32")
    per_pixel = 0.5 * ops.square((x - mean) / sigma) + math.log(sigma) + 0.5 * LOG_2PI
    return _sum_all_but_batch(per_pixel)


def gaussian_nll_log_scale(x, mean, log_sigma):
    """-log N(x; mean, sigma^2) with a learned ``log_sigma`` (a tensor), summed per image.

    ``log_sigma`` broadcasts against ``x``: one value, one per channel, or one per
    pixel. The calibrated decoder of Rybkin et al. (2021, "Simple and effective
    VAE training with calibrated decoders", the sigma-VAE): learning sigma lets
    the ELBO itself weigh the reconstruction against the KL, instead of a fixed
    sigma that acts as a hidden beta (the loss is ``||x - m||^2 / (2 sigma^2) + KL``,
    so the effective beta grows with sigma^2).
    """
    x = ops.convert_to_tensor(x, "float32")
    log_sigma = ops.convert_to_tensor(log_sigma, "float32")
    per_pixel = 0.5 * ops.square((x - mean) * ops.exp(-log_sigma)) + log_sigma + 0.5 * LOG_2PI
    return _sum_all_but_batch(per_pixel)


PIXEL_LEVELS = 256


def discretized_logistic_log_probs(x, mean, log_scale, levels: int = PIXEL_LEVELS):
    """log P(x) per pixel under a logistic discretized to ``levels`` values (no sum).

    ``x`` holds 8-bit values scaled to [0, 1] (``k / 255``). Value ``k`` owns the
    bin ``[(k - 1/2) / 255, (k + 1/2) / 255]``, and the two end bins reach out to
    minus and plus infinity, so the probabilities of the ``levels`` values sum to
    one for any mean and scale (Salimans et al., 2017, PixelCNN++). With the bin's
    standardized edges ``a = (lower - mean) / s`` and ``b = (upper - mean) / s``::

        P(k) = sigmoid(b) - sigmoid(a) = sigmoid(b) * sigmoid(-a) * (1 - exp(a - b)),

    so, branch-free and in log space (every term is finite, also its gradient)::

        log P(k) = log sigmoid(b) + log sigmoid(-a) + log(-expm1(a - b)),

    with ``b = +inf`` (the term is 0) for the last bin and ``a = -inf`` for the first;
    ``b - a = 1 / (255 s)`` is computed as it is, not as a difference of the edges.
    Unlike ``log(sigmoid(b) - sigmoid(a))``, this does not cancel when both edges lie
    far in one tail, so it needs no switch to a pdf-times-bin-width stand-in.

    A value off the grid (resized, augmented or 16-bit data) counts as the bin it
    falls in, i.e. as ``round(255 x) / 255`` (clipped to [0, 1]): the result is then
    the probability of the quantized image, not a density of ``x``
    (:func:`quantize_to_grid` does that rounding for a pipeline; :func:`is_on_grid`
    tells whether data are on the grid).
    """
    if levels < 2:
        raise ValueError(f"levels must be >= 2, got {levels!r}")
    top = float(levels - 1)
    x = ops.convert_to_tensor(x, "float32")
    mean = ops.convert_to_tensor(mean, "float32")
    log_scale = ops.convert_to_tensor(log_scale, "float32")
    k = ops.clip(ops.round(x * top), 0.0, top)  # the bin x falls in
    inv_scale = ops.exp(-log_scale)
    # each edge rounded once, (k +- 1/2) / 255, before the mean is taken off: with
    # the mean near an edge the difference is then exact (Sterbenz), which matters
    # at the scale floor, where 1/s is about 1100
    upper = ((k + 0.5) / top - mean) * inv_scale  # b
    lower = ((k - 0.5) / top - mean) * inv_scale  # a
    first, last = k < 0.5, k > top - 0.5
    zero = ops.zeros_like(upper)
    log_cdf_upper = ops.where(last, zero, -ops.softplus(-upper))  # log sigmoid(b)
    log_sf_lower = ops.where(first, zero, -ops.softplus(lower))  # log sigmoid(-a)
    log_width = ops.log(-ops.expm1(-inv_scale / top))  # log(1 - exp(a - b))
    return log_cdf_upper + log_sf_lower + ops.where(first | last, zero, log_width)


def quantize_to_grid(x, levels: int = PIXEL_LEVELS):
    """Round values in [0, 1] to the nearest of ``levels`` grid values ``k / (levels - 1)``.

    What a pipeline should apply after its last resampling step (resize, padding,
    augmentation, 16-bit decoding) whenever the likelihood is discretized: the
    discretized logistic's bits per dimension are a code length of 8-bit images
    only. Values outside [0, 1] are clipped. Works on NumPy arrays and tensors.
    """
    top = float(levels - 1)
    return ops.clip(ops.round(ops.convert_to_tensor(x, "float32") * top), 0.0, top) / top


def is_on_grid(x, levels: int = PIXEL_LEVELS, tolerance: float = 1e-3) -> bool:
    """Whether every value of ``x`` is ``k / (levels - 1)`` for an integer k in range.

    ``tolerance`` is in grid steps (float32 rounding of ``k / 255`` is about 1e-5
    of a step). NumPy, not traced: call it on data, not inside a loss.
    """
    scaled = np.asarray(ops.convert_to_numpy(x), np.float64) * (levels - 1)
    if scaled.size == 0:
        return True
    inside = scaled.min() >= -tolerance and scaled.max() <= levels - 1 + tolerance
    return bool(inside and np.abs(scaled - np.round(scaled)).max() <= tolerance)


def discretized_logistic_nll(x, mean, log_scale, levels: int = PIXEL_LEVELS):
    """-log P(x|z) for 8-bit pixels under a discretized logistic, summed per image.

    ``mean`` has the shape of ``x``; ``log_scale`` broadcasts against it (e.g. one
    learned value per channel). A true probability of the 8-bit image, so
    ``bits_per_dim(nll, H * W * C)`` is the number papers report.
    """
    return -_sum_all_but_batch(discretized_logistic_log_probs(x, mean, log_scale, levels))


def elbo(reconstruction_nll, kl, beta: float = 1.0):
    """The (beta-weighted) evidence lower bound per example: -(nll + beta * kl).

    With ``beta=1`` this is the true ELBO, a lower bound on log p(x).
    """
    return -(reconstruction_nll + beta * kl)


def importance_weighted_log_likelihood(
    x,
    encode: Callable,
    decode_nll: Callable,
    num_samples: int = 1000,
    chunk_size: int = 100,
    seed: int | None = None,
):
    """Estimate log p(x) per example with k importance samples (Burda et al., 2015).

    log p(x) >= log (1/k) sum_i p(x, z_i) / q(z_i | x),  z_i ~ q(z | x),

    a bound that tightens as k grows; with k = 1 it is the ELBO. The negative of
    this, averaged over a test set with k in the thousands, is the "test NLL"
    reported in the VAE literature.

    Args:
        x: a batch of images, shape (B, ...).
        encode: ``x -> (z_mean, z_log_var)``.
        decode_nll: ``(x, z) -> -log p(x | z)`` per example, for z of shape (B, L).
        num_samples: k, the number of importance samples.
        chunk_size: samples processed at a time, bounding memory to B*chunk_size decodes.
        seed: makes the estimate reproducible.

    Returns:
        A tensor of shape (B,) with the estimate of log p(x) in nats.
    """
    if num_samples < 1:
        raise ValueError(f"num_samples must be >= 1, got {num_samples}")
    z_mean, z_log_var = encode(x)
    batch = ops.shape(z_mean)[0]
    seed_gen = keras.random.SeedGenerator(seed) if seed is not None else None
    log_weights = []
    done = 0
    while done < num_samples:
        k = min(chunk_size, num_samples - done)
        eps = keras.random.normal((k, batch, ops.shape(z_mean)[1]), seed=seed_gen)
        z = z_mean[None] + ops.exp(0.5 * z_log_var)[None] * eps  # (k, B, L)
        z_flat = ops.reshape(z, (-1, ops.shape(z_mean)[1]))
        x_rep = ops.repeat(ops.expand_dims(x, 0), k, axis=0)
        x_flat = ops.reshape(x_rep, (-1,) + tuple(x.shape[1:]))
        log_px_z = -ops.reshape(decode_nll(x_flat, z_flat), (k, batch))
        log_pz = standard_normal_log_density(z)
        log_qz = gaussian_log_density(z, z_mean[None], z_log_var[None])
        log_weights.append(log_px_z + log_pz - log_qz)
        done += k
    log_w = ops.concatenate(log_weights, axis=0)  # (k, B)
    return ops.logsumexp(log_w, axis=0) - math.log(num_samples)


def bits_per_dim(nats, num_dims: int):
    """Convert a negative log-likelihood in nats per image to bits per dimension."""
    if num_dims < 1:
        raise ValueError(f"num_dims must be >= 1, got {num_dims}")
    return ops.convert_to_tensor(nats, "float32") / (num_dims * math.log(2.0))
