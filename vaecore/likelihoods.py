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

**Channel coupling** (``channel_coupling=True``, colour images): a factorized
likelihood scores the red, green and blue values of a pixel independently given
``z``, although their errors are strongly correlated (a missed edge is missed in
all three). With coupling, the decoder also predicts, per pixel, the coefficients
of a linear dependence of each channel on the channels before it, as PixelCNN++
(Salimans et al. 2017, section 2.2) does within a pixel::

    mean'_c = mean_c + sum_{j < c} a_cj * (x_j - mean_j),   a_cj in (-1, 1),

so ``p(x | z) = prod_pixels p(r | z) p(g | r, z) p(b | r, g, z)``: still an exact,
normalized likelihood (each factor is), computed in one pass in training (the
``x_j`` are data) and drawn channel by channel when sampling
(:meth:`LikelihoodMixin.draw_pixels`). At ``x = mean`` the coupled means are the
means, so the mean image (:meth:`decode`, the in-page explorers) is unchanged.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
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


def coupling_size(channels: int) -> int:
    """How many coupling coefficients a pixel of ``channels`` channels has: C (C - 1) / 2."""
    return channels * (channels - 1) // 2


def couple_channels(x, mean, coupling):
    """The coupled means: channel ``c`` shifted by ``sum_{j<c} a_cj (x_j - mean_j)``.

    ``coupling`` holds the raw head outputs, ``C (C - 1) / 2`` per pixel on the last
    axis, in the order ``(1, 0), (2, 0), (2, 1), ...`` ((channel, earlier channel));
    ``tanh`` keeps each coefficient in (-1, 1). ``x`` is the data (the values of the
    earlier channels), on the pixel grid for a discretized likelihood.
    """
    x = ops.convert_to_tensor(x, "float32")
    a = ops.tanh(ops.convert_to_tensor(coupling, "float32"))
    channels = int(mean.shape[-1])
    residual = x - mean
    out, k = [mean[..., 0]], 0
    for c in range(1, channels):
        shift = 0.0
        for j in range(c):
            shift = shift + a[..., k] * residual[..., j]
            k += 1
        out.append(mean[..., c] + shift)
    return ops.stack(out, axis=-1)


def negative_log_likelihood(
    likelihood: str, x, logits, log_scale=None, sigma: float = 0.1, coupling=None
):
    """-log p(x | z) per image from the decoder's ``logits`` (and log scale, if learned).

    ``log_scale`` broadcasts against ``x``: shape ``(1,)``, ``(C,)`` or the image's.
    ``None`` with a Gaussian means the fixed ``sigma``. ``coupling``: the raw
    coefficients of :func:`couple_channels` (``None``: channels independent given z).
    """
    if likelihood == "bernoulli":
        return losses.bernoulli_nll(x, logits)
    mean = ops.sigmoid(logits)
    if coupling is not None:
        if likelihood == "discretized_logistic":
            x = losses.quantize_to_grid(x)  # the earlier channels' values, as scored
        mean = couple_channels(x, mean, coupling)
    if likelihood == "discretized_logistic":
        return losses.discretized_logistic_nll(x, mean, log_scale)
    if log_scale is None:
        return losses.gaussian_nll(x, mean, sigma)
    return losses.gaussian_nll_log_scale(x, mean, log_scale)


def check_coupling(value: Any, likelihood: str, arch: Any) -> bool:
    """``channel_coupling`` as a bool, refused where it means nothing."""
    if not isinstance(value, bool):
        raise ValueError(f"channel_coupling must be True or False, got {value!r}")
    if not value:
        return False
    if likelihood not in ("discretized_logistic", "gaussian"):
        raise ValueError(
            f"channel_coupling needs a discretized_logistic or gaussian likelihood, not {likelihood!r}"
        )
    if arch["input"][-1] < 2:
        raise ValueError(
            f"channel_coupling links colour channels; the input {arch['input']} has one channel"
        )
    if "encode" not in arch:
        raise ValueError("channel_coupling needs a conv decoder (an arch dict with 'encode')")
    return True


