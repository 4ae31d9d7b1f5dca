"""The VAE's pixel likelihoods and their scales: which scale each likelihood learns, and how.

:class:`vaecore.models.VAE` takes ``likelihood`` and ``scale``; this module says
what they mean and computes -log p(x | z) from the decoder's outputs:

=========================  =====================================================
``likelihood``             ``scale`` (``None``: the default of the likelihood)
=========================  =====================================================
``"bernoulli"``            ``None`` only (no scale)
``"gaussian"``             ``"fixed"`` (default: sigma as given, not learned),
                           ``"shared"`` (one learned sigma), ``"channel"`` (one
                           per colour channel) or ``"pixel"`` (the decoder
                           predicts one per pixel): a learned sigma is the
                           calibrated decoder of Rybkin et al. (2021, sigma-VAE)
``"discretized_logistic"`` ``"channel"`` (default: one learned log scale per
                           channel, as before), ``"shared"`` or ``"pixel"`` (a
                           second decoder head predicts every pixel's scale, as
                           PixelCNN++ / Salimans et al. 2017 do per sub-pixel)
=========================  =====================================================

``sigma`` is the starting scale of every learned one. The floor of a learned
log scale, :data:`MIN_LOG_SCALE` (-7, as PixelCNN++), is kept without a zero
gradient: a scale *variable* ("shared", "channel") carries a Keras constraint
(:class:`MinValue`) that projects it back onto the floor after each optimizer
step (the loss sees the variable itself, so its gradient is the true one, also at
the floor, and a scale that reached the floor can leave it again); a *predicted*
scale ("pixel") goes through :func:`soft_floor`, ``floor + softplus(raw - floor)``,
smooth, with a gradient that never vanishes. (Before, ``maximum(log_scale, -7)``
had a zero gradient below -7, so a scale that overshot stayed there.)
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops

from vaecore import losses
from vaecore.arch import is_spatial

LIKELIHOODS = ("bernoulli", "gaussian", "discretized_logistic")
SCALES = ("fixed", "shared", "channel", "pixel")
MIN_LOG_SCALE = -7.0  # floor of a learned log scale (as PixelCNN++)

_ALLOWED = {
    "bernoulli": (None,),
    "gaussian": ("fixed", "shared", "channel", "pixel"),
    "discretized_logistic": ("shared", "channel", "pixel"),
}
_DEFAULT = {"bernoulli": None, "gaussian": "fixed", "discretized_logistic": "channel"}


def resolve_scale(likelihood: str, scale: str | None) -> str | None:
    """The scale mode in force for ``likelihood`` (``None`` picks the likelihood's default).

    Raises:
        ValueError: an unknown likelihood, or a scale that likelihood does not take.
    """
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
    resolved = _DEFAULT[likelihood] if scale is None else scale
    if resolved not in _ALLOWED[likelihood]:
        allowed = [s for s in _ALLOWED[likelihood] if s is not None] or ["None (it has no scale)"]
        raise ValueError(
            f"scale={scale!r} does not apply to the {likelihood!r} likelihood; "
            f"it takes scale in {allowed}"
        )
    return resolved


@keras.saving.register_keras_serializable(package="vaecore")
class MinValue(keras.constraints.Constraint):
    """Projects a weight onto ``w >= floor`` after each optimizer step (projected gradient)."""

    def __init__(self, floor: float = MIN_LOG_SCALE) -> None:
        self.floor = float(floor)

    def __call__(self, w):
        return ops.maximum(w, ops.cast(self.floor, w.dtype))

    def get_config(self) -> dict[str, Any]:
        return {"floor": self.floor}


def soft_floor(raw, floor: float = MIN_LOG_SCALE):
    """``floor + softplus(raw - floor)``: above ``floor``, about ``raw`` well above it, smooth."""
    return floor + ops.softplus(ops.convert_to_tensor(raw, "float32") - floor)


def inverse_soft_floor(value: float, floor: float = MIN_LOG_SCALE) -> float:
    """The raw value whose :func:`soft_floor` is ``value`` (``value > floor``), for initializers."""
    gap = value - floor
    if gap <= 0:
        raise ValueError(f"a log scale must be above the floor {floor}, got {value}")
    return floor + (gap + math.log(-math.expm1(-gap)))  # log(expm1(gap)), stably


def negative_log_likelihood(likelihood: str, x, logits, log_scale=None, sigma: float = 0.1):
    """-log p(x | z) per image from the decoder's ``logits`` (and log scale, if learned).

    ``log_scale`` broadcasts against ``x``: shape ``(1,)``, ``(C,)`` or the image's.
    ``None`` with a Gaussian means the fixed ``sigma``.
    """
    if likelihood == "bernoulli":
        return losses.bernoulli_nll(x, logits)
    mean = ops.sigmoid(logits)
    if likelihood == "discretized_logistic":
        return losses.discretized_logistic_nll(x, mean, log_scale)
    if log_scale is None:
        return losses.gaussian_nll(x, mean, sigma)
    return losses.gaussian_nll_log_scale(x, mean, log_scale)


class LikelihoodMixin:
    """The :class:`~vaecore.models.VAE` methods that decode and score pixels, kept here by job.

    Needs the model's ``encode``, ``decoder``, ``likelihood``, ``scale_mode``,
    ``log_scale`` (the scale variable or ``None``), ``sigma``, ``latent_shape`` and
    ``_arch``.
    """

    def decoder_outputs(self, z, training: bool = False):
        """Codes (flat, or maps for a latent map) -> ``(logits, log_scale)``.

        ``log_scale`` is the per-pixel log scale for ``scale="pixel"`` (the head's
        output through :func:`~vaecore.likelihoods.soft_floor`), else ``None``.
        """
        if is_spatial(self._arch) and len(ops.shape(z)) == 2:
            z = ops.reshape(z, (ops.shape(z)[0], *self.latent_shape))
        out = self.decoder(z, training=training)
        if self.scale_mode != "pixel":
            return ops.cast(out, "float32"), None
        return ops.cast(out[0], "float32"), soft_floor(ops.cast(out[1], "float32"))

    def reconstruction_nll(self, x, logits, log_scale=None):
        """-log p(x|z) per image, for decoder ``logits`` (and, for ``scale="pixel"``,
        the decoder's ``log_scale``: see :meth:`decoder_outputs` and :meth:`nll_given_z`)."""
        if self.scale_mode == "pixel" and log_scale is None:
            raise ValueError(
                "this model predicts the scale of every pixel: pass the decoder's log_scale "
                "(model.decoder_outputs(z)), or use model.nll_given_z(x, z)"
            )
        if log_scale is None and self.log_scale is not None:
            log_scale = self.pixel_log_scale()
        return negative_log_likelihood(self.likelihood, x, logits, log_scale, self.sigma)

    def nll_given_z(self, x, z):
        """-log p(x|z) per image for codes ``z``: decode, then score (any scale mode)."""
        logits, log_scale = self.decoder_outputs(z)
        return self.reconstruction_nll(x, logits, log_scale)

    def pixel_log_scale(self, z=None):
        """The learned log scale: per channel (or one) from the variable, which a
        constraint keeps at or above -7; for ``scale="pixel"``, the decoder's, at ``z``."""
        if self.scale_mode == "pixel":
            if z is None:
                raise ValueError("this model predicts the scale of every pixel: pass codes z")
            return self.decoder_outputs(z)[1]
        if self.log_scale is None:
            raise ValueError(f"a {self.likelihood!r} likelihood has no learned pixel scale here")
        return ops.cast(self.log_scale, "float32")

    def importance_weighted_log_likelihood(
        self,
        x,
        num_samples: int = 1000,
        chunk_size: int = 100,
        batch_size: int | None = None,
        seed: int | None = None,
    ):
        """log p(x) per image, estimated with ``num_samples`` importance samples (IWAE bound).

        Args:
            x: images, e.g. a whole binarized test set.
            num_samples: k; the bound tightens towards log p(x) as k grows.
            chunk_size: importance samples drawn at a time.
            batch_size: images scored at a time (default: all at once); memory
                grows with ``batch_size * chunk_size`` decoded images.
            seed: makes the estimate reproducible; batch ``x[i:i + batch_size]``
                uses ``seed + i``.

        Returns:
            A float32 tensor of shape ``(len(x),)``, log p(x) in nats.
        """
        x = ops.convert_to_tensor(x, "float32")
        n = int(x.shape[0])
        step = n if batch_size is None else batch_size
        if step < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        parts = [
            losses.importance_weighted_log_likelihood(
                x[start : start + step],
                encode=self.encode,
                decode_nll=self.nll_given_z,
                num_samples=num_samples,
                chunk_size=chunk_size,
                seed=None if seed is None else seed + start,
            )
            for start in range(0, n, step)
        ]
        return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=0)
