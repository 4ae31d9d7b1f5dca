"""beta-TCVAE (Chen, Li, Grosse, Duvenaud, NeurIPS 2018, "Isolating Sources of Disentanglement
in VAEs"): a VAE whose loss weights the total correlation of the code apart.

The KL term of the ELBO, averaged over the data (``n`` an index of the N training
images, ``q(z) = 1/N sum_n q(z|n)`` the aggregate posterior), splits into three parts:

    E_n KL(q(z|n) || p(z)) = I_q(z; n)                          index-code mutual information
                           + KL(q(z) || prod_j q(z_j))          total correlation (TC)
                           + sum_j KL(q(z_j) || p(z_j))         dimension-wise KL

The TC is zero exactly when the dimensions of the aggregate code are independent, the
property a disentangled code should have. A beta-VAE multiplies all three by beta, so
it also squeezes the information the code carries about the image (the first term);
beta-TCVAE weighs them ``alpha, beta, gamma``. With ``alpha = gamma`` (the paper's
``alpha = gamma = 1``) that loss is

    reconstruction + alpha * KL + (beta - alpha) * TC,

what :class:`TCVAE` trains: the model's ``beta`` variable is ``alpha = gamma`` (1 by
default; schedules still move it), ``tc_weight`` is the paper's beta (it used 6 on
dSprites among a sweep), the KL is the closed form of :class:`vaecore.VAE`, and the TC
is estimated on each minibatch (disentanglement_lib's beta-TCVAE is the same
form, with the minibatch-weighted estimate below).

**The estimator** (:func:`total_correlation`). ``q(z)`` and each marginal ``q(z_j)`` are
mixtures over all N images, so they are estimated from the M codes of a batch: for the
code ``z_i`` drawn from ``q(z|x_i)``,

    q(z_i) ~= 1/N q(z_i | x_i) + (N - 1) / (N (M - 1)) sum_{k != i} q(z_i | x_k),

the own image weighted as one of N, the other M - 1 images of the batch standing for
the other N - 1 (an unbiased estimate of the mixture's density; the log is then taken,
so the TC estimate is biased, as every minibatch estimate is). This is the stratified
idea of Chen et al.'s minibatch stratified sampling (their appendix C.2) in its
simplest form; their minibatch-weighted sampling puts ``1/(NM)`` on every term,
which gives the same gradients up to the own-image term and a TC offset by
``(D - 1) log N``-type constants. The marginals ``q(z_ij)`` use the same weights per
dimension, and ``TC ~= mean_i [log q(z_i) - sum_j log q(z_ij)]``. With
``dataset_size = None`` (N = M) it is the TC of the batch's own mixture of posteriors,
which is how the book reports a trained model's TC on a sample of test images.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import keras
from keras import ops

from vaecore.losses import LOG_2PI
from vaecore.models import VAE


def _log_weights(m, dataset_size: float | None):
    """``(M, M)`` log mixture weights: own code ``1/N``, the others ``(N - 1) / (N (M - 1))``."""
    n = (
        ops.cast(m, "float32")
        if dataset_size is None
        else ops.convert_to_tensor(float(dataset_size))
    )
    mf = ops.cast(m, "float32")
    own = -ops.log(n)
    other = ops.log(n - 1.0) - ops.log(n) - ops.log(ops.maximum(mf - 1.0, 1.0))
    eye = ops.eye(m, dtype="float32")
    return eye * own + (1.0 - eye) * other


def log_density_matrix(z, z_mean, z_log_var):
    """``(M, M, D)``: log N(z_i,d; mean_k,d, exp(log_var_k,d)) for every pair of codes i, k."""
    z = ops.convert_to_tensor(z, "float32")[:, None, :]
    mean = ops.convert_to_tensor(z_mean, "float32")[None, :, :]
    log_var = ops.convert_to_tensor(z_log_var, "float32")[None, :, :]
    return -0.5 * (LOG_2PI + log_var + ops.square(z - mean) * ops.exp(-log_var))


def total_correlation(z, z_mean, z_log_var, dataset_size: float | None = None):
    """Minibatch estimate of the total correlation KL(q(z) || prod_j q(z_j)), in nats.

    Args:
        z: ``(M, D)`` codes, each drawn from its own posterior ``N(z_mean, exp(z_log_var))``.
        z_mean, z_log_var: ``(M, D)`` the posteriors' parameters.
        dataset_size: N, the number of images the aggregate posterior averages over
            (the training set); ``None``: N = M, the batch's own mixture.

    Returns a scalar tensor (the mean over the batch; see the module docstring for
    the estimator). ``M >= 2``.
    """
    if dataset_size is not None and not float(dataset_size) >= 2:
        raise ValueError(f"dataset_size must be >= 2, got {dataset_size!r}")
    log_q = log_density_matrix(z, z_mean, z_log_var)
    log_w = _log_weights(ops.shape(log_q)[0], dataset_size)
    log_qz = ops.logsumexp(log_w + ops.sum(log_q, axis=-1), axis=1)
    log_qz_marginals = ops.sum(ops.logsumexp(log_w[:, :, None] + log_q, axis=1), axis=-1)
    return ops.mean(log_qz - log_qz_marginals)


@keras.saving.register_keras_serializable(package="vaecore")
class TCVAE(VAE):
    """beta-TCVAE: :class:`vaecore.VAE` with ``(tc_weight - beta) * TC`` added to its loss.

    Args:
        arch_def, likelihood, beta, ...: as :class:`vaecore.VAE`; ``beta`` is the weight
            of the whole KL (the paper's alpha = gamma, default 1).
        tc_weight: the paper's beta, the weight of the total correlation (default 6).
        dataset_size: N in the TC estimate, the number of training images (``None``:
            the batch size, which overstates the marginals' density for small batches
            of a large data set; give N when you know it).

    Every epoch logs ``total_correlation`` (the batch estimate, nats) beside the
    VAE's metrics; ``get_config`` keeps both settings, so a saved model reloads.
    """

    def __init__(
        self,
        arch_def: Mapping[str, Any],
        tc_weight: float = 6.0,
        dataset_size: int | None = None,
        **kwargs,
    ):
        tc_weight = float(tc_weight)
        if not (tc_weight >= 0 and math.isfinite(tc_weight)):
            raise ValueError(f"tc_weight must be a finite number >= 0, got {tc_weight!r}")
        if dataset_size is not None and (isinstance(dataset_size, bool) or int(dataset_size) < 2):
            raise ValueError(f"dataset_size must be an int >= 2 or None, got {dataset_size!r}")
        super().__init__(arch_def, **kwargs)
        self.tc_weight = tc_weight
        self.dataset_size = None if dataset_size is None else int(dataset_size)
        self.tc_tracker = keras.metrics.Mean(name="total_correlation")
        self._batch_tc = None

    def elbo_terms(self, x, outputs: Mapping[str, Any]) -> dict[str, Any]:
        """The VAE's terms plus ``total_correlation``; ``loss`` gains ``(tc_weight - beta) * TC``."""
        terms = super().elbo_terms(x, outputs)
        tc = total_correlation(
            outputs["z"], outputs["z_mean"], outputs["z_log_var"], self.dataset_size
        )
        terms["total_correlation"] = tc
        terms["loss"] = terms["loss"] + (self.tc_weight - self.kl_weight()) * tc
        self._batch_tc = tc
        return terms

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        total = super().compute_loss(x, y, y_pred, sample_weight, training)
        self.tc_tracker.update_state(self._batch_tc, ops.shape(x)[0])
        return total

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"tc_weight": self.tc_weight, "dataset_size": self.dataset_size})
        return config


def build_tcvae(
    arch_def: Mapping[str, Any],
    tc_weight: float = 6.0,
    dataset_size: int | None = None,
    **vae_kwargs: Any,
) -> TCVAE:
    """A :class:`TCVAE`; ``vae_kwargs`` are :func:`vaecore.build_vae`'s (likelihood, beta, seed, ...)."""
    return TCVAE(arch_def, tc_weight=tc_weight, dataset_size=dataset_size, **vae_kwargs)