class LikelihoodMixin:
    """The :class:`~vaecore.models.VAE` methods that decode and score pixels, kept here by job.

    Needs the model's ``encode``, ``decoder``, ``likelihood``, ``scale_mode``,
    ``log_scale`` (the scale variable or ``None``), ``sigma``, ``latent_shape`` and
    ``_arch``.
    """

    def decoder_heads(self, z, training: bool = False, condition=None) -> dict[str, Any]:
        """Codes (flat, or maps for a latent map) -> the decoder's heads, as a dict.

        ``logits`` always; ``log_scale`` for ``scale="pixel"`` (the head's output
        through :func:`~vaecore.likelihoods.soft_floor`); ``coupling`` (raw
        coefficients, see :func:`couple_channels`) for ``channel_coupling=True``.
        ``condition``: a conditional VAE's ``(B, K)`` condition vectors, the
        decoder's second input (:mod:`vaecore.conditional`); None for a plain VAE.
        """
        if is_spatial(self._arch) and len(ops.shape(z)) == 2:
            z = ops.reshape(z, (ops.shape(z)[0], *self.latent_shape))
        out = self.decoder(z if condition is None else [z, condition], training=training)
        out = list(out) if isinstance(out, list | tuple) else [out]
        heads = {"logits": ops.cast(out.pop(0), "float32")}
        if self.scale_mode == "pixel":
            heads["log_scale"] = soft_floor(ops.cast(out.pop(0), "float32"))
        if getattr(self, "channel_coupling", False):
            heads["coupling"] = ops.cast(out.pop(0), "float32")
        return heads

    def decoder_outputs(self, z, training: bool = False, condition=None):
        """Codes -> ``(logits, log_scale)``; ``log_scale`` is ``None`` unless ``scale="pixel"``
        (:meth:`decoder_heads` has every head, with the coupling coefficients)."""
        heads = self.decoder_heads(z, training=training, condition=condition)
        return heads["logits"], heads.get("log_scale")

    def reconstruction_nll(self, x, logits, log_scale=None, coupling=None):
        """-log p(x|z) per image, for decoder ``logits`` (and, for ``scale="pixel"``,
        the decoder's ``log_scale``, for ``channel_coupling`` its ``coupling``: see
        :meth:`decoder_heads`; or use :meth:`nll_given_z`)."""
        if self.scale_mode == "pixel" and log_scale is None:
            raise ValueError(
                "this model predicts the scale of every pixel: pass the decoder's log_scale "
                "(model.decoder_outputs(z)), or use model.nll_given_z(x, z)"
            )
        if getattr(self, "channel_coupling", False) and coupling is None:
            raise ValueError(
                "this model couples the colour channels: pass the decoder's coupling "
                "(model.decoder_heads(z)), or use model.nll_given_z(x, z)"
            )
        if log_scale is None and self.log_scale is not None:
            log_scale = self.pixel_log_scale()
        return negative_log_likelihood(
            self.likelihood, x, logits, log_scale, self.sigma, coupling=coupling
        )

    def nll_given_z(self, x, z, condition=None):
        """-log p(x|z) per image for codes ``z``: decode, then score (any scale mode)."""
        heads = self.decoder_heads(z, condition=condition)
        return self.reconstruction_nll(x, heads["logits"], heads.get("log_scale"), heads.get("coupling"))

    def draw_pixels(self, z, seed: int | None = None, condition=None):
        """Images drawn from p(x | z) itself, not its mean: the mean plus the likelihood's noise.

        Bernoulli: binary pixels. Discretized logistic: logistic noise of the
        learned scale, clipped to [0, 1] and rounded to the 256 levels. Gaussian:
        normal noise of sigma, clipped to [0, 1]. With channel coupling the
        channels are drawn in order, each given the ones before it. Returns NumPy.
        """
        heads = self.decoder_heads(ops.convert_to_tensor(z, "float32"), condition=condition)
        mean = np.asarray(ops.convert_to_numpy(ops.sigmoid(heads["logits"])), np.float64)
        rng = np.random.default_rng(seed)
        if self.likelihood == "bernoulli":
            return (rng.uniform(size=mean.shape) < mean).astype(np.float32)
        if "log_scale" in heads:
            scale = np.exp(np.asarray(ops.convert_to_numpy(heads["log_scale"]), np.float64))
        elif self.log_scale is not None:
            scale = np.broadcast_to(np.exp(np.asarray(ops.convert_to_numpy(self.log_scale))), mean.shape)
        else:
            scale = np.full(mean.shape, self.sigma)
        if self.likelihood == "discretized_logistic":
            u = rng.uniform(1e-6, 1 - 1e-6, mean.shape)
            noise = np.log(u / (1 - u))  # standard logistic
        else:
            noise = rng.standard_normal(mean.shape)
        grid = self.likelihood == "discretized_logistic"
        a = np.tanh(np.asarray(ops.convert_to_numpy(heads["coupling"]), np.float64)) if "coupling" in heads else None
        x = np.empty_like(mean)
        k = 0
        for c in range(mean.shape[-1]):
            centre = mean[..., c].copy()
            if a is not None:
                for j in range(c):
                    centre += a[..., k] * (x[..., j] - mean[..., j])
                    k += 1
            value = np.clip(centre + scale[..., c] * noise[..., c], 0.0, 1.0)
            x[..., c] = np.round(value * 255) / 255 if grid else value
        return x.astype(np.float32)

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
        condition=None,
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
            condition: a conditional VAE's ``(len(x), K)`` condition vectors (then the
                estimate is log p(x | y)); None for a plain VAE.

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
                **self._scorers(None if condition is None else condition[start : start + step]),
                num_samples=num_samples,
                chunk_size=chunk_size,
                seed=None if seed is None else seed + start,
            )
            for start in range(0, n, step)
        ]
        return parts[0] if len(parts) == 1 else ops.concatenate(parts, axis=0)

    def _scorers(self, condition=None) -> dict[str, Any]:
        """``encode`` and ``decode_nll`` for :func:`vaecore.losses.importance_weighted_log_likelihood`;
        with a condition, its rows are tiled as that function tiles the images (k copies)."""
        if condition is None:
            return {"encode": self.encode, "decode_nll": self.nll_given_z}

        def decode_nll(x, z):
            copies = ops.shape(z)[0] // ops.shape(condition)[0]
            return self.nll_given_z(x, z, ops.tile(condition, (copies, 1)))

        return {"encode": lambda x: self.encode(x, condition), "decode_nll": decode_nll}
