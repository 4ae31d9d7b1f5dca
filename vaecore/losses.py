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
  the 256 values of each pixel, so bits per dimension compare with the literature.
* :func:`elbo`: the evidence lower bound, reconstruction and KL together.
* :func:`importance_weighted_log_likelihood`: the k-sample bound of Burda et al.
  (2015), which tends to log p(x) as k grows; the standard test NLL estimate.
* :func:`bits_per_dim`: nats per image to bits per dimension.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def _sum_all_but_batch(x):
    """Sum over every axis except the first."""
    return ops.sum(ops.reshape(x, (ops.shape(x)[0], -1)), axis=-1)


def gaussian_kl(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, I)) in closed form, summed over the latent axis.

    KL = -1/2 * sum(1 + log_var - mean^2 - exp(log_var)).
    """
    return ops.sum(gaussian_kl_per_dim(z_mean, z_log_var), axis=-1)


def gaussian_kl_per_dim(z_mean, z_log_var):
    """KL(N(mean, exp(log_var)) || N(0, 1)) of each latent dimension, shape (batch, latent).

    The terms :func:`gaussian_kl` sums; free bits and the KL-per-unit diagnostics
    need them apart.
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


PIXEL_LEVELS = 256


def discretized_logistic_log_probs(x, mean, log_scale, levels: int = PIXEL_LEVELS):
    """log P(x) per pixel under a logistic discretized to ``levels`` values (no sum).

    ``x`` holds 8-bit values scaled to [0, 1] (``k / 255``). Each value ``k`` owns
    the bin ``[x - 1/(2*255), x + 1/(2*255)]``; the two end bins reach out to minus
    and plus infinity, so the probabilities of the ``levels`` values sum to exactly
    one (Salimans et al., 2017, PixelCNN++). In logistic CDFs ``sigmoid``::

        P(x) = sigmoid((x + h - mean) / s) - sigmoid((x - h - mean) / s),   h = 1 / 510,

    computed in log space; where the bin mass underflows float32 the density at
    the bin centre times the bin width stands in for it.
    """
    x = ops.convert_to_tensor(x, "float32")
    mean = ops.convert_to_tensor(mean, "float32")
    log_scale = ops.convert_to_tensor(log_scale, "float32")
    half_bin = 0.5 / (levels - 1)
    inv_scale = ops.exp(-log_scale)
    centered = x - mean
    plus_in = inv_scale * (centered + half_bin)
    minus_in = inv_scale * (centered - half_bin)
    log_cdf_plus = plus_in - ops.softplus(plus_in)  # log sigmoid(plus_in): the first bin
    log_one_minus_cdf_minus = -ops.softplus(minus_in)  # log(1 - sigmoid(minus_in)): the last bin
    cdf_delta = ops.sigmoid(plus_in) - ops.sigmoid(minus_in)
    mid_in = inv_scale * centered
    log_pdf_mid = mid_in - log_scale - 2.0 * ops.softplus(mid_in)
    log_prob_mid = ops.where(
        cdf_delta > 1e-5,
        ops.log(ops.maximum(cdf_delta, 1e-12)),
        log_pdf_mid + math.log(2.0 * half_bin),
    )
    return ops.where(
        x < half_bin,
        log_cdf_plus,
        ops.where(x > 1.0 - half_bin, log_one_minus_cdf_minus, log_prob_mid),
    )


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
