"""The amortization gap: how much ELBO the encoder gives away by being one network for all images.

A VAE's encoder maps every image to its posterior approximation q(z | x) in one pass:
the variational parameters are *amortized*. For a single image, the best Gaussian
q*(z | x) can do better, and the ELBO splits as (Cremer et al. 2018, "Inference
suboptimality in variational autoencoders")::

    log p(x) - ELBO(q_encoder) = [log p(x) - ELBO(q*)]  +  [ELBO(q*) - ELBO(q_encoder)]
                                  approximation gap          amortization gap

:func:`optimize_posteriors` finds q* image by image: it starts from the encoder's mean
and log-variance and runs Adam on them (the decoder fixed) to maximize a
reparameterized ELBO estimate, then scores both Gaussians with the same, larger number
of samples. :func:`amortization_gap` summarizes the difference.
:func:`log_likelihood_bound` is the importance-weighted bound on log p(x) with any
per-image Gaussians as the proposal (e.g. the optimized q*, which can be a far better
proposal than the encoder's q when the amortization gap is large). The decoder's
likelihood (any of vaecore's, latent vectors or maps) comes from ``model.nll_given_z``
and the KL is the analytic Gaussian one, so the ELBO here is the training ELBO with
beta = 1. The gradient steps need TensorFlow (the book's backend); other backends get
a clear error.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
from keras import ops

from vaecore import losses

__all__ = ["amortization_gap", "elbo_of_gaussians", "log_likelihood_bound", "optimize_posteriors"]


def _tensorflow():
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "optimize_posteriors takes gradient steps with TensorFlow; this Keras runs on "
            f"{keras.backend.backend()!r} (set KERAS_BACKEND=tensorflow)"
        )
    import tensorflow as tf

    return tf


def elbo_of_gaussians(model: Any, x, z_mean, z_log_var, num_samples: int = 100, seed: int = 0):
    """ELBO per image (nats) of the Gaussians ``N(z_mean, exp(z_log_var))`` for images ``x``.

    ``E_q[log p(x | z)]`` is estimated with ``num_samples`` reparameterized draws, the KL
    from N(0, I) is exact. Returns a float64 NumPy array of shape ``(len(x),)``.
    """
    tf = _tensorflow()
    x = tf.convert_to_tensor(np.asarray(x, np.float32))
    mean = tf.convert_to_tensor(np.asarray(z_mean, np.float32))
    log_var = tf.convert_to_tensor(np.asarray(z_log_var, np.float32))
    eps = tf.random.stateless_normal((num_samples, *mean.shape), seed=(seed, 1))
    return _elbo(model, x, mean, log_var, eps).numpy().astype(np.float64)


def _elbo(model, x, mean, log_var, eps):
    tf = _tensorflow()
    s, b = int(eps.shape[0]), int(x.shape[0])
    z = mean[None] + tf.exp(0.5 * log_var)[None] * eps  # (S, B, d)
    x_rep = tf.reshape(tf.repeat(x[None], s, axis=0), (s * b, *x.shape[1:]))
    nll = tf.reshape(model.nll_given_z(x_rep, tf.reshape(z, (s * b, -1))), (s, b))
    kl = ops.sum(losses.gaussian_kl_per_dim(mean, log_var), axis=-1)
    return -tf.reduce_mean(nll, axis=0) - kl


def optimize_posteriors(
    model: Any,
    images: Any,
    steps: int = 300,
    learning_rate: float = 1e-2,
    num_samples: int = 8,
    eval_samples: int = 200,
    batch_size: int = 100,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Per-image Gaussians q*(z | x) that maximize the ELBO, started from the encoder's.

    Args:
        model: a trained vaecore VAE (its weights are not changed).
        images: images as the model takes them, shape ``(N, ...)``.
        steps: Adam steps per batch of images.
        learning_rate: Adam's step size on the means and log-variances.
        num_samples: reparameterized draws per image in each step's ELBO estimate.
        eval_samples: draws per image when both Gaussians are finally scored (the same
            draws of the noise for both, so their difference is paired).
        batch_size: images optimized together (each has its own parameters).
        seed: the noise of the steps and of the final scoring.

    Returns:
        ``elbo_encoder`` and ``elbo_optimized`` (nats per image), the optimized
        ``z_mean`` and ``z_log_var``, and ``kl_encoder`` / ``kl_optimized`` (the KL of each
        Gaussian from the prior), all NumPy arrays over the images.
    """
    tf = _tensorflow()
    if steps < 0 or num_samples < 1 or eval_samples < 1 or batch_size < 1:
        raise ValueError(
            f"steps >= 0 and num_samples, eval_samples, batch_size >= 1, got {steps}, "
            f"{num_samples}, {eval_samples}, {batch_size}"
        )
    x_all = np.asarray(images, np.float32)
    out: dict[str, list] = {k: [] for k in ("elbo_encoder", "elbo_optimized", "z_mean", "z_log_var",
                                              "kl_encoder", "kl_optimized")}
    beta1, beta2, eps_adam = 0.9, 0.999, 1e-8

    @tf.function(reduce_retracing=True)
    def adam_step(x, params, moments, eps, step):
        with tf.GradientTape() as tape:
            loss = -tf.reduce_sum(_elbo(model, x, params[0], params[1], eps))
        for p, g, (m, v) in zip(params, tape.gradient(loss, params), moments, strict=True):
            m.assign(beta1 * m + (1 - beta1) * g)
            v.assign(beta2 * v + (1 - beta2) * g * g)
            m_hat, v_hat = m / (1 - beta1**step), v / (1 - beta2**step)
            p.assign_sub(learning_rate * m_hat / (tf.sqrt(v_hat) + eps_adam))

    for start in range(0, len(x_all), batch_size):
        x = tf.convert_to_tensor(x_all[start : start + batch_size])
        mean0, log_var0 = (tf.cast(t, "float32") for t in model.encode(x))
        params = [tf.Variable(mean0), tf.Variable(log_var0)]
        moments = [(tf.Variable(tf.zeros_like(p)), tf.Variable(tf.zeros_like(p))) for p in params]
        for step in range(1, steps + 1):
            eps = tf.random.stateless_normal((num_samples, *mean0.shape), seed=(seed + start, step + 1))
            adam_step(x, params, moments, eps, tf.constant(step, tf.float32))
        eval_eps = tf.random.stateless_normal((eval_samples, *mean0.shape), seed=(seed + start, 0))
        for name, (mean, log_var) in {"encoder": (mean0, log_var0),
                                      "optimized": (params[0], params[1])}.items():
            out[f"elbo_{name}"].append(_elbo(model, x, tf.convert_to_tensor(mean),
                                             tf.convert_to_tensor(log_var), eval_eps).numpy())
            kl = ops.sum(losses.gaussian_kl_per_dim(mean, log_var), axis=-1)
            out[f"kl_{name}"].append(ops.convert_to_numpy(kl))
        out["z_mean"].append(params[0].numpy())
        out["z_log_var"].append(params[1].numpy())
    return {k: np.concatenate(v).astype(np.float64) for k, v in out.items()}


