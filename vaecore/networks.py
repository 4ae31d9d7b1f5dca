"""Encoder and decoder networks built from a checked architecture dict.

Four builders, one per (dense | conv) x (encoder | decoder). Each returns a
functional ``keras.Model``, built on creation, with layer names that do not depend
on how many models the session built before (the book prints layer tables).
:class:`vaecore.models.VAE` puts an encoder and a decoder together; the dicts are
described in :mod:`vaecore.arch`.

Two options beyond the plain VAE:

* a **latent map** (``"latent": (h, w, c)`` in a conv dict): the encoder's last
  feature map goes through two 3x3 convolutions to ``z_mean`` and ``z_log_var``
  maps, and the decoder's transposed convolutions start from the ``(h, w, c)``
  code itself, with no dense layer on either side (a fully convolutional VAE);
* a **per-pixel scale head** (``pixel_scale=True``): the decoder gets a second
  output, the raw log scale of every pixel (a 3x3 convolution beside ``logits``
  for conv decoders, a dense layer and reshape for dense ones; named in
  :data:`SCALE_HEAD_LAYERS`, so the in-page export can leave it out). Its kernel
  starts at zero and its bias at ``scale_bias``, so every pixel starts at the
  same scale;
* a **channel-coupling head** (``coupling=True``, conv decoders): one more 3x3
  convolution, ``C (C - 1) / 2`` raw coefficients per pixel of the linear
  dependence of each colour channel on the ones before it (see
  :mod:`vaecore.likelihoods`); zero-initialized, so training starts from
  independent channels. Also in :data:`SCALE_HEAD_LAYERS`;
* a **condition** (the arch dict's ``"condition"``, ``conditional=True``; a
  conditional VAE, :mod:`vaecore.conditional`): both networks get a second input,
  ``condition``, a vector of K floats (one-hot class or 0/1 attributes), joined by
  one :class:`ConcatCondition` layer (``with_condition``). Dense networks append it
  to the flattened image and to ``z``, as Sohn et al. (2015) do. Conv encoders
  append it to the *input image* as K constant feature maps (the usual choice of
  conditional conv nets): the first convolution then sees image and condition at
  every pixel, so every layer can use both, for K extra input channels of the first
  kernel only. Conv decoders append it to ``z`` before the dense projection (so the
  projection, and every layer after it, depend on it), and a latent-map decoder
  appends it to the ``(h, w, c)`` code as K constant maps, the same join as the
  encoder's. One op, on a vector or a map, is all the in-page runtime needs
  (``concat_condition`` in :mod:`vaecore.export`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import numpy as np
from keras import layers

from vaecore.arch import condition_size, is_conv, is_spatial

#: The layers of the per-pixel scale head (left out of the in-page decoder, which shows the mean).
SCALE_HEAD_LAYERS = ("log_scale_dense", "log_scale", "coupling")


@keras.saving.register_keras_serializable(package="vaecore")
class ConcatCondition(layers.Layer):
    """``[h, condition]`` -> ``h`` with the condition's K values appended on the last axis.

    ``h`` a vector ``(B, n)``: ``(B, n + K)``. ``h`` a feature map ``(B, H, W, C)``:
    the condition tiled to ``(B, H, W, K)`` (constant maps) and appended,
    ``(B, H, W, C + K)``. No weights.
    """

    def call(self, inputs):
        h, condition = inputs
        condition = keras.ops.cast(condition, h.dtype)
        if len(h.shape) == 4:
            shape = keras.ops.shape(h)
            condition = keras.ops.broadcast_to(
                condition[:, None, None, :], (shape[0], shape[1], shape[2], condition.shape[-1])
            )
        return keras.ops.concatenate([h, condition], axis=-1)

    def compute_output_shape(self, input_shapes):
        h, condition = input_shapes
        last = None if h[-1] is None or condition[-1] is None else h[-1] + condition[-1]
        return (*h[:-1], last)


def build_networks(
    arch: Mapping[str, Any],
    pixel_scale: bool = False,
    scale_bias: float = 0.0,
    coupling: bool = False,
    conditional: bool = False,
) -> tuple[keras.Model, keras.Model]:
    """``(encoder, decoder)`` for a normalized arch dict (dense or conv).

    The encoder maps images to ``[z_mean, z_log_var]`` (vectors, or maps for a
    latent map); the decoder maps codes to pre-sigmoid pixel values of the input's
    shape, and with ``pixel_scale`` also to a raw log scale per pixel
    (``[logits, raw_log_scale]``), and with ``coupling`` to the raw coupling
    coefficients last (conv decoders only). An arch with a ``condition`` needs
    ``conditional=True`` (:class:`vaecore.conditional.ConditionalVAE` passes it);
    both networks then take ``[input, condition]``.
    """
    if coupling and not is_conv(arch):
        raise ValueError("channel coupling needs a conv decoder (an arch dict with 'encode')")
    if bool(condition_size(arch)) != bool(conditional):
        raise ValueError(
            "this arch_def has a 'condition': build it with vaecore.build_cvae (a "
            "vaecore.conditional.ConditionalVAE); vaecore.VAE is unconditional"
            if not conditional
            else "a conditional VAE needs an arch_def with a 'condition' (e.g. 'condition': 10)"
        )
    if is_spatial(arch):
        return _conv_encoder(arch), _map_decoder(arch, pixel_scale, scale_bias, coupling)
    if is_conv(arch):
        return _conv_encoder(arch), _conv_decoder(arch, pixel_scale, scale_bias, coupling)
    return _dense_encoder(arch), _dense_decoder(arch, pixel_scale, scale_bias)


def _scale_initializers(scale_bias: float) -> dict[str, Any]:
    return {
        "kernel_initializer": "zeros",
        "bias_initializer": keras.initializers.Constant(float(scale_bias)),
    }


def _conv_outputs(
    h, channels: int, pixel_scale: bool, scale_bias: float, coupling: bool = False
) -> Any:
    outputs = [layers.Conv2D(channels, 3, padding="same", name="logits")(h)]
    if pixel_scale:
        outputs.append(layers.Conv2D(
            channels, 3, padding="same", name="log_scale", **_scale_initializers(scale_bias)
        )(h))
    if coupling:
        pairs = channels * (channels - 1) // 2
        outputs.append(layers.Conv2D(
            pairs, 3, padding="same", name="coupling", **_scale_initializers(0.0)
        )(h))
    return outputs[0] if len(outputs) == 1 else outputs


def _with_condition(h, arch: Mapping[str, Any], inputs: list):
    """``h`` joined with a new ``condition`` input (appended to ``inputs``), if the arch has one."""
    size = condition_size(arch)
    if not size:
        return h
    condition = keras.Input(shape=(size,), name="condition")
    inputs.append(condition)
    return ConcatCondition(name="with_condition")([h, condition])


def _model(inputs: list, outputs, name: str) -> keras.Model:
    return keras.Model(inputs[0] if len(inputs) == 1 else inputs, outputs, name=name)


def _dense_encoder(arch: Mapping[str, Any]) -> keras.Model:
    inputs = [keras.Input(shape=arch["input"], name="image")]
    h = _with_condition(layers.Flatten(name="flatten")(inputs[0]), arch, inputs)
    for i, units in enumerate(arch["hidden"]):
        h = layers.Dense(units, activation=arch["activation"], name=f"hidden_{i}")(h)
    z_mean = layers.Dense(arch["latent"], name="z_mean")(h)
    z_log_var = layers.Dense(arch["latent"], name="z_log_var")(h)
    return _model(inputs, [z_mean, z_log_var], "encoder")


def _dense_decoder(arch: Mapping[str, Any], pixel_scale: bool, scale_bias: float) -> keras.Model:
    inputs = [keras.Input(shape=(arch["latent"],), name="z")]
    h = _with_condition(inputs[0], arch, inputs)
    for i, units in enumerate(reversed(arch["hidden"])):
        h = layers.Dense(units, activation=arch["activation"], name=f"hidden_{i}")(h)
    size = int(np.prod(arch["input"]))
    logits = layers.Reshape(arch["input"], name="logits")(
        layers.Dense(size, name="pixel_logits")(h)
    )
    if not pixel_scale:
        return _model(inputs, logits, "decoder")
    raw = layers.Dense(size, name="log_scale_dense", **_scale_initializers(scale_bias))(h)
    raw = layers.Reshape(arch["input"], name="log_scale")(raw)
    return _model(inputs, [logits, raw], "decoder")


def build_vq_networks(
    arch: Mapping[str, Any],
    pixel_scale: bool = False,
    scale_bias: float = 0.0,
    coupling: bool = False,
) -> tuple[keras.Model, keras.Model]:
    """``(encoder, decoder)`` of a VQ-VAE (:mod:`vaecore.vq`): a latent-map arch dict.

    The same conv stacks as a latent-map VAE's, but the encoder ends in *one* 3x3
    convolution, ``z_e``, the grid of ``(h, w, D)`` vectors the quantizer snaps to
    codebook entries (a VQ-VAE has no variance to predict); the decoder is
    :func:`build_networks`' latent-map decoder, fed the quantized grid.
    """
    if not is_spatial(arch):
        raise ValueError("a VQ-VAE needs a latent map (h, w, D) in its arch dict")
    return (
        _conv_encoder(arch, heads=("z_e",)),
        _map_decoder(arch, pixel_scale, scale_bias, coupling),
    )


def _conv_encoder(
    arch: Mapping[str, Any], heads: tuple[str, ...] = ("z_mean", "z_log_var")
) -> keras.Model:
    inputs = [keras.Input(shape=arch["input"], name="image")]
    h = _with_condition(inputs[0], arch, inputs)  # K constant maps beside the image
    for i, (filters, kernel, strides) in enumerate(arch["encode"]):
        h = layers.Conv2D(filters, kernel, strides, padding="same", name=f"conv_{i}")(h)
        if arch["batch_norm"]:
            h = layers.BatchNormalization(name=f"bn_{i}")(h)
        h = layers.Activation(arch["activation"], name=f"act_{i}")(h)
    if is_spatial(arch):  # a latent map: two 3x3 convolutions, no dense layer
        channels = arch["latent"][-1]
        outputs = [layers.Conv2D(channels, 3, padding="same", name=head)(h) for head in heads]
        return _model(inputs, outputs if len(outputs) > 1 else outputs[0], "encoder")
    h = layers.Flatten(name="flatten")(h)
    for i, units in enumerate(arch["hidden"]):
        h = layers.Dense(units, activation=arch["activation"], name=f"hidden_{i}")(h)
    z_mean = layers.Dense(arch["latent"], name="z_mean")(h)
    z_log_var = layers.Dense(arch["latent"], name="z_log_var")(h)
    return _model(inputs, [z_mean, z_log_var], "encoder")


def _deconv_stack(h, arch: Mapping[str, Any]):
    for i, (filters, kernel, strides) in enumerate(arch["decode"]):
        h = layers.Conv2DTranspose(filters, kernel, strides, padding="same", name=f"deconv_{i}")(h)
        if arch["batch_norm"]:
            h = layers.BatchNormalization(name=f"bn_{i}")(h)
        h = layers.Activation(arch["activation"], name=f"act_{i}")(h)
    return h


def _map_decoder(
    arch: Mapping[str, Any], pixel_scale: bool, scale_bias: float, coupling: bool = False
) -> keras.Model:
    """The decoder of a latent map: transposed convolutions straight from the ``(h, w, c)`` code."""
    inputs = [keras.Input(shape=tuple(arch["latent"]), name="z")]
    h = _deconv_stack(_with_condition(inputs[0], arch, inputs), arch)  # K constant maps beside z
    outputs = _conv_outputs(h, arch["input"][-1], pixel_scale, scale_bias, coupling)
    return _model(inputs, outputs, "decoder")


def _conv_decoder(
    arch: Mapping[str, Any], pixel_scale: bool, scale_bias: float, coupling: bool = False
) -> keras.Model:
    height, width, channels = arch["input"]
    for _, _, (sh, sw) in arch["decode"]:
        height, width = height // sh, width // sw
    first_filters = arch["decode"][0][0]
    inputs = [keras.Input(shape=(arch["latent"],), name="z")]
    h = _with_condition(inputs[0], arch, inputs)
    for i, units in enumerate(arch["decode_hidden"]):
        h = layers.Dense(units, activation=arch["activation"], name=f"hidden_{i}")(h)
    h = layers.Dense(height * width * first_filters, activation=arch["activation"], name="project")(
        h
    )
    h = layers.Reshape((height, width, first_filters), name="reshape")(h)
    h = _deconv_stack(h, arch)
    outputs = _conv_outputs(h, channels, pixel_scale, scale_bias, coupling)
    return _model(inputs, outputs, "decoder")