def log_likelihood_bound(
    model: Any,
    images: Any,
    z_mean: Any,
    z_log_var: Any,
    num_samples: int = 1000,
    batch_size: int = 100,
    chunk_size: int = 100,
    seed: int = 0,
) -> np.ndarray:
    """The k-sample importance-weighted bound on log p(x) per image, proposal N(z_mean, exp(z_log_var)).

    The same estimator as ``model.importance_weighted_log_likelihood`` (Burda et al.
    2015), with the given Gaussians instead of the encoder's as the proposal, e.g. the
    ``z_mean`` and ``z_log_var`` that :func:`optimize_posteriors` returns. Whatever the
    proposal, its expectation is a lower bound on log p(x) that tightens as k grows; a
    proposal closer to the true posterior tightens it faster. Returns a float64 NumPy
    array of shape ``(len(images),)`` in nats; batch ``images[i:i + batch_size]`` uses
    ``seed + i``.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    x_all = np.asarray(images, np.float32)
    mean_all, log_var_all = np.asarray(z_mean, np.float32), np.asarray(z_log_var, np.float32)
    if mean_all.shape != log_var_all.shape or len(mean_all) != len(x_all):
        raise ValueError(
            f"need one z_mean and z_log_var row per image, got {mean_all.shape}, "
            f"{log_var_all.shape} for {len(x_all)} images"
        )
    parts = []
    for start in range(0, len(x_all), batch_size):
        end = start + batch_size
        proposal = (
            ops.convert_to_tensor(mean_all[start:end]),
            ops.convert_to_tensor(log_var_all[start:end]),
        )
        parts.append(
            ops.convert_to_numpy(
                losses.importance_weighted_log_likelihood(
                    ops.convert_to_tensor(x_all[start:end]),
                    encode=lambda _x, q=proposal: q,
                    decode_nll=model.nll_given_z,
                    num_samples=num_samples,
                    chunk_size=chunk_size,
                    seed=seed + start,
                )
            )
        )
    return np.concatenate(parts).astype(np.float64)


def amortization_gap(model: Any, images: Any, **kwargs: Any) -> dict[str, Any]:
    """ELBO(q*) - ELBO(q_encoder) in nats, mean over the images with its standard error.

    ``kwargs`` go to :func:`optimize_posteriors`, whose per-image results come back
    under ``"per_image"``. The gap is never negative for a perfect optimizer; a slightly
    negative mean on a well-amortized model is the noise of the two estimates.
    """
    result = optimize_posteriors(model, images, **kwargs)
    gap = result["elbo_optimized"] - result["elbo_encoder"]
    n = len(gap)
    return {
        "gap": float(gap.mean()),
        "gap_stderr": float(gap.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan"),
        "elbo_encoder": float(result["elbo_encoder"].mean()),
        "elbo_optimized": float(result["elbo_optimized"].mean()),
        "num_images": n,
        "per_image": result,
    }
